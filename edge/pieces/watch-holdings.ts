import { errors, request, type Dispatcher } from 'undici';
import { WATCH_HEARTBEAT_MS, WATCH_MARK } from './piece-path.ts';

/** What a parent holds as a watch has told it so far. `bitfield` is updated in place. */
export interface Holdings {
  count: number;
  bitfield: Uint8Array;
}

export type WatchOutcome = { complete: true } | { failed: 'unreachable' | 'timeout' | 'http'; status?: number; detail: string };

export interface WatchHoldingsOptions {
  /** The task's piece count: a record beyond it is not this task's. */
  pieceCount: number;
  dispatcher: Dispatcher;
  signal?: AbortSignal;
  /** Max wait for the response headers; the body may be quiet for twice the holder's heartbeat. */
  timeoutMs: number;
  /** Called once the parent's holdings are known, then whenever it holds more. */
  onHoldings: (h: Holdings) => void;
}

/** Holdings path on every piece server: GET /pieces/:taskId[?watch] (parsed by piece-path.ts). */
export function holdingsPath(taskId: string, o: { watch?: boolean } = {}): string {
  return `/pieces/${taskId}${o.watch ? '?watch' : ''}`;
}

/** Whether a bitfield (BitTorrent order: piece 0 is the high bit of byte 0) has `piece`; false outside it. */
export function hasPiece(bitfield: Uint8Array, piece: number): boolean {
  if (!Number.isInteger(piece) || piece < 0 || piece >= bitfield.length * 8) return false;
  return (bitfield[piece >> 3]! & (0x80 >> (piece & 7))) !== 0;
}

/**
 * Watches what a parent holds of a task (GET /pieces/<task>?watch): one request for as long as
 * the parent has pieces to add, each landed piece a 4-byte record (piece-path.ts). Resolves
 * `complete` when the parent holds every piece and ends the stream. Failures map as fetchPiece's
 * do: 'unreachable' (connect, reset, the stream ended early: the parent gave the task up),
 * 'timeout' (no headers, or a body quiet past two heartbeats), 'http' (any status but 200, or a
 * record that is not a piece of the task). An abort by `signal` rethrows.
 */
export async function watchHoldings(taskId: string, address: string, o: WatchHoldingsOptions): Promise<WatchOutcome> {
  const held: Holdings = { count: 0, bitfield: new Uint8Array(Math.ceil(o.pieceCount / 8)) };
  let known = false;
  try {
    const res = await request(`http://${address}${holdingsPath(taskId, { watch: true })}`, {
      dispatcher: o.dispatcher,
      headersTimeout: o.timeoutMs,
      bodyTimeout: 2 * WATCH_HEARTBEAT_MS,
      signal: o.signal,
    });
    if (res.statusCode !== 200) {
      await res.body.dump();
      return { failed: 'http', status: res.statusCode, detail: `${address} answered ${res.statusCode}` };
    }
    // A record may arrive split across chunks: at most 3 bytes are carried to the next one.
    let carry = Buffer.alloc(0);
    for await (const chunk of res.body) {
      const bytes = carry.length > 0 ? Buffer.concat([carry, chunk as Buffer]) : (chunk as Buffer);
      const whole = bytes.length - (bytes.length % 4);
      let grew = false;
      for (let at = 0; at < whole; at += 4) {
        const piece = bytes.readUInt32BE(at);
        if (piece === WATCH_MARK) {
          grew ||= !known;
          known = true;
          continue;
        }
        if (piece >= o.pieceCount) {
          res.body.destroy();
          return { failed: 'http', status: 200, detail: `${address} named piece ${piece} of a task of ${o.pieceCount}` };
        }
        if (hasPiece(held.bitfield, piece)) continue;
        held.bitfield[piece >> 3]! |= 0x80 >> (piece & 7);
        held.count++;
        grew = true;
      }
      carry = Buffer.from(bytes.subarray(whole));
      if (grew && known) o.onHoldings(held);
    }
    if (held.count === o.pieceCount) return { complete: true };
    return { failed: 'unreachable', detail: `${address} ended its watch of task ${taskId} holding ${held.count} of ${o.pieceCount} pieces` };
  } catch (err) {
    if (o.signal?.aborted) throw err;
    const e = err as Error;
    if (e instanceof errors.HeadersTimeoutError || e instanceof errors.BodyTimeoutError || e instanceof errors.ConnectTimeoutError) {
      return { failed: 'timeout', detail: e.message };
    }
    // Refused or reset connections, DNS failures, a parent that died mid-body.
    return { failed: 'unreachable', detail: e.message };
  }
}
