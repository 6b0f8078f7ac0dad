import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CDN_SOURCE } from '../../../core/events/task-events.ts';
import { chooseParents } from '../../../core/scheduling/choose-parents.ts';
import { DEFAULT_POLICY, type SchedulingPolicy } from '../../../core/scheduling/policy.ts';
import type { PeerState, PeerStatus, TaskState } from '../../../core/task/task-state.ts';
import { buildState, reversePeers, type PeerSpec } from './fixtures.ts';

const STATUSES: PeerStatus[] = ['active', 'active', 'active', 'succeeded', 'failed', 'left'];
const NOW = 20_000;

interface Scenario {
  state: TaskState;
  requester: string;
  replace: string[];
  policy: SchedulingPolicy;
}

const scenario: fc.Arbitrary<Scenario> = fc.integer({ min: 1, max: 30 }).chain((peerCount) => {
  const ids = Array.from({ length: peerCount }, (_, i) => `peer-${i}`);
  const peer = (id: string): fc.Arbitrary<PeerSpec> =>
    fc
      .record({
        status: fc.constantFrom(...STATUSES),
        have: fc.subarray([0, 1, 2, 3, 4, 5, 6, 7]),
        parents: fc.subarray([CDN_SOURCE, ...ids], { maxLength: Math.min(5, ids.length + 1) }),
        failed: fc.subarray(ids, { maxLength: Math.min(2, ids.length) }),
        failuresCaused: fc.integer({ min: 0, max: 3 }),
        lastSeenAt: fc.integer({ min: 0, max: NOW }),
      })
      .map((r) => ({
        id,
        status: r.status,
        have: r.have,
        parents: r.parents.filter((p) => p !== id),
        failedSources: Object.fromEntries(r.failed.filter((s) => s !== id).map((s) => [s, 1])),
        failuresCaused: r.failuresCaused,
        lastSeenAt: r.lastSeenAt,
      }));
  return fc.record({
    state: fc.tuple(...ids.map(peer)).map((peers) => buildState({ pieceCount: 8, seeded: [0, 1, 2, 3, 4, 5, 6, 7], peers })),
    requester: fc.constantFrom(...ids),
    replace: fc.subarray([CDN_SOURCE, ...ids], { maxLength: 2 }),
    policy: fc
      .record({
        parentsPerPeer: fc.integer({ min: 1, max: 6 }),
        maxChildren: fc.integer({ min: 1, max: 8 }),
        cdnChildren: fc.integer({ min: 1, max: 6 }),
        quarantineAfterFailures: fc.integer({ min: 1, max: 3 }),
        peerExpiryMs: fc.integer({ min: 1_000, max: 30_000 }),
      })
      .map((p) => ({ ...DEFAULT_POLICY, ...p })),
  });
}).filter((s) => s.state.peers.get(s.requester)!.status === 'active');

/** Whether `peer` may be a parent of `requester` at all, children aside (the rule as docs/decisions.md states it). */
function eligible(s: Scenario, requester: PeerState, peer: PeerState): boolean {
  if (peer.peerId === requester.peerId || (peer.status !== 'active' && peer.status !== 'succeeded')) return false;
  if ((requester.failedSources[peer.peerId] ?? 0) > 0 || peer.failuresCaused >= s.policy.quarantineAfterFailures) return false;
  return peer.status === 'succeeded' || NOW - peer.lastSeenAt < s.policy.peerExpiryMs;
}

describe('chooseParents', () => {
  it('keeps the parents that may still serve, fills up with eligible peers that have room, and adds the CDN only below its cap', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const requester = s.state.peers.get(s.requester)!;
        const parents = chooseParents(s.state, requester, s.replace, s.policy, NOW);
        expect(new Set(parents).size).toBe(parents.length);
        expect(parents).not.toContain(s.requester);
        const kept = requester.parents.filter((id) => parents.includes(id));
        const added = parents.filter((id) => !requester.parents.includes(id));
        for (const id of requester.parents) {
          const peer = s.state.peers.get(id);
          const mayStay = id === CDN_SOURCE ? (requester.failedSources[CDN_SOURCE] ?? 0) < s.policy.quarantineAfterFailures : eligible(s, requester, peer!);
          expect(parents.includes(id), `current parent ${id}`).toBe(mayStay && !s.replace.includes(id));
        }
        for (const id of added) {
          expect(s.replace).not.toContain(id);
          if (id === CDN_SOURCE) {
            expect(s.state.cdnChildren).toBeLessThan(s.policy.cdnChildren);
            continue;
          }
          const peer = s.state.peers.get(id)!;
          expect(eligible(s, requester, peer)).toBe(true);
          expect(peer.children.length).toBeLessThan(s.policy.maxChildren);
        }
        // Filled as far as the eligible peers with room allow.
        const room = [...s.state.peers.values()].filter(
          (p) => eligible(s, requester, p) && p.children.length < s.policy.maxChildren && !kept.includes(p.peerId) && !s.replace.includes(p.peerId),
        ).length;
        const keptPeers = kept.filter((id) => id !== CDN_SOURCE).length;
        const addedPeers = added.filter((id) => id !== CDN_SOURCE).length;
        expect(addedPeers).toBe(Math.max(0, Math.min(room, s.policy.parentsPerPeer - keptPeers)));
        // Peers ahead of the requester come first.
        const ahead = (p: PeerState) => p.status === 'succeeded' || p.haveCount > requester.haveCount;
        const addedPeerStates = added.filter((id) => id !== CDN_SOURCE).map((id) => s.state.peers.get(id)!);
        if (addedPeerStates.some((p) => !ahead(p))) {
          const passedOver = [...s.state.peers.values()].filter(
            (p) => ahead(p) && eligible(s, requester, p) && p.children.length < s.policy.maxChildren && !parents.includes(p.peerId) && !s.replace.includes(p.peerId),
          );
          expect(passedOver).toEqual([]);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('does not depend on the order of the peers map', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const requester = s.state.peers.get(s.requester)!;
        const reversed = reversePeers(s.state);
        expect(chooseParents(reversed, reversed.peers.get(s.requester)!, s.replace, s.policy, NOW)).toEqual(chooseParents(s.state, requester, s.replace, s.policy, NOW));
      }),
      { numRuns: 200 },
    );
  });
});
