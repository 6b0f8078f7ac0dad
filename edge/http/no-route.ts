import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { replyProblem } from './fastify-problems.ts';
import { problemOf } from './problem.ts';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/**
 * The answer to a request no route takes: 405 with `Allow` when the path has routes under
 * other methods (RFC 9110 §15.5.6), else 404. Asked of the app's own router, so a path is
 * matched exactly as a request for it would be.
 */
export function replyNoRoute(app: FastifyInstance, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const path = req.url.split('?')[0]!;
  const allow = METHODS.filter((m) => m !== req.method && app.findRoute({ method: m, url: req.url }) !== null);
  if (allow.length > 0) {
    reply.header('allow', allow.join(', '));
    return replyProblem(reply, problemOf('DF_ERR_METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${path} (allowed: ${allow.join(', ')})`));
  }
  return replyProblem(reply, problemOf('DF_ERR_NOT_FOUND', `no route ${req.method} ${path}`));
}
