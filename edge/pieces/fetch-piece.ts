import { createHash } from 'node:crypto';
import { errors, type Dispatcher } from 'undici';
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
 * 'http' (any other status). An abort by `signal` rejects.
 *
 * Written on undici's `dispatch` with a handler rather than `request` and a body stream: each
 * chunk goes from the socket's parser into the hash and the piece buffer with no stream, promise
 * or async-iterator step between. On this machine's floor script that was 2.0–2.1 s of CPU per
 * GiB received against 2.5–2.8 (docs/benchmarks.md, "This machine's floor").
 */
export function fetchPiece(taskId: string, a: PieceAt, o: FetchPieceOptions): Promise<PieceOutcome> {
  const started = o.now();
  const throttle = o.throttle === unthrottled ? undefined : o.throttle;
  return new Promise<PieceOutcome>((resolve, reject) => {
    if (o.signal?.aborted) return reject(o.signal.reason);
    let controller: Dispatcher.DispatchController | undefined;
    let settled = false;
    /** A status other than 200: its (small) body is read to the end so the connection stays usable. */
    let refusal: PieceOutcome | undefined;
    let bytes: Buffer | undefined;
    let length = 0;
    const hash = createHash('sha256');
    const onAbort = () => controller?.abort(o.signal!.reason as Error);
    o.signal?.addEventListener('abort', onAbort, { once: true });
    const settle = (outcome: PieceOutcome) => {
      if (settled) return;
      settled = true;
      o.signal?.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const fail = (err: unknown) => {
      if (settled) return;
      if (o.signal?.aborted) {
        settled = true;
        o.signal.removeEventListener('abort', onAbort);
        return reject(o.signal.reason);
      }
      settle(failureOf(err as Error));
    };
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        if (o.signal?.aborted) c.abort(o.signal.reason as Error);
      },
      onResponseStart(_c, status) {
        if (status === 200) bytes = Buffer.allocUnsafe(a.size);
        else refusal = { ok: false, reason: status === 503 ? 'refused' : 'http', detail: `${a.source} answered ${status}` };
      },
      onResponseData(c, chunk) {
        if (refusal || settled) return;
        if (length + chunk.length > a.size) {
          settle({ ok: false, reason: 'digest', detail: `${a.source} sent more than the ${a.size} bytes of piece ${a.piece}` });
          return c.abort(new Error('piece longer than announced'));
        }
        // The piece lands in one buffer of its announced size, hashed as it arrives: one copy
        // of each byte, no list of chunks to join at the end.
        hash.update(chunk);
        chunk.copy(bytes!, length);
        length += chunk.length;
        if (throttle) {
          c.pause();
          throttle.take(chunk.length, o.signal).then(() => c.resume(), (err: unknown) => {
            fail(err);
            c.abort(err as Error);
          });
        }
      },
      onResponseEnd() {
        if (refusal) return settle(refusal);
        if (length !== a.size || hash.digest('hex') !== a.digest) {
          return settle({ ok: false, reason: 'digest', detail: `piece ${a.piece} from ${a.source} failed verification` });
        }
        settle({ ok: true, bytes: bytes!, ms: Math.max(0, Math.round(o.now() - started)) });
      },
      onResponseError(_c, err) {
        fail(err);
      },
    };
    const options = { origin: `http://${a.address}`, path: piecePath(taskId, a.piece), method: 'GET' as const, headersTimeout: o.timeoutMs, bodyTimeout: o.timeoutMs };
    try {
      o.dispatcher.dispatch(options, handler);
    } catch (err) {
      fail(err); // an address undici cannot parse
    }
  });
}

function failureOf(e: Error): PieceOutcome {
  if (e instanceof errors.HeadersTimeoutError || e instanceof errors.BodyTimeoutError || e instanceof errors.ConnectTimeoutError) {
    return { ok: false, reason: 'timeout', detail: e.message };
  }
  // Refused or reset connections, DNS failures, a source that died mid-body.
  return { ok: false, reason: 'unreachable', detail: e.message };
}
