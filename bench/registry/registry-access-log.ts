/** One request the registry answered, from its "response completed" log line. */
export interface RegistryRequest {
  method: string;
  /** The path, without the query. */
  path: string;
  status: number;
  /** Body bytes the registry wrote (less than the blob when the client went away). */
  written: number;
}

const BLOB_PATH = /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]{64})$/;
/** host ident user [time] "METHOD URI PROTO" status bytes "referer" "user agent" */
const ACCESS_LINE = /^\S+ \S+ \S+ \[[^\]]*\] "(\S+) (\S+) [^"]*" (\d{3}) (\d+|-)/;

/**
 * Distribution 2.8 writes its access log to stdout in Apache's combined format, one line per
 * request once its response is done (gorilla's CombinedLoggingHandler):
 *   127.0.0.1 - - [05/Dec/2026:00:31:09 +0000] "GET /v2/r/blobs/sha256:… HTTP/1.1" 200 1048576 "" "containerd/1.6.20~ds1"
 * It is the one complete record: the JSON application log on stderr has no "response
 * completed" line for requests refused by htpasswd (401). Other lines give undefined.
 */
export function parseRegistryLogLine(line: string): RegistryRequest | undefined {
  const m = ACCESS_LINE.exec(line);
  if (!m) return undefined;
  return { method: m[1]!, path: m[2]!.split('?')[0]!, status: Number(m[3]), written: m[4] === '-' ? 0 : Number(m[4]) };
}

/** Counts per blob digest (any repository) of requests with `method` answered 200 or 206. */
export function countBlobRequests(requests: readonly RegistryRequest[], method: 'GET' | 'HEAD'): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of requests) {
    const m = BLOB_PATH.exec(r.path);
    if (!m || r.method !== method || (r.status !== 200 && r.status !== 206)) continue;
    counts.set(m[2]!, (counts.get(m[2]!) ?? 0) + 1);
  }
  return counts;
}

/** Body bytes of every blob GET, whatever its status: what left the registry as layers. */
export function blobBytesServed(requests: readonly RegistryRequest[]): number {
  return requests.filter((r) => r.method === 'GET' && BLOB_PATH.test(r.path)).reduce((sum, r) => sum + r.written, 0);
}
