import type { SimulatedPeerOptions, SimulatedPeerResult } from './simulated-peer.ts';
import { SwarmMember, type SimClock, type SimulatedSwarm } from './simulated-swarm.ts';

const MAX_ERRORS = 50;
const realClock: SimClock = { now: () => performance.now(), after: (ms, fn) => void setTimeout(fn, ms) };

/**
 * A peer on the sync protocol (docs/decisions.md, "Parents, not pieces") that moves no bytes:
 * its first sync joins too and brings its parents and the digests; then it fetches on its own (SwarmMember), and
 * reports what it verified in one batch per sync — every syncAfterMs the supernode names, and
 * at once when it holds every piece, which makes it succeeded; it keeps serving.
 */
export async function runSyncPeer(o: SimulatedPeerOptions & { swarm: SimulatedSwarm }): Promise<SimulatedPeerResult> {
  const result: SimulatedPeerResult = { roundMs: [], rounds: 0, pieces: 0, errors: 0, doneAt: 0, acknowledgedAt: 0, firstAnswerAt: 0 };
  let wake: (() => void) | undefined;
  const completed = () => {
    result.doneAt = performance.now();
    wake?.();
  };
  const member = new SwarmMember(o.swarm, o.peerId, { parallelism: o.parallelism, pieceMs: o.pieceMs, clock: realClock, random: Math.random, onComplete: completed, onStarved: () => wake?.() });
  let joined = false;
  for (;;) {
    try {
      const ok = member.takeReports();
      const started = performance.now();
      result.rounds++;
      let resp;
      try {
        const join = joined ? undefined : { hostId: o.peerId, address: o.address };
        resp = await o.client.sync(o.taskId, o.peerId, { ok, failed: [], replace: member.starved(), knownDigests: member.knownDigests, holdMs: 0, ...(join ? { join } : {}) });
        joined = true;
      } catch (err) {
        member.putBack(ok);
        throw err;
      }
      result.roundMs.push(performance.now() - started);
      result.firstAnswerAt ||= performance.now();
      if (resp.action === 'done') {
        result.acknowledgedAt = performance.now();
        result.pieces = member.transfers;
        return result; // succeeded with that sync (it keeps serving: the swarm reads it in memory)
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
