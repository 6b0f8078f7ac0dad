import type { RoundRequest } from '../../core/wire/peer-api.ts';
import type { SupernodeClient } from '../../peer/dfget/supernode-client.ts';

export interface SimulatedPeerOptions {
  client: SupernodeClient;
  taskId: string;
  peerId: string;
  /** What the peer tells the supernode its uploader listens on (nothing does: no byte moves). */
  address: string;
  /** How long every assigned piece takes to "arrive" (a piece's size over a link's rate). */
  pieceMs: number;
  /** Pieces in flight at once (dfget's default is 6). */
  parallelism: number;
}

export interface SimulatedPeerResult {
  /** Latency of every round the supernode answered without holding it (no long poll asked for). */
  roundMs: number[];
  /** Rounds sent in all, including long polls. */
  rounds: number;
  pieces: number;
  /** Calls that failed (5xx, refused, timeouts); each is retried after a pause. */
  errors: number;
  /**
   * performance.now() when the peer held every piece verified: when its file was whole. A
   * round-protocol peer learns it from the supernode's "done"; a sync-protocol peer knows it
   * itself and reports it (acknowledgedAt).
   */
  doneAt: number;
  /** performance.now() when the supernode acknowledged that the peer holds every piece ("done"). */
  acknowledgedAt: number;
  /** performance.now() when the supernode first answered the peer (a peer fetches nothing before). */
  firstAnswerAt: number;
}

/** Same pacing as a real peer (peer/dfget/swarm-session.ts): poll this often with slots free. */
const POLL_MS = 250;
const HOLD_MS = 2000;
/** A peer that keeps failing is a broken run, not a slow one. */
const MAX_ERRORS = 50;

/**
 * A peer that speaks the real wire protocol to the real supernode — join, then report-and-
 * schedule rounds until "done" — but moves no bytes: an assigned piece "arrives" `pieceMs`
 * later and is reported like a verified one. Hundreds of them fit in one process, so the
 * control plane (HTTP, scheduling, durable appends) is loaded as by a swarm of hundreds
 * without the data plane's CPU. It paces its rounds like dfget: at once when it has something
 * to report, with at least half its slots busy only when a piece lands, else every POLL_MS.
 */
export async function runSimulatedPeer(o: SimulatedPeerOptions): Promise<SimulatedPeerResult> {
  const result: SimulatedPeerResult = { roundMs: [], rounds: 0, pieces: 0, errors: 0, doneAt: 0, acknowledgedAt: 0, firstAnswerAt: 0 };
  const landed: RoundRequest['ok'] = [];
  const inflight = new Set<number>();
  let arrival: (() => void) | undefined;
  const nextArrival = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      arrival = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  let joined = false;
  for (;;) {
    try {
      if (!joined) {
        await o.client.join(o.taskId, { peerId: o.peerId, hostId: o.peerId, address: o.address });
        joined = true;
      }
      const ok = landed.splice(0);
      const holdMs = inflight.size === 0 && ok.length === 0 ? HOLD_MS : 0;
      const started = performance.now();
      result.rounds++;
      let resp;
      try {
        resp = await o.client.round(o.taskId, o.peerId, { ok, failed: [], want: o.parallelism - inflight.size, holdMs });
      } catch (err) {
        landed.push(...ok); // reported again with the next round
        throw err;
      }
      if (holdMs === 0) result.roundMs.push(performance.now() - started);
      result.firstAnswerAt ||= performance.now();
      if (resp.action === 'done') {
        result.doneAt = result.acknowledgedAt = performance.now();
        return result;
      }
      if (resp.action === 'failed') throw new Error(`the supernode failed the task: ${resp.reason}`);
      if (resp.action === 'assign') {
        for (const a of resp.assignments) {
          if (inflight.has(a.piece)) continue;
          inflight.add(a.piece);
          setTimeout(() => {
            inflight.delete(a.piece);
            landed.push({ piece: a.piece, source: a.source, ms: o.pieceMs });
            result.pieces++;
            arrival?.();
          }, o.pieceMs);
        }
      }
      if (landed.length > 0) continue;
      const busy = inflight.size * 2 >= o.parallelism;
      await nextArrival(busy ? 60_000 : resp.action === 'wait' ? resp.retryAfterMs : POLL_MS);
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('the supernode failed')) throw err;
      if (++result.errors > MAX_ERRORS) throw err;
      joined = false; // whatever went wrong, join again (idempotent) before the next round
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }
}
