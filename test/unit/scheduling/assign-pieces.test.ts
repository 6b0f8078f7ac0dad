import { describe, expect, it } from 'vitest';
import { CDN_SOURCE } from '../../../core/events/task-events.ts';
import { assignPieces } from '../../../core/scheduling/assign-pieces.ts';
import { DEFAULT_POLICY, type SchedulingPolicy } from '../../../core/scheduling/policy.ts';
import { buildState } from './fixtures.ts';

const POLICY: SchedulingPolicy = { ...DEFAULT_POLICY, peerUploadSlots: 2, cdnUploadSlots: 2, maxAssignmentsPerRound: 8 };
const NOW = 5_000;
const range = (n: number) => Array.from({ length: n }, (_, p) => p);

describe('assignPieces', () => {
  it('picks the rarest piece first, counting copies already in flight', () => {
    // availability: p0 3, p1 1, p2 2, p3 2 (but two copies in flight → effective 4)
    const state = buildState({
      pieceCount: 4,
      peers: [
        { id: 'a', have: [0, 1, 2, 3] },
        { id: 'b', have: [0, 2, 3] },
        { id: 'c', have: [0] },
        { id: 'x', inflight: { 3: 'a' } },
        { id: 'y', inflight: { 3: 'b' } },
        { id: 'r' },
      ],
    });
    const order = assignPieces(state, 'r', 4, { ...POLICY, peerUploadSlots: 8 }, NOW).map((c) => c.piece);
    expect(order).toEqual([1, 2, 0, 3]);
  });

  it('gives a fresh piece to the CDN once: a second requester is not sent for the same copy', () => {
    const state = buildState({ pieceCount: 2, peers: [{ id: 'a', inflight: { 0: CDN_SOURCE } }, { id: 'r' }] });
    expect(assignPieces(state, 'r', 2, POLICY, NOW)).toEqual([{ piece: 1, source: CDN_SOURCE, deadline: NOW + POLICY.pieceTimeoutMs }]);
  });

  it('uses the CDN only for pieces no eligible peer holds, and waits for busy holders', () => {
    const state = buildState({
      pieceCount: 3,
      peers: [
        { id: 'busy', have: [0] }, // its two slots are taken below
        { id: 'bad', have: [1] }, // failed the requester before
        { id: 'f1', inflight: { 0: 'busy' } },
        { id: 'f2', inflight: { 0: 'busy' } },
        { id: 'r', failedSources: { bad: 1 } },
      ],
    });
    const choices = assignPieces(state, 'r', 3, { ...POLICY, cdnUploadSlots: 8 }, NOW);
    // p2 is held by nobody, p1 only by a peer that failed r: both from the CDN. p0 waits for 'busy'.
    expect(choices.map((c) => [c.piece, c.source]).sort()).toEqual([
      [1, CDN_SOURCE],
      [2, CDN_SOURCE],
    ]);
  });

  it('lets the CDN relieve busy holders once every piece is seeded and in the swarm', () => {
    const state = buildState({
      pieceCount: 1,
      peers: [
        { id: 'busy', have: [0] },
        { id: 'f1', inflight: { 0: 'busy' } },
        { id: 'f2', inflight: { 0: 'busy' } },
        { id: 'r' },
      ],
    });
    expect(assignPieces(state, 'r', 1, { ...POLICY, cdnUploadSlots: 8 }, NOW)).toEqual([{ piece: 0, source: CDN_SOURCE, deadline: NOW + POLICY.pieceTimeoutMs }]);
  });

  it('offers the CDN only for pieces it holds now, not every piece whose digest is known (after a takeover)', () => {
    // Every digest is known; the new owner's CDN holds piece 2 only; peer a holds 0.
    const state = buildState({ pieceCount: 4, cdnHeld: [2], peers: [{ id: 'a', have: [0] }, { id: 'r' }] });
    const choices = assignPieces(state, 'r', 4, { ...POLICY, cdnUploadSlots: 8 }, NOW);
    expect(choices.map((c) => [c.piece, c.source]).sort()).toEqual([
      [0, 'a'],
      [2, CDN_SOURCE],
    ]);
    // Nor does it relieve busy holders of a piece it lacks, though every piece is in the swarm.
    const busy = buildState({
      pieceCount: 1,
      cdnHeld: [],
      peers: [{ id: 'busy', have: [0] }, { id: 'f1', inflight: { 0: 'busy' } }, { id: 'f2', inflight: { 0: 'busy' } }, { id: 'r' }],
    });
    expect(assignPieces(busy, 'r', 1, { ...POLICY, cdnUploadSlots: 8 }, NOW)).toEqual([]);
  });

  it('never offers a quarantined, expired, failed or departed peer; a finished one still serves', () => {
    const base = { have: [0] };
    const state = buildState({
      pieceCount: 1,
      peers: [
        { id: 'quarantined', ...base, failuresCaused: 3 },
        { id: 'silent', ...base, lastSeenAt: NOW - DEFAULT_POLICY.peerExpiryMs },
        { id: 'failed', ...base, status: 'failed' },
        { id: 'left', ...base, status: 'left' },
        { id: 'r' },
      ],
      seeded: [],
    });
    expect(assignPieces(state, 'r', 1, POLICY, NOW)).toEqual([]);
    const withFinished = buildState({ pieceCount: 1, seeded: [], peers: [{ id: 'done', status: 'succeeded', have: [0] }, { id: 'r' }] });
    expect(assignPieces(withFinished, 'r', 1, POLICY, NOW).map((c) => c.source)).toEqual(['done']);
  });

  it('counts the slots it hands out within one answer and prefers the least loaded holder', () => {
    const state = buildState({
      pieceCount: 6,
      peers: [
        { id: 'a', status: 'succeeded', have: range(6) },
        { id: 'b', status: 'succeeded', have: range(6) },
        { id: 'x', inflight: { 0: 'a', 1: 'a', 2: 'a' } },
        { id: 'r' },
      ],
    });
    const choices = assignPieces(state, 'r', 8, { ...POLICY, peerUploadSlots: 4, cdnUploadSlots: 0 }, NOW);
    // a has one free slot, b four of which r's share (2 active peers) is two: three in all (the
    // CDN, which would relieve busy holders here, has no slots in this policy).
    expect(choices).toHaveLength(3);
    expect(choices.filter((c) => c.source === 'a')).toHaveLength(1);
    expect(choices.filter((c) => c.source === 'b')).toHaveLength(2);
    expect(choices[0]!.source).toBe('b');
  });

  it('gives one requester no more than its fair share of a source while many peers are active', () => {
    const others = range(7).map((i) => ({ id: `w${i}` }));
    const state = buildState({ pieceCount: 8, peers: [{ id: 'seed', status: 'succeeded', have: range(8) }, ...others, { id: 'r' }] });
    const policy = { ...POLICY, peerUploadSlots: 4, cdnUploadSlots: 0 };
    // 8 active peers share the seed's 4 slots: one each (the CDN has no slots in this policy).
    expect(assignPieces(state, 'r', 8, policy, NOW).map((c) => c.source)).toEqual(['seed']);
    const alone = buildState({ pieceCount: 8, peers: [{ id: 'seed', status: 'succeeded', have: range(8) }, { id: 'r' }] });
    expect(assignPieces(alone, 'r', 8, policy, NOW)).toHaveLength(4);
  });

  it('drops the CDN for a requester only after repeated failures', () => {
    const spec = (failures: number) => buildState({ pieceCount: 1, peers: [{ id: 'r', failedSources: { [CDN_SOURCE]: failures } }] });
    expect(assignPieces(spec(POLICY.quarantineAfterFailures - 1), 'r', 1, POLICY, NOW)).toHaveLength(1);
    expect(assignPieces(spec(POLICY.quarantineAfterFailures), 'r', 1, POLICY, NOW)).toEqual([]);
  });

  it('spreads requesters of a fresh swarm over different pieces and sources', () => {
    const peers = range(10).map((i) => ({ id: `seed-${i}`, status: 'succeeded' as const, have: range(256) }));
    const state = buildState({ pieceCount: 512, peers: [...peers, { id: 'r1' }, { id: 'r2' }] });
    const policy = { ...POLICY, peerUploadSlots: 4, cdnUploadSlots: 2 };
    const a = assignPieces(state, 'r1', 8, policy, NOW);
    const b = assignPieces(state, 'r2', 8, policy, NOW);
    expect(a).toHaveLength(8);
    expect(b).toHaveLength(8);
    const overlap = a.filter((c) => b.some((d) => d.piece === c.piece));
    expect(overlap.length).toBeLessThanOrEqual(1);
    // Rarest first: pieces 256..511 exist only at the CDN, where each of the two active peers may
    // take one of the 2 slots; the rest come from the seeds, at most 2 (the share) from each.
    expect(a.filter((c) => c.source === CDN_SOURCE)).toHaveLength(1);
    expect(a.find((c) => c.source === CDN_SOURCE)!.piece).toBeGreaterThanOrEqual(256);
    const perSeed = new Map<string, number>();
    for (const c of a) if (c.source !== CDN_SOURCE) perSeed.set(c.source, (perSeed.get(c.source) ?? 0) + 1);
    expect(Math.max(...perSeed.values())).toBeLessThanOrEqual(2);
    expect(perSeed.size).toBeGreaterThanOrEqual(4);
  });

  it('answers nothing when asked for nothing, or for a peer that is not active', () => {
    const state = buildState({ pieceCount: 2, peers: [{ id: 'r' }, { id: 'gone', status: 'left' }] });
    expect(assignPieces(state, 'r', 0, POLICY, NOW)).toEqual([]);
    expect(assignPieces(state, 'gone', 2, POLICY, NOW)).toEqual([]);
    expect(assignPieces(state, 'unknown', 2, POLICY, NOW)).toEqual([]);
  });
});
