import { z } from 'zod';
import { Sha256Hex } from '../wire/fields.ts';

/**
 * The events of a download task, schema version 4 (2 added `OwnershipAcquired.cdnPieces`, 3
 * added `ParentsAssigned`, 4 groups `PiecesReported.ok` by source; earlier events read
 * unchanged, but for version 3's reports, grouped as they are read: groupLegacyVerified).
 * They are the source of truth: the task's state is nothing but the fold of these over
 * `initialTaskState()`. Add a field → bump `schemaVersion` and keep the reader tolerant; a
 * field whose shape changes is read from its old shape too; never change what a field means.
 *
 * Times are epoch milliseconds carried in the event (core/ has no clock). No event carries
 * request headers: credentials for the origin live only in the supernode's memory.
 */

/** The id used for the supernode's CDN as a piece source (every other source is a peer id). */
export const CDN_SOURCE = 'cdn';

const at = z.number().int().nonnegative();
const piece = z.number().int().nonnegative();
const id = z.string().min(1).max(200);

export const FailureReason = z.enum(['digest', 'unreachable', 'timeout', 'http', 'refused', 'io']);
export type FailureReason = z.infer<typeof FailureReason>;

export const TaskCreated = z.object({
  type: z.literal('TaskCreated'),
  data: z.object({
    taskId: id,
    url: z.string().url(),
    digest: z.string().nullable(),
    identifier: z.string().nullable(),
    range: z.string().nullable(),
    filter: z.array(z.string()),
    /** The id is the digest's alone (computeTaskId); absent before the daemon's mirror existed. */
    contentAddressed: z.boolean().optional(),
    at,
  }),
});

export const SourceProbed = z.object({
  type: z.literal('SourceProbed'),
  data: z.object({
    contentLength: z.number().int().nonnegative(),
    pieceSize: z.number().int().positive(),
    pieceCount: z.number().int().nonnegative(),
    acceptRanges: z.boolean(),
    etag: z.string().nullable(),
    lastModified: z.string().nullable(),
    at,
  }),
});

/**
 * The CDN stored these pieces on disk with these digests; peers may fetch them from the CDN from
 * now on. The first time it fixes a piece's digest; later (a refill after a takeover) it only
 * says the CDN holds that piece again, always with the same digest.
 */
export const PiecesSeeded = z.object({
  type: z.literal('PiecesSeeded'),
  data: z.object({
    pieces: z.array(z.object({ piece, size: z.number().int().nonnegative(), digest: Sha256Hex })).min(1),
    at,
  }),
});

export const PeerJoined = z.object({
  type: z.literal('PeerJoined'),
  data: z.object({ peerId: id, hostId: id, address: z.string().min(1).max(300), at }),
});

/** A scheduling decision. Replay applies it; it never re-decides. */
export const PiecesAssigned = z.object({
  type: z.literal('PiecesAssigned'),
  data: z.object({
    peerId: id,
    assignments: z.array(z.object({ piece, source: id, deadline: at })).min(1),
    at,
  }),
});

/**
 * A peer's parents from now on (peer ids, or CDN_SOURCE): the peers it fetches from, choosing
 * the pieces itself among what they hold (the sync protocol, docs/decisions.md "Parents, not
 * pieces"). Replaces the previous set; an empty set releases them all. A scheduling decision
 * like PiecesAssigned: replay applies it and never re-decides.
 */
export const ParentsAssigned = z.object({
  type: z.literal('ParentsAssigned'),
  data: z.object({ peerId: id, parents: z.array(id).max(64), at }),
});

/**
 * Pieces verified from one source: `pieces[i]` took `ms[i]` milliseconds to fetch. Reports are
 * grouped by source (schema version 4) so that a reported piece is two numbers, in the request
 * body, the event and every copy of them (store, relay, bus), not an object repeating its
 * source's id: each such object cost the supernode tens of microseconds all told
 * (docs/decisions.md, "Reports by source").
 */
export function verifiedFrom<S extends z.ZodType<string>>(source: S) {
  return z
    .object({ source, pieces: z.array(piece).min(1), ms: z.array(z.number().int().nonnegative()) })
    .refine((g) => g.ms.length === g.pieces.length, { message: 'ms holds one duration for each piece', path: ['ms'] });
}
/** As stored (the wire checks its source ids more strictly: core/wire/peer-api.ts). */
export const VerifiedFrom = verifiedFrom(id);
export type VerifiedFrom = z.infer<typeof VerifiedFrom>;

/** One verified piece as version 3 reported it (and the round protocol still does). */
export interface VerifiedPiece {
  piece: number;
  source: string;
  ms: number;
}

/** Verified pieces grouped by source: sources in the order they first appear, each one's pieces in order. */
export function bySource(entries: readonly VerifiedPiece[]): VerifiedFrom[] {
  const groups = new Map<string, VerifiedFrom>();
  for (const { piece, source, ms } of entries) {
    const group = groups.get(source);
    if (group) {
      group.pieces.push(piece);
      group.ms.push(ms);
    } else groups.set(source, { source, pieces: [piece], ms: [ms] });
  }
  return [...groups.values()];
}

/**
 * Reads a list of version-3 entries (`{piece, source, ms}`) as groups (bySource); anything else
 * is returned as it is, for the schema to check. Stored events and older peers' sync bodies go
 * through it, so both read as version 4. Grouping keeps what a fold of the report sees: a report
 * holds each piece once (reconcileReport), so the order across sources never mattered.
 */
export function groupLegacyVerified(value: unknown): unknown {
  if (!Array.isArray(value) || value.length === 0) return value;
  const first: unknown = value[0];
  if (typeof first !== 'object' || first === null || !('piece' in first)) return value;
  return bySource(value as VerifiedPiece[]);
}

/** What a peer observed in one round trip: pieces verified and stored, and pieces that failed. */
export const PiecesReported = z.object({
  type: z.literal('PiecesReported'),
  data: z.object({
    peerId: id,
    ok: z.preprocess(groupLegacyVerified, z.array(VerifiedFrom)),
    failed: z.array(z.object({ piece, source: id, reason: FailureReason })),
    at,
  }),
});

/** Assignments whose deadline passed without a report; the pieces become assignable again. */
export const AssignmentsExpired = z.object({
  type: z.literal('AssignmentsExpired'),
  data: z.object({ peerId: id, pieces: z.array(piece).min(1), at }),
});

export const PeerLeft = z.object({
  type: z.literal('PeerLeft'),
  data: z.object({ peerId: id, reason: z.enum(['left', 'expired']), at }),
});

export const PeerSucceeded = z.object({
  type: z.literal('PeerSucceeded'),
  data: z.object({ peerId: id, at }),
});

export const PeerFailed = z.object({
  type: z.literal('PeerFailed'),
  data: z.object({ peerId: id, reason: z.string().max(500), at }),
});

/** Every piece has been seeded (its digest is known): the origin was read through once. */
export const TaskSucceeded = z.object({ type: z.literal('TaskSucceeded'), data: z.object({ at }) });

export const TaskFailed = z.object({
  type: z.literal('TaskFailed'),
  data: z.object({ reason: z.string().max(500), at }),
});

export const TaskEvicted = z.object({ type: z.literal('TaskEvicted'), data: z.object({ at }) });

/**
 * A replica took over writing this task's stream with this fencing epoch. `cdnPieces`: the
 * pieces (of known digest) that the new owner's CDN holds on its own disk; from here on the CDN
 * is a source for exactly those, until it seeds more. Left out (events of schema 1, or an owner
 * that did not look) it changes nothing about what the CDN holds.
 */
export const OwnershipAcquired = z.object({
  type: z.literal('OwnershipAcquired'),
  data: z.object({ replicaId: id, epoch: z.number().int().nonnegative(), cdnPieces: z.array(piece).optional(), at }),
});

export const TaskEvent = z.discriminatedUnion('type', [
  TaskCreated,
  SourceProbed,
  PiecesSeeded,
  PeerJoined,
  PiecesAssigned,
  ParentsAssigned,
  PiecesReported,
  AssignmentsExpired,
  PeerLeft,
  PeerSucceeded,
  PeerFailed,
  TaskSucceeded,
  TaskFailed,
  TaskEvicted,
  OwnershipAcquired,
]);
export type TaskEvent = z.infer<typeof TaskEvent>;
export type TaskEventType = TaskEvent['type'];
export type EventOf<T extends TaskEventType> = Extract<TaskEvent, { type: T }>;
