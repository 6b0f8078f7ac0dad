/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection and never travel on: the fixed
 * list, plus whatever a message's Connection header names. The registry mirror and the HTTP
 * proxy both forward messages, so both ask here. Proxy-Authorization and Proxy-Authenticate are
 * the client's exchange with this hop, never the next one's.
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** The header names a message's Connection header lists (its values may be one or several lines). */
export function connectionNamed(value: string | readonly string[] | undefined): Set<string> {
  const lines = value === undefined ? [] : typeof value === 'string' ? [value] : value;
  return new Set(lines.flatMap((v) => v.split(',')).map((n) => n.trim().toLowerCase()).filter(Boolean));
}

/** Whether a lower-case header name may travel past this hop, given what Connection named. */
export function isEndToEnd(name: string, named: ReadonlySet<string>): boolean {
  return !HOP_BY_HOP.has(name) && !named.has(name);
}

/** A response's headers for the next hop: unchanged but for the hop-by-hop ones (multi-line headers stay lists). */
export function endToEndHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const named = connectionNamed(headers['connection']);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && isEndToEnd(name, named)) out[name] = value;
  }
  return out;
}
