import { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { problemOf, sendProblem } from '../http/problem.ts';
import type { CdnStore } from './cdn-store.ts';
import { parseByteRange } from '../../core/http/byte-range.ts';
import { unthrottled, type ByteThrottle } from './upload-throttle.ts';

export interface PieceRouteOptions {
  store: CdnStore;
  /** The CDN's upload cap, shared by all its responses (the benchmark's --origin-upload). */
  throttle?: ByteThrottle;
  /** Responses in flight at once; beyond it 503 with Retry-After (the peer asks again). */
  slots?: number;
  retryAfterMs?: number;
  now?: () => number;
}

/** Params are checked here, not by the app's schema compiler, so the plugin is safe wherever it is registered. */
const PieceParams = z.object({
  taskId: z.string().regex(/^[0-9a-f]{64}$/),
  piece: z.string().regex(/^(0|[1-9]\d{0,8})$/).transform(Number),
});

const READ_CHUNK = 64 * 1024;

/**
 * GET /pieces/:taskId/:piece — the CDN's side of the path every uploader serves
 * (core/wire/peer-api.ts `piecePath`), straight from the CDN store. A piece file exists only
 * once it is complete (written then renamed), so whatever is found may be served. The request
 * reaches the filesystem only through the validated task id and piece number.
 */
export const pieceRoute: FastifyPluginAsync<PieceRouteOptions> = async (app, o) => {
  const slots = o.slots ?? 16;
  const throttle = o.throttle ?? unthrottled;
  const now = o.now ?? Date.now;
  let inFlight = 0;

  app.get('/pieces/:taskId/:piece', async (req, reply) => {
    const params = PieceParams.safeParse(req.params);
    if (!params.success) return sendProblem(reply, problemOf('DF_ERR_VALIDATION', 'expected /pieces/<task id: 64 hex digits>/<piece number>'));
    const { taskId, piece } = params.data;
    if (inFlight >= slots) {
      return sendProblem(reply, problemOf('DF_ERR_UNAVAILABLE', `all ${slots} CDN upload slots are busy`, { retryAfterMs: o.retryAfterMs ?? 1000 }));
    }
    const hot = o.store.hotPiece(taskId, piece);
    const opened = hot ? undefined : await o.store.openPiece(taskId, piece);
    const size = hot?.length ?? opened?.size;
    if (size === undefined) return sendProblem(reply, problemOf('DF_ERR_NOT_FOUND', `the CDN holds no piece ${piece} of task ${taskId}`));
    const range = parseByteRange(req.headers.range, size);
    if (range === 'unsatisfiable' || size === 0) {
      await opened?.fh.close();
      if (range === 'unsatisfiable') {
        reply.header('content-range', `bytes */${size}`);
        return sendProblem(reply, problemOf('DF_ERR_RANGE_NOT_SATISFIABLE', `piece ${piece} has ${size} bytes`));
      }
      return reply.code(200).header('content-type', 'application/octet-stream').send(Buffer.alloc(0));
    }
    const { start, end } = range ?? { start: 0, end: size - 1 };

    // The slot is held until the response is over, however it ends (done, client gone).
    inFlight += 1;
    const file = opened?.fh.createReadStream({ start, end, highWaterMark: READ_CHUNK });
    const body = file ?? slices(hot!, start, end);
    const gone = new AbortController();
    reply.raw.once('close', () => {
      inFlight -= 1;
      gone.abort();
      file?.destroy();
    });
    o.store.touch(taskId, now()).catch((err: Error) => req.log.warn({ taskId, err: err.message }, 'could not mark the CDN task as used'));

    reply
      .code(range ? 206 : 200)
      .header('content-type', 'application/octet-stream')
      .header('accept-ranges', 'bytes')
      .header('content-length', String(end - start + 1));
    if (range) reply.header('content-range', `bytes ${start}-${end}/${size}`);
    return reply.send(Readable.from(throttled(body, throttle, gone.signal)));
  });
};

/** A piece held in memory, as the chunks a file stream would give (bytes start..end inclusive). */
function* slices(bytes: Buffer, start: number, end: number): Generator<Buffer> {
  for (let at = start; at <= end; at += READ_CHUNK) yield bytes.subarray(at, Math.min(end + 1, at + READ_CHUNK));
}

async function* throttled(source: Iterable<Buffer> | AsyncIterable<Buffer>, throttle: ByteThrottle, signal: AbortSignal): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    await throttle.take(chunk.length, signal);
    yield chunk;
  }
}
