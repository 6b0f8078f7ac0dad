import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { DamselflyError } from '../../core/errors.ts';
import type { LogSink } from '../log/log-sink.ts';
import { RepeatLimiter } from '../log/repeat-limiter.ts';
import { problemHeaders, problemOf, problemOfError, type Problem } from './problem.ts';
import { replyNoRoute } from './no-route.ts';

/** Renders a problem on a Fastify reply, exactly as `sendProblem` does on node:http. */
export function replyProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply.code(problem.status).headers(problemHeaders(problem)).send(problem);
}

/** Maps anything a Fastify app may throw to a problem: ours by code, Fastify's and zod's validation as 4xx, the rest as 500. */
export function toProblem(err: unknown): Problem {
  if (err instanceof DamselflyError) return problemOfError(err);
  if (hasZodFastifySchemaValidationErrors(err)) {
    const issues = err.validation.map((v) => `${v.instancePath || '/'} ${v.message ?? ''}`.trim()).join('; ');
    return problemOf('DF_ERR_VALIDATION', issues);
  }
  const e = err as Partial<FastifyError>;
  if (e?.validation) return problemOf('DF_ERR_VALIDATION', e.message);
  if (e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return problemOf('DF_ERR_PAYLOAD_TOO_LARGE', 'request body too large');
  if (e?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return problemOf('DF_ERR_UNSUPPORTED_MEDIA_TYPE', e.message);
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return problemOf('DF_ERR_VALIDATION', e.message);
  return problemOfError(err);
}

/**
 * The single place where a Fastify app's errors become responses. Anything unexpected is a 500
 * that is logged, never leaked; 503s (expected while the store is away or a shard changes
 * hands, and every waiting peer polls) are logged once per code, then at most every 10 s.
 */
export function installProblemHandlers(app: FastifyInstance, log: LogSink): void {
  const quiet = new RepeatLimiter(10_000);
  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    // No route takes it (e.g. a QUERY without Content-Type failed body parsing on the way to
    // the not-found handler): say so, not what went wrong with a body nobody would read.
    if (req.is404) return replyNoRoute(app, req, reply);
    const problem = toProblem(err);
    if (problem.status === 503) {
      const heldBack = quiet.pass(problem.code);
      if (heldBack !== undefined) log.warn({ code: problem.code, detail: problem.detail, heldBack }, 'request refused for now');
    } else if (problem.status >= 500) log.error({ err, url: req.url, method: req.method }, 'request failed');
    return replyProblem(reply, problem);
  });
  app.setNotFoundHandler((req, reply) => replyNoRoute(app, req, reply));
}
