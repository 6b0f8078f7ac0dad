import type { FailureReason, VerifiedFrom } from '../events/index.ts';

/**
 * What the supernode asks of a task. Every command carries `at` (epoch ms: core/ has no clock)
 * and the ids it needs; decide() turns it into events or refuses it with a DamselflyError.
 */
export type TaskCommand =
  | CreateTask
  | RecordProbe
  | RecordSeededPieces
  | CompleteSeed
  | Join
  | Round
  | Sync
  | ExpireAssignments
  | Leave
  | FailTask
  | Evict
  | AcquireOwnership;

export type TaskCommandType = TaskCommand['type'];

export interface CreateTask {
  type: 'CreateTask';
  at: number;
  /** computeTaskId() of the fields below; checked. */
  taskId: string;
  /** The URL as requested (the origin is fetched with it, filtered parameters included). */
  url: string;
  digest: string | null;
  identifier: string | null;
  range: string | null;
  filter: string[];
  /** The id comes from the digest alone (computeTaskId). */
  contentAddressed?: boolean;
}

export interface RecordProbe {
  type: 'RecordProbe';
  at: number;
  contentLength: number;
  acceptRanges: boolean;
  etag: string | null;
  lastModified: string | null;
  /** Overrides the piece size rule (core/pieces); normally left out. */
  pieceSize?: number;
}

/** Pieces the CDN stored on disk: first seeded, or seeded again (refilled) with the digest already known. */
export interface RecordSeededPieces {
  type: 'RecordSeededPieces';
  at: number;
  pieces: { piece: number; size: number; digest: string }[];
}

export interface CompleteSeed {
  type: 'CompleteSeed';
  at: number;
}

export interface Join {
  type: 'Join';
  at: number;
  peerId: string;
  hostId: string;
  address: string;
}

/** One round trip of a peer: what finished since the last one, and how many more it can take. */
export interface Round {
  type: 'Round';
  at: number;
  peerId: string;
  ok: { piece: number; source: string; ms: number }[];
  failed: { piece: number; source: string; reason: FailureReason }[];
  want: number;
}

/** One sync of a peer on the sync protocol: what it verified and what failed since the last one, and the parents it wants replaced. */
export interface Sync {
  type: 'Sync';
  at: number;
  peerId: string;
  /** Verified pieces grouped by source (the wire's and the event's shape). */
  ok: VerifiedFrom[];
  failed: { piece: number; source: string; reason: FailureReason }[];
  replace: string[];
  /** Join first (as a Join command would), in the same decision: a peer's first sync. */
  join?: { hostId: string; address: string };
}

/** The timer tick: expires overdue assignments and peers not heard from (see policy). */
export interface ExpireAssignments {
  type: 'ExpireAssignments';
  at: number;
}

export interface Leave {
  type: 'Leave';
  at: number;
  peerId: string;
  outcome: 'succeeded' | 'failed' | 'left';
  reason?: string;
}

export interface FailTask {
  type: 'FailTask';
  at: number;
  reason: string;
}

export interface Evict {
  type: 'Evict';
  at: number;
}

export interface AcquireOwnership {
  type: 'AcquireOwnership';
  at: number;
  replicaId: string;
  epoch: number;
  /**
   * The pieces this replica's CDN holds on its disk (supernode/cdn `Cdn.heldPieces`). Left out,
   * what the state says the CDN holds is kept as it is.
   */
  cdnPieces?: number[];
}
