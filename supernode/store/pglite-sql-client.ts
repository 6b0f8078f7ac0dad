import { mkdir } from 'node:fs/promises';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { SqlClient, SqlQueryable } from './sql-client.ts';

/**
 * SqlClient over PGlite: real PostgreSQL compiled to WASM, in this process, one connection.
 * `dataDir` is a directory (created if missing) or 'memory://' for a throwaway database.
 * PGlite runs one statement at a time and `transaction` holds the instance exclusively, so
 * queries outside it wait: commit order is execution order.
 */
export class PgliteSqlClient implements SqlClient {
  readonly engine = 'pglite' as const;

  private constructor(private readonly db: PGlite) {}

  static async open(dataDir: string): Promise<PgliteSqlClient> {
    if (!dataDir.startsWith('memory://')) await mkdir(dataDir, { recursive: true });
    return new PgliteSqlClient(await PGlite.create(dataDir));
  }

  async query<R>(text: string, params: readonly unknown[] = []): Promise<R[]> {
    return (await this.db.query<R>(text, params as unknown[])).rows;
  }

  async exec(text: string): Promise<void> {
    await this.db.exec(text);
  }

  transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
    return this.db.transaction((t: Transaction) =>
      fn({
        query: async <R>(text: string, params: readonly unknown[] = []) => (await t.query<R>(text, params as unknown[])).rows,
        exec: async (text: string) => {
          await t.exec(text);
        },
      }),
    );
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
