import { describe, expect, it } from 'vitest';
import { CDN_SOURCE } from '../../../core/events/task-events.ts';
import { expiredAssignments } from '../../../core/scheduling/expired-assignments.ts';
import { expiredPeers } from '../../../core/scheduling/expired-peers.ts';
import { DEFAULT_POLICY } from '../../../core/scheduling/policy.ts';
import { buildState } from './fixtures.ts';

describe('expiredAssignments', () => {
  it('lists in-flight entries whose deadline has come, by peer id then piece', () => {
    const state = buildState({
      pieceCount: 4,
      deadline: 1_000,
      peers: [{ id: 'z', inflight: { 3: CDN_SOURCE, 1: CDN_SOURCE } }, { id: 'a', inflight: { 2: CDN_SOURCE } }, { id: 'idle' }],
    });
    expect(expiredAssignments(state, 999)).toEqual([]);
    expect(expiredAssignments(state, 1_000)).toEqual([
      { peerId: 'a', pieces: [2] },
      { peerId: 'z', pieces: [1, 3] },
    ]);
  });

  it('keeps entries that are not yet due', () => {
    const state = buildState({ pieceCount: 2, deadline: 1_000, peers: [{ id: 'a', inflight: { 0: CDN_SOURCE } }] });
    state.peers.get('a')!.inflight[1] = { source: CDN_SOURCE, deadline: 5_000 };
    expect(expiredAssignments(state, 2_000)).toEqual([{ peerId: 'a', pieces: [0] }]);
  });
});

describe('expiredPeers', () => {
  it('lists active peers silent for peerExpiryMs or more, never finished or departed ones', () => {
    const ttl = DEFAULT_POLICY.peerExpiryMs;
    const state = buildState({
      pieceCount: 1,
      peers: [
        { id: 'b', lastSeenAt: 0 },
        { id: 'a', lastSeenAt: 0 },
        { id: 'fresh', lastSeenAt: 1 },
        { id: 'done', status: 'succeeded', lastSeenAt: 0 },
        { id: 'left', status: 'left', lastSeenAt: 0 },
      ],
    });
    expect(expiredPeers(state, ttl - 1, DEFAULT_POLICY)).toEqual([]);
    expect(expiredPeers(state, ttl, DEFAULT_POLICY)).toEqual(['a', 'b']);
  });
});
