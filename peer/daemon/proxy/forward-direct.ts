import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { request, type Dispatcher } from 'undici';
import { DamselflyError } from '../../../core/errors.ts';
import { bodyMeter, clientGone } from './body-meter.ts';
import { endToEndHeaders } from '../../../edge/http/hop-by-hop.ts';
import { upstreamHeaders } from './proxy-headers.ts';

/**
 * A request past the swarm: the client's method, headers (less hop-by-hop and X-Dragonfly-*) and
 * body to `url`, the origin's status, headers and body back, streamed both ways with
 * backpressure. Redirects are the client's to follow, as from any forward proxy. Rejects with
 * DF_ERR_ORIGIN (502) when the origin does not answer; a body cut short destroys the response.
 */
export async function forwardDirect(req: IncomingMessage, res: ServerResponse, url: URL, dispatcher: Dispatcher, onBytes: (n: number) => void): Promise<void> {
  const hasBody = (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') || req.headers['transfer-encoding'] !== undefined;
  let upstream: Dispatcher.ResponseData;
  try {
    upstream = await request(url, {
      method: req.method as Dispatcher.HttpMethod,
      headers: upstreamHeaders(req.headers),
      body: hasBody ? req : null,
      dispatcher,
      signal: clientGone(res),
    });
  } catch (e) {
    throw new DamselflyError('DF_ERR_ORIGIN', `the origin did not answer: ${(e as Error).message}`, { cause: e });
  }
  res.writeHead(upstream.statusCode, endToEndHeaders(upstream.headers));
  await pipeline(upstream.body, bodyMeter(onBytes), res);
}
