import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { DamselflyError, ErrorCodes, type ErrorCode } from '../../core/errors.ts';
import type { Logger } from '../logger.ts';
import { RepeatLimiter } from '../repeat-limiter.ts';

/**
 * The single place where errors become HTTP responses: RFC 9457 problem+json with a stable
 * `code` from core/errors.ts. Anything unexpected is a 500 that is logged, never leaked.
 */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail?: string;
  retryAfterMs?: number;
}

export function problemOf(code: ErrorCode, detail?: string, extra: Partial<Problem> = {}): Problem {
  const { status, title } = ErrorCodes[code];
  return { type: `urn:damselfly:error:${code}`, title, status, code, ...(detail ? { detail } : {}), ...extra };
}

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  if (problem.retryAfterMs !== undefined) reply.header('retry-after', String(Math.max(1, Math.ceil(problem.retryAfterMs / 1000))));
  return reply.code(problem.status).type('application/problem+json').send(problem);
}

/** Maps any thrown value to a problem. */
export function toProblem(err: unknown): Problem {
  if (err instanceof DamselflyError) return problemOf(err.code, err.detail, err.retryAfterMs ? { retryAfterMs: err.retryAfterMs } : {});
  const e = err as FastifyError & { code?: string; retryable?: boolean };
  if (typeof e?.code === 'string' && e.code in ErrorCodes) return problemOf(e.code as ErrorCode, e.message);
  if (hasZodFastifySchemaValidationErrors(err)) {
    const issues = err.validation.map((v) => `${v.instancePath || '/'} ${v.message ?? ''}`.trim()).join('; ');
    return problemOf('DF_ERR_VALIDATION', issues);
  }
  if (e?.validation) return problemOf('DF_ERR_VALIDATION', e.message);
  if (e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return problemOf('DF_ERR_PAYLOAD_TOO_LARGE', 'request body too large');
  if (e?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return problemOf('DF_ERR_UNSUPPORTED_MEDIA_TYPE', e.message);
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return problemOf('DF_ERR_VALIDATION', e.message);
  return problemOf('DF_ERR_INTERNAL', 'internal error');
}

export function installProblemHandlers(app: import('fastify').FastifyInstance, logger: Logger): void {
  const quiet = new RepeatLimiter(10_000);
  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const problem = toProblem(err);
    if (problem.status === 503) {
      // Expected while the store is away or a shard changes hands, and every waiting peer
      // polls: one line per code, then at most one per 10 s with the count held back.
      const heldBack = quiet.pass(problem.code);
      if (heldBack !== undefined) logger.warn({ code: problem.code, detail: problem.detail, heldBack }, 'request refused for now');
    } else if (problem.status >= 500) logger.error({ err, url: req.url, method: req.method }, 'request failed');
    return sendProblem(reply, problem);
  });
  app.setNotFoundHandler((req, reply) => sendProblem(reply, problemOf('DF_ERR_NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`)));
}
