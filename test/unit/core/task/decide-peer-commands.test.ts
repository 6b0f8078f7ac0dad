import { describe, expect, it } from 'vitest';
import { decide, nextExpiryAt, type TaskCommand, type TaskState } from '../../../../core/task/index.ts';
import { OPTIONS, POLICY, join, run, seedingTask } from './fixtures.ts';

const rejects = (command: TaskCommand, state: TaskState, code: string) =>
  expect(() => decide(command, state, OPTIONS)).toThrowError(expect.objectContaining({ code }));

describe('Join', () => {
  it('adds a peer; the same join again is a no-op; another address under the id is refused', () => {
    const { state, events } = run([join('a'), join('a', 11)], seedingTask(2));
    expect(events.map((e) => e.type)).toEqual(['PeerJoined']);
    rejects({ type: 'Join', at: 12, peerId: 'a', hostId: 'host-a', address: '127.0.0.1:1' }, state, 'DF_ERR_PEER_EXISTS');
  });

  it('lets a peer that left join again', () => {
    const { state } = run([join('a'), { type: 'Leave', at: 11, peerId: 'a', outcome: 'left' }, join('a', 12)], seedingTask(2));
    expect(state.peers.get('a')).toMatchObject({ status: 'active', joinedAt: 12 });
  });

  it('is refused on a task that does not exist or failed', () => {
    rejects(join('a'), run([{ type: 'Evict', at: 5 }], seedingTask(2)).state, 'DF_ERR_NOT_FOUND');
    rejects(join('a'), run([{ type: 'FailTask', at: 5, reason: 'r' }], seedingTask(2)).state, 'DF_ERR_TASK_FAILED');
  });
});

describe('Leave', () => {
  it('maps outcomes to events and is idempotent', () => {
    const s = run([join('a'), join('b'), join('c')], seedingTask(2)).state;
    const { state, events } = run(
      [
        { type: 'Leave', at: 20, peerId: 'a', outcome: 'succeeded' },
        { type: 'Leave', at: 21, peerId: 'a', outcome: 'succeeded' },
        { type: 'Leave', at: 22, peerId: 'b', outcome: 'failed', reason: 'disk' },
        { type: 'Leave', at: 23, peerId: 'b', outcome: 'left' },
        { type: 'Leave', at: 24, peerId: 'c', outcome: 'left' },
        { type: 'Leave', at: 25, peerId: 'a', outcome: 'left' },
      ],
      s,
    );
    expect(events.map((e) => e.type)).toEqual(['PeerSucceeded', 'PeerFailed', 'PeerLeft', 'PeerLeft']);
    expect([...state.peers.values()].map((p) => p.status)).toEqual(['left', 'failed', 'left']);
  });

  it('refuses unknown peers', () => {
    rejects({ type: 'Leave', at: 20, peerId: 'nobody', outcome: 'left' }, seedingTask(2), 'DF_ERR_UNKNOWN_PEER');
  });
});

describe('ExpireAssignments', () => {
  it('expires overdue assignments and silent peers, in peer id order', () => {
    let s = run([join('b', 0), join('a', 0)], seedingTask(8)).state;
    s = run([{ type: 'Round', at: 1_000, peerId: 'a', ok: [], failed: [], want: 2 }, { type: 'Round', at: 1_500, peerId: 'b', ok: [], failed: [], want: 1 }], s).state;
    expect(decide({ type: 'ExpireAssignments', at: 1_999 }, s, OPTIONS)).toEqual([]);
    expect(nextExpiryAt(s, POLICY)).toBe(2_000);
    const events = decide({ type: 'ExpireAssignments', at: 2_500 }, s, OPTIONS);
    expect(events).toEqual([
      { type: 'AssignmentsExpired', data: { peerId: 'a', pieces: [0, 1], at: 2_500 } },
      { type: 'AssignmentsExpired', data: { peerId: 'b', pieces: [0], at: 2_500 } },
    ]);
    const silent = decide({ type: 'ExpireAssignments', at: 11_200 }, s, OPTIONS);
    expect(silent).toEqual([{ type: 'PeerLeft', data: { peerId: 'a', reason: 'expired', at: 11_200 } }, { type: 'AssignmentsExpired', data: { peerId: 'b', pieces: [0], at: 11_200 } }]);
  });

  it('has nothing to do on a task without peers', () => {
    expect(decide({ type: 'ExpireAssignments', at: 1e9 }, seedingTask(2), OPTIONS)).toEqual([]);
    expect(nextExpiryAt(seedingTask(2), POLICY)).toBeNull();
  });
});
