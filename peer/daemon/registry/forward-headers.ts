import { connectionNamed, isEndToEnd } from '../../../edge/http/hop-by-hop.ts';

/**
 * Which headers cross the mirror. End-to-end headers travel as sent, each line on its own:
 * containerd sends one `Accept` line per manifest media type, and joining them would be a
 * different request than the registry's content negotiation was written for. Hop-by-hop
 * headers (edge/http/hop-by-hop.ts) belong to one connection; X-Dragonfly-* steer the daemon;
 * Host is the upstream's; the mirror sends no body, so no body framing either. Responses go
 * back through edge/http/hop-by-hop.ts's endToEndHeaders.
 */
const NOT_UPSTREAM = new Set(['host', 'content-length', 'expect']);

/** The client's request headers for the upstream, as flat name/value pairs (undici sends each pair as one line). */
export function upstreamRequestHeaders(rawHeaders: readonly string[], omit: readonly string[] = []): string[] {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) pairs.push([rawHeaders[i]!, rawHeaders[i + 1]!]);
  const named = connectionNamed(pairs.filter(([n]) => n.toLowerCase() === 'connection').map(([, v]) => v));
  const dropped = new Set(omit.map((n) => n.toLowerCase()));
  return pairs
    .filter(([name]) => {
      const n = name.toLowerCase();
      return isEndToEnd(n, named) && !NOT_UPSTREAM.has(n) && !dropped.has(n) && !n.startsWith('x-dragonfly-');
    })
    .flat();
}

/** The first value of a request header (node:http keeps one Authorization; duplicates are discarded). */
export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
