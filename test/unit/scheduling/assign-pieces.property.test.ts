import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CDN_SOURCE } from '../../../core/events/task-events.ts';
import { assignPieces, type PieceChoice } from '../../../core/scheduling/assign-pieces.ts';
import { fairShare } from '../../../core/scheduling/source-pool.ts';
import { DEFAULT_POLICY, type SchedulingPolicy } from '../../../core/scheduling/policy.ts';
import type { PeerStatus, TaskState } from '../../../core/task/task-state.ts';
import { buildState, reversePeers, type PeerSpec } from './fixtures.ts';

interface Scenario {
  state: TaskState;
  requester: string;
  want: number;
  policy: SchedulingPolicy;
  now: number;
}

const STATUSES: PeerStatus[] = ['active', 'active', 'succeeded', 'succeeded', 'failed', 'left'];

const scenario: fc.Arbitrary<Scenario> = fc
  .record({ n: fc.integer({ min: 1, max: 24 }), peerCount: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 10 })) })
  .chain(({ n, peerCount }) => {
    const pieces = Array.from({ length: n }, (_, p) => p);
    const ids = Array.from({ length: peerCount }, (_, i) => `peer-${i}`);
    const sources = [CDN_SOURCE, ...ids];
    const peer = (id: string): fc.Arbitrary<PeerSpec> =>
      fc
        .record({
          status: fc.constantFrom(...STATUSES),
          have: fc.subarray(pieces),
          // Sources of in-flight pieces lean towards a few ids, so slots run out and shares matter.
          inflight: fc.array(fc.tuple(fc.constantFrom(...pieces), fc.oneof(fc.constantFrom(...sources), fc.constantFrom(CDN_SOURCE, ids[0]!))), {
            maxLength: 8,
          }),
          failed: fc.array(fc.tuple(fc.constantFrom(...sources), fc.integer({ min: 1, max: 4 })), { maxLength: 3 }),
          failuresCaused: fc.integer({ min: 0, max: 4 }),
          lastSeenAt: fc.integer({ min: 0, max: 20_000 }),
        })
        .map((r) => ({
          id,
          status: r.status,
          have: r.have,
          inflight: Object.fromEntries(r.inflight.filter(([, s]) => s !== id)),
          failedSources: Object.fromEntries(r.failed.filter(([s]) => s !== id)),
          failuresCaused: r.failuresCaused,
          lastSeenAt: r.lastSeenAt,
        }));
    return fc.record({
      state: fc
        // After a takeover the CDN holds only some of the seeded pieces (often none, or all).
        .record({ seeded: fc.subarray(pieces), cdnHeld: fc.oneof(fc.constant(undefined), fc.subarray(pieces)), peers: fc.tuple(...ids.map(peer)) })
        .map(({ seeded, cdnHeld, peers }) => buildState({ pieceCount: n, seeded, cdnHeld, peers })),
      requester: fc.constantFrom(...ids),
      want: fc.integer({ min: 0, max: 12 }),
      policy: fc.record({
        maxAssignmentsPerRound: fc.integer({ min: 1, max: 8 }),
        peerUploadSlots: fc.integer({ min: 1, max: 4 }),
        cdnUploadSlots: fc.integer({ min: 0, max: 4 }),
        pieceTimeoutMs: fc.integer({ min: 1, max: 30_000 }),
        quarantineAfterFailures: fc.integer({ min: 1, max: 4 }),
        peerExpiryMs: fc.integer({ min: 1_000, max: 30_000 }),
        waitRetryMs: fc.constant(200),
      }).map((p) => ({ ...DEFAULT_POLICY, ...p })),
      now: fc.integer({ min: 0, max: 30_000 }),
    });
  });

/** The specification of a source, written independently of SourcePool: may `id` serve `requester` at all (slots aside)? */
function eligibleIgnoringLoad(s: Scenario, id: string): boolean {
  const peer = s.state.peers.get(id)!;
  const me = s.state.peers.get(s.requester)!;
  if (id === s.requester || (me.failedSources[id] ?? 0) > 0) return false;
  if (peer.failuresCaused >= s.policy.quarantineAfterFailures) return false;
  if (peer.status === 'succeeded') return true;
  return peer.status === 'active' && s.now - peer.lastSeenAt < s.policy.peerExpiryMs;
}

/** Upload slots each source has in use once `choices` are applied. */
function loadAfter(s: Scenario, choices: PieceChoice[]): Map<string, number> {
  const load = new Map<string, number>([[CDN_SOURCE, s.state.cdnUploading]]);
  for (const [id, peer] of [...s.state.peers.entries()]) load.set(id, peer.uploading);
  for (const c of choices) load.set(c.source, load.get(c.source)! + 1);
  return load;
}

/** Slots of each source the requester holds once `choices` are applied. */
function mineAfter(s: Scenario, choices: PieceChoice[]): Map<string, number> {
  const mine = new Map<string, number>();
  const add = (source: string) => mine.set(source, (mine.get(source) ?? 0) + 1);
  Object.values(s.state.peers.get(s.requester)!.inflight).forEach((e) => add(e.source));
  choices.forEach((c) => add(c.source));
  return mine;
}

const activePeers = (s: Scenario) => [...s.state.peers.values()].filter((p) => p.status === 'active').length;
const shareOf = (s: Scenario, source: string) =>
  fairShare(source === CDN_SOURCE ? s.policy.cdnUploadSlots : s.policy.peerUploadSlots, activePeers(s));

const POLICY_FOR_PRESSURE: SchedulingPolicy = {
  ...DEFAULT_POLICY,
  maxAssignmentsPerRound: 8,
  peerUploadSlots: 4,
  cdnUploadSlots: 0,
  pieceTimeoutMs: 1_000,
  quarantineAfterFailures: 3,
  peerExpiryMs: 10_000,
  waitRetryMs: 200,
};

const cdnUsable = (s: Scenario) => (s.state.peers.get(s.requester)!.failedSources[CDN_SOURCE] ?? 0) < s.policy.quarantineAfterFailures;

describe('assignPieces (properties)', () => {
  it('assigns only pieces the requester lacks and does not fetch, each once, at most min(want, max)', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const choices = assignPieces(s.state, s.requester, s.want, s.policy, s.now);
        const me = s.state.peers.get(s.requester)!;
        expect(choices.length).toBeLessThanOrEqual(Math.min(s.want, s.policy.maxAssignmentsPerRound));
        expect(new Set(choices.map((c) => c.piece)).size).toBe(choices.length);
        if (me.status !== 'active') expect(choices).toEqual([]);
        for (const c of choices) {
          expect(me.have[c.piece]).toBe(false);
          expect(me.inflight[c.piece]).toBeUndefined();
          expect(c.deadline).toBe(s.now + s.policy.pieceTimeoutMs);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('names only sources that hold the piece, may serve the requester, and have a slot (counting this answer) and share left', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const choices = assignPieces(s.state, s.requester, s.want, s.policy, s.now);
        const load = loadAfter(s, choices);
        for (const c of choices) {
          if (c.source === CDN_SOURCE) {
            // The CDN serves from its disk: a known digest alone does not make it a source.
            expect(s.state.cdnHeld[c.piece]).toBe(true);
            expect(cdnUsable(s)).toBe(true);
            expect(load.get(CDN_SOURCE)).toBeLessThanOrEqual(s.policy.cdnUploadSlots);
            // The CDN is the fallback: no eligible peer holds the piece, busy or not, and no first
            // copy is on its way — unless every piece is seeded and in the swarm already, when
            // the CDN also relieves busy holders.
            const holders = [...s.state.peers.keys()].filter((id) => s.state.peers.get(id)!.have[c.piece] && eligibleIgnoringLoad(s, id));
            const allSpread = s.state.seededCount === s.state.pieceCount && s.state.availability.every((a) => a > 0);
            if (!allSpread) expect(holders).toEqual([]);
            expect(s.state.availability[c.piece] === 0 && s.state.inflightCount[c.piece]! > 0).toBe(false);
          } else {
            expect(s.state.peers.get(c.source)!.have[c.piece]).toBe(true);
            expect(eligibleIgnoringLoad(s, c.source)).toBe(true);
            expect(load.get(c.source)).toBeLessThanOrEqual(s.policy.peerUploadSlots);
          }
        }
        // No requester holds more than its fair share of any source it was just given.
        const mine = mineAfter(s, choices);
        for (const source of new Set(choices.map((c) => c.source))) expect(mine.get(source)).toBeLessThanOrEqual(shareOf(s, source));
      }),
      { numRuns: 400 },
    );
  });

  it('never overfills a source whose slots are mostly taken by other requesters', () => {
    // Targeted scenario: one source (a seed holding everything, or the CDN), its slots partly
    // used by other active peers, and a requester whose fair share exceeds the free slots.
    const pressure = fc.record({
      source: fc.constantFrom('seed', CDN_SOURCE),
      slots: fc.integer({ min: 1, max: 6 }),
      others: fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 3 }),
      want: fc.integer({ min: 1, max: 8 }),
    });
    fc.assert(
      fc.property(pressure, ({ source, slots, others, want }) => {
        const n = 12;
        let next = 0;
        const peers = others.map((count, i) => ({
          id: `other-${i}`,
          inflight: Object.fromEntries(Array.from({ length: count }, () => [next++ % n, source])),
        }));
        const seedHas = source === 'seed' ? Array.from({ length: n }, (_, p) => p) : [];
        const state = buildState({ pieceCount: n, peers: [{ id: 'seed', status: 'succeeded', have: seedHas }, ...peers, { id: 'r' }] });
        const policy = { ...POLICY_FOR_PRESSURE, peerUploadSlots: slots, cdnUploadSlots: slots };
        const choices = assignPieces(state, 'r', want, policy, 0);
        const used = source === 'seed' ? state.peers.get('seed')!.uploading : state.cdnUploading;
        expect(choices.filter((c) => c.source === source).length).toBeLessThanOrEqual(Math.max(0, slots - used));
      }),
      { numRuns: 300 },
    );
  });

  it('leaves nothing assignable behind when it returns fewer than asked (so [] really means "wait")', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const me = s.state.peers.get(s.requester)!;
        const limit = Math.min(s.want, s.policy.maxAssignmentsPerRound);
        const choices = assignPieces(s.state, s.requester, s.want, s.policy, s.now);
        if (me.status !== 'active' || choices.length === limit) return;
        const load = loadAfter(s, choices);
        const mine = mineAfter(s, choices);
        const free = (id: string, slots: number) => load.get(id)! < slots && (mine.get(id) ?? 0) < shareOf(s, id);
        const chosen = new Set(choices.map((c) => c.piece));
        for (let p = 0; p < s.state.pieceCount!; p++) {
          if (me.have[p] || me.inflight[p] || chosen.has(p)) continue;
          const holders = [...s.state.peers.keys()].filter((id) => s.state.peers.get(id)!.have[p] && eligibleIgnoringLoad(s, id));
          for (const id of holders) expect(free(id, s.policy.peerUploadSlots)).toBe(false);
          const onItsWay = s.state.availability[p] === 0 && s.state.inflightCount[p]! > 0;
          if (holders.length === 0 && !onItsWay && s.state.cdnHeld[p] && cdnUsable(s)) {
            expect(free(CDN_SOURCE, s.policy.cdnUploadSlots)).toBe(false);
          }
        }
      }),
      { numRuns: 400 },
    );
  });

  it('is deterministic, whatever the order of the peers map', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const a = assignPieces(s.state, s.requester, s.want, s.policy, s.now);
        expect(assignPieces(s.state, s.requester, s.want, s.policy, s.now)).toEqual(a);
        expect(assignPieces(reversePeers(s.state), s.requester, s.want, s.policy, s.now)).toEqual(a);
      }),
      { numRuns: 200 },
    );
  });
});
