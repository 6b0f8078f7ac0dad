import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { pieceCountFor, pieceRange } from '../../core/pieces/index.ts';
import type { CdnMeta, CdnStore } from './cdn-store.ts';
import { bodyExcerpt, discardBody, isTransientOriginError, isTransientStatus, originError, type OriginClient } from './origin-client.ts';
import { checkResponseVersion, originChanged, type Validators } from './origin-version.ts';
import { cutPieces } from './piece-cutter.ts';
import { maskSecrets } from './secret-mask.ts';
import type { ByteThrottle } from './upload-throttle.ts';

export interface SeedRequest {
  taskId: string;
  url: string;
  /** Sent to the origin only: never stored, never logged. */
  headers: Record<string, string>;
  contentLength: number;
  /** From core/pieces `pieceSizeFor(contentLength)`, decided by the task when it was probed. */
  pieceSize: number;
  /** What the probe saw; the fetched bytes must be this version. */
  validators: Validators;
  /** Awaited: called once per piece, in piece order, after the piece is durably on disk. */
  onPiece: (piece: number, size: number, digest: string) => void | Promise<void>;
  signal: AbortSignal;
}

export interface SeederDeps {
  store: CdnStore;
  client: OriginClient;
  logger?: Logger;
  /** Caps the origin fetch when the origin and the CDN share one upload budget. */
  throttle?: ByteThrottle;
  onOriginBytes?: (bytes: number) => void;
  /** Resumptions allowed without progress in between (default 5), and the first backoff. */
  retries?: number;
  backoffMs?: number;
}

export interface SeedResult {
  pieces: number;
  reused: number;
  originBytes: number;
}

/**
 * Fetches a task's content from the origin once, cuts it into pieces on disk and announces
 * each piece as it lands, so peers start before the seed finishes.
 *
 * Cache reuse: if meta.json records the same version (same non-null validators, length and
 * layout), the stored pieces are announced without touching the origin. Their digests are
 * trusted from meta.json and only their sizes checked: re-hashing gigabytes on every restart
 * would stall the swarm, and every peer verifies every piece against the digest anyway.
 *
 * Resume: a failure mid-stream is retried with `Range: bytes=<next piece>-` and `If-Range`
 * (backoff doubling from `backoffMs`, up to `retries` times without progress). If the origin
 * shows another version (different ETag/Last-Modified, length or Content-Range) the seed fails
 * with DF_ERR_ORIGIN_CHANGED rather than restarting: pieces of the old version were already
 * announced with their digests, so a restart could only end in a digest conflict; failing
 * lets the task fail clearly and a new task fetch the new version. If the origin ignores the
 * Range but still shows the same version, the stream is re-read from the start, checking the
 * pieces already stored against their digests — never mixing two versions either way.
 */
export async function seed(deps: SeederDeps, req: SeedRequest): Promise<SeedResult> {
  const { store, client, logger } = deps;
  const { taskId, contentLength, pieceSize, signal } = req;
  const count = pieceCountFor(contentLength, pieceSize);
  const meta = await openMeta(store, req);
  const sizeOf = (piece: number) => pieceRange(piece, pieceSize, contentLength).length;

  let next = 0;
  for (; next < count; next++) {
    const entry = meta.pieces[next];
    if (!entry || entry.size !== sizeOf(next) || (await store.storedSize(taskId, next)) !== entry.size) break;
    await req.onPiece(next, entry.size, entry.digest);
  }
  const reused = next;
  logger?.info({ taskId, pieces: count, pieceSize, reused }, reused === count ? 'seed served from the CDN cache' : 'seed started');

  let originBytes = 0;
  let failures = 0;
  const fetchFrom = async (start: number): Promise<void> => {
    const offset = start * pieceSize;
    const headers = { ...req.headers };
    if (offset > 0) {
      headers.range = `bytes=${offset}-`;
      const ifRange = req.validators.etag && !req.validators.etag.startsWith('W/') ? req.validators.etag : req.validators.lastModified;
      if (ifRange) headers['if-range'] = ifRange;
    }
    const res = await client.request(req.url, { method: 'GET', headers, signal });
    if (res.statusCode !== 200 && res.statusCode !== 206) {
      const excerpt = await bodyExcerpt(res.body);
      throw originError(`the origin answered ${res.statusCode}${excerpt ? `: ${excerpt}` : ''}`, req.headers, isTransientStatus(res.statusCode));
    }
    let first: number;
    try {
      first = checkResponseVersion(res, { offset, contentLength, validators: req.validators }) / pieceSize;
    } catch (err) {
      discardBody(res.body); // another version: not one byte of it is read
      throw err;
    }
    for await (const piece of cutPieces(originBody(res.body, req.headers, deps, (n) => (originBytes += n)), { contentLength, pieceSize }, first)) {
      if (piece.piece < start) {
        // Re-reading from the start because the origin ignored the Range: same version or fail.
        if (meta.pieces[piece.piece]?.digest !== piece.digest) throw originChanged(`piece ${piece.piece} no longer has the digest stored for it`);
        continue;
      }
      await store.writePiece(taskId, piece.piece, piece.chunks);
      meta.pieces[piece.piece] = { size: piece.size, digest: piece.digest };
      await store.writeMeta(meta);
      await req.onPiece(piece.piece, piece.size, piece.digest);
      next = piece.piece + 1;
      failures = 0;
    }
    if (next < count) throw originError(`the origin closed the body before piece ${next}`, req.headers, true);
  };

  while (next < count) {
    signal.throwIfAborted();
    try {
      await fetchFrom(next);
    } catch (err) {
      if (signal.aborted) throw signal.reason ?? err;
      if (!isTransientOriginError(err) || failures >= (deps.retries ?? 5)) throw err;
      failures += 1;
      const delay = Math.min(10_000, (deps.backoffMs ?? 250) * 2 ** (failures - 1));
      logger?.warn({ taskId, piece: next, attempt: failures, delayMs: delay, reason: maskSecrets((err as Error).message, req.headers) }, 'origin fetch failed; resuming');
      await sleep(delay, undefined, { signal });
    }
  }
  logger?.info({ taskId, pieces: count, reused, originBytes }, 'seed finished');
  return { pieces: count, reused, originBytes };
}

/** The stored meta when it describes this very version, else a fresh, empty entry. */
async function openMeta(store: CdnStore, req: SeedRequest): Promise<CdnMeta> {
  const { etag, lastModified } = req.validators;
  const stored = await store.readMeta(req.taskId);
  const identifiable = etag !== null || lastModified !== null;
  if (stored && identifiable && stored.etag === etag && stored.lastModified === lastModified
    && stored.contentLength === req.contentLength && stored.pieceSize === req.pieceSize) {
    return { ...stored, url: req.url };
  }
  const fresh: CdnMeta = { version: 1, taskId: req.taskId, url: req.url, contentLength: req.contentLength, pieceSize: req.pieceSize, etag, lastModified, pieces: {} };
  await store.reset(fresh);
  return fresh;
}

/** The origin body, counted and throttled, with transport errors made resumable origin errors. */
async function* originBody(body: AsyncIterable<unknown>, headers: Record<string, string>, deps: SeederDeps, count: (n: number) => void): AsyncGenerator<Buffer> {
  const iterator = body[Symbol.asyncIterator]();
  try {
    for (;;) {
      let step: IteratorResult<unknown>;
      try {
        step = await iterator.next();
      } catch (err) {
        const e = err as Error & { code?: string };
        throw originError(`the origin body failed: ${e.code ?? e.name}: ${e.message}`, headers, true);
      }
      if (step.done) return;
      const chunk = step.value as Buffer;
      count(chunk.length);
      deps.onOriginBytes?.(chunk.length);
      if (deps.throttle) await deps.throttle.take(chunk.length);
      yield chunk;
    }
  } finally {
    // Stopping early (a version mismatch, an abort) must close the origin connection.
    await iterator.return?.();
  }
}
