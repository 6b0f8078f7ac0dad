import { z } from 'zod';
import { ErrorCodes, type ErrorCode } from '../../core/errors.ts';
import type { Problem } from './problem.ts';

const codes = Object.keys(ErrorCodes) as [ErrorCode, ...ErrorCode[]];

/** The body of every error response (edge/http/problem.ts builds it): RFC 9457 problem+json with our stable `code`. */
export const ProblemBody: z.ZodType<Problem> = z.object({
  type: z.string().describe('urn:damselfly:error:<code>'),
  title: z.string(),
  status: z.number().int(),
  code: z.enum(codes).describe('Stable error code (core/errors.ts): match on it, not on the title or detail.'),
  detail: z.string().optional(),
  retryAfterMs: z.number().optional().describe('When to ask again (also sent as Retry-After, in seconds).'),
});

/** Why a route answers each status, as the OpenAPI document says it. */
const WHY = {
  400: 'The request is invalid: the problem\'s code and detail name the field',
  401: 'The cluster token is missing or wrong (`Authorization: Bearer <token>`)',
  403: 'Forbidden: the origin address is not allowed, or a request marked as forwarded did not come from a live replica (docs/security.md)',
  404: 'No such task, or the peer is not part of it',
  409: 'The task or the peer is not in a state that allows this',
  413: 'The body is larger than the limit',
  415: 'The body is not JSON',
  503: 'The supernode is starting or draining, or no replica owns the task right now: ask again after Retry-After',
} as const;

export type ProblemStatus = keyof typeof WHY;

/**
 * Response entries of a route's schema for the problems it can answer, each as
 * `application/problem+json` with the ProblemBody schema: the document lists them, and the
 * route's serializer checks every problem it sends against the same schema.
 */
export function problemResponses(...statuses: ProblemStatus[]) {
  return Object.fromEntries(statuses.map((s) => [s, { description: WHY[s], content: { 'application/problem+json': { schema: ProblemBody } } }])) as Record<
    ProblemStatus,
    { description: string; content: { 'application/problem+json': { schema: typeof ProblemBody } } }
  >;
}
