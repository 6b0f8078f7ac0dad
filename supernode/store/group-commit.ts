import type { SqlClient, SqlQueryable } from './sql-client.ts';
import type { StoreMetrics } from './store-metrics.ts';
import { isStoreUnavailable } from './store-unavailable.ts';

/** What one job of a batch came to: its value, or the error it fails with alone. */
export type Outcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

export interface GroupCommitOptions<J, R> {
  maxBatch: number;
  metrics?: StoreMetrics;
  /** Jobs with the same key never share a batch: a later one waits for the next (see below). */
  key: (job: J) => string;
  /** For the metrics. */
  events: (job: J) => number;
  /**
   * The fast path: the whole batch at once, given the client itself (the store runs ONE
   * statement, which is its own transaction: no BEGIN and COMMIT round trips). Returns an
   * outcome per job; a failure it returns must have written nothing (version conflict, stale
   * epoch). It may throw only if it committed nothing (an SQL error such as a duplicate event
   * id aborted the statement): the batch is then run again job by job. The exception is a lost
   * connection (DF_ERR_UNAVAILABLE, outcome unknown), which fails the whole batch as it is.
   */
  runBatch: (client: SqlQueryable, jobs: J[]) => Promise<Outcome<R>[]>;
  /** One job alone (the fallback), inside a savepoint of its own when the batch has several. */
  runOne: (tx: SqlQueryable, job: J) => Promise<R>;
}

interface Queued<J> {
  job: J;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit: work submitted while a transaction is in flight is queued and run together in
 * the next single transaction, so N concurrent appends (different tasks, many peers) share one
 * commit and one WAL flush instead of paying for N. Callers are answered only after COMMIT
 * returns, so an acknowledged append is durable (DESIGN.md, "Acknowledgement rule").
 *
 * The batch runs as ONE unit (`runBatch`, for the store one SQL statement that is its own
 * transaction): per-job round trips and statement executions were the cost that kept group
 * commit at ~5k events/s. The usual failures (conflict, stale epoch) are outcomes of that unit
 * and fail alone. If it throws (nothing committed), the batch is run again, in one transaction,
 * job by job with a SAVEPOINT each (`runOne`), so the offending job fails alone and the others
 * commit. `maxBatch` bounds a transaction's length and,
 * on that path, its subtransactions (beyond 64 the backend's subxid cache overflows, which slows
 * other sessions' snapshots while it runs).
 *
 * Two jobs with the same key (stream) are never in one batch: one statement cannot let the
 * second see the first's result, so the second waits for the next batch, i.e. runs after the
 * first committed, exactly as if the two had been submitted one after the other.
 */
export class GroupCommit<J, R> {
  private queue: Queued<J>[] = [];
  /** True while a drain loop runs; set and cleared synchronously with the queue check (no lost wake-up). */
  private active = false;
  private draining: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: SqlClient,
    private readonly opts: GroupCommitOptions<J, R>,
  ) {}

  run(job: J): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ job, resolve: resolve as (v: unknown) => void, reject });
      if (!this.active) {
        this.active = true;
        this.draining = this.drain();
      }
    });
  }

  /** Resolves once everything submitted so far has been committed or rejected. */
  async idle(): Promise<void> {
    while (this.active) await this.draining;
  }

  private async drain(): Promise<void> {
    try {
      // Yield once so that appends issued in the same tick join the first batch too.
      await Promise.resolve();
      while (this.queue.length > 0) await this.commitBatch(this.takeBatch());
    } finally {
      this.active = false;
    }
  }

  /** Up to maxBatch jobs with distinct keys, in queue order; the skipped ones keep their order. */
  private takeBatch(): Queued<J>[] {
    const batch: Queued<J>[] = [];
    const skipped: Queued<J>[] = [];
    const keys = new Set<string>();
    let i = 0;
    for (; i < this.queue.length && batch.length < this.opts.maxBatch; i++) {
      const q = this.queue[i]!;
      const key = this.opts.key(q.job);
      if (keys.has(key)) skipped.push(q);
      else {
        keys.add(key);
        batch.push(q);
      }
    }
    this.queue = skipped.length === 0 ? this.queue.slice(i) : [...skipped, ...this.queue.slice(i)];
    return batch;
  }

  private async commitBatch(batch: Queued<J>[]): Promise<void> {
    const started = performance.now();
    const jobs = batch.map((q) => q.job);
    let fallback = false;
    let outcomes: Outcome<R>[];
    try {
      try {
        outcomes = await this.opts.runBatch(this.client, jobs);
      } catch (err) {
        // Lost connection: the statement may have committed (its reply is what was lost), so
        // re-running the jobs could answer a committed append with a VersionConflict, and the
        // database is likely still away anyway. Every job fails with it, outcome unknown.
        if (isStoreUnavailable(err)) throw err;
        // Otherwise nothing of the batch was committed (runBatch's contract); which job's
        // fault it was is what the re-run finds out, each job then failing with its own error.
        fallback = true;
        // A lone job needs no savepoint: its error is its transaction's.
        outcomes = jobs.length === 1
          ? [{ ok: true, value: await this.client.transaction((tx) => this.opts.runOne(tx, jobs[0]!)) }]
          : await this.client.transaction((tx) => this.runEach(tx, jobs));
      }
    } catch (error) {
      // The transaction itself failed (the connection, the COMMIT, a lone job's error): every
      // job in it fails with that error. Nothing of it is committed, unless the error is
      // DF_ERR_UNAVAILABLE, whose outcome is unknown; a job that did commit then meets a
      // VersionConflict when its writer retries (the stream has moved), never a second commit.
      outcomes = batch.map(() => ({ ok: false, error }));
    }
    batch.forEach((q, i) => {
      const o = outcomes[i]!;
      if (o.ok) q.resolve(o.value);
      else q.reject(o.error);
    });
    this.opts.metrics?.onCommit?.({
      appends: batch.length,
      failed: outcomes.filter((o) => !o.ok).length,
      events: jobs.reduce((n, j) => n + this.opts.events(j), 0),
      seconds: (performance.now() - started) / 1000,
      savepoints: fallback && batch.length > 1,
    });
  }

  private async runEach(tx: SqlQueryable, jobs: J[]): Promise<Outcome<R>[]> {
    const outcomes: Outcome<R>[] = [];
    for (const [i, job] of jobs.entries()) {
      // Releasing the previous savepoint and opening the next share one round trip.
      await tx.exec(i === 0 ? 'SAVEPOINT append_0' : `RELEASE SAVEPOINT append_${i - 1}; SAVEPOINT append_${i}`);
      try {
        outcomes.push({ ok: true, value: await this.opts.runOne(tx, job) });
      } catch (error) {
        // Undo this job only (the savepoint stays, the next exec releases it); if even this
        // fails, the connection is gone and the throw fails the whole transaction.
        await tx.exec(`ROLLBACK TO SAVEPOINT append_${i}`);
        outcomes.push({ ok: false, error });
      }
    }
    return outcomes;
  }
}
