import type { IncomingHttpHeaders } from 'node:http';

/**
 * Which headers cross the proxy. Hop-by-hop headers (RFC 9110 §7.6.1, plus the ones a client
 * names in Connection) belong to one connection and never travel on; Proxy-Authorization is the
 * client's credential for this proxy, not the origin's; X-Dragonfly-* steer the daemon. Host is
 * set from the URL actually fetched (a rule's redirect changes it).
 */
const HOP_BY_HOP = new Set(['connection', 'proxy-authorization', 'proxy-authenticate', 'proxy-connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/**
 * Dropped as well when the body comes through the swarm: one task serves every client, so the
 * origin must send the whole identity-encoded representation, not a 304, a range or gzip the
 * answer could not say it is.
 */
const NOT_FOR_A_TASK = new Set(['range', 'if-range', 'if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since', 'accept-encoding', 'content-length', 'content-type']);

function connectionNamed(headers: IncomingHttpHeaders | Record<string, unknown>): Set<string> {
  const value = headers['connection'];
  const text = Array.isArray(value) ? value.join(',') : typeof value === 'string' ? value : '';
  return new Set(text.split(',').map((n) => n.trim().toLowerCase()).filter(Boolean));
}

/** The client's request headers for a direct fetch. */
export function upstreamHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const named = connectionNamed(headers);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name) || name.startsWith('x-dragonfly-') || name === 'host' || name === 'expect') continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** The client's request headers for the origin of a P2P task (P2PRequest.headers: its Authorization, Cookie, Accept…). */
export function taskHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  return Object.fromEntries(Object.entries(upstreamHeaders(headers)).filter(([name]) => !NOT_FOR_A_TASK.has(name)));
}

/** The origin's response headers for the client (Set-Cookie stays a list). */
export function downstreamHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const named = connectionNamed(headers);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name)) continue;
    out[name] = value;
  }
  return out;
}
