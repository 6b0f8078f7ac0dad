import type { IncomingHttpHeaders } from 'node:http';
import { connectionNamed, isEndToEnd } from '../../../edge/http/hop-by-hop.ts';

/**
 * Which headers cross the proxy. Hop-by-hop headers (edge/http/hop-by-hop.ts; among them
 * Proxy-Authorization, the client's credential for this proxy) never travel on; X-Dragonfly-*
 * steer the daemon. Host is set from the URL actually fetched (a rule's redirect changes it).
 * Responses go back through endToEndHeaders there.
 *
 * Dropped as well when the body comes through the swarm: one task serves every client, so the
 * origin must send the whole identity-encoded representation, not a 304, a range or gzip the
 * answer could not say it is.
 */
const NOT_FOR_A_TASK = new Set(['range', 'if-range', 'if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since', 'accept-encoding', 'content-length', 'content-type']);

/** The client's request headers for a direct fetch. */
export function upstreamHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const named = connectionNamed(headers['connection']);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || !isEndToEnd(name, named) || name.startsWith('x-dragonfly-') || name === 'host' || name === 'expect') continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** The client's request headers for the origin of a P2P task (P2PRequest.headers: its Authorization, Cookie, Accept…). */
export function taskHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  return Object.fromEntries(Object.entries(upstreamHeaders(headers)).filter(([name]) => !NOT_FOR_A_TASK.has(name)));
}
