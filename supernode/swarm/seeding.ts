import type { Logger } from '../logger.ts';
import { stateOf } from '../../core/task/index.ts';
import type { TaskRuntime } from '../runtime/task-runtime.ts';
import type { OriginCredentials } from './origin-credentials.ts';

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
    onPiece: (piece: number, size: number, digest: string) => void;
    signal: AbortSignal;
  }): Promise<unknown>;
  fileDigest(taskId: string, pieceCount: number): Promise<string>;
}

/**
 * The side effect of a live task: fetch it from the origin once through the CDN and record the
 * probe, every stored piece and the end of the seed as commands of the task. Started when a
 * TaskCreated commits, and again for a task found still seeding with nobody seeding it here
 * (after a restart or a takeover); the CDN's on-disk cache makes the restart cheap.
 */
export class Seeding {
  private readonly running = new Map<string, AbortController>();

  constructor(
    private readonly o: { runtime: TaskRuntime; cdn: CdnPort; credentials: OriginCredentials; clock: () => number; logger: Logger },
  ) {}

  isRunning(taskId: string): boolean {
    return this.running.has(taskId);
  }

  /** Starts seeding unless it already runs here or the task does not need it. */
  ensure(taskId: string, status: string): void {
    if ((status === 'created' || status === 'seeding') && !this.running.has(taskId)) void this.run(taskId);
  }

  stopAll(): void {
    for (const c of this.running.values()) c.abort();
  }

  private async run(taskId: string): Promise<void> {
    const abort = new AbortController();
    this.running.set(taskId, abort);
    const { runtime, cdn, clock } = this.o;
    const headers = this.o.credentials.headersFor(taskId);
    try {
      let state = stateOf(await runtime.snapshot(taskId));
      if (state.status === 'created') {
        const probe = await cdn.probe(state.url, headers, abort.signal);
        state = stateOf((await runtime.execute(taskId, { type: 'RecordProbe', at: clock(), ...probe })).snapshot);
      }
      // Pieces are recorded without waiting for each commit, so that pieces landing while an
      // append is in flight go into the next append together (the actor batches its mailbox).
      const recorded: Promise<unknown>[] = [];
      await cdn.seed({
        taskId,
        url: state.url,
        headers,
        contentLength: state.contentLength!,
        pieceSize: state.pieceSize!,
        validators: { etag: state.etag, lastModified: state.lastModified },
        onPiece: (piece, size, digest) => {
          const done = runtime.execute(taskId, { type: 'RecordSeededPieces', at: clock(), pieces: [{ piece, size, digest }] });
          done.catch(() => {
            // Surfaced by Promise.all below, or moot if the seed itself failed first.
          });
          recorded.push(done);
        },
        signal: abort.signal,
      });
      await Promise.all(recorded);
      if (state.digest) {
        const actual = `sha256:${await cdn.fileDigest(taskId, state.pieceCount!)}`;
        if (actual !== state.digest) throw new Error(`the origin's content (${actual}) does not match the expected digest ${state.digest}`);
      }
      await runtime.execute(taskId, { type: 'CompleteSeed', at: clock() });
    } catch (err) {
      if (abort.signal.aborted) return;
      const reason = err instanceof Error ? err.message : String(err);
      this.o.logger.warn({ taskId, reason }, 'seeding failed');
      await runtime.execute(taskId, { type: 'FailTask', at: clock(), reason: reason.slice(0, 500) }).catch((e) => {
        this.o.logger.error({ taskId, err: e }, 'could not record the seeding failure');
      });
    } finally {
      this.running.delete(taskId);
    }
  }
}
