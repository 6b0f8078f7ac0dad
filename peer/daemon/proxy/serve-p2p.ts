import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { DamselflyError, isDamselflyError } from '../../../core/errors.ts';
import { parseByteRange } from '../../../edge/http/byte-range.ts';
import { problemOf, sendProblem } from '../../../edge/http/problem.ts';
import type { P2PBody, P2PFetcher } from '../p2p-fetcher.ts';
import { untilFirstByte } from '../until-first-byte.ts';
import { bodyMeter, clientGone } from './body-meter.ts';
import { taskHeaders } from './proxy-headers.ts';
import type { ProxyRoute } from './route-request.ts';

/**
 * A GET through the swarm: the fetcher starts (or joins, or finds cached) the task for the URL
 * and the body streams as its pieces land, answered with X-Dragonfly-Task-ID. A Range is served
 * from the task (206, or 416 past its end) rather than sent to the origin; with If-Range, which
 * the proxy cannot check without the origin's validators, the whole body is sent (RFC 9110
 * §13.1.5 allows that). The status goes out with the first byte: a task that fails before it is
 * answered with its problem; a failure mid-body destroys the response (its Content-Length is never met).
 */
export async function serveP2P(req: IncomingMessage, res: ServerResponse, route: ProxyRoute, fetcher: P2PFetcher, onBytes: (n: number, body: P2PBody) => void): Promise<void> {
  let body: P2PBody;
  try {
    body = await fetcher.open({ url: route.url.href, headers: taskHeaders(req.headers), filter: route.filter, tag: route.tag, signal: clientGone(res) });
  } catch (e) {
    // The fetcher's own refusals (a forbidden origin, a file too large, no supernode) keep their
    // code; anything else is an upstream failure, never a 500 that blames the client's request.
    throw isDamselflyError(e) ? e : new DamselflyError('DF_ERR_ORIGIN', 'the download through the swarm failed', { cause: e });
  }
  const taskHeader = { 'x-dragonfly-task-id': body.taskId };
  const range = req.headers['if-range'] === undefined ? parseByteRange(req.headers.range, body.contentLength) : undefined;
  if (range === 'unsatisfiable') {
    sendProblem(res, problemOf('DF_ERR_RANGE_NOT_SATISFIABLE', `the content is ${body.contentLength} bytes`), { ...taskHeader, 'content-range': `bytes */${body.contentLength}` });
    return;
  }
  const headers = { ...taskHeader, 'content-type': 'application/octet-stream', 'accept-ranges': 'bytes' };
  const stream = body.stream(range);
  await untilFirstByte(stream); // the status goes out with the first byte
  if (range) res.writeHead(206, { ...headers, 'content-length': range.end - range.start + 1, 'content-range': `bytes ${range.start}-${range.end}/${body.contentLength}` });
  else res.writeHead(200, { ...headers, 'content-length': body.contentLength });
  await pipeline(stream, bodyMeter((n) => onBytes(n, body)), res);
}
