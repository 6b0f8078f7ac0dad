import { createHash, timingSafeEqual } from 'node:crypto';
import { problemOf } from './problem.ts';
import type { RouteGate } from './route-guard.ts';

/**
 * The cluster token as a route gate (edge/http/route-guard.ts): `Authorization: Bearer <token>`
 * or 401 problem+json with a `WWW-Authenticate: Bearer` challenge (RFC 6750 §3). Without a
 * token configured every request passes. The supernode uses it on /api/v1; the node daemon
 * and the console reuse it.
 */
export function bearerAuth(token: string | undefined, realm = 'damselfly'): RouteGate {
  if (token === undefined) return () => undefined;
  const expected = digest(token);
  return (req, reply) => {
    if (presented(req.headers.authorization, expected)) return undefined;
    reply.header('www-authenticate', `Bearer realm="${realm}"`);
    return problemOf('DF_ERR_UNAUTHORIZED', 'a valid cluster token is required (Authorization: Bearer …)');
  };
}

/**
 * True when the header carries the token. Compared as sha256 digests with timingSafeEqual:
 * equal lengths whatever was sent, and the time taken says nothing about how much matched.
 */
function presented(header: string | undefined, expected: Buffer): boolean {
  const m = header === undefined ? null : /^Bearer +(\S+) *$/i.exec(header);
  return m !== null && timingSafeEqual(digest(m[1]!), expected);
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
