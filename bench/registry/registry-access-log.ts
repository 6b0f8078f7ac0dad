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

/**
 * Distribution 2.8 logs one JSON line per answered request when `log.formatter` is json (its
 * Apache-style access log is turned off in our config, so this is the one record):
 *   {"http.request.method":"GET","http.request.uri":"/v2/r/blobs/sha256:…","http.response.status":200,
 *    "http.response.written":1048576,"msg":"response completed",…}
 * Errors are "response completed with error" with the same fields. Other lines (start-up,
 * warnings, the per-error detail lines without a status) are not requests and give undefined.
 */
export function parseRegistryLogLine(line: string): RegistryRequest | undefined {
  if (!line.includes('"response completed')) return undefined;
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined; // a line that merely mentions the phrase (a panic trace): not a request
  }
  const method = entry['http.request.method'];
  const uri = entry['http.request.uri'];
  const status = entry['http.response.status'];
  if (typeof method !== 'string' || typeof uri !== 'string' || typeof status !== 'number') return undefined;
  const written = entry['http.response.written'];
  return { method, path: uri.split('?')[0]!, status, written: typeof written === 'number' ? written : 0 };
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
