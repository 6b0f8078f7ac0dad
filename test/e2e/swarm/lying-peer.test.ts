import { describe, expect, it } from 'vitest';
import { computeTaskId } from '../../../core/ids/index.ts';
import { DEFAULT_POLICY } from '../../../core/scheduling/policy.ts';
import { resultsWithin, startPeer, sha256Of, useSwarm } from './swarm-fixture.ts';
import { assignments, failuresFrom, fetchHistory, postgresEvents, soleHolder, verifiedByPeer } from './task-record.ts';

const HONEST = 4;
const SIZE = 6 * 1024 * 1024;
const CDN_RATE = '1536KiB';
const PEER_UPLOAD = '1MiB';
/** Pieces the liar holds before the others start: for those it is the only peer source, so it is certainly asked. */
const HEAD_START = 4;
/** Generous (the swarm needs ~10 s): without the penalty the honest peers would retry the liar forever. */
const FINISH_WITHIN_MS = 120_000;

/**
 * A peer process whose uploader flips a byte of every piece it serves (the harness peer's
 * --lie: a wrapped piece source). It starts first, so the honest peers are sent to it; each
 * corrupt piece fails verification, is reported with reason 'digest', and is fetched again elsewhere.
 * The liar is penalised: dropped by each requester at its first failure, and quarantined for
 * everyone once it caused quarantineAfterFailures failures.
 */
describe('a peer that serves corrupt pieces', () => {
  const swarm = useSwarm('liar', { size: SIZE, cdnUploadRate: CDN_RATE });
  const { work, peers } = swarm;


  it('is caught by the digest, its pieces come from elsewhere, and it stops being a source', async () => {
    const node = swarm.supernode.address;
    const liar = startPeer({ index: 0, url: swarm.origin.url, dir: work.dir, node, uploadLimit: PEER_UPLOAD, extra: ['--lie', 'all'] });
    peers.push(liar);
    for (let i = 1; i <= HONEST; i++) peers.push(startPeer({ index: i, url: swarm.origin.url, dir: work.dir, node, uploadLimit: PEER_UPLOAD }));
    await Promise.all(peers.map((p) => p.ready));

    const taskId = computeTaskId({ url: swarm.origin.url });
    liar.go();
    const liarId = await soleHolder(swarm.supernode.base, taskId, HEAD_START);
    for (const p of peers.slice(1)) p.go();
    const results = await resultsWithin(peers, FINISH_WITHIN_MS);

    // Everyone, the liar included (it downloads honestly), ends with the origin's bytes.
    for (const p of peers) expect(sha256Of(p.output), `peer ${p.index}'s copy`).toBe(swarm.origin.sha256);
    expect(results.every((r) => r.taskId === taskId)).toBe(true);
    expect(swarm.origin.bytesServed()).toBeLessThanOrEqual(1.01 * SIZE);

    const history = await fetchHistory(swarm.supernode.base, taskId);
    const pieceCount = SIZE / (256 * 1024);
    const verified = verifiedByPeer(history.pieces);
    expect(verified.size).toBe(HONEST + 1);
    for (const [peerId, pieces] of verified) expect(pieces.size, `pieces verified by ${peerId}`).toBe(pieceCount);
    const digestFailures = history.pieces.filter((t) => !t.verified && t.reason === 'digest');
    expect(digestFailures.length).toBeGreaterThan(0);
    expect(new Set(digestFailures.map((t) => t.source))).toEqual(new Set([liarId]));
    // A corrupt piece is never recorded as verified from the liar.
    expect(history.pieces.filter((t) => t.verified && t.source === liarId)).toHaveLength(0);

    // The penalty, checked against the recorded decisions (PiecesAssigned) rather than timing:
    const events = await postgresEvents(taskId);
    const failures = failuresFrom(events, liarId);
    const fromLiar = assignments(events).filter((a) => a.source === liarId);
    const perRequester = new Map<string, number>();
    for (const f of failures) perRequester.set(f.peerId, (perRequester.get(f.peerId) ?? 0) + 1);
    for (const [requester, count] of perRequester) {
      // A requester is never sent back to a source that failed it; it can only have seen the
      // liar's pieces it held at once (at most the liar's upload slots).
      const firstFailure = failures.find((f) => f.peerId === requester)!.version;
      expect(fromLiar.filter((a) => a.peerId === requester && a.version > firstFailure), `assignments of ${requester} from the liar after its failure`).toEqual([]);
      expect(count).toBeLessThanOrEqual(DEFAULT_POLICY.peerUploadSlots);
    }
    // Nobody is sent to the liar once it has caused quarantineAfterFailures failures, so the
    // total is bounded by the failures before that plus the transfers already under way.
    const quarantinedAt = failures[DEFAULT_POLICY.quarantineAfterFailures - 1]?.version;
    if (quarantinedAt !== undefined) expect(fromLiar.filter((a) => a.version > quarantinedAt)).toEqual([]);
    expect(failures.length).toBeLessThanOrEqual(DEFAULT_POLICY.quarantineAfterFailures - 1 + DEFAULT_POLICY.peerUploadSlots);
  });
});
