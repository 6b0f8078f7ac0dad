import { describe, expect, it } from 'vitest';
import { CDN_SOURCE, type TaskEvent } from '../../../../core/events/index.ts';
import { assignPieces } from '../../../../core/scheduling/assign-pieces.ts';
import {
  applyTaskEvent,
  canonicalJson,
  decide,
  parseTaskState,
  replay,
  stateHash,
  stateOf,
  taskInvariantViolations,
  type TaskCommand,
  type TaskState,
} from '../../../../core/task/index.ts';
import { POLICY, TASK_ID, createCommand, deepFreeze, digestOf, join, run } from './fixtures.ts';

/**
 * "The digest of piece p is known" and "the CDN can serve piece p" are two facts: the CDN's
 * pieces live on its owner's disk, so a takeover keeps the first and replaces the second with
 * what the new owner's CDN reports (OwnershipAcquired.cdnPieces).
 */
const WIDE = { ...POLICY, maxAssignmentsPerRound: 8, peerUploadSlots: 8, cdnUploadSlots: 8 };
const REAL = { policy: WIDE, assign: assignPieces };
const probe: TaskCommand = { type: 'RecordProbe', at: 2, contentLength: 750, pieceSize: 100, acceptRanges: true, etag: '"e1"', lastModified: null };
const seeded = (piece: number, digest = digestOf(piece)) => ({ piece, size: piece === 7 ? 50 : 100, digest });
const seedAll: TaskCommand = { type: 'RecordSeededPieces', at: 3, pieces: Array.from({ length: 8 }, (_, p) => seeded(p)) };
const takeover = (cdnPieces?: number[], epoch = 2, at = 50): TaskCommand => ({ type: 'AcquireOwnership', at, replicaId: `r${epoch}`, epoch, ...(cdnPieces ? { cdnPieces } : {}) });
const round = (peerId: string, at: number, ok: { piece: number; source: string }[] = [], want = 8): TaskCommand => ({
  type: 'Round', at, peerId, ok: ok.map((o) => ({ ...o, ms: 1 })), failed: [], want,
});

/** Decides and applies with the real scheduler; every state checked against the invariants. */
function runReal(commands: TaskCommand[], from?: TaskState) {
  const out = run(commands, from, REAL);
  expect(taskInvariantViolations(out.state)).toEqual([]);
  return out;
}

/**
 * A seeded 8-piece task on owner r1 (epoch 1); peer a got pieces 0-3 from the CDN, peer b joined
 * empty; then replica r2 takes over and its CDN holds none of the pieces.
 */
function afterTakeover(cdnPieces: number[] = []): TaskState {
  const before = runReal([createCommand(1), takeover(undefined, 1, 1), probe, seedAll, { type: 'CompleteSeed', at: 4 }, join('a'), join('b')]).state;
  const a = runReal([round('a', 20, [], 4)], before);
  const got = a.events.find((e) => e.type === 'PiecesAssigned')!;
  const ok = got.type === 'PiecesAssigned' ? got.data.assignments.map((x) => ({ piece: x.piece, source: x.source })) : [];
  expect(ok.map((o) => o.source)).toEqual([CDN_SOURCE, CDN_SOURCE, CDN_SOURCE, CDN_SOURCE]);
  return runReal([round('a', 30, ok, 0), takeover(cdnPieces, 2, 50)], a.state).state;
}

describe('CDN holdings across owners', () => {
  it('PiecesSeeded marks pieces held; OwnershipAcquired.cdnPieces replaces the holdings, keeping every digest', () => {
    const s = afterTakeover([1, 5]);
    expect(s.owner).toEqual({ replicaId: 'r2', epoch: 2 });
    expect(s.seededCount).toBe(8);
    expect(s.pieces.every((p) => p !== null)).toBe(true);
    expect(s.cdnHeld).toEqual([false, true, false, false, false, true, false, false]);
    expect(s.cdnHeldCount).toBe(2);
    expect(s.status).toBe('seeded');
  });

  it('an OwnershipAcquired without cdnPieces (schema 1) leaves the holdings as they were', () => {
    const s = runReal([createCommand(1), probe, seedAll]).state;
    const t = applyTaskEvent(deepFreeze(s), { type: 'OwnershipAcquired', data: { replicaId: 'r9', epoch: 9, at: 60 } });
    expect(t.cdnHeld).toEqual(s.cdnHeld);
    expect(t.cdnHeldCount).toBe(8);
  });

  it('counts as held only reported pieces whose digest is known, in range, once', () => {
    const s = runReal([createCommand(1), probe, { type: 'RecordSeededPieces', at: 3, pieces: [seeded(0), seeded(2)] }]).state;
    const [event] = decide(takeover([2, 2, 1, 0, 99]), s);
    expect(event).toEqual({ type: 'OwnershipAcquired', data: { replicaId: 'r2', epoch: 2, cdnPieces: [0, 2], at: 50 } });
    // The reducer applies the same rule to whatever a stored event says.
    const applied = applyTaskEvent(deepFreeze(s), { type: 'OwnershipAcquired', data: { replicaId: 'r2', epoch: 2, cdnPieces: [1, 2, 2, 99], at: 50 } });
    expect(applied.cdnHeld.slice(0, 3)).toEqual([false, false, true]);
    expect(applied.cdnHeldCount).toBe(1);
    expect(taskInvariantViolations(applied)).toEqual([]);
    expect(() => decide(takeover([-1]), s)).toThrowError(expect.objectContaining({ code: 'DF_ERR_VALIDATION' }));
    expect(() => decide(takeover([1.5]), s)).toThrowError(expect.objectContaining({ code: 'DF_ERR_VALIDATION' }));
  });

  it('re-seeding a known piece the CDN lost is recorded again with the same digest; a held one is a no-op; another digest is refused', () => {
    const s = afterTakeover([5]);
    const events = decide({ type: 'RecordSeededPieces', at: 60, pieces: [seeded(6), seeded(5), seeded(6)] }, s);
    expect(events).toEqual([{ type: 'PiecesSeeded', data: { pieces: [seeded(6)], at: 60 } }]);
    const refilled = runReal([{ type: 'RecordSeededPieces', at: 60, pieces: [seeded(6)] }], s).state;
    expect(refilled.cdnHeld[6]).toBe(true);
    expect(refilled.cdnHeldCount).toBe(2);
    expect(refilled.seededCount).toBe(8);
    expect(refilled.pieces[6]).toEqual(s.pieces[6]);
    for (const piece of [5, 6, 7]) {
      expect(() => decide({ type: 'RecordSeededPieces', at: 61, pieces: [seeded(piece, digestOf(100 + piece))] }, s)).toThrowError(
        expect.objectContaining({ code: 'DF_ERR_DIGEST_CONFLICT' }),
      );
    }
  });

  it('after a takeover the scheduler sends peers to the holders, never to a CDN that lacks the piece', () => {
    const s = afterTakeover([]);
    const held = [...s.peers.get('a')!.have.keys()].filter((p) => s.peers.get('a')!.have[p]);
    const lost = [...s.peers.get('a')!.have.keys()].filter((p) => !s.peers.get('a')!.have[p]);
    expect(held).toHaveLength(4);
    const { events, state } = runReal([round('b', 60)], s);
    const assignments = events.flatMap((e) => (e.type === 'PiecesAssigned' ? e.data.assignments : []));
    // a's pieces come from a; the other four are held by nobody and wait for the CDN's refill.
    expect(assignments.map((x) => [x.piece, x.source]).sort((x, y) => Number(x[0]) - Number(y[0]))).toEqual(held.map((p) => [p, 'a']));
    // Once the CDN refills one of them, it is a source for that one again (and only that one).
    const refilled = runReal([{ type: 'RecordSeededPieces', at: 70, pieces: [seeded(lost[0]!)] }, round('a', 71)], state);
    const toA = refilled.events.flatMap((e) => (e.type === 'PiecesAssigned' && e.data.peerId === 'a' ? e.data.assignments : []));
    expect(toA).toEqual([{ piece: lost[0], source: CDN_SOURCE, deadline: 71 + WIDE.pieceTimeoutMs }]);
  });

  it('a seed interrupted by a takeover still completes once every digest is known, wherever the pieces are', () => {
    const half = runReal([createCommand(1), probe, { type: 'RecordSeededPieces', at: 3, pieces: [0, 1, 2, 3].map((p) => seeded(p)) }, takeover([], 2, 4)]).state;
    expect(half).toMatchObject({ status: 'seeding', seededCount: 4, cdnHeldCount: 0 });
    expect(() => decide({ type: 'CompleteSeed', at: 5 }, half)).toThrowError(expect.objectContaining({ code: 'DF_ERR_TASK_NOT_READY' }));
    const done = runReal([{ type: 'RecordSeededPieces', at: 5, pieces: [4, 5, 6, 7].map((p) => seeded(p)) }, { type: 'CompleteSeed', at: 6 }], half).state;
    expect(done).toMatchObject({ status: 'seeded', seededCount: 8, cdnHeldCount: 4 });
  });

  it('replays a takeover to the live state, and reads a snapshot stored before holdings existed', () => {
    const commands: TaskCommand[] = [createCommand(1), probe, seedAll, join('a'), round('a', 20), takeover([2], 2, 30), { type: 'RecordSeededPieces', at: 31, pieces: [seeded(4)] }];
    const { state, events } = runReal(commands);
    expect(stateHash(replay(events, TASK_ID))).toBe(stateHash(state));

    // A snapshot written by the previous version has neither field; then the CDN held exactly the
    // seeded pieces, which is also what replaying its events gives.
    const old: TaskEvent[] = events.slice(0, 5);
    const oldState = stateOf(replay(old, TASK_ID));
    const { cdnHeld: _held, cdnHeldCount: _count, ...stored } = JSON.parse(canonicalJson(oldState)) as Record<string, unknown>;
    const read = parseTaskState(JSON.stringify(stored));
    expect(read.cdnHeld).toEqual(oldState.cdnHeld);
    expect(read.cdnHeldCount).toBe(8);
    expect(stateHash(read)).toBe(stateHash(oldState));
  });
});
