import type { SqlClient, SqlQueryable } from './sql-client.ts';
import type { StoreMetrics } from './store-metrics.ts';

interface Job {
  work: (tx: SqlQueryable) => Promise<unknown>;
  events: number;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Group commit: work submitted while a transaction is in flight is queued and run together in
 * the next single transaction, so N concurrent appends (different tasks, many peers) share one
 * commit and one WAL flush instead of paying for N. Each piece of work runs inside a SAVEPOINT
 * of its own: one that fails (a version conflict, a stale epoch) is rolled back alone and only
 * its caller sees the error; the others commit. Callers are answered only after COMMIT returns,
 * so an acknowledged append is durable (DESIGN.md, "Acknowledgement rule").
 *
 * A batch of one skips the savepoint (two round trips): its error aborts the whole transaction,
 * which holds nothing else. `maxBatch` bounds the transaction's length and its subtransactions
 * (beyond 64 per transaction Postgres' per-backend subxid cache overflows, which slows other
 * sessions' snapshots while it runs).
 */
export class GroupCommit {
  private readonly queue: Job[] = [];
  /** True while a drain loop runs; set and cleared synchronously with the queue check (no lost wake-up). */
  private active = false;
  private draining: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: SqlClient,
    private readonly opts: { maxBatch: number; metrics?: StoreMetrics },
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
    let outcomes: Outcome[];
    try {
      outcomes = await this.client.transaction((tx) => (batch.length === 1 ? this.runOne(tx, batch[0]!) : this.runEach(tx, batch)));
    } catch (error) {
      // The transaction itself failed (a lone job's error, the connection, the COMMIT):
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
    });
  }

  private async runOne(tx: SqlQueryable, job: Job): Promise<Outcome[]> {
    return [{ ok: true, value: await job.work(tx) }];
  }

  private async runEach(tx: SqlQueryable, batch: Job[]): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    for (const [i, job] of batch.entries()) {
      await tx.query(`SAVEPOINT append_${i}`);
      try {
        const value = await job.work(tx);
        await tx.query(`RELEASE SAVEPOINT append_${i}`);
        outcomes.push({ ok: true, value });
      } catch (error) {
        // Undo this job only; if even that fails the connection is gone and the throw aborts all.
        await tx.query(`ROLLBACK TO SAVEPOINT append_${i}`);
        outcomes.push({ ok: false, error });
      }
    }
    return outcomes;
  }
}
