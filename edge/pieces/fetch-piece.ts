import { createHash } from 'node:crypto';
import { errors, request, type Dispatcher } from 'undici';
import { piecePath } from '../../core/wire/peer-api.ts';
import type { FailureReason } from '../../core/events/index.ts';
import { unthrottled, type Throttle } from '../rate/throttle.ts';

/** Where one piece is and what it must be: a scheduler's Assignment fits as it is. */
export interface PieceAt {
  /** host:port of the holder's piece server. */
  address: string;
  /** The holder's id, for messages (a peer id, or 'cdn'). */
  source: string;
  piece: number;
  size: number;
  /** sha256 hex the bytes must have. */
  digest: string;
}

export type PieceOutcome = { ok: true; bytes: Buffer; ms: number } | { ok: false; reason: FailureReason; detail: string };

export interface FetchPieceOptions {
  dispatcher: Dispatcher;
  /** Max wait for the response headers, and between two body chunks. */
  timeoutMs: number;
  throttle?: Throttle;
  signal?: AbortSignal;
  now: () => number;
}

/**
 * Fetches one piece from a holder's piece server (a peer's uploader, the CDN, another
 * replica's CDN: the same path) and verifies it against the digest the task knows, computed by
 * a CDN from the origin's bytes. Used by dfget's swarm session and by a CDN refilling from
 * another replica. Bytes that fail verification are never returned: the caller reports reason 'digest'
 * and the supernode penalises the source. Each failure maps to the reason the scheduler acts
 * on: 'unreachable' (connect), 'timeout', 'refused' (503: the source is busy, not broken),
 * 'http' (any other status).
 */
export async function fetchPiece(taskId: string, a: PieceAt, o: FetchPieceOptions): Promise<PieceOutcome> {
  const started = o.now();
  try {
    const res = await request(`http://${a.address}${piecePath(taskId, a.piece)}`, {
      dispatcher: o.dispatcher,
      headersTimeout: o.timeoutMs,
      bodyTimeout: o.timeoutMs,
      signal: o.signal,
    });
    if (res.statusCode !== 200) {
      await res.body.dump();
      return { ok: false, reason: res.statusCode === 503 ? 'refused' : 'http', detail: `${a.source} answered ${res.statusCode}` };
    }
    // The piece lands in one buffer of its announced size, hashed as it arrives: one copy of
    // each byte, no list of chunks to join at the end.
    const hash = createHash('sha256');
    const bytes = Buffer.allocUnsafe(a.size);
    const throttle = o.throttle === unthrottled ? undefined : o.throttle;
    let length = 0;
    for await (const chunk of res.body) {
      const buf = chunk as Buffer;
      if (length + buf.length > a.size) {
        res.body.destroy();
        return { ok: false, reason: 'digest', detail: `${a.source} sent more than the ${a.size} bytes of piece ${a.piece}` };
      }
      if (throttle) await throttle.take(buf.length, o.signal);
      hash.update(buf);
      buf.copy(bytes, length);
      length += buf.length;
    }
    if (length !== a.size || hash.digest('hex') !== a.digest) {
      return { ok: false, reason: 'digest', detail: `piece ${a.piece} from ${a.source} failed verification` };
    }
    return { ok: true, bytes, ms: Math.max(0, Math.round(o.now() - started)) };
  } catch (err) {
    if (o.signal?.aborted) throw err;
    const e = err as Error;
    if (e instanceof errors.HeadersTimeoutError || e instanceof errors.BodyTimeoutError || e instanceof errors.ConnectTimeoutError) {
      return { ok: false, reason: 'timeout', detail: e.message };
    }
    // Refused or reset connections, DNS failures, a source that died mid-body.
    return { ok: false, reason: 'unreachable', detail: e.message };
  }
}
