import type { SqlClient, SqlQueryable } from './sql-client.ts';
import type { StoreMetrics } from './store-metrics.ts';

interface Job {
  work: (tx: SqlQueryable) => Promise<unknown>;
  events: number;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export interface GroupCommitOptions {
  maxBatch: number;
  metrics?: StoreMetrics;
  /**
   * True for an error that a job throws after writing nothing and without an SQL error, so the
   * transaction is intact (the store's VersionConflict and StaleEpoch: its guarded statement
   * simply matched no row). Such a job fails alone without needing a savepoint.
   */
  leavesTxIntact?: (err: unknown) => boolean;
}

/** The fast path hit an error that may have aborted or dirtied the transaction. */
class NeedsSavepoints extends Error {}

/**
 * Group commit: work submitted while a transaction is in flight is queued and run together in
 * the next single transaction, so N concurrent appends (different tasks, many peers) share one
 * commit and one WAL flush instead of paying for N. Callers are answered only after COMMIT
 * returns, so an acknowledged append is durable (DESIGN.md, "Acknowledgement rule").
 *
 * One job's failure must not fail the others. Each job could run in a SAVEPOINT of its own, but
 * that costs round trips per job, which is the very cost group commit exists to amortise. So
 * a batch first runs without savepoints: the usual failures (conflict, stale epoch) leave the
 * transaction intact and fail alone. Any other error rolls the batch back, and it is run again
 * with a SAVEPOINT per job, so the failing job is rolled back alone and the others commit.
 * `maxBatch` bounds a transaction's length and, on that path, its subtransactions (beyond 64 the
 * backend's subxid cache overflows, which slows other sessions' snapshots while it runs).
 */
export class GroupCommit {
  private readonly queue: Job[] = [];
  /** True while a drain loop runs; set and cleared synchronously with the queue check (no lost wake-up). */
  private active = false;
  private draining: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: SqlClient,
    private readonly opts: GroupCommitOptions,
  ) {}

  run<T>(events: number, work: (tx: SqlQueryable) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, events, resolve: resolve as (v: unknown) => void, reject });
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
      while (this.queue.length > 0) await this.commitBatch(this.queue.splice(0, this.opts.maxBatch));
    } finally {
      this.active = false;
    }
  }

  private async commitBatch(batch: Job[]): Promise<void> {
    const started = performance.now();
    let savepoints = false;
    let outcomes: Outcome[];
    try {
      try {
        outcomes = await this.client.transaction((tx) => this.runPlain(tx, batch));
      } catch (err) {
        if (!(err instanceof NeedsSavepoints)) throw err;
        savepoints = true;
        outcomes = await this.client.transaction((tx) => this.runEach(tx, batch));
      }
    } catch (error) {
      // The transaction itself failed (the connection, the COMMIT, a lone job's error):
      // nothing of it is committed, so every job in it fails with that error.
      outcomes = batch.map(() => ({ ok: false, error }));
    }
    batch.forEach((job, i) => {
      const o = outcomes[i]!;
      if (o.ok) job.resolve(o.value);
      else job.reject(o.error);
    });
    this.opts.metrics?.onCommit?.({
      appends: batch.length,
      failed: outcomes.filter((o) => !o.ok).length,
      events: batch.reduce((n, j) => n + j.events, 0),
      seconds: (performance.now() - started) / 1000,
      savepoints,
    });
  }

  /** Every job in turn, no savepoints; a batch of one needs none anyway (its error is the transaction's). */
  private async runPlain(tx: SqlQueryable, batch: Job[]): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    for (const job of batch) {
      try {
        outcomes.push({ ok: true, value: await job.work(tx) });
      } catch (error) {
        if (batch.length === 1) throw error;
        if (!this.opts.leavesTxIntact?.(error)) throw new NeedsSavepoints('a job failed with the transaction in doubt', { cause: error });
        outcomes.push({ ok: false, error });
      }
    }
    return outcomes;
  }

  private async runEach(tx: SqlQueryable, batch: Job[]): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    for (const [i, job] of batch.entries()) {
      // Releasing the previous savepoint and opening the next share one round trip.
      await tx.exec(i === 0 ? 'SAVEPOINT append_0' : `RELEASE SAVEPOINT append_${i - 1}; SAVEPOINT append_${i}`);
      try {
        outcomes.push({ ok: true, value: await job.work(tx) });
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
