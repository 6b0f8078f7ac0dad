import type { Dispatcher } from 'undici';
import { fetchPiece } from '../../edge/pieces/index.ts';

export interface ReplicaRefill {
  taskId: string;
  /** host:port of the other live replicas' piece routes (their CDNs). */
  replicas: readonly string[];
  /** The pieces wanted, each with the size and the digest the task knows for it. */
  pieces: readonly { piece: number; size: number; digest: string }[];
  dispatcher: Dispatcher;
  signal: AbortSignal;
  /** Stores a verified piece (awaited before the next one). */
  keep: (piece: number, bytes: Buffer, digest: string) => Promise<void>;
}

/**
 * Pieces another replica's CDN verified earlier, fetched from it instead of the origin. A task
 * that changes owner — a takeover, or a whole cluster restarted whose shards land elsewhere —
 * would otherwise refetch from the origin every piece no peer holds, although the former
 * owner, alive again, still has them on its disk. Only pieces whose digest the task knows are
 * asked for, and each must hash to it (the same check every peer makes), so a replica can
 * hand out nothing the origin did not send. A replica that fails once (down, busy, lacking
 * pieces) is not asked for the next pieces until the others were; the origin gets the rest.
 * Returns the pieces kept.
 */
export async function refillFromReplicas(o: ReplicaRefill): Promise<Set<number>> {
  const kept = new Set<number>();
  if (o.replicas.length === 0) return kept;
  const order = [...o.replicas];
  for (const want of o.pieces) {
    for (const address of [...order]) {
      o.signal.throwIfAborted();
      const outcome = await fetchPiece(o.taskId, { address, source: `replica ${address}`, ...want }, { dispatcher: o.dispatcher, timeoutMs: 10_000, signal: o.signal, now: () => performance.now() });
      if (outcome.ok) {
        await o.keep(want.piece, outcome.bytes, want.digest);
        kept.add(want.piece);
        break;
      }
      order.push(order.splice(order.indexOf(address), 1)[0]!); // ask the others first next time
    }
  }
  return kept;
}
