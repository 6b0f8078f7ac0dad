import { Agent, request, type Dispatcher } from 'undici';
import { DamselflyError, isDamselflyError } from '../../core/errors.ts';
import type { OriginGuard } from './origin-guard.ts';
import { maskSecrets } from './secret-mask.ts';

export type OriginHeaders = Record<string, string | string[] | undefined>;

export interface OriginResponse {
  /** The URL that answered, after redirects. */
  url: URL;
  statusCode: number;
  headers: OriginHeaders;
  body: Dispatcher.ResponseData['body'];
}

export interface OriginRequest {
  method: 'GET' | 'HEAD';
  headers: Record<string, string>;
  signal?: AbortSignal;
}

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Dropped when a redirect leaves the origin, as browsers and curl do: a blob redirect to a
 * storage bucket must not carry the registry's token (and S3 refuses a foreign Authorization). */
const CREDENTIAL_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);

const transientErrors = new WeakSet<Error>();

/** An origin failure worth retrying: the network, a 5xx, 408 or 429. */
export function isTransientOriginError(err: unknown): boolean {
  return err instanceof Error && transientErrors.has(err);
}

export function originError(detail: string, headers: Record<string, string>, transient: boolean): DamselflyError {
  const err = new DamselflyError('DF_ERR_ORIGIN', maskSecrets(detail, headers));
  if (transient) transientErrors.add(err);
  return err;
}

export const isTransientStatus = (status: number) => status >= 500 || status === 408 || status === 429;

/**
 * HTTP to origins through the guard: every hop of a redirect chain is checked before it is
 * requested, and the connector resolves names with the guard's lookup, so no hop can reach a
 * forbidden address by name either. Errors carry no header values (masked) and no `cause`
 * (an undici error's cause can hold request details we do not control).
 */
export class OriginClient {
  private readonly agent: Agent;

  constructor(private readonly guard: OriginGuard, timeouts: { headersMs?: number; bodyMs?: number } = {}) {
    this.agent = new Agent({
      connect: { lookup: guard.lookup },
      headersTimeout: timeouts.headersMs ?? 30_000,
      bodyTimeout: timeouts.bodyMs ?? 30_000,
    });
  }

  async request(rawUrl: string, req: OriginRequest): Promise<OriginResponse> {
    let url = this.guard.checkUrl(rawUrl);
    let headers = { ...req.headers };
    let method = req.method;
    for (let hop = 0; ; hop++) {
      const res = await this.send(url, method, headers, req.signal);
      const location = res.headers.location;
      if (!REDIRECTS.has(res.statusCode) || typeof location !== 'string') return { url, ...res };
      await res.body.dump().catch(() => {
        // Only draining a redirect's body so the connection can be reused; losing it is harmless.
      });
      if (hop + 1 > MAX_REDIRECTS) throw originError(`more than ${MAX_REDIRECTS} redirects`, req.headers, false);
      const next = this.guard.checkUrl(new URL(location, url));
      if (next.origin !== url.origin) headers = withoutCredentials(headers);
      if (res.statusCode === 303 && method !== 'HEAD') method = 'GET';
      url = next;
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private async send(url: URL, method: string, headers: Record<string, string>, signal?: AbortSignal) {
    try {
      const { statusCode, headers: resHeaders, body } = await request(url, { method, headers, signal, dispatcher: this.agent });
      return { statusCode, headers: resHeaders, body };
    } catch (err) {
      if (signal?.aborted) throw signal.reason ?? err;
      const guardRefusal = findGuardRefusal(err);
      if (guardRefusal) throw guardRefusal;
      const message = err instanceof Error ? `${(err as { code?: string }).code ?? err.name}: ${err.message}` : String(err);
      throw originError(`${method} ${url.host} failed: ${message}`, headers, true);
    }
  }
}

function withoutCredentials(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => !CREDENTIAL_HEADERS.has(k.toLowerCase())));
}

/** The guard's refusal thrown inside the connector may reach us wrapped by undici. */
function findGuardRefusal(err: unknown): DamselflyError | undefined {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (isDamselflyError(e, 'DF_ERR_FORBIDDEN_ORIGIN')) return e;
  }
  return undefined;
}

/** Abandons a response body without reading it (its connection is closed, not reused). */
export function discardBody(body: OriginResponse['body']): void {
  body.once('error', () => {
    // Destroying an undici body emits an AbortError: that is the intended outcome here.
  });
  body.destroy();
}

/** Reads at most `max` bytes of an error body, for a diagnostic excerpt. */
export async function bodyExcerpt(body: OriginResponse['body'], max = 200): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size >= max) break;
    }
  } catch {
    // The excerpt is only decoration for an error being raised anyway.
  }
  discardBody(body);
  return Buffer.concat(chunks).subarray(0, max).toString('utf8').replace(/\s+/g, ' ').trim();
}

export function header(headers: OriginHeaders, name: string): string | null {
  const v = headers[name];
  return (Array.isArray(v) ? v[0] : v) ?? null;
}
