import { CDN_SOURCE } from '../../core/events/index.ts';
import { DamselflyError } from '../../core/errors.ts';
import type { Assignment, JoinRequest, RegisterTaskRequest, RoundResponse, TaskView } from '../../core/wire/peer-api.ts';
import { PieceFile, type PieceLayout } from '../storage/piece-file.ts';
import type { TaskRegistry } from '../storage/task-registry.ts';
import type { LogSink } from '../../edge/log/log-sink.ts';
import { SupernodeRejected, SupernodesUnreachable, type SupernodeClient } from './supernode-client.ts';
import type { PieceOutcome } from '../../edge/pieces/index.ts';
import { PieceReports } from './piece-reports.ts';
import { SwarmCounters } from './swarm-counters.ts';
import { doneFile, ensureSessionFile } from './session-file.ts';

export interface SwarmSessionOptions {
  client: SupernodeClient;
  taskId: string;
  register: RegisterTaskRequest;
  join: JoinRequest;
  output: string;
  registry: TaskRegistry;
  parallelism: number;
  fetch: (a: Assignment) => Promise<PieceOutcome>;
  logger: LogSink;
  /** How long the supernodes may stay unreachable in the middle of a download before giving up. */
  giveUpAfterMs: number;
  signal?: AbortSignal;
  onProgress?: (c: SwarmCounters) => void;
  onFile?: (file: PieceFile) => void;
}

/** How long an idle peer lets the supernode hold its round (long poll, RoundRequest.holdMs). */
const HOLD_MS = 2000;
/** With slots free but pieces in flight, ask again this often at most (a completion asks at once). */
const POLL_MS = 250;
/** A run of refusals that a re-join should have fixed (gone, unknown peer or task): give up after this many. */
export const MAX_REJOINS = 5;
/** Refusals a re-register and re-join fix: the peer expired or left, or this replica does not know it. */
export const REJOIN_CODES = new Set(['DF_ERR_PEER_GONE', 'DF_ERR_UNKNOWN_PEER', 'DF_ERR_NOT_FOUND']);

/**
 * One peer's part in one task's swarm, from join to "done": round trips that each report every
 * piece finished since the last one and take as many new assignments as there are free slots,
 * with up to `parallelism` pieces in flight. Pieces are verified (fetch) before they are
 * written, and added to the registry's file only once written, so the uploader never serves an
 * unverified byte. Supernode trouble is survived: another replica takes over (the client moves
 * along its node list), and the peer registers and joins again and reports all it holds.
 */
export class SwarmSession {
  readonly counters = new SwarmCounters();
  file: PieceFile | undefined;
  private readonly reports = new PieceReports();
  private readonly inflight = new Map<number, Promise<void>>();
  private fatal: unknown;
  private unreachableSince: number | undefined;
  private rejoins = 0;

  constructor(private readonly o: SwarmSessionOptions) {}

  /** Runs until the supernode says done; returns the complete (not yet committed) file. */
  async run(firstView: TaskView): Promise<PieceFile> {
    await this.layoutFrom(firstView);
    let attach: 'join' | 'register' | undefined = 'join';
    for (;;) {
      this.o.signal?.throwIfAborted();
      if (this.fatal) throw this.fatal;
      try {
        if (attach) await this.attach(attach);
        attach = undefined;
        const resp = await this.round();
        this.unreachableSince = undefined;
        this.rejoins = 0;
        if (resp.action === 'done') return await this.finish();
        if (resp.action === 'failed') throw new DamselflyError('DF_ERR_TASK_FAILED', `the supernode failed the task: ${resp.reason}`);
        if (resp.action === 'assign') await this.start(resp);
        await this.pause(resp.action === 'wait' ? resp.retryAfterMs : POLL_MS);
      } catch (err) {
        attach = (await this.recover(err)) ?? attach;
      }
    }
  }

  /** Waits for the pieces in flight to settle (after a failure, before the file is removed). */
  async settle(): Promise<void> {
    await Promise.allSettled(this.inflight.values());
  }

  private async attach(how: 'join' | 'register'): Promise<void> {
    const { client, taskId } = this.o;
    if (how === 'register') {
      const view = await client.registerTask(this.o.register);
      if (view.taskId !== taskId) throw new DamselflyError('DF_ERR_TASK_ID_MISMATCH', `the supernode computed task ${view.taskId}, expected ${taskId}`);
    }
    await this.layoutFrom(await client.join(taskId, this.o.join));
    this.reports.reReportAll();
    this.o.logger.info({ taskId, node: client.node, how, held: this.file?.storedCount ?? 0 }, 'joined the swarm');
  }

  private async round(): Promise<RoundResponse> {
    // At most MAX_ROUND_REPORTS of each kind (the wire's bound); the rest go out with the next
    // rounds at once (pause() does not wait while reports are pending), so they are not held.
    const report = this.reports.take();
    const hold = this.inflight.size === 0 && this.reports.isEmpty;
    const want = Math.max(0, this.o.parallelism - this.inflight.size);
    try {
      this.counters.rounds++;
      return await this.o.client.round(this.o.taskId, this.o.join.peerId, { ...report, want, holdMs: hold ? HOLD_MS : 0 });
    } catch (err) {
      // Nothing reported is lost: it goes out again with the next round (the supernode drops repeats).
      this.reports.putBack(report);
      throw err;
    }
  }

  /** Decides whether a failed call is survivable; returns how to attach again, or rethrows. */
  private async recover(err: unknown): Promise<'register' | undefined> {
    const log = this.o.logger;
    if (err instanceof SupernodesUnreachable) {
      const now = performance.now();
      this.unreachableSince ??= now;
      if (now - this.unreachableSince > this.o.giveUpAfterMs) throw err;
      log.warn({ err: err.detail, node: this.o.client.node }, 'supernodes unreachable; retrying');
      await this.pause(Math.max(POLL_MS, err.retryAfterMs ?? 0), true);
      return 'register';
    }
    if (err instanceof SupernodeRejected && REJOIN_CODES.has(err.problemCode) && ++this.rejoins <= MAX_REJOINS) {
      log.warn({ code: err.problemCode, node: this.o.client.node }, 'the supernode does not know this peer; joining again');
      return 'register';
    }
    if (err instanceof SupernodeRejected && err.remoteRetryable) {
      await this.pause(Math.max(POLL_MS, err.retryAfterMs ?? 0), true);
      return undefined;
    }
    throw err;
  }

  private async layoutFrom(view: TaskView): Promise<void> {
    if (view.contentLength !== null && view.pieceSize !== null) await this.ensureFile({ contentLength: view.contentLength, pieceSize: view.pieceSize });
  }

  private async ensureFile(layout: PieceLayout): Promise<PieceFile> {
    this.file = await ensureSessionFile(this.file, layout, this.o, this.counters);
    return this.file;
  }


  private async start(resp: Extract<RoundResponse, { action: 'assign' }>): Promise<void> {
    const file = await this.ensureFile({ contentLength: resp.contentLength, pieceSize: resp.pieceSize });
    for (const a of resp.assignments) {
      if (this.reports.holds(a.piece)) this.reports.reReport(a.piece);
      else if (!this.inflight.has(a.piece)) this.fetchInto(file, a);
    }
  }

  private fetchInto(file: PieceFile, a: Assignment): void {
    const job = (async () => {
      const outcome = await this.o.fetch(a);
      if (!outcome.ok) {
        this.counters.failed(outcome.reason);
        this.o.logger.warn({ piece: a.piece, source: a.source, reason: outcome.reason, detail: outcome.detail }, 'piece fetch failed');
        this.reports.failedFetch({ piece: a.piece, source: a.source, reason: outcome.reason });
        return;
      }
      try {
        await file.writePiece(a.piece, outcome.bytes);
      } catch (err) {
        // Our own disk failed: not the source's fault ('io' blames nobody), and nothing to go on with.
        this.reports.failedFetch({ piece: a.piece, source: a.source, reason: 'io' });
        this.fatal ??= err;
        return;
      }
      this.reports.stored({ piece: a.piece, source: a.source, ms: outcome.ms });
      this.counters.stored(a.source === CDN_SOURCE, outcome.bytes.length);
      this.o.onProgress?.(this.counters);
    })()
      .catch((err: unknown) => {
        // fetchPiece throws only when the download is aborted: the loop sees the signal.
        this.fatal ??= err;
      })
      .finally(() => this.inflight.delete(a.piece));
    this.inflight.set(a.piece, job);
  }

  /**
   * Until the next round is worth sending: at once if there is something to report; with at
   * least half the slots busy, until a piece finishes (it is reported at once, and free slots
   * ride along with that report — polling then only costs the supernode CPU); otherwise until a
   * piece finishes or `ms` pass (with nothing in flight the supernode already held the round).
   * `idle` waits out `ms` even with pieces in flight (after an error).
   */
  private async pause(ms: number, idle = false): Promise<void> {
    if (!idle && !this.reports.isEmpty) return;
    const next = this.inflight.size > 0 ? Promise.race(this.inflight.values()) : undefined;
    // A peer with at least half its slots busy waits for a completion; one that has fallen
    // behind keeps asking (every `ms`), or the free upload slots in the swarm all go to the
    // peers that report most often — those with the most pieces in flight (measured: one of 20
    // peers stuck at a fifth of the median's pieces).
    if (next && !idle && this.inflight.size * 2 >= this.o.parallelism) return void (await next);
    let timer: NodeJS.Timeout | undefined;
    const sleep = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
    await Promise.race(next ? [sleep, next] : [sleep]);
    clearTimeout(timer);
  }

  private async finish(): Promise<PieceFile> {
    await this.settle();
    this.file = await doneFile(this.file, this.o, this.counters);
    return this.file;
  }
}
