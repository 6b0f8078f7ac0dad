import { Agent, request, type Dispatcher } from 'undici';
import { DamselflyError, isDamselflyError } from '../../core/errors.ts';
import { followRedirects } from '../../edge/http/follow-redirects.ts';
import { SecretMask } from '../../edge/log/secret-mask.ts';
import type { OriginGuard } from './origin-guard.ts';

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
  /**
   * Names of headers that may follow a redirect to another origin (edge/http/follow-redirects.ts:
   * by default only request-control headers such as Range do; credentials never should).
   */
  crossOriginSafe?: readonly string[];
  signal?: AbortSignal;
}

const transientErrors = new WeakSet<Error>();
/** The secrets of the request each response body answers, so that an excerpt of it is masked. */
const secretsOfBody = new WeakMap<object, SecretMask>();

/** An origin failure worth retrying: the network, a 5xx, 408 or 429. */
export function isTransientOriginError(err: unknown): boolean {
  return err instanceof Error && transientErrors.has(err);
}

/**
 * An origin failure with every secret of the request masked: header values, the URL's
 * credentials (`url`: the URL as fetched), and any URL quoted in `detail` redacted.
 */
export function originError(detail: string, headers: Record<string, string> | SecretMask, transient: boolean, url?: string): DamselflyError {
  const mask = headers instanceof SecretMask ? headers : new SecretMask({ headers, ...(url === undefined ? {} : { url }) });
  const err = new DamselflyError('DF_ERR_ORIGIN', mask.mask(detail));
  if (transient) transientErrors.add(err);
  return err;
}

export const isTransientStatus = (status: number) => status >= 500 || status === 408 || status === 429;

/**
 * HTTP to origins through the guard: every hop of a redirect chain is checked before it is
 * requested, and the connector resolves names with the guard's lookup, so no hop can reach a
 * forbidden address by name either. A hop to another origin carries only the headers marked
 * safe (edge/http/follow-redirects.ts). Errors carry no secret of the request (header values
 * and the URL's credentials, masked in every encoding edge/log/secret-mask.ts knows) and no
 * `cause` (an undici error's cause can hold request details we do not control).
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
    const secrets = new SecretMask({ headers: req.headers, url: rawUrl });
    const start = this.guard.checkUrl(rawUrl);
    const res = await followRedirects(start, { method: req.method, headers: { ...req.headers } }, (url, method, headers) => this.send(url, method, headers, secrets, req.signal), {
      checkHop: (next) => this.guard.checkUrl(next),
      ...(req.crossOriginSafe ? { crossOriginSafe: req.crossOriginSafe } : {}),
    });
    secretsOfBody.set(res.body, secrets);
    return res;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private async send(url: URL, method: string, headers: Record<string, string>, secrets: SecretMask, signal?: AbortSignal) {
    try {
      const { statusCode, headers: resHeaders, body } = await request(url, { method, headers, signal, dispatcher: this.agent });
      return { statusCode, headers: resHeaders, body };
    } catch (err) {
      if (signal?.aborted) throw signal.reason ?? err;
      const guardRefusal = findGuardRefusal(err);
      if (guardRefusal) throw guardRefusal;
      const message = err instanceof Error ? `${(err as { code?: string }).code ?? err.name}: ${err.message}` : String(err);
      throw originError(`${method} ${url.host} failed: ${message}`, secrets, true);
    }
  }
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

/**
 * At most `max` characters of an error body, for a diagnostic excerpt, masked with the secrets
 * of the request it answers before it is cut: `margin` more bytes are read than shown, so a
 * secret straddling the cut is whole when it is masked.
 */
export async function bodyExcerpt(body: OriginResponse['body'], max = 200): Promise<string> {
  const mask = secretsOfBody.get(body) ?? new SecretMask({});
  const limit = max + mask.margin;
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  try {
    for await (const chunk of body) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size > limit) {
        truncated = true;
        break;
      }
    }
  } catch {
    // The excerpt is only decoration for an error being raised anyway.
  }
  discardBody(body);
  return mask.excerpt(Buffer.concat(chunks).subarray(0, limit).toString('utf8'), max, truncated);
}

export function header(headers: OriginHeaders, name: string): string | null {
  const v = headers[name];
  return (Array.isArray(v) ? v[0] : v) ?? null;
}
