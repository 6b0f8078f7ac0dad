import type { ServerResponse } from 'node:http';
import { DamselflyError, ErrorCodes, type ErrorCode } from '../../core/errors.ts';

/**
 * An error as every Damselfly server answers it: RFC 9457 problem+json with the stable `code`
 * of core/errors.ts. Built here, rendered by `sendProblem` (plain node:http: the uploader, the
 * piece server) or by fastify-problems.ts (the supernode's API): the same body and headers.
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

/** A thrown DamselflyError as its problem; anything else is a 500 whose detail is not leaked. */
export function problemOfError(err: unknown): Problem {
  if (err instanceof DamselflyError) return problemOf(err.code, err.detail, err.retryAfterMs ? { retryAfterMs: err.retryAfterMs } : {});
  return problemOf('DF_ERR_INTERNAL', 'internal error');
}

/** The headers a problem response carries besides its body: the media type, and Retry-After (whole seconds) when the problem has a hint. */
export function problemHeaders(problem: Problem): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/problem+json' };
  if (problem.retryAfterMs !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(problem.retryAfterMs / 1000)));
  return headers;
}

/** Renders a problem on a plain node:http response; `headers` adds to it (e.g. Allow, Content-Range). */
export function sendProblem(res: ServerResponse, problem: Problem, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(problem);
  res.writeHead(problem.status, { ...headers, ...problemHeaders(problem), 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
