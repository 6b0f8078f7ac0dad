import { describe, expect, it } from 'vitest';
import { bySource, type TaskEvent } from '../../../../core/events/index.ts';
import { applyTaskEvent, initialTaskState, taskInvariantViolations, type TaskState } from '../../../../core/task/index.ts';
import { TASK_ID, deepFreeze, digestOf, join, run, seedingTask } from './fixtures.ts';

/** Applies events to a frozen state: any in-place write by the reducer throws. */
function apply(state: TaskState, ...events: TaskEvent[]): TaskState {
  for (const event of events) {
    state = applyTaskEvent(deepFreeze(state), event);
    expect(taskInvariantViolations(state)).toEqual([]);
  }
  return state;
}

const assigned = (peerId: string, assignments: { piece: number; source: string; deadline?: number }[], at = 20): TaskEvent => ({
  type: 'PiecesAssigned',
  data: { peerId, assignments: assignments.map((a) => ({ deadline: 1_000, ...a })), at },
});
const reported = (peerId: string, ok: { piece: number; source: string }[], failed: { piece: number; source: string; reason: 'digest' | 'io' | 'timeout' }[] = [], at = 30): TaskEvent => ({
  type: 'PiecesReported',
  data: { peerId, ok: bySource(ok.map((o) => ({ ms: 5, ...o }))), failed, at },
});

/** Two peers a and b on an 8-piece seeded task. */
function swarm(): TaskState {
  return run([join('a'), join('b')], seedingTask(8)).state;
}

describe('applyTaskEvent', () => {
  it('TaskCreated records the request, stamps version and time, keeps the owner', () => {
    const owned = apply(initialTaskState(TASK_ID), { type: 'OwnershipAcquired', data: { replicaId: 'r1', epoch: 3, at: 1 } });
    const s = apply(owned, { type: 'TaskCreated', data: { taskId: TASK_ID, url: 'https://o/x', digest: null, identifier: 'id', range: null, filter: ['a'], at: 7 } });
    expect(s).toMatchObject({ status: 'created', url: 'https://o/x', identifier: 'id', filter: ['a'], createdAt: 7, lastEventAt: 7, version: 2, owner: { replicaId: 'r1', epoch: 3 } });
  });

  it('SourceProbed fixes the layout and sizes the arrays of peers that joined before it', () => {
    const created = run([join('early')], run([{ type: 'CreateTask', at: 1, taskId: TASK_ID, url: 'https://origin.example/files/big.bin?sig=abc', digest: null, identifier: null, range: null, filter: ['sig'] }]).state).state;
    const s = apply(created, { type: 'SourceProbed', data: { contentLength: 250, pieceSize: 100, pieceCount: 3, acceptRanges: true, etag: null, lastModified: null, at: 3 } });
    expect(s.status).toBe('seeding');
    expect(s.pieces).toEqual([null, null, null]);
    expect(s.availability).toEqual([0, 0, 0]);
    expect(s.inflightCount).toEqual([0, 0, 0]);
    expect(s.peers.get('early')!.have).toEqual([false, false, false]);
  });

  it('PiecesSeeded stores digests and counts each piece once', () => {
    const s0 = seedingTask(4, 0);
    const s = apply(
      s0,
      { type: 'PiecesSeeded', data: { pieces: [{ piece: 1, size: 100, digest: digestOf(1) }], at: 4 } },
      { type: 'PiecesSeeded', data: { pieces: [{ piece: 1, size: 100, digest: digestOf(1) }, { piece: 3, size: 50, digest: digestOf(3) }], at: 5 } },
    );
    expect(s.seededCount).toBe(2);
    expect(s.pieces[1]).toEqual({ size: 100, digest: digestOf(1) });
    expect(s0.seededCount).toBe(0);
  });

  it('PiecesAssigned puts pieces in flight and takes the sources’ upload slots', () => {
    let s = swarm();
    s = apply(s, reported('a', [{ piece: 0, source: 'cdn' }]));
    s = apply(s, assigned('b', [{ piece: 0, source: 'a' }, { piece: 1, source: 'cdn', deadline: 99 }]));
    expect(s.peers.get('b')!.inflight).toEqual({ 0: { source: 'a', deadline: 1_000 }, 1: { source: 'cdn', deadline: 99 } });
    expect(s.inflightCount.slice(0, 3)).toEqual([1, 1, 0]);
    expect(s.peers.get('a')!.uploading).toBe(1);
    expect(s.cdnUploading).toBe(1);
    expect(s.peers.get('b')!.lastSeenAt).toBe(20);
  });

  it('PiecesReported ok stores the piece, frees the slot and credits the source', () => {
    let s = apply(swarm(), reported('a', [{ piece: 0, source: 'cdn' }]));
    s = apply(s, assigned('b', [{ piece: 0, source: 'a' }, { piece: 1, source: 'cdn' }]));
    s = apply(s, reported('b', [{ piece: 0, source: 'a' }, { piece: 1, source: 'cdn' }]));
    expect(s.peers.get('b')!.have.slice(0, 3)).toEqual([true, true, false]);
    expect(s.peers.get('b')!.haveCount).toBe(2);
    expect(s.peers.get('b')!.inflight).toEqual({});
    expect(s.availability.slice(0, 3)).toEqual([2, 1, 0]);
    expect(s.inflightCount.slice(0, 2)).toEqual([0, 0]);
    expect(s.peers.get('a')!).toMatchObject({ uploading: 0, served: 1 });
    expect(s).toMatchObject({ cdnUploading: 0, cdnServed: 2 });
  });

  it('a repeated ok report changes nothing but the version and times', () => {
    const once = apply(swarm(), reported('a', [{ piece: 2, source: 'cdn' }]));
    const twice = apply(once, reported('a', [{ piece: 2, source: 'cdn' }], [], 31));
    expect(twice.peers.get('a')!.lastSeenAt).toBe(31);
    const timeless = (s: TaskState) => ({ ...s, version: 0, lastEventAt: 0, peers: { ...s.peers, a: { ...s.peers.get('a')!, lastSeenAt: 0 } } });
    expect(timeless(twice)).toEqual(timeless(once));
  });

  it('PiecesReported failed frees the slot and blames the source; an io failure blames nobody', () => {
    let s = apply(swarm(), reported('a', [{ piece: 0, source: 'cdn' }, { piece: 1, source: 'cdn' }]));
    s = apply(s, assigned('b', [{ piece: 0, source: 'a' }, { piece: 1, source: 'a' }]));
    s = apply(s, reported('b', [], [{ piece: 0, source: 'a', reason: 'digest' }, { piece: 1, source: 'a', reason: 'io' }]));
    expect(s.peers.get('b')!.inflight).toEqual({});
    expect(s.peers.get('b')!.failedSources).toEqual({ a: 1 });
    expect(s.peers.get('a')!).toMatchObject({ uploading: 0, failuresCaused: 1, served: 0 });
    expect(s.peers.get('b')!.haveCount).toBe(0);
  });

  it('AssignmentsExpired returns the pieces and the slots', () => {
    let s = apply(swarm(), assigned('a', [{ piece: 0, source: 'cdn' }, { piece: 1, source: 'cdn' }]));
    s = apply(s, { type: 'AssignmentsExpired', data: { peerId: 'a', pieces: [0], at: 2_000 } });
    expect(s.peers.get('a')!.inflight).toEqual({ 1: { source: 'cdn', deadline: 1_000 } });
    expect(s.cdnUploading).toBe(1);
    expect(s.inflightCount.slice(0, 2)).toEqual([0, 1]);
  });

  it('PeerLeft ends its assignments and takes its pieces out of availability; PeerSucceeded keeps them', () => {
    let s = apply(swarm(), reported('a', [{ piece: 0, source: 'cdn' }]), reported('b', [{ piece: 0, source: 'cdn' }, { piece: 3, source: 'cdn' }]));
    s = apply(s, assigned('b', [{ piece: 1, source: 'cdn' }]));
    const succeeded = apply(s, { type: 'PeerSucceeded', data: { peerId: 'a', at: 40 } });
    expect(succeeded.availability.slice(0, 4)).toEqual([2, 0, 0, 1]);
    const left = apply(succeeded, { type: 'PeerLeft', data: { peerId: 'b', reason: 'expired', at: 50 } });
    // expiry is not hearing from the peer: lastSeenAt stays at its last assignment
    expect(left.peers.get('b')!).toMatchObject({ status: 'left', inflight: {}, lastSeenAt: 20 });
    expect(left.availability.slice(0, 4)).toEqual([1, 0, 0, 0]);
    expect(left).toMatchObject({ cdnUploading: 0 });
    const failed = apply(succeeded, { type: 'PeerFailed', data: { peerId: 'a', reason: 'disk full', at: 60 } });
    expect(failed.peers.get('a')!.status).toBe('failed');
    expect(failed.availability[0]).toBe(1);
  });

  it('PeerJoined again starts the peer over but keeps what others owe it', () => {
    let s = apply(swarm(), reported('a', [{ piece: 0, source: 'cdn' }]), assigned('b', [{ piece: 0, source: 'a' }]));
    s = apply(s, { type: 'PeerJoined', data: { peerId: 'a', hostId: 'h2', address: '127.0.0.1:9', at: 70 } });
    expect(s.peers.get('a')!).toMatchObject({ hostId: 'h2', haveCount: 0, uploading: 1, status: 'active', joinedAt: 70 });
    expect(s.availability[0]).toBe(0);
  });

  it('task lifecycle events set the status and what they carry', () => {
    const s = seedingTask(2);
    expect(apply(s, { type: 'TaskSucceeded', data: { at: 9 } }).status).toBe('seeded');
    expect(apply(s, { type: 'TaskFailed', data: { reason: 'origin 500', at: 9 } })).toMatchObject({ status: 'failed', failure: 'origin 500' });
    expect(apply(s, { type: 'TaskEvicted', data: { at: 9 } }).status).toBe('evicted');
    expect(apply(s, { type: 'OwnershipAcquired', data: { replicaId: 'r2', epoch: 4, at: 9 } }).owner).toEqual({ replicaId: 'r2', epoch: 4 });
  });

  it('events for peers or pieces that do not exist still count as applied (replay is total)', () => {
    const s = seedingTask(2);
    const after = apply(s, assigned('ghost', [{ piece: 0, source: 'cdn' }]), reported('ghost', [{ piece: 9, source: 'cdn' }]));
    expect(after.version).toBe(s.version + 2);
    expect(after.peers).toEqual(s.peers);
    expect(after.cdnUploading).toBe(0);
  });
});
