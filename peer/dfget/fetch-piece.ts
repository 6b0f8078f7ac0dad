import { createHash } from 'node:crypto';
import { errors, request, type Dispatcher } from 'undici';
import { piecePath, type Assignment } from '../../core/wire/peer-api.ts';
import type { FailureReason } from '../../core/events/index.ts';
import type { Throttle } from '../rate/throttle.ts';

export type PieceOutcome = { ok: true; bytes: Buffer; ms: number } | { ok: false; reason: FailureReason; detail: string };

/**
 * Fetches one assigned piece from its source and verifies it against the digest the supernode
 * gave (computed by the CDN from the origin's bytes). A piece that fails verification is never
 * returned as ok: the caller reports it with reason 'digest' and the source is penalised.
 */
export async function fetchPiece(
  taskId: string,
  a: Assignment,
  o: { dispatcher: Dispatcher; timeoutMs: number; throttle?: Throttle; now: () => number },
): Promise<PieceOutcome> {
  const started = o.now();
  try {
    const res = await request(`http://${a.address}${piecePath(taskId, a.piece)}`, {
      dispatcher: o.dispatcher,
      headersTimeout: o.timeoutMs,
      bodyTimeout: o.timeoutMs,
    });
    if (res.statusCode !== 200) {
      await res.body.dump();
      return { ok: false, reason: 'http', detail: `source answered ${res.statusCode}` };
    }
    const chunks: Buffer[] = [];
    let length = 0;
    for await (const chunk of res.body) {
      const buf = chunk as Buffer;
      await o.throttle?.take(buf.length);
      chunks.push(buf);
      length += buf.length;
      if (length > a.size) {
        res.body.destroy();
        return { ok: false, reason: 'digest', detail: `source sent more than ${a.size} bytes` };
      }
    }
    const bytes = Buffer.concat(chunks, length);
    const digest = createHash('sha256').update(bytes).digest('hex');
    if (bytes.length !== a.size || digest !== a.digest) return { ok: false, reason: 'digest', detail: `piece ${a.piece} from ${a.source} failed verification` };
    return { ok: true, bytes, ms: Math.max(0, Math.round(o.now() - started)) };
  } catch (err) {
    if (err instanceof errors.HeadersTimeoutError || err instanceof errors.BodyTimeoutError || err instanceof errors.ConnectTimeoutError) {
      return { ok: false, reason: 'timeout', detail: (err as Error).message };
    }
    return { ok: false, reason: 'unreachable', detail: (err as Error).message };
  }
}
