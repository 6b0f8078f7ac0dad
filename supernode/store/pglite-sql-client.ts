import { mkdir } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import type { SqlClient, SqlQueryable } from './sql-client.ts';
import { DamselflyError } from '../../core/errors.ts';

interface Reply {
  id?: number;
  rows?: unknown[];
  error?: { message: string; code?: string; [k: string]: unknown };
  ready?: boolean;
}

/**
 * SqlClient over PGlite running in a worker thread (pglite-worker.mjs). PGlite executes SQL
 * synchronously in WASM; on the main thread every append would stall the supernode's event
 * loop (measured: at 20 peers the CDN's origin stream slowed to a seventh of its rate). Here
 * the main thread only posts messages. PGlite has one session, so transactions are serialised
 * with a lock: a statement from outside never lands inside someone else's BEGIN…COMMIT.
 */
export class PgliteSqlClient implements SqlClient {
  readonly engine = 'pglite' as const;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (rows: unknown[]) => void; reject: (err: Error) => void }>();
  private lock: Promise<void> = Promise.resolve();

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: Reply) => {
      if (m.id === undefined) return;
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (!p) return;
      // Rebuilt as node-postgres reports it (message + SQLSTATE `code`), so the store classifies
      // an embedded error exactly as a server's (store-unavailable.ts, sqlState).
      if (m.error) p.reject(Object.assign(new Error(m.error.message), m.error));
      else p.resolve(m.rows ?? []);
    });
    worker.on('error', (err) => this.failAll(err));
    worker.on('exit', (code) => this.failAll(new DamselflyError('DF_ERR_INTERNAL', `the embedded store's worker exited with code ${code}`)));
  }

  static async open(dataDir: string): Promise<PgliteSqlClient> {
    if (!dataDir.startsWith('memory://')) await mkdir(dataDir, { recursive: true });
    const worker = new Worker(new URL('./pglite-worker.mjs', import.meta.url), { workerData: { dataDir } });
    await new Promise<void>((resolve, reject) => {
      const onMessage = (m: Reply) => {
        if (!m.ready) return;
        worker.off('message', onMessage);
        worker.off('error', reject);
        resolve();
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
    return new PgliteSqlClient(worker);
  }

  query<R>(text: string, params: readonly unknown[] = [], name?: string): Promise<R[]> {
    return this.exclusive(() => this.send<R>('query', text, params, name));
  }

  async exec(text: string): Promise<void> {
    await this.exclusive(() => this.send('exec', text));
  }

  transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      await this.send('exec', 'BEGIN');
      try {
        const result = await fn({
          query: <R>(text: string, params: readonly unknown[] = [], name?: string) => this.send<R>('query', text, params, name),
          exec: async (text: string) => {
            await this.send('exec', text);
          },
        });
        await this.send('exec', 'COMMIT');
        return result;
      } catch (err) {
        await this.send('exec', 'ROLLBACK').catch(() => {
          // the session is already out of the transaction (e.g. the COMMIT itself failed)
        });
        throw err;
      }
    });
  }

  async close(): Promise<void> {
    await this.exclusive(() => this.send('close'));
    await this.worker.terminate();
  }

  private send<R>(op: 'query' | 'exec' | 'close', text?: string, params?: readonly unknown[], name?: string): Promise<R[]> {
    const id = this.nextId++;
    return new Promise<R[]>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (rows: unknown[]) => void, reject });
      this.worker.postMessage({ id, op, text, params, name });
    });
  }

  /** Runs `work` alone on the session: calls queue up behind the one in progress. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.lock.then(work);
    this.lock = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
