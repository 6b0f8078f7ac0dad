import { z } from 'zod';
import { DamselflyError } from '../errors.ts';
import type { TaskState } from './task-state.ts';

const count = z.number().int().nonnegative();
const nullableString = z.string().nullable();

const PeerStateSchema = z.object({
  peerId: z.string(),
  hostId: z.string(),
  address: z.string(),
  status: z.enum(['active', 'succeeded', 'failed', 'left']),
  joinedAt: count,
  lastSeenAt: count,
  have: z.array(z.boolean()),
  haveCount: count,
  inflight: z.record(z.string().regex(/^\d+$/), z.object({ source: z.string(), deadline: count })),
  // Absent from snapshots stored before reports were checked against assignments: then only
  // the assignments in flight are known (an earlier, expired one is not believed after that).
  assignedFrom: z.array(z.union([z.string(), z.array(z.string()), z.null()])).optional(),
  uploading: count,
  failedSources: z.record(z.string(), count),
  failuresCaused: count,
  served: count,
  // Absent from snapshots stored before the sync protocol: no parents were ever given.
  parents: z.array(z.string()).optional(),
  parentsEver: z.array(z.string()).optional(),
  children: z.array(z.string()).optional(),
});

/** The shape of a stored TaskState (see task-state.ts), checked when a snapshot is read back. */
export const TaskStateSchema = z.object({
  status: z.enum(['absent', 'created', 'seeding', 'seeded', 'failed', 'evicted']),
  taskId: z.string(),
  url: z.string(),
  digest: nullableString,
  identifier: nullableString,
  range: nullableString,
  filter: z.array(z.string()),
  createdAt: count,
  contentLength: count.nullable(),
  pieceSize: count.nullable(),
  pieceCount: count.nullable(),
  acceptRanges: z.boolean(),
  etag: nullableString,
  lastModified: nullableString,
  pieces: z.array(z.object({ size: count, digest: z.string() }).nullable()),
  seededCount: count,
  // Absent from snapshots stored before the CDN's holdings were told apart from the known
  // digests; then the CDN held exactly the seeded pieces, which is what a replay gives too.
  cdnHeld: z.array(z.boolean()).optional(),
  cdnHeldCount: count.optional(),
  availability: z.array(count),
  inflightCount: z.array(count),
  cdnUploading: count,
  cdnServed: count,
  cdnChildren: count.optional(),
  peers: z.record(z.string(), PeerStateSchema),
  // Absent from snapshots stored before the sync protocol: the ids as stored (sorted) then.
  peerOrder: z.array(z.string()).optional(),
  owner: z.object({ replicaId: z.string(), epoch: count }).nullable(),
  failure: nullableString,
  lastEventAt: count,
  version: count,
});

/**
 * A TaskState read back from storage (a stream snapshot), as an object or as its canonical
 * JSON text. Storage is an edge: a snapshot that does not fit is an error, never half-used.
 */
export function parseTaskState(raw: unknown): TaskState {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch (e) {
      throw new DamselflyError('DF_ERR_MALFORMED_SNAPSHOT', 'task snapshot is not JSON', { cause: e });
    }
  }
  const parsed = TaskStateSchema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new DamselflyError('DF_ERR_MALFORMED_SNAPSHOT', `task snapshot: ${issues.join('; ')}`);
  }
  const cdnHeld = parsed.data.cdnHeld ?? parsed.data.pieces.map((p) => p !== null);
  const cdnHeldCount = parsed.data.cdnHeldCount ?? cdnHeld.filter(Boolean).length;
  const peers = new Map(
    Object.entries(parsed.data.peers).map(([id, peer]) => [
      id,
      { ...peer, assignedFrom: peer.assignedFrom ?? inflightSources(peer), parents: peer.parents ?? [], parentsEver: peer.parentsEver ?? [], children: peer.children ?? [] },
    ]),
  );
  const peerOrder = parsed.data.peerOrder ?? [...peers.keys()];
  return { ...parsed.data, cdnHeld, cdnHeldCount, cdnChildren: parsed.data.cdnChildren ?? 0, peers, peerOrder } as TaskState;
}

function inflightSources(peer: { have: boolean[]; inflight: Record<string, { source: string }> }): (string | null)[] {
  const from = new Array<string | null>(peer.have.length).fill(null);
  for (const [piece, { source }] of Object.entries(peer.inflight)) from[Number(piece)] = source;
  return from;
}

/** The TaskState as plain JSON-ready data, for storage (a stream snapshot): parseTaskState reads it back. */
export function storedTaskState(state: TaskState): Record<string, unknown> {
  return { ...state, peers: Object.fromEntries(state.peers) };
}
