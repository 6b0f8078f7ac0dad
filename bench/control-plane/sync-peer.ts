import { CDN_SOURCE } from '../../core/events/task-events.ts';
import type { SyncRequest } from '../../core/wire/peer-api.ts';
import type { SupernodeClient } from '../../peer/dfget/supernode-client.ts';
import type { SimulatedHolder, SimulatedSwarm } from './simulated-swarm.ts';
import type { SimulatedPeerOptions, SimulatedPeerResult } from './simulated-peer.ts';

/** With a free download slot and nothing to fetch, look at the parents' pieces again this often (a real peer polls their bitmaps). */
const LOOK_AGAIN_MS = 50;
/** A parent that had nothing this peer lacks for this long is asked to be replaced. */
const STARVED_MS = 2_000;
const MAX_ERRORS = 50;

/**
 * A peer on the sync protocol (docs/decisions.md, "Parents, not pieces") that moves no bytes:
 * it joins, syncs to learn its parents, then fetches on its own — a piece it lacks from a
 * parent that holds it and has an upload slot free, "arriving" `pieceMs` later — and reports
 * what it verified in one batch per sync (every syncAfterMs the supernode names, and at once
 * when it has every piece). A parent found useless for STARVED_MS is named for replacement.
 */
export async function runSyncPeer(o: SimulatedPeerOptions & { swarm: SimulatedSwarm }): Promise<SimulatedPeerResult> {
  const result: SimulatedPeerResult = { roundMs: [], rounds: 0, pieces: 0, errors: 0, doneAt: 0 };
  const me = o.swarm.add(o.peerId);
  const n = o.swarm.pieceCount;
  const fetching = new Uint8Array(n);
  let inflight = 0;
  let parents: SimulatedHolder[] = [];
  let known = 0;
  let landed: SyncRequest['ok'] = [];
  const usefulAt = new Map<string, number>();
  let wake: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let lookAgain: NodeJS.Timeout | undefined;

  const has = (parent: SimulatedHolder, p: number) => (parent.id === CDN_SOURCE ? p < known : parent.have[p] === 1);
  /** A piece this peer lacks and a parent to fetch it from: a peer parent if one holds it, the CDN only for pieces no peer parent holds. */
  const pick = (): [number, SimulatedHolder] | undefined => {
    const start = Math.floor(Math.random() * Math.max(1, known));
    for (let i = 0; i < known; i++) {
      const p = (start + i) % known;
      if (me.have[p] || fetching[p]) continue;
      let peerHolds = false;
      for (const parent of parents) {
        if (parent.id === CDN_SOURCE || !parent.have[p]) continue;
        peerHolds = true;
        if (parent.uploading < parent.uploadSlots) return [p, parent];
      }
      if (peerHolds) continue;
      const cdn = parents.find((x) => x.id === CDN_SOURCE);
      if (cdn && has(cdn, p) && cdn.uploading < cdn.uploadSlots) return [p, cdn];
    }
    return undefined;
  };
  const pump = () => {
    for (;;) {
      if (inflight >= o.parallelism) return;
      const choice = pick();
      if (!choice) break;
      const [p, parent] = choice;
      fetching[p] = 1;
      inflight++;
      parent.uploading++;
      usefulAt.set(parent.id, performance.now());
      setTimeout(() => {
        parent.uploading--;
        inflight--;
        fetching[p] = 0;
        me.have[p] = 1;
        me.haveCount++;
        result.pieces++;
        landed.push({ piece: p, source: parent.id, ms: o.pieceMs });
        if (me.haveCount === n) wake?.();
        pump();
      }, o.pieceMs);
    }
    if (me.haveCount < n && !lookAgain) {
      lookAgain = setTimeout(() => {
        lookAgain = undefined;
        pump();
      }, LOOK_AGAIN_MS);
    }
  };
  const starved = (): string[] => {
    const now = performance.now();
    return parents
      .filter((parent) => now - (usefulAt.get(parent.id) ?? now) > STARVED_MS && !hasAnythingFor(parent))
      .map((parent) => parent.id);
  };
  const hasAnythingFor = (parent: SimulatedHolder) => {
    for (let p = 0; p < known; p++) if (!me.have[p] && has(parent, p)) return true;
    return false;
  };

  let joined = false;
  try {
    for (;;) {
      try {
        if (!joined) {
          await o.client.join(o.taskId, { peerId: o.peerId, hostId: o.peerId, address: o.address });
          joined = true;
        }
        const ok = landed;
        landed = [];
        const started = performance.now();
        result.rounds++;
        let resp;
        try {
          resp = await o.client.sync(o.taskId, o.peerId, { ok, failed: [], replace: starved(), knownDigests: known });
        } catch (err) {
          landed = [...ok, ...landed]; // reported again with the next sync
          throw err;
        }
        result.roundMs.push(performance.now() - started);
        if (resp.action === 'done') {
          result.doneAt = performance.now();
          await o.client.leave(o.taskId, o.peerId, { outcome: 'succeeded' });
          return result;
        }
        if (resp.action === 'failed') throw new Error(`the supernode failed the task: ${resp.reason}`);
        let waitMs: number;
        if (resp.action === 'sync') {
          known += resp.digests.length;
          const now = performance.now();
          parents = resp.parents.map((x) => o.swarm.get(x.peerId)).filter((x): x is SimulatedHolder => x !== undefined);
          for (const parent of parents) if (!usefulAt.has(parent.id)) usefulAt.set(parent.id, now);
          pump();
          waitMs = resp.syncAfterMs;
        } else waitMs = resp.retryAfterMs;
        if (me.haveCount === n) continue;
        await new Promise<void>((resolve) => {
          timer = setTimeout(resolve, waitMs);
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
  } finally {
    clearTimeout(lookAgain);
    lookAgain = undefined;
  }
}
