import { CDN_SOURCE, type TaskEvent } from '../../../../core/events/index.ts';
import { computeTaskId } from '../../../../core/ids/index.ts';
import { DEFAULT_POLICY, type SchedulingPolicy } from '../../../../core/scheduling/policy.ts';
import {
  applyTaskEvent,
  decide,
  initialTaskState,
  type AssignFn,
  type DecideOptions,
  type TaskCommand,
  type TaskState,
} from '../../../../core/task/index.ts';

export const TASK_URL = 'https://origin.example/files/big.bin?sig=abc';
export const TASK_ID = computeTaskId({ url: TASK_URL, filter: ['sig'] });
export const POLICY: SchedulingPolicy = { ...DEFAULT_POLICY, peerUploadSlots: 2, cdnUploadSlots: 3, pieceTimeoutMs: 1_000, peerExpiryMs: 10_000 };

/** A sha256-shaped hex digest for piece `n`. */
export function digestOf(n: number): string {
  return n.toString(16).padStart(64, '0');
}

/**
 * A small deterministic scheduler for these tests, so that they exercise assignments whatever
 * state core/scheduling is in: the lowest missing seeded pieces, each from the first serving
 * peer (by id) that holds it, has a free slot and has not failed the requester, else the CDN
 * if it holds the piece.
 */
export const simpleAssign: AssignFn = (state, peerId, want, policy, now) => {
  const me = state.peers.get(peerId)!;
  const holders = [...state.peers.values()]
    .filter((p) => p.peerId !== peerId && (p.status === 'active' || p.status === 'succeeded'))
    .sort((a, b) => (a.peerId < b.peerId ? -1 : 1));
  const load = new Map(holders.map((p) => [p.peerId, p.uploading]));
  let cdnLoad = state.cdnUploading;
  const out: { piece: number; source: string; deadline: number }[] = [];
  for (let p = 0; p < (state.pieceCount ?? 0) && out.length < want; p++) {
    if (me.have[p] || me.inflight[p] || !state.pieces[p]) continue;
    const holder = holders.find((h) => h.have[p] && load.get(h.peerId)! < policy.peerUploadSlots && !me.failedSources[h.peerId]);
    if (holder) {
      load.set(holder.peerId, load.get(holder.peerId)! + 1);
      out.push({ piece: p, source: holder.peerId, deadline: now + policy.pieceTimeoutMs });
    } else if (state.cdnHeld[p] && cdnLoad < policy.cdnUploadSlots) {
      cdnLoad++;
      out.push({ piece: p, source: CDN_SOURCE, deadline: now + policy.pieceTimeoutMs });
    }
  }
  return out;
};

export const OPTIONS: DecideOptions = { policy: POLICY, assign: simpleAssign };

/** Decides and applies commands in order, as the supernode would; returns the final state and all events. */
export function run(commands: TaskCommand[], from: TaskState = initialTaskState(TASK_ID), options: DecideOptions = OPTIONS) {
  let state = from;
  const events: TaskEvent[] = [];
  for (const command of commands) {
    for (const event of decide(command, state, options)) {
      state = applyTaskEvent(state, event);
      events.push(event);
    }
  }
  return { state, events };
}

export function createCommand(at = 1): TaskCommand {
  return { type: 'CreateTask', at, taskId: TASK_ID, url: TASK_URL, digest: null, identifier: null, range: null, filter: ['sig'] };
}

/** A created and probed task of `pieces` pieces of 100 bytes (the last one 50), the first `seeded` of them seeded. */
export function seedingTask(pieces = 8, seeded = pieces): TaskState {
  const contentLength = pieces * 100 - 50;
  return run([
    createCommand(1),
    { type: 'RecordProbe', at: 2, contentLength, pieceSize: 100, acceptRanges: true, etag: '"e1"', lastModified: null },
    ...(seeded > 0
      ? [{ type: 'RecordSeededPieces' as const, at: 3, pieces: Array.from({ length: seeded }, (_, p) => ({ piece: p, size: p === pieces - 1 ? 50 : 100, digest: digestOf(p) })) }]
      : []),
  ]).state;
}

export function join(peerId: string, at = 10): TaskCommand {
  return { type: 'Join', at, peerId, hostId: `host-${peerId}`, address: `127.0.0.1:${6000 + peerId.length}` };
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}
