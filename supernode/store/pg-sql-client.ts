import pg from 'pg';
import { assertSchemaName, type SqlClient, type SqlQueryable } from './sql-client.ts';

export interface PgClientOptions {
  /**
   * A schema of its own (created by the migrator if missing): every connection's search_path is
   * set to it, so tests and benchmarks can share one database without seeing each other.
   */
  schema?: string;
  /** Pool size; appends use one connection at a time (group commit), readers the others. */
  poolSize?: number;
}

/** SqlClient over a pg Pool. */
export class PgSqlClient implements SqlClient {
  readonly engine = 'postgres' as const;
  private readonly pool: pg.Pool;

  constructor(url: string, opts: PgClientOptions = {}) {
    if (opts.schema !== undefined) assertSchemaName(opts.schema);
    this.pool = new pg.Pool({
      connectionString: url,
      max: opts.poolSize ?? 8,
      // search_path as a startup option applies to every pooled connection before first use.
      ...(opts.schema ? { options: `-c search_path=${opts.schema}` } : {}),
    });
    // An idle client that dies (server restart) emits 'error' on the pool; without a listener
    // that would crash the process. The next query gets a fresh connection and its own error.
    this.pool.on('error', () => undefined);
  }

  async query<R>(text: string, params: readonly unknown[] = [], name?: string): Promise<R[]> {
    return (await this.pool.query({ text, values: params as unknown[], name })).rows as R[];
  }

  async exec(text: string): Promise<void> {
    await this.pool.query(text);
  }

  async transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
    const conn = await this.pool.connect();
    const tx: SqlQueryable = {
      query: async <R>(text: string, params: readonly unknown[] = [], name?: string) =>
        (await conn.query({ text, values: params as unknown[], name })).rows as R[],
      exec: async (text: string) => {
        await conn.query(text);
      },
    };
    let broken: Error | undefined;
    try {
      await conn.query('BEGIN');
      const result = await fn(tx);
      await conn.query('COMMIT');
      return result;
    } catch (err) {
      // A failed ROLLBACK means the connection is unusable: hand it back as broken so the pool
      // discards it. The original error is the one the caller needs.
      await conn.query('ROLLBACK').catch((e: Error) => (broken = e));
      throw err;
    } finally {
      conn.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
