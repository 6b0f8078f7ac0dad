import { describe, expect, it } from 'vitest';
import type { TaskEvent } from '../../../../core/events/index.ts';
import { assignPieces } from '../../../../core/scheduling/assign-pieces.ts';
import { decide, refusedReports, type Round, type TaskState } from '../../../../core/task/index.ts';
import { OPTIONS, POLICY, createCommand, join, run, seedingTask } from './fixtures.ts';

const round = (peerId: string, at: number, want: number, ok: Round['ok'] = [], failed: Round['failed'] = []): Round => ({ type: 'Round', at, peerId, ok, failed, want });
const rejects = (command: Round, state: TaskState, code: string) =>
  expect(() => decide(command, state, OPTIONS)).toThrowError(expect.objectContaining({ code }));
const types = (events: TaskEvent[]) => events.map((e) => e.type);

/** Peers a and b on an 8-piece seeded task; a holds pieces 0 and 1 (from the CDN). */
function swarm(): TaskState {
  let s = run([join('a'), join('b')], seedingTask(8)).state;
  s = run([round('a', 100, 2)], s).state;
  return run([round('a', 200, 0, [{ piece: 0, source: 'cdn', ms: 3 }, { piece: 1, source: 'cdn', ms: 3 }])], s).state;
}

describe('Round', () => {
  it('reports, then assigns on the state after the report', () => {
    const s = run([join('a')], seedingTask(4)).state;
    const first = decide(round('a', 100, 2), s, OPTIONS);
    expect(first).toEqual([{ type: 'PiecesAssigned', data: { peerId: 'a', assignments: [{ piece: 0, source: 'cdn', deadline: 1_100 }, { piece: 1, source: 'cdn', deadline: 1_100 }], at: 100 } }]);
    const s1 = run([round('a', 100, 2)], s).state;
    // The CDN has 3 slots: with 2 in use, only one more piece could be assigned were the
    // report not applied first; after it, both reported slots are free again.
    const second = decide(round('a', 200, 3, [{ piece: 0, source: 'cdn', ms: 9 }, { piece: 1, source: 'cdn', ms: 9 }]), s1, OPTIONS);
    expect(types(second)).toEqual(['PiecesReported', 'PiecesAssigned']);
    expect(second[1]!.data).toMatchObject({ assignments: [{ piece: 2 }, { piece: 3 }] });
  });

  it('prefers a peer holding the piece over the CDN, the scheduler permitting', () => {
    const [assigned] = decide(round('b', 300, 1), swarm(), OPTIONS);
    expect(assigned).toMatchObject({ type: 'PiecesAssigned', data: { assignments: [{ piece: 0, source: 'a' }] } });
  });

  it('caps the assignments at the policy’s maximum per round', () => {
    const s = run([join('a')], seedingTask(8)).state;
    const [assigned] = decide(round('a', 100, 50), s, { ...OPTIONS, policy: { ...POLICY, cdnUploadSlots: 100, maxAssignmentsPerRound: 5 } });
    expect(assigned!.type === 'PiecesAssigned' && assigned.data.assignments.length).toBe(5);
  });

  it('believes an ok piece only from a source it was assigned from; drops repeats', () => {
    const s = run([round('b', 300, 1)], swarm()).state; // b: piece 0 from a
    const claims: Round['ok'] = [
      { piece: 5, source: 'cdn', ms: 1 }, // never assigned to b
      { piece: 0, source: 'cdn', ms: 1 }, // assigned, but from a
      { piece: 0, source: 'a', ms: 2 },
      { piece: 0, source: 'a', ms: 3 },
    ];
    expect(refusedReports(s, 'b', claims)).toEqual([
      { piece: 5, source: 'cdn', reason: 'unassigned' },
      { piece: 0, source: 'cdn', reason: 'wrong_source' },
    ]);
    const events = decide(round('b', 400, 0, claims), s, OPTIONS);
    expect(events).toEqual([{ type: 'PiecesReported', data: { peerId: 'b', ok: [{ source: 'a', pieces: [0], ms: [2] }], failed: [], at: 400 } }]);
    // Nothing at all to record: a round of refused claims writes nothing.
    expect(decide(round('b', 400, 0, [{ piece: 6, source: 'a', ms: 1 }]), s, OPTIONS)).toEqual([]);
    expect(decide(round('a', 300, 0, [{ piece: 0, source: 'cdn', ms: 1 }]), swarm(), OPTIONS)).toEqual([]);
  });

  it('refuses a claimed piece: not held, not counted, and handed out from its real holders', () => {
    const claims = Array.from({ length: 8 }, (_, piece) => ({ piece, source: 'a', ms: 1 }));
    const s = run([round('b', 300, 0, claims), join('c', 300)], swarm()).state;
    expect(s.peers.get('b')).toMatchObject({ haveCount: 0, have: new Array(8).fill(false) });
    expect(s.availability).toEqual([1, 1, 0, 0, 0, 0, 0, 0]);
    const [assigned] = decide(round('c', 400, 8), s, { policy: { ...POLICY, cdnUploadSlots: 8 }, assign: assignPieces });
    const assignments = assigned?.type === 'PiecesAssigned' ? assigned.data.assignments : [];
    expect(assignments.length).toBeGreaterThan(0);
    for (const { piece, source } of assignments) expect(source === 'cdn' || s.peers.get(source)!.have[piece], `piece ${piece} from ${source}`).toBe(true);
  });

  it('believes a report of an assignment that expired, was replaced or was made before a re-join', () => {
    let s = run([round('b', 300, 1)], swarm()).state; // b: piece 0 from a, deadline 1_300
    // The assignment expires; a leaves, so piece 0 is assigned again, from the CDN.
    s = run([{ type: 'ExpireAssignments', at: 1_400 }, { type: 'Leave', at: 1_400, peerId: 'a', outcome: 'left' }, round('b', 1_400, 1)], s).state;
    expect(s.peers.get('b')!.assignedFrom[0]).toEqual(['a', 'cdn']);
    // The first fetch finishes late: believed, from a.
    expect(decide(round('b', 1_500, 0, [{ piece: 0, source: 'a', ms: 1 }]), s, OPTIONS)).toMatchObject([{ type: 'PiecesReported', data: { ok: [{ source: 'a', pieces: [0] }] } }]);
    // b expires, joins again (starting over) and re-reports what it holds: believed.
    s = run([round('b', 1_500, 0, [{ piece: 0, source: 'a', ms: 1 }]), { type: 'ExpireAssignments', at: 20_000 }, join('b', 20_000)], s).state;
    expect(s.peers.get('b')).toMatchObject({ status: 'active', haveCount: 0 });
    const rejoined = decide(round('b', 20_001, 0, [{ piece: 0, source: 'a', ms: 1 }, { piece: 1, source: 'a', ms: 1 }]), s, OPTIONS);
    expect(rejoined).toEqual([{ type: 'PiecesReported', data: { peerId: 'b', ok: [{ source: 'a', pieces: [0], ms: [1] }], failed: [], at: 20_001 } }]);
  });

  it('expires the in-flight downloads of a source reported unreachable, so its pieces are not stuck', () => {
    let s = run([round('a', 250, 2)], swarm()).state; // a fetches pieces 2 and 3 from the CDN
    s = run([round('b', 300, 1)], s).state; // b: piece 0 from a
    expect(Object.keys(s.peers.get('a')!.inflight)).toEqual(['2', '3']);
    const events = decide(round('b', 400, 0, [], [{ piece: 0, source: 'a', reason: 'unreachable' }]), s, OPTIONS);
    expect(types(events)).toEqual(['PiecesReported', 'AssignmentsExpired']);
    expect(events[1]!.data).toEqual({ peerId: 'a', pieces: [2, 3], at: 400 });
    // A digest failure says the source is alive: its own downloads go on.
    const digest = decide(round('b', 400, 0, [], [{ piece: 0, source: 'a', reason: 'digest' }]), s, OPTIONS);
    expect(types(digest)).toEqual(['PiecesReported']);
  });

  it('counts a failure only against the assignment it names', () => {
    const s = run([round('b', 300, 1)], swarm()).state; // b: piece 0 from a
    const failed = decide(round('b', 400, 0, [], [{ piece: 0, source: 'cdn', reason: 'digest' }, { piece: 3, source: 'a', reason: 'digest' }, { piece: 0, source: 'a', reason: 'digest' }]), s, OPTIONS);
    expect(failed).toEqual([{ type: 'PiecesReported', data: { peerId: 'b', ok: [], failed: [{ piece: 0, source: 'a', reason: 'digest' }], at: 400 } }]);
    const after = run([round('b', 400, 0, [], [{ piece: 0, source: 'a', reason: 'digest' }])], s).state;
    // Retrying the same round blames nobody twice.
    expect(decide(round('b', 401, 0, [], [{ piece: 0, source: 'a', reason: 'digest' }]), after, OPTIONS)).toEqual([]);
    expect(after.peers.get('a')!.failuresCaused).toBe(1);
    // And the scheduler no longer offers the source that failed b.
    const [next] = decide(round('b', 402, 1), after, OPTIONS);
    expect(next).toMatchObject({ data: { assignments: [{ piece: 0, source: 'cdn' }] } });
  });

  it('refreshes lastSeenAt with an empty report when a waiting peer has nothing else to record', () => {
    const s = run([join('a', 0)], run([createCommand()]).state).state; // not probed: nothing to assign
    expect(decide(round('a', 2_499, 4), s, OPTIONS)).toEqual([]);
    expect(decide(round('a', 2_500, 4), s, OPTIONS)).toEqual([{ type: 'PiecesReported', data: { peerId: 'a', ok: [], failed: [], at: 2_500 } }]);
  });

  it('validates the task, the peer and every report entry', () => {
    const s = swarm();
    rejects(round('zed', 300, 1), s, 'DF_ERR_UNKNOWN_PEER');
    rejects(round('b', 300, 1, [{ piece: 8, source: 'cdn', ms: 1 }]), s, 'DF_ERR_PIECE_OUT_OF_RANGE');
    rejects(round('b', 300, 1, [{ piece: 2, source: 'mallory', ms: 1 }]), s, 'DF_ERR_UNKNOWN_SOURCE');
    rejects(round('b', 300, 1, [{ piece: 2, source: 'b', ms: 1 }]), s, 'DF_ERR_VALIDATION');
    rejects(round('b', 300, -1), s, 'DF_ERR_VALIDATION');
    rejects(round('b', 300, 1), run([{ type: 'Leave', at: 250, peerId: 'b', outcome: 'left' }], s).state, 'DF_ERR_PEER_GONE');
    rejects(round('b', 300, 1), run([{ type: 'FailTask', at: 250, reason: 'origin gone' }], s).state, 'DF_ERR_TASK_FAILED');
    rejects(round('b', 300, 1), run([{ type: 'Evict', at: 250 }], s).state, 'DF_ERR_NOT_FOUND');
    const unprobed = run([join('a')], run([createCommand()]).state).state;
    rejects(round('a', 300, 1, [{ piece: 0, source: 'cdn', ms: 1 }]), unprobed, 'DF_ERR_TASK_NOT_READY');
  });

  it('has nothing to do for a peer that already succeeded', () => {
    const s = run([{ type: 'Leave', at: 250, peerId: 'a', outcome: 'succeeded' }], swarm()).state;
    expect(decide(round('a', 300, 4, [{ piece: 5, source: 'cdn', ms: 1 }]), s, OPTIONS)).toEqual([]);
  });
});
