/**
 * Which headers cross the mirror. End-to-end headers travel as sent, each line on its own:
 * containerd sends one `Accept` line per manifest media type, and joining them would be a
 * different request than the registry's content negotiation was written for. Hop-by-hop
 * headers (RFC 9110 §7.6.1, and whatever a message's Connection names) belong to one
 * connection; X-Dragonfly-* steer the daemon; Host is the upstream's; the mirror sends no body,
 * so no body framing either.
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
const NOT_UPSTREAM = new Set(['host', 'content-length', 'expect']);

function connectionNamed(values: readonly string[]): Set<string> {
  return new Set(values.flatMap((v) => v.split(',')).map((n) => n.trim().toLowerCase()).filter(Boolean));
}

/** The client's request headers for the upstream, as flat name/value pairs (undici sends each pair as one line). */
export function upstreamRequestHeaders(rawHeaders: readonly string[], omit: readonly string[] = []): string[] {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) pairs.push([rawHeaders[i]!, rawHeaders[i + 1]!]);
  const named = connectionNamed(pairs.filter(([n]) => n.toLowerCase() === 'connection').map(([, v]) => v));
  const dropped = new Set(omit.map((n) => n.toLowerCase()));
  return pairs
    .filter(([name]) => {
      const n = name.toLowerCase();
      return !HOP_BY_HOP.has(n) && !named.has(n) && !NOT_UPSTREAM.has(n) && !dropped.has(n) && !n.startsWith('x-dragonfly-');
    })
    .flat();
}

/** The upstream's response headers for the client, unchanged but for the hop-by-hop ones (multi-line headers stay lists). */
export function clientResponseHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const connection = headers['connection'];
  const named = connectionNamed(connection === undefined ? [] : ([] as string[]).concat(connection));
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name)) continue;
    out[name] = value;
  }
  return out;
}

/** The first value of a request header (node:http keeps one Authorization; duplicates are discarded). */
export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
