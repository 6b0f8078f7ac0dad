import { describe, expect, it } from 'vitest';
import { computeTaskId } from '../../../core/ids/index.ts';
import { pollUntil, resultsWithin, startPeer, sha256Of, useSwarm, type PeerProcess } from './swarm-fixture.ts';
import { assignments, failuresFrom, fetchHistory, inflightFrom, postgresEvents, soleHolder, verifiedByPeer } from './task-record.ts';

const SURVIVORS = 4;
const SIZE = 6 * 1024 * 1024;
const CDN_RATE = '1MiB';
// Slow peer uplinks: a piece from a peer takes seconds, so the victim is killed mid-transfer.
const PEER_UPLOAD = '384KiB';
const HEAD_START = 4;
/**
 * Generous: a peer stuck on the dead source would never finish. (Pieces only the victim was
 * fetching no longer wait out pieceTimeoutMs: a source reported unreachable has its own
 * downloads expired at once.)
 */
const FINISH_WITHIN_MS = 150_000;

/**
 * A peer process that is serving others is SIGKILLed mid-download. The transfers it was
 * serving fail (unreachable or timeout), the requesters report them, are sent elsewhere, and
 * every surviving peer still ends with the origin's bytes — nobody waits on the dead peer.
 */
describe('a peer that dies while serving others', () => {
  const swarm = useSwarm('dead', { size: SIZE, cdnUploadRate: CDN_RATE });
  const { work, peers } = swarm;


  it('fails its transfers over to other sources and every survivor finishes identical', async () => {
    const node = swarm.supernode.address;
    for (let i = 0; i <= SURVIVORS; i++) peers.push(startPeer({ index: i, url: swarm.origin.url, dir: work.dir, node, uploadLimit: PEER_UPLOAD }));
    await Promise.all(peers.map((p) => p.ready));
    const [victim, ...survivors] = peers as [PeerProcess, ...PeerProcess[]];
    const taskId = computeTaskId({ url: swarm.origin.url });

    // The victim starts first, so it holds pieces nobody else has and the others are sent to it.
    victim.go();
    const victimId = await soleHolder(swarm.supernode.base, taskId, HEAD_START);
    for (const p of survivors) p.go();

    // Kill it once it has served someone and is serving more right now.
    await pollUntil('the victim to be serving others', async () => {
      const events = await postgresEvents(taskId);
      const served = events.some((e) => e.type === 'PiecesReported' && e.data.ok.some((o) => o.source === victimId));
      return served && inflightFrom(events, victimId) >= 2 ? true : undefined;
    }, 60_000, 150);
    const killed = new Promise((resolve) => victim.proc.once('exit', resolve));
    victim.proc.kill('SIGKILL');
    await killed;

    const results = await resultsWithin(survivors, FINISH_WITHIN_MS);
    for (const p of survivors) expect(sha256Of(p.output), `peer ${p.index}'s copy`).toBe(swarm.origin.sha256);
    expect(results.every((r) => r.taskId === taskId)).toBe(true);
    expect(swarm.origin.bytesServed()).toBeLessThanOrEqual(1.01 * SIZE);

    const history = await fetchHistory(swarm.supernode.base, taskId);
    const pieceCount = SIZE / (256 * 1024);
    const verified = verifiedByPeer(history.pieces);
    const survivorIds = [...verified.keys()].filter((id) => id !== victimId);
    expect(survivorIds).toHaveLength(SURVIVORS);
    for (const id of survivorIds) expect(verified.get(id)!.size, `pieces verified by ${id}`).toBe(pieceCount);

    // The transfers cut by the kill are on record as the victim's failures, and each such piece
    // was verified afterwards by the same requester from another source.
    const events = await postgresEvents(taskId);
    const failures = failuresFrom(events, victimId);
    expect(failures.length).toBeGreaterThan(0);
    for (const f of failures) expect(['unreachable', 'timeout', 'http']).toContain(f.reason);
    for (const f of failures) {
      const refetched = history.pieces.find((t) => t.verified && t.peerId === f.peerId && t.piece === f.piece && t.version > f.version);
      expect(refetched, `piece ${f.piece} of ${f.peerId} verified after the failure`).toBeDefined();
      expect(refetched!.source).not.toBe(victimId);
      const later = assignments(events).filter((a) => a.peerId === f.peerId && a.source === victimId && a.version > f.version);
      expect(later, `${f.peerId} sent back to the dead peer`).toEqual([]);
    }
  });
});
