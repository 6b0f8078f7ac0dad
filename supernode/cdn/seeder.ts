import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { pieceCountFor, pieceRange } from '../../core/pieces/index.ts';
import type { CdnMeta, CdnStore } from './cdn-store.ts';
import { bodyExcerpt, discardBody, isTransientOriginError, isTransientStatus, originError, type OriginClient } from './origin-client.ts';
import { checkResponseVersion, originChanged, type Validators } from './origin-version.ts';
import { cutPieces } from './piece-cutter.ts';
import { maskSecrets } from '../../edge/log/secret-mask.ts';
import { redactUrl } from '../../edge/log/redact.ts';
import type { Dispatcher } from 'undici';
import type { Throttle } from '../../edge/rate/throttle.ts';
import { refillFromReplicas } from './replica-refill.ts';
import { ensureFreeSpace } from '../../edge/disk/free-space.ts';

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
  /**
   * The pieces to store, ascending (default: every piece). Pieces left out are neither fetched
   * nor announced: after a takeover the CDN refills only what the swarm lacks.
   */
  pieces?: readonly number[];
  /**
   * The digest the task already knows for each piece, null where none is known yet. A piece
   * fetched or found in the cache must have it: the origin changed otherwise, and the seed fails
   * rather than store another version.
   */
  digests?: readonly (string | null)[];
  /** Awaited: called once per piece, after the piece is durably on disk (cached ones first). */
  onPiece: (piece: number, size: number, digest: string) => void | Promise<void>;
  /** Other live replicas' CDNs (host:port), asked before the origin for pieces whose digest is known. */
  replicas?: readonly string[];
  signal: AbortSignal;
}

export interface SeederDeps {
  store: CdnStore;
  client: OriginClient;
  logger?: Logger;
  /** Caps the origin fetch when the origin and the CDN share one upload budget. */
  throttle?: Throttle;
  onOriginBytes?: (bytes: number) => void;
  /** Resumptions allowed without progress in between (default 5), and the first backoff. */
  retries?: number;
  backoffMs?: number;
  /** The HTTP client for other replicas' CDNs (SeedRequest.replicas). */
  replicaDispatcher?: Dispatcher;
}

export interface SeedResult {
  /** Pieces stored and announced by this call (the cached ones included). */
  pieces: number;
  reused: number;
  /** Pieces fetched from another replica's CDN instead of the origin. */
  fromReplicas: number;
  originBytes: number;
}

/**
 * Fetches a task's content from the origin, cuts it into pieces on disk and announces each
 * piece as it lands, so peers start before the seed finishes.
 *
 * What is fetched: the requested pieces (all by default) that the cache does not hold, as
 * contiguous runs, one GET per run. A first seed is one run, so the file streams once without
 * a Range; a refill after a takeover asks `Range: bytes=<run>` for each gap and nothing else.
 *
 * Cache reuse: if meta.json records the same version (same non-null validators, length and
 * layout), or the task's own digests vouch for a stored piece, the stored pieces are announced
 * without touching the origin. Their digests are trusted from meta.json and only their sizes
 * checked: re-hashing gigabytes on every restart would stall the swarm, and every peer verifies
 * every piece against the digest anyway.
 *
 * Resume: a failure mid-stream is retried with `Range` from the next missing piece and
 * `If-Range` (backoff doubling from `backoffMs`, up to `retries` times without progress). If the
 * origin shows another version (different ETag/Last-Modified, length, Content-Range, or a piece
 * whose digest the task already knows comes back different) the seed fails with
 * DF_ERR_ORIGIN_CHANGED rather than restarting: pieces of the old version were already
 * announced with their digests, so a restart could only end in a digest conflict; failing
 * lets the task fail clearly and a new task fetch the new version. If the origin ignores the
 * Range but still shows the same version, the stream is re-read from the start, checking the
 * pieces it passes against their known digests — never mixing two versions either way — and
 * closed after the last piece still missing.
 */
export async function seed(deps: SeederDeps, req: SeedRequest): Promise<SeedResult> {
  const { store, client, logger } = deps;
  const { taskId, contentLength, pieceSize, signal } = req;
  const count = pieceCountFor(contentLength, pieceSize);
  const meta = await openMeta(store, req);
  const sizeOf = (piece: number) => pieceRange(piece, pieceSize, contentLength).length;
  const known = (piece: number): string | undefined => req.digests?.[piece] ?? meta.pieces[piece]?.digest;

  const missing = new Array<boolean>(count).fill(false);
  const wanted = req.pieces ?? Array.from({ length: count }, (_, p) => p);
  let stored = 0;
  let reused = 0;
  for (const piece of wanted) {
    if (piece >= count || missing[piece]) continue;
    const entry = meta.pieces[piece];
    const expected = req.digests?.[piece] ?? null;
    if (entry && entry.size === sizeOf(piece) && (expected === null || expected === entry.digest) && (await store.storedSize(taskId, piece)) === entry.size) {
      await req.onPiece(piece, entry.size, entry.digest);
      reused++;
      stored++;
    } else {
      missing[piece] = true;
    }
  }
  const keep = async (piece: number, chunks: readonly Buffer[], size: number, digest: string) => {
    await store.writePiece(taskId, piece, chunks);
    meta.pieces[piece] = { size, digest };
    await store.writeMeta(meta);
    await req.onPiece(piece, size, digest);
    missing[piece] = false;
    stored++;
  };
  const fromReplicas = deps.replicaDispatcher && req.replicas?.length
    ? await refillFromReplicas({
      taskId, replicas: req.replicas, dispatcher: deps.replicaDispatcher, signal,
      pieces: missing.flatMap((m, piece) => (m && req.digests?.[piece] ? [{ piece, size: sizeOf(piece), digest: req.digests[piece]! }] : [])),
      keep: (piece, bytes, digest) => keep(piece, [bytes], bytes.length, digest),
    })
    : new Set<number>();
  const todo = missing.filter(Boolean).length;
  // Refused before the first origin byte rather than when the disk fills mid-seed.
  const todoBytes = missing.reduce((n, m, piece) => (m ? n + sizeOf(piece) : n), 0);
  if (todoBytes > 0) await ensureFreeSpace(store.root, todoBytes, `the CDN's copy of task ${taskId}`);
  logger?.info({ taskId, pieces: count, pieceSize, reused, fromReplicas: fromReplicas.size, fetch: todo }, todo === 0 ? 'seed served without the origin' : 'seed started');

  let originBytes = 0;
  let failures = 0;
  /** The first missing piece at or after `from`, or count when none is left. */
  const nextMissing = (from: number) => {
    let p = from;
    while (p < count && !missing[p]) p++;
    return p;
  };
  const lastMissing = () => {
    let p = count - 1;
    while (p >= 0 && !missing[p]) p--;
    return p;
  };
  let cursor = nextMissing(0);

  /** One GET for the run of missing pieces from `start`; returns when the run is stored. */
  const fetchRun = async (start: number): Promise<void> => {
    let end = start;
    while (end + 1 < count && missing[end + 1]) end++;
    const offset = start * pieceSize;
    const last = pieceRange(end, pieceSize, contentLength);
    const toEnd = end === count - 1;
    const headers = { ...req.headers };
    if (offset > 0 || !toEnd) {
      headers.range = `bytes=${offset}-${toEnd ? '' : last.offset + last.length - 1}`;
      const ifRange = req.validators.etag && !req.validators.etag.startsWith('W/') ? req.validators.etag : req.validators.lastModified;
      if (ifRange) headers['if-range'] = ifRange;
    }
    const res = await client.request(req.url, { method: 'GET', headers, signal });
    if (res.statusCode !== 200 && res.statusCode !== 206) {
      const excerpt = await bodyExcerpt(res.body);
      throw originError(`the origin answered ${res.statusCode}${excerpt ? `: ${excerpt}` : ''}`, req.headers, isTransientStatus(res.statusCode), req.url);
    }
    let first: number;
    try {
      first = checkResponseVersion(res, { offset, contentLength, validators: req.validators }) / pieceSize;
    } catch (err) {
      discardBody(res.body); // another version: not one byte of it is read
      throw err;
    }
    // A whole body (the origin ignored the Range) is read on to the last missing piece, so that
    // the other runs are not fetched from the start again each.
    const stopAfter = res.statusCode === 206 ? end : lastMissing();
    for await (const piece of cutPieces(originBody(res.body, req.headers, deps, (n) => (originBytes += n)), { contentLength, pieceSize }, first)) {
      const expected = known(piece.piece);
      if (!missing[piece.piece]) {
        // Passed on the way to a missing piece: same version or fail.
        if (expected !== undefined && expected !== piece.digest) throw originChanged(`piece ${piece.piece} no longer has the digest stored for it`);
      } else {
        if (expected !== undefined && expected !== piece.digest) throw originChanged(`piece ${piece.piece} no longer has the digest the task knows for it`);
        await keep(piece.piece, [piece.bytes], piece.size, piece.digest);
        failures = 0;
      }
      if (piece.piece >= stopAfter) break; // closes the origin connection (originBody's finally)
    }
    cursor = nextMissing(cursor);
    if (cursor <= end) throw originError(`the origin closed the body before piece ${cursor}`, req.headers, true, req.url);
  };

  while (cursor < count) {
    signal.throwIfAborted();
    try {
      await fetchRun(cursor);
    } catch (err) {
      if (signal.aborted) throw signal.reason ?? err;
      if (!isTransientOriginError(err) || failures >= (deps.retries ?? 5)) throw err;
      failures += 1;
      const delay = Math.min(10_000, (deps.backoffMs ?? 250) * 2 ** (failures - 1));
      logger?.warn({ taskId, piece: cursor, attempt: failures, delayMs: delay, reason: maskSecrets((err as Error).message, req.headers, req.url) }, 'origin fetch failed; resuming');
      await sleep(delay, undefined, { signal });
    }
    cursor = nextMissing(cursor);
  }
  logger?.info({ taskId, pieces: count, stored, reused, fromReplicas: fromReplicas.size, originBytes }, 'seed finished');
  return { pieces: stored, reused, fromReplicas: fromReplicas.size, originBytes };
}

/**
 * The stored meta when it describes this very version; else, when the task already knows
 * digests, the stored meta keeping only the pieces whose digest the task knows (an origin
 * without validators, or this replica's cache from an earlier ownership of the task); else a
 * fresh, empty entry.
 */
async function openMeta(store: CdnStore, req: SeedRequest): Promise<CdnMeta> {
  const { etag, lastModified } = req.validators;
  const stored = await store.readMeta(req.taskId);
  const identifiable = etag !== null || lastModified !== null;
  const sameLayout = stored !== undefined && stored.contentLength === req.contentLength && stored.pieceSize === req.pieceSize;
  if (stored && sameLayout && identifiable && stored.etag === etag && stored.lastModified === lastModified) {
    return { ...stored, url: redactUrl(req.url) };
  }
  const digests = req.digests ?? [];
  if (stored && sameLayout && digests.some((d) => d !== null)) {
    const pieces: CdnMeta['pieces'] = {};
    for (const [key, entry] of Object.entries(stored.pieces)) {
      if (digests[Number(key)] === entry.digest) pieces[key] = entry;
      else await store.removePiece(req.taskId, Number(key));
    }
    const kept: CdnMeta = { ...stored, url: redactUrl(req.url), etag, lastModified, pieces };
    await store.writeMeta(kept);
    return kept;
  }
  const fresh: CdnMeta = { version: 1, taskId: req.taskId, url: redactUrl(req.url), contentLength: req.contentLength, pieceSize: req.pieceSize, etag, lastModified, pieces: {} };
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
