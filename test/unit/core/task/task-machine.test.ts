import { describe, expect, it } from 'vitest';
import type { TaskEvent } from '../../../../core/events/index.ts';
import {
  LIFECYCLE,
  TASK_EVENT_TYPES,
  TASK_STATUSES,
  evolve,
  initialTaskSnapshot,
  nextStatus,
  snapshotFromState,
  stateOf,
  taskMachine,
} from '../../../../core/task/index.ts';
import { TASK_ID, seedingTask } from './fixtures.ts';

/** One well-formed event of each type. */
const SAMPLE: Record<TaskEvent['type'], TaskEvent> = {
  TaskCreated: { type: 'TaskCreated', data: { taskId: TASK_ID, url: 'https://o/x', digest: null, identifier: null, range: null, filter: [], at: 50 } },
  SourceProbed: { type: 'SourceProbed', data: { contentLength: 10, pieceSize: 4, pieceCount: 3, acceptRanges: true, etag: null, lastModified: null, at: 50 } },
  PiecesSeeded: { type: 'PiecesSeeded', data: { pieces: [{ piece: 0, size: 100, digest: '0'.repeat(64) }], at: 50 } },
  PeerJoined: { type: 'PeerJoined', data: { peerId: 'p', hostId: 'h', address: '127.0.0.1:1', at: 50 } },
  PiecesAssigned: { type: 'PiecesAssigned', data: { peerId: 'p', assignments: [{ piece: 0, source: 'cdn', deadline: 60 }], at: 50 } },
  ParentsAssigned: { type: 'ParentsAssigned', data: { peerId: 'p', parents: ['cdn'], at: 50 } },
  PiecesReported: { type: 'PiecesReported', data: { peerId: 'p', ok: [], failed: [], at: 50 } },
  AssignmentsExpired: { type: 'AssignmentsExpired', data: { peerId: 'p', pieces: [0], at: 50 } },
  PeerLeft: { type: 'PeerLeft', data: { peerId: 'p', reason: 'left', at: 50 } },
  PeerSucceeded: { type: 'PeerSucceeded', data: { peerId: 'p', at: 50 } },
  PeerFailed: { type: 'PeerFailed', data: { peerId: 'p', reason: 'x', at: 50 } },
  TaskSucceeded: { type: 'TaskSucceeded', data: { at: 50 } },
  TaskFailed: { type: 'TaskFailed', data: { reason: 'x', at: 50 } },
  TaskEvicted: { type: 'TaskEvicted', data: { at: 50 } },
  OwnershipAcquired: { type: 'OwnershipAcquired', data: { replicaId: 'r', epoch: 1, at: 50 } },
};

describe('taskMachine', () => {
  it('starts absent with the initial state of its task', () => {
    const s = initialTaskSnapshot(TASK_ID);
    expect(s.value).toBe('absent');
    expect(stateOf(s)).toMatchObject({ status: 'absent', taskId: TASK_ID, version: 0 });
  });

  it('has one state per task status and no delayed transitions (timers are data)', () => {
    expect(Object.keys(taskMachine.root.states).sort()).toEqual([...TASK_STATUSES].sort());
    for (const node of Object.values(taskMachine.root.states)) expect(node.after).toEqual([]);
  });

  it.each(TASK_STATUSES.flatMap((status) => TASK_EVENT_TYPES.map((type) => [status, type] as const)))(
    'in %s, %s is applied and lands in the status the lifecycle table says',
    (status, type) => {
      const before = snapshotFromState({ ...seedingTask(2), status });
      const after = evolve(before, SAMPLE[type]);
      expect(after.value).toBe(nextStatus(status, type));
      expect(stateOf(after).status).toBe(after.value);
      expect(stateOf(after).version).toBe(stateOf(before).version + 1);
      expect(stateOf(after).lastEventAt).toBe(50);
    },
  );

  it('the lifecycle reaches every status from absent', () => {
    const reached = new Set<string>(['absent']);
    for (let size = 0; size !== reached.size; ) {
      size = reached.size;
      for (const s of [...reached]) for (const next of Object.values(LIFECYCLE[s as keyof typeof LIFECYCLE])) reached.add(next);
    }
    expect([...reached].sort()).toEqual([...TASK_STATUSES].sort());
  });

  it('evolve leaves the previous snapshot untouched', () => {
    const before = snapshotFromState(seedingTask(2));
    const json = JSON.stringify(before.context);
    evolve(before, SAMPLE.PeerJoined);
    expect(JSON.stringify(before.context)).toBe(json);
  });
});
