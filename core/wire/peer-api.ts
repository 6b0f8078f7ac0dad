import { z } from 'zod';
import { FailureReason } from '../events/task-events.ts';
import { HostPort, Sha256Digest } from './fields.ts';

/**
 * The wire contract between peers (dfget, the daemon) and the supernode, under /api/v1.
 * Both sides import these schemas; the supernode validates every body with them and the
 * OpenAPI document is generated from them.
 */

const id = z.string().min(1).max(200).regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits, . _ : - only');

/** POST /api/v1/tasks — register (or find) the task for a URL. Idempotent. */
export const RegisterTaskRequest = z.object({
  url: z.string().url().max(4096),
  /** Headers for the origin (e.g. Authorization). Used for fetching only, never persisted. */
  headers: z.record(z.string(), z.string().max(8192)).default({}),
  digest: Sha256Digest.optional(),
  /** Query parameter names removed from the URL before computing the task id. */
  filter: z.array(z.string().min(1).max(200)).max(50).default([]),
  identifier: z.string().max(500).optional(),
  range: z.string().regex(/^bytes=\d+-\d*$/).optional(),
});
export type RegisterTaskRequest = z.infer<typeof RegisterTaskRequest>;

export const TaskView = z.object({
  taskId: z.string(),
  status: z.enum(['absent', 'created', 'seeding', 'seeded', 'failed', 'evicted']),
  url: z.string(),
  contentLength: z.number().nullable(),
  pieceSize: z.number().nullable(),
  pieceCount: z.number().nullable(),
  /** Pieces seeded at least once (digest known). */
  seededCount: z.number(),
  /** Of those, the pieces the owner's CDN holds now (fewer than seededCount after a takeover). */
  cdnHeldCount: z.number().optional(),
  peers: z.number(),
  version: z.number(),
  failure: z.string().nullable(),
});
export type TaskView = z.infer<typeof TaskView>;

/** POST /api/v1/tasks/:taskId/peers — a peer joins the task's swarm. */
export const JoinRequest = z.object({
  peerId: id,
  hostId: id,
  /** host:port of the peer's uploader. */
  address: HostPort.min(3).max(300),
});
export type JoinRequest = z.infer<typeof JoinRequest>;

/**
 * POST /api/v1/tasks/:taskId/peers/:peerId/rounds — the one round trip: report what finished
 * (verified pieces and failures) and receive the next assignments. Answered only after the
 * events it caused are durably committed.
 */
export const RoundRequest = z.object({
  ok: z.array(z.object({ piece: z.number().int().nonnegative(), source: id, ms: z.number().int().nonnegative() })).max(10_000).default([]),
  failed: z.array(z.object({ piece: z.number().int().nonnegative(), source: id, reason: FailureReason })).max(10_000).default([]),
  /** How many new assignments the peer can take now (its free download slots). */
  want: z.number().int().min(0).max(256).default(4),
  /**
   * If nothing can be assigned now, hold the answer up to this long until the task changes
   * (long poll): an idle peer learns of a newly seeded piece at once instead of at its next poll.
   */
  holdMs: z.number().int().min(0).max(5000).default(0),
});
export type RoundRequest = z.infer<typeof RoundRequest>;

export const Assignment = z.object({
  piece: z.number().int().nonnegative(),
  /** Peer id of the source, or "cdn". */
  source: z.string(),
  /** host:port to GET the piece from. */
  address: z.string(),
  offset: z.number().int().nonnegative(),
  size: z.number().int().nonnegative(),
  digest: z.string(),
});
export type Assignment = z.infer<typeof Assignment>;

export const RoundResponse = z.discriminatedUnion('action', [
  z.object({
    action: z.literal('assign'),
    assignments: z.array(Assignment),
    contentLength: z.number(),
    pieceSize: z.number(),
    pieceCount: z.number(),
  }),
  z.object({ action: z.literal('wait'), retryAfterMs: z.number().int().nonnegative() }),
  z.object({ action: z.literal('done') }),
  z.object({ action: z.literal('failed'), reason: z.string() }),
]);
export type RoundResponse = z.infer<typeof RoundResponse>;

/** DELETE /api/v1/tasks/:taskId/peers/:peerId — body says whether the peer finished. */
export const LeaveRequest = z.object({
  outcome: z.enum(['succeeded', 'failed', 'left']),
  reason: z.string().max(500).optional(),
});
export type LeaveRequest = z.infer<typeof LeaveRequest>;

/** Piece download path on every uploader (peers and the CDN alike): GET /pieces/:taskId/:piece */
export function piecePath(taskId: string, piece: number): string {
  return `/pieces/${taskId}/${piece}`;
}
