import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { Agent, type Dispatcher } from 'undici';
import { DamselflyError } from '../../../core/errors.ts';
import { endToEndHeaders } from '../../../edge/http/hop-by-hop.ts';

export type UpstreamHeaders = string[] | Record<string, string>;
export type UpstreamResponse = Dispatcher.ResponseData;

/**
 * HTTP to upstream registries: one undici Agent, which keeps a keep-alive pool per origin.
 * Nothing is followed or rewritten here; redirects reach the client as the registry sent them
 * (its Location included), except on the access check, which follows them itself.
 */
export class UpstreamClient {
  private readonly agent: Agent;

  constructor(o: { connectTimeoutMs?: number; headersTimeoutMs?: number; bodyTimeoutMs?: number } = {}) {
    this.agent = new Agent({ connect: { timeout: o.connectTimeoutMs ?? 10_000 }, headersTimeout: o.headersTimeoutMs ?? 30_000, bodyTimeout: o.bodyTimeoutMs ?? 60_000 });
  }

  /** Rejects with DF_ERR_ORIGIN (naming the registry, never the request's headers) when the registry cannot be reached. */
  async send(url: URL, method: 'GET' | 'HEAD', headers: UpstreamHeaders, signal?: AbortSignal): Promise<UpstreamResponse> {
    try {
      return await this.agent.request({ origin: url.origin, path: `${url.pathname}${url.search}`, method, headers, ...(signal ? { signal } : {}) });
    } catch (err) {
      const code = (err as { code?: string }).code ?? (err as Error).name;
      // No cause: an undici error may carry the request it failed on.
      throw new DamselflyError('DF_ERR_ORIGIN', `the registry ${url.origin} did not answer (${code})`);
    }
  }

  /**
   * Sends the client's request upstream and streams the answer back unchanged. Once the status
   * is written, a failure destroys the response: the client sees a cut connection, never a
   * short body that looks complete.
   */
  async passThrough(req: IncomingMessage, res: ServerResponse, url: URL, headers: UpstreamHeaders): Promise<number> {
    const method = req.method === 'HEAD' ? 'HEAD' : 'GET';
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    const up = await this.send(url, method, headers, gone.signal);
    return this.relay(res, up);
  }

  /** Writes an upstream answer to the client as it came. */
  async relay(res: ServerResponse, up: UpstreamResponse): Promise<number> {
    res.writeHead(up.statusCode, endToEndHeaders(up.headers));
    try {
      await pipeline(up.body, res);
    } catch {
      // The registry broke off or the client left: there is no one to tell but the socket,
      // which is cut so that a short body is never taken for a whole one.
      res.destroy();
    }
    return up.statusCode;
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
