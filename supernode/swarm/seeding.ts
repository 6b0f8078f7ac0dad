import type { Logger } from '../../edge/log/logger.ts';
import { DamselflyError, isDamselflyError, type ErrorCode } from '../../core/errors.ts';
import { requireFileSize } from '../../core/pieces/index.ts';
import { piecesFromOrigin } from '../../core/scheduling/pieces-from-origin.ts';
import { stateOf, type TaskState } from '../../core/task/index.ts';
import type { TaskRuntime } from '../runtime/task-runtime.ts';
import type { OriginAccess, OriginCredentials } from './origin-credentials.ts';
import { SeedRecorder } from './seed-recorder.ts';

/** What the seeding needs from the CDN (supernode/cdn implements it). */
export interface CdnPort {
  probe(url: string, headers: Record<string, string>, signal: AbortSignal): Promise<{
    contentLength: number;
    acceptRanges: boolean;
    etag: string | null;
    lastModified: string | null;
  }>;
  seed(o: {
    taskId: string;
    url: string;
    headers: Record<string, string>;
    contentLength: number;
    pieceSize: number;
    validators: { etag: string | null; lastModified: string | null };
    /** The pieces to store (ascending); the rest are neither fetched nor announced. */
    pieces?: readonly number[];
    /** The digest the task knows for each piece (null: not seeded yet); stored pieces must match. */
    digests?: readonly (string | null)[];
    onPiece: (piece: number, size: number, digest: string) => void;
    /** Other live replicas' CDNs (host:port): asked before the origin for pieces whose digest is known. */
    replicas?: readonly string[];
    signal: AbortSignal;
  }): Promise<unknown>;
  fileDigest(taskId: string, pieceCount: number): Promise<string>;
}

/** Errors of this replica rather than of the origin: they never fail a task. */
const OWN_TROUBLE: readonly ErrorCode[] = ['DF_ERR_UNAVAILABLE', 'DF_ERR_NOT_OWNER', 'DF_ERR_STALE_EPOCH'];

/** The part of the task runtime the seeding uses: a task's state, and commands. */
export type SeedingRuntime = Pick<TaskRuntime, 'snapshot' | 'execute'>;

export interface SeedingOptions {
  runtime: SeedingRuntime;
  cdn: CdnPort;
  credentials: OriginCredentials;
  clock: () => number;
  logger: Logger;
  /** After a refill fails without failing the task (origin down, credentials not known here yet, store down), wait this long before the next try. */
  refillRetryMs?: number;
  /** config.maxFileSize: a larger origin file fails the task (DF_ERR_FILE_TOO_LARGE); default core's MAX_FILE_SIZE. */
  maxFileSize?: number;
  /** The other live replicas' addresses (their CDNs serve what they verified before: a refill asks them before the origin). */
  replicaCdns?: () => readonly string[];
}

/**
 * The window in which stored pieces go into one RecordSeededPieces (seed-recorder.ts). At
 * 20 ms a seed at 50 MB/s of 2 MiB pieces still made about one append per piece, and on the
 * embedded store an append costs the supernode ~10 ms of CPU; 200 ms is still a small delay
 * against a piece's transfer, and it is paid once per seed, not per piece a peer fetches.
 */
const SEED_RECORD_MS = 200;

/**
 * The side effect of a live task: have the CDN fetch from the origin what the swarm needs, and
 * record the probe, every stored piece and the end of the seed as commands of the task.
 *
 * What is fetched is core's piecesFromOrigin(): on the task's first owner, the whole file once;
 * after a takeover, only the pieces no surviving process holds, by Range (the new owner's CDN
 * lacks the old one's disk, and the swarm serves the rest). `ensure` is called on every peer
 * touch and after TaskCreated commits, so a piece that loses its last holder later is refetched
 * then. It is cheap when nothing is needed (an in-memory snapshot and an O(1) check), and one
 * task never has two fetches at once.
 */
export class Seeding {
  private readonly running = new Map<string, AbortController>();
  /** Tasks whose last seed or refill failed without failing the task, and when to try again. */
  private readonly retryAt = new Map<string, number>();

  constructor(private readonly o: SeedingOptions) {}

  isRunning(taskId: string): boolean {
    return this.running.has(taskId);
  }

  /** How many tasks wait for a retry (bounded: a passed time is dropped when the next one is set). */
  get pendingRetries(): number {
    return this.retryAt.size;
  }

  /** Starts the seed, or a refill, unless one already runs here or the task does not need it. */
  ensure(taskId: string, status: string): void {
    if (status !== 'created' && status !== 'seeding' && status !== 'seeded') return;
    if (this.running.has(taskId) || (this.retryAt.get(taskId) ?? -Infinity) > this.o.clock()) return;
    void this.run(taskId, status === 'seeded');
  }

  stopAll(): void {
    for (const c of this.running.values()) c.abort();
    this.retryAt.clear();
  }

  /** Stops the seeds of the tasks `matches` selects (a shard this replica no longer owns). */
  stopWhere(matches: (taskId: string) => boolean): void {
    for (const [taskId, c] of this.running) {
      if (matches(taskId)) c.abort();
    }
    for (const taskId of this.retryAt.keys()) if (matches(taskId)) this.retryAt.delete(taskId);
  }

  /** `refill`: the task was seeded when touched, so only a changed origin may fail it. */
  private async run(taskId: string, refill: boolean): Promise<void> {
    const abort = new AbortController();
    this.running.set(taskId, abort);
    const { runtime, cdn, clock } = this.o;
    try {
      let state = stateOf(await runtime.snapshot(taskId));
      refill ||= state.status === 'seeded';
      // The URL as registered (the stored one is redacted) and its headers, from this replica's
      // memory; asked for only when the origin is (a seeded task touched by every round is not).
      const origin = () => this.o.credentials.originFor(taskId, state.url);
      if (state.status === 'created') {
        const { url, headers } = origin();
        const probe = await cdn.probe(url, headers, abort.signal);
        requireFileSize(probe.contentLength, this.o.maxFileSize);
        state = stateOf((await runtime.execute(taskId, { type: 'RecordProbe', at: clock(), ...probe })).snapshot);
      }
      const wanted = piecesFromOrigin(state);
      if (wanted.length > 0) state = await this.fetch(taskId, state, wanted, origin(), abort.signal);
      if (state.status === 'seeding') await this.complete(taskId, state);
      this.retryAt.delete(taskId);
      // Seeded, nothing left to refill: a later refill learns the credentials from the next registration.
      if (stateOf(await runtime.snapshot(taskId)).status === 'seeded') this.o.credentials.release(taskId);
    } catch (err) {
      if (abort.signal.aborted) return;
      const reason = err instanceof Error ? err.message : String(err);
      // This replica's own trouble (its store down, the task no longer its own) says nothing
      // about the origin: the task's owner seeds on from a later touch. And a seeded task is
      // complete in the swarm's eyes: a refill that could not reach the origin is tried again
      // later; only proof that the origin changed fails it, since the missing pieces can then
      // never be had in the version the peers hold.
      const ours = OWN_TROUBLE.some((code) => isDamselflyError(err, code));
      const changed = isDamselflyError(err, 'DF_ERR_ORIGIN_CHANGED') || isDamselflyError(err, 'DF_ERR_DIGEST_CONFLICT');
      if (ours || (refill && !changed)) {
        // A task never touched again would keep its entry for good: drop the passed ones, which
        // are at the front (each time is now + the same delay, inserted anew), so only the
        // failures of the last refillRetryMs are kept, at O(1) a failure.
        for (const [id, at] of this.retryAt) {
          if (at > clock()) break;
          this.retryAt.delete(id);
        }
        this.retryAt.delete(taskId);
        this.retryAt.set(taskId, clock() + (this.o.refillRetryMs ?? 5_000));
        this.o.logger.warn({ taskId, reason }, 'fetching from the origin failed; will retry');
        return;
      }
      this.o.logger.warn({ taskId, reason }, 'seeding failed');
      await runtime.execute(taskId, { type: 'FailTask', at: clock(), reason: reason.slice(0, 500) }).catch((e) => {
        this.o.logger.error({ taskId, err: e }, 'could not record the seeding failure');
      });
      this.o.credentials.release(taskId);
    } finally {
      this.running.delete(taskId);
    }
  }

  /** Has the CDN store `wanted` and records each stored piece; returns the state after the last one. */
  private async fetch(taskId: string, state: TaskState, wanted: number[], origin: OriginAccess, signal: AbortSignal): Promise<TaskState> {
    const { runtime, cdn, clock } = this.o;
    if (state.status === 'seeded' || state.seededCount > 0) {
      this.o.logger.info({ taskId, pieces: wanted.length, of: state.pieceCount }, 'refilling the CDN from the origin');
    }
    // Pieces are recorded without waiting for each commit, several to a command (SeedRecorder).
    const recorder = new SeedRecorder({ runtime, taskId, clock, windowMs: SEED_RECORD_MS });
    try {
      await cdn.seed({
        taskId,
        url: origin.url,
        headers: origin.headers,
        contentLength: state.contentLength!,
        pieceSize: state.pieceSize!,
        validators: { etag: state.etag, lastModified: state.lastModified },
        pieces: wanted,
        digests: state.pieces.map((p) => p?.digest ?? null),
        replicas: this.o.replicaCdns?.() ?? [],
        onPiece: (piece, size, digest) => recorder.add({ piece, size, digest }),
        signal,
      });
    } catch (err) {
      // What was stored before the failure is still recorded: the swarm can use those pieces.
      if (signal.aborted) recorder.cancel();
      await recorder.settle().catch(() => {
        // The seed's own error is the one to report.
      });
      throw err;
    }
    await recorder.settle();
    return stateOf(await runtime.snapshot(taskId));
  }

  /**
   * Ends the seed once every piece's digest is known. An expected whole-file digest is checked
   * over the CDN's copy when the CDN holds every piece. After a takeover mid-seed it may not
   * (peers hold the rest), and fetching those from the origin only to hash them would cost the
   * very bytes the refill saves: the peers then check the digest themselves, as they always do.
   */
  private async complete(taskId: string, state: TaskState): Promise<void> {
    if (state.digest && state.cdnHeldCount === state.pieceCount) {
      const actual = `sha256:${await this.o.cdn.fileDigest(taskId, state.pieceCount!)}`;
      if (actual !== state.digest) throw new DamselflyError('DF_ERR_DIGEST_MISMATCH', `the origin's content (${actual}) does not match the expected digest ${state.digest}`);
    } else if (state.digest) {
      this.o.logger.info({ taskId, held: state.cdnHeldCount, of: state.pieceCount }, 'the CDN lacks pieces held by peers: the whole-file digest is left to them');
    }
    await this.o.runtime.execute(taskId, { type: 'CompleteSeed', at: this.o.clock() });
  }
}
