import { errors, request, type Dispatcher } from 'undici';
import { MAX_PIECE_COUNT } from '../../core/pieces/index.ts';
import { PIECE_COUNT_HEADER } from './piece-path.ts';

/** What a parent holds: `count` is the cursor to pass as `after` to wait for more. */
export interface Holdings {
  count: number;
  bitfield: Uint8Array;
}

export type HoldingsOutcome = Holdings | { failed: 'unreachable' | 'timeout' | 'http'; status?: number; detail: string };

export interface FetchHoldingsOptions {
  /** Answer once the parent counts more than this (-1: at once). */
  after: number;
  /** How long the parent may hold the answer for that (it caps this at 30 s). */
  waitMs: number;
  dispatcher: Dispatcher;
  signal?: AbortSignal;
  /** Max wait beyond `waitMs` for the response headers, and between two body chunks. */
  timeoutMs: number;
}

/** The bitfield of a task with the most pieces any supernode lays out: more is not a bitfield. */
const MAX_BITFIELD_BYTES = Math.ceil(MAX_PIECE_COUNT / 8);
const COUNT = /^(0|[1-9]\d{0,8})$/;

/** Holdings path on every piece server: GET /pieces/:taskId?after=N&waitMs=M (parsed by piece-path.ts). */
export function holdingsPath(taskId: string, q: { after?: number; waitMs?: number } = {}): string {
  const query = [
    ...(q.after !== undefined && q.after >= 0 ? [`after=${q.after}`] : []),
    ...(q.waitMs ? [`waitMs=${q.waitMs}`] : []),
  ].join('&');
  return `/pieces/${taskId}${query ? `?${query}` : ''}`;
}

/** Whether a bitfield (BitTorrent order: piece 0 is the high bit of byte 0) has `piece`; false outside it. */
export function hasPiece(bitfield: Uint8Array, piece: number): boolean {
  if (!Number.isInteger(piece) || piece < 0 || piece >= bitfield.length * 8) return false;
  return (bitfield[piece >> 3]! & (0x80 >> (piece & 7))) !== 0;
}

/**
 * Asks a parent's piece server what it holds of a task, held there until it counts more than
 * `after` (a long poll, so a requester learns of a new piece when it lands, not at its next
 * poll). Failures map as fetchPiece's do: 'unreachable' (connect, reset), 'timeout', 'http'
 * (any status but 200, or an answer that is not a bitfield). An abort by `signal` rethrows.
 */
export async function fetchHoldings(taskId: string, address: string, o: FetchHoldingsOptions): Promise<HoldingsOutcome> {
  try {
    const res = await request(`http://${address}${holdingsPath(taskId, o)}`, {
      dispatcher: o.dispatcher,
      headersTimeout: o.waitMs + o.timeoutMs,
      bodyTimeout: o.timeoutMs,
      signal: o.signal,
    });
    if (res.statusCode !== 200) {
      await res.body.dump();
      return { failed: 'http', status: res.statusCode, detail: `${address} answered ${res.statusCode}` };
    }
    const header = res.headers[PIECE_COUNT_HEADER];
    const chunks: Buffer[] = [];
    let length = 0;
    for await (const chunk of res.body) {
      length += (chunk as Buffer).length;
      if (length > MAX_BITFIELD_BYTES) {
        res.body.destroy();
        return { failed: 'http', status: 200, detail: `${address} sent more than the ${MAX_BITFIELD_BYTES} bytes of a bitfield` };
      }
      chunks.push(chunk as Buffer);
    }
    const bitfield = new Uint8Array(Buffer.concat(chunks, length));
    const count = typeof header === 'string' && COUNT.test(header) ? Number(header) : -1;
    if (count < 0 || count > bitfield.length * 8) {
      return { failed: 'http', status: 200, detail: `${address} sent ${String(header)} pieces in a bitfield of ${bitfield.length} bytes` };
    }
    return { count, bitfield };
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
