import pg from 'pg';
import { assertSchemaName, type SqlClient, type SqlQueryable } from './sql-client.ts';
import { asStoreError, isConnectionLoss } from './store-unavailable.ts';

export interface PgClientOptions {
  /**
   * A schema of its own (created by the migrator if missing): every connection's search_path is
   * set to it, so tests and benchmarks can share one database without seeing each other.
   */
  schema?: string;
  /** Pool size; appends use one connection at a time (group commit), readers the others. */
  poolSize?: number;
  /** Longest wait for a new connection before a call fails with DF_ERR_UNAVAILABLE (default 5 s). */
  connectTimeoutMs?: number;
}

/**
 * SqlClient over a pg Pool. A database that is unreachable or restarting is not a crash and
 * not a 500: every call that fails for that reason rejects with DF_ERR_UNAVAILABLE
 * (store-unavailable.ts), and the pool, having dropped the broken connections, opens new ones
 * on the next call, so the supernode recovers by itself once PostgreSQL is back.
 */
export class PgSqlClient implements SqlClient {
  readonly engine = 'postgres' as const;
  private readonly pool: pg.Pool;

  constructor(url: string, opts: PgClientOptions = {}) {
    if (opts.schema !== undefined) assertSchemaName(opts.schema);
    this.pool = new pg.Pool({
      connectionString: url,
      max: opts.poolSize ?? 8,
      // Without a bound, a server that accepts nothing (a host gone without a reset) would
      // hold every caller, the group commit included, until the OS gave up on the connect.
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 5_000,
      // Finds a peer that vanished without closing (host crash, partition) on idle connections.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      // search_path as a startup option applies to every pooled connection before first use.
      ...(opts.schema ? { options: `-c search_path=${opts.schema}` } : {}),
    });
    // An idle client that dies (server restart) emits 'error' on the pool; without a listener
    // that would crash the process. The pool has already dropped it; the next call gets a
    // fresh connection, or DF_ERR_UNAVAILABLE while the server is still away, so there is
    // nothing to do and nothing worth logging here.
    this.pool.on('error', () => undefined);
  }

  async query<R>(text: string, params: readonly unknown[] = [], name?: string): Promise<R[]> {
    try {
      return (await this.pool.query({ text, values: params as unknown[], name })).rows as R[];
    } catch (err) {
      throw asStoreError(err);
    }
  }

  async exec(text: string): Promise<void> {
    try {
      await this.pool.query(text);
    } catch (err) {
      throw asStoreError(err);
    }
  }

  async transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
    let conn: pg.PoolClient;
    try {
      conn = await this.pool.connect();
    } catch (err) {
      throw asStoreError(err);
    }
    // A checked-out client has no pool listener: if its connection dies (between statements
    // or during one, which also rejects the statement) it emits 'error', and an 'error' event
    // nobody listens to crashes the process. Noted here, the connection is discarded below.
    let broken: Error | undefined;
    const onError = (err: Error) => (broken ??= err);
    conn.on('error', onError);
    const run = async (text: string, params?: readonly unknown[], name?: string) => {
      try {
        return await conn.query({ text, values: params as unknown[] | undefined, name });
      } catch (err) {
        throw asStoreError(err);
      }
    };
    const tx: SqlQueryable = {
      query: async <R>(text: string, params: readonly unknown[] = [], name?: string) => (await run(text, params, name)).rows as R[],
      exec: async (text: string) => {
        await run(text);
      },
    };
    try {
      await run('BEGIN');
      const result = await fn(tx);
      // If the connection breaks now, the outcome is unknown: the error (DF_ERR_UNAVAILABLE)
      // says so to the caller, who must not take it for "rolled back" (store-unavailable.ts).
      await run('COMMIT');
      return result;
    } catch (err) {
      // A failed ROLLBACK means the connection is unusable: hand it back as broken so the pool
      // discards it. The original error is the one the caller needs. A connection already
      // known lost is not asked.
      if (!broken && !isConnectionLoss(err)) await conn.query('ROLLBACK').catch((e: Error) => (broken = e));
      else broken ??= err as Error;
      throw err;
    } finally {
      conn.off('error', onError);
      conn.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
