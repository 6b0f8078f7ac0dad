import { DamselflyError } from '../../core/errors.ts';

/**
 * Following an origin's redirects, for the CDN's origin client and dfget's back-to-source alike.
 *
 * On a redirect to another origin (scheme, host or port) only headers marked safe travel on:
 * the request-control headers below, which carry no credential and which a resumed fetch needs
 * at the new host (Range, If-Range), plus whatever the caller names in `crossOriginSafe`. Every
 * other caller-supplied header (Authorization, Cookie, X-Api-Key, Private-Token, …) stays with
 * the origin it was given for: a registry's blob redirect to a storage bucket must not hand the
 * registry token to the bucket. Once dropped, a header stays dropped for the rest of the chain.
 */
export const REDIRECT_SAFE_HEADERS: readonly string[] = Object.freeze([
  'accept',
  'accept-encoding',
  'accept-language',
  'cache-control',
  'if-match',
  'if-modified-since',
  'if-none-match',
  'if-range',
  'if-unmodified-since',
  'pragma',
  'range',
  'user-agent',
]);

export const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export interface RedirectHop {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: { dump(): Promise<void> };
}

export interface RedirectOptions {
  /** Header names (any case) the caller marks safe to send to another origin, beyond REDIRECT_SAFE_HEADERS. */
  crossOriginSafe?: readonly string[];
  maxRedirects?: number;
  /** Checks (and parses) every next hop before it is requested; throws to refuse it. */
  checkHop?: (next: URL) => URL;
}

/** The headers a request may carry from `from` to `to`. */
export function headersForRedirect(headers: Record<string, string>, from: URL, to: URL, crossOriginSafe: readonly string[] = []): Record<string, string> {
  if (from.origin === to.origin) return headers;
  const safe = new Set([...REDIRECT_SAFE_HEADERS, ...crossOriginSafe.map((n) => n.toLowerCase())]);
  return Object.fromEntries(Object.entries(headers).filter(([name]) => safe.has(name.toLowerCase())));
}

/**
 * Sends the request and follows up to `maxRedirects` redirects (303 turns into GET), draining
 * each redirect's body. Returns the first answer that is not a redirect, with the URL it came from.
 */
export async function followRedirects<R extends RedirectHop>(
  start: URL,
  init: { method: string; headers: Record<string, string> },
  send: (url: URL, method: string, headers: Record<string, string>) => Promise<R>,
  o: RedirectOptions = {},
): Promise<R & { url: URL }> {
  const max = o.maxRedirects ?? MAX_REDIRECTS;
  let url = start;
  let { method, headers } = init;
  for (let hop = 0; ; hop++) {
    const res = await send(url, method, headers);
    const location = res.headers.location;
    if (!REDIRECTS.has(res.statusCode) || typeof location !== 'string') return Object.assign(res, { url });
    await res.body.dump().catch(() => {
      // Only draining a redirect's body so the connection can be reused; losing it is harmless.
    });
    if (hop + 1 > max) throw new DamselflyError('DF_ERR_ORIGIN', `more than ${max} redirects`);
    const target = resolveLocation(location, url);
    const next = o.checkHop ? o.checkHop(target) : target;
    headers = headersForRedirect(headers, url, next, o.crossOriginSafe);
    if (res.statusCode === 303 && method !== 'HEAD') method = 'GET';
    url = next;
  }
}

function resolveLocation(location: string, base: URL): URL {
  try {
    return new URL(location, base);
  } catch {
    // The parse error repeats the input; the origin's Location is not ours to echo.
    throw new DamselflyError('DF_ERR_ORIGIN', 'the origin redirected to an invalid URL');
  }
}
