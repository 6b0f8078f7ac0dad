import type { IncomingMessage, ServerResponse } from 'node:http';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DamselflyError } from '../../../core/errors.ts';
import { computeTaskId } from '../../../core/ids/task-id.ts';
import { parseByteRange } from '../../../edge/http/byte-range.ts';
import type { LogSink } from '../../../edge/log/log-sink.ts';
import type { DaemonMetrics } from '../daemon-metrics.ts';
import type { P2PFetcher } from '../p2p-fetcher.ts';
import { untilFirstByte } from '../until-first-byte.ts';
import type { BlobAccess } from './blob-access.ts';
import { headerValue } from './forward-headers.ts';
import { sendRegistryProblem } from './registry-problem.ts';
import type { UpstreamClient, UpstreamHeaders } from './upstream-client.ts';

export interface BlobContext {
  fetcher: P2PFetcher;
  access: BlobAccess;
  upstream: UpstreamClient;
  log: LogSink;
  metrics?: DaemonMetrics;
}

export interface BlobRequest {
  registry: URL;
  name: string;
  /** A sha256 digest (the only kind the swarm takes). */
  digest: string;
  /** The blob's URL upstream, as the client asked it (its query but ns=). */
  url: URL;
  /** The client's headers for the upstream (upstreamRequestHeaders). */
  headers: UpstreamHeaders;
  /** When the request came (performance.now()), for the time to first byte. */
  startedAt: number;
}

export type BlobOutcome = 'ok' | 'refused' | 'upstream_error' | 'failed' | 'bad_request';

/**
 * A blob GET or HEAD through the swarm, after the registry has said that this client may read
 * it (BlobAccess). GET streams the task's bytes as pieces land, a single Range as a 206; a
 * failure once the status is out destroys the response instead of ending it, so a truncated or
 * wrong blob is never reported complete. HEAD answers the same headers from the registry's own
 * HEAD, downloading nothing.
 */
export async function serveBlob(ctx: BlobContext, req: IncomingMessage, res: ServerResponse, b: BlobRequest): Promise<BlobOutcome> {
  const authorization = headerValue(req.headers.authorization);
  const userAgent = headerValue(req.headers['user-agent']);
  const verdict = await ctx.access.check({ registry: b.registry, name: b.name, digest: b.digest, authorization, userAgent });
  if (!verdict.allowed) {
    // The registry's answer is the client's. A HEAD has no body to show; for a GET the
    // registry's own error JSON is fetched with a GET of the same request.
    if (req.method === 'HEAD') await ctx.upstream.relay(res, verdict.response);
    else {
      await verdict.response.body.dump();
      await ctx.upstream.passThrough(req, res, b.url, b.headers);
    }
    return 'refused';
  }

  const rangeHeader = headerValue(req.headers.range);
  if (req.method === 'HEAD') {
    // Without a length from the registry there is nothing to answer from: ask it directly.
    if (verdict.contentLength === undefined) return (await ctx.upstream.passThrough(req, res, b.url, b.headers)) < 400 ? 'ok' : 'upstream_error';
    const taskId = computeTaskId({ url: b.url.href, digest: b.digest, contentAddressed: true });
    const span = spanOf(res, rangeHeader, verdict.contentLength, b.digest, taskId);
    if (span) res.writeHead(span.status, span.headers).end();
    return span ? 'ok' : 'bad_request';
  }

  const body = await ctx.fetcher.open({
    url: b.url.href,
    headers: authorization === undefined ? {} : { authorization },
    digest: b.digest,
  });
  const span = spanOf(res, rangeHeader, body.contentLength, b.digest, body.taskId);
  if (!span) return 'bad_request';
  const stream = body.stream(span.range);
  await untilFirstByte(stream); // the status goes out with the first byte
  res.writeHead(span.status, span.headers);
  const source = body.cached ? 'cache' : 'swarm';
  let first = true;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (first) {
        first = false;
        ctx.metrics?.firstByteSeconds.observe((performance.now() - b.startedAt) / 1000);
      }
      ctx.metrics?.bytesServed.inc({ source }, chunk.length);
      done(null, chunk);
    },
  });
  try {
    await pipeline(stream, meter, res);
    return 'ok';
  } catch (err) {
    // Already destroyed by pipeline; said again because the whole point is that the client
    // must see a cut connection, not an ended body.
    res.destroy();
    const clientLeft = (err as { code?: string }).code === 'ERR_STREAM_PREMATURE_CLOSE' && res.destroyed && !res.writableFinished;
    ctx.log[clientLeft ? 'debug' : 'warn']({ registry: b.registry.origin, name: b.name, digest: b.digest, taskId: body.taskId, err: (err as Error).message }, 'blob stream ended early');
    return 'failed';
  }
}

interface Span {
  status: 200 | 206;
  headers: Record<string, string | number>;
  range?: { start: number; end: number };
}

/** The status and headers of a blob answer for a Range header; on an unsatisfiable range it answers 416 itself and returns undefined. */
function spanOf(res: ServerResponse, rangeHeader: string | undefined, length: number, digest: string, taskId: string): Span | undefined {
  const common = {
    'content-type': 'application/octet-stream',
    'docker-content-digest': digest,
    'accept-ranges': 'bytes',
    etag: `"${digest}"`,
    'x-dragonfly-task-id': taskId,
  };
  const range = parseByteRange(rangeHeader, length);
  if (range === 'unsatisfiable') {
    sendRegistryProblem(res, new DamselflyError('DF_ERR_RANGE_NOT_SATISFIABLE', `the blob has ${length} bytes`), 'UNKNOWN', { 'content-range': `bytes */${length}`, 'accept-ranges': 'bytes' });
    return undefined;
  }
  if (!range) return { status: 200, headers: { ...common, 'content-length': length } };
  return {
    status: 206,
    headers: { ...common, 'content-length': range.end - range.start + 1, 'content-range': `bytes ${range.start}-${range.end}/${length}` },
    range,
  };
}
