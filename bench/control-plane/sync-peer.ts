import type { SimulatedPeerOptions, SimulatedPeerResult } from './simulated-peer.ts';
import { SwarmMember, type SimClock, type SimulatedSwarm } from './simulated-swarm.ts';

const MAX_ERRORS = 50;
const realClock: SimClock = { now: () => performance.now(), after: (ms, fn) => void setTimeout(fn, ms) };

/**
 * A peer on the sync protocol (docs/decisions.md, "Parents, not pieces") that moves no bytes:
 * it joins, syncs to learn its parents and the digests, fetches on its own (SwarmMember), and
 * reports what it verified in one batch per sync — every syncAfterMs the supernode names, and
 * at once when it holds every piece; then it leaves as succeeded and keeps serving.
 */
export async function runSyncPeer(o: SimulatedPeerOptions & { swarm: SimulatedSwarm }): Promise<SimulatedPeerResult> {
  const result: SimulatedPeerResult = { roundMs: [], rounds: 0, pieces: 0, errors: 0, doneAt: 0 };
  let wake: (() => void) | undefined;
  const member = new SwarmMember(o.swarm, o.peerId, { parallelism: o.parallelism, pieceMs: o.pieceMs, clock: realClock, random: Math.random, onComplete: () => wake?.(), onStarved: () => wake?.() });
  let joined = false;
  for (;;) {
    try {
      if (!joined) {
        await o.client.join(o.taskId, { peerId: o.peerId, hostId: o.peerId, address: o.address });
        joined = true;
      }
      const ok = member.takeReports();
      const started = performance.now();
      result.rounds++;
      let resp;
      try {
        resp = await o.client.sync(o.taskId, o.peerId, { ok, failed: [], replace: member.starved(), knownDigests: member.knownDigests });
      } catch (err) {
        member.putBack(ok);
        throw err;
      }
      result.roundMs.push(performance.now() - started);
      if (resp.action === 'done') {
        result.doneAt = performance.now();
        result.pieces = member.transfers;
        await o.client.leave(o.taskId, o.peerId, { outcome: 'succeeded' });
        return result;
      }
      if (resp.action === 'failed') throw new Error(`the supernode failed the task: ${resp.reason}`);
      if (resp.action === 'sync') member.update(resp.parents.map((p) => p.peerId), resp.digests.length, resp.swarmAverage);
      if (member.complete) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, resp.action === 'sync' ? resp.syncAfterMs : resp.retryAfterMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('the supernode failed')) throw err;
      if (++result.errors > MAX_ERRORS) throw err;
      joined = false; // whatever went wrong, join again (idempotent) before the next sync
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
