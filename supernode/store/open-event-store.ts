import { migrate } from './migrator.ts';
import { PgSqlClient, type PgClientOptions } from './pg-sql-client.ts';
import { PgliteSqlClient } from './pglite-sql-client.ts';
import type { SqlClient } from './sql-client.ts';
import { SqlEventStore, type SqlEventStoreOptions } from './sql-event-store.ts';
import { isStoreUnavailable } from './store-unavailable.ts';

export interface OpenStoreOptions extends SqlEventStoreOptions {
  /** Where the migrations are (default: the project's migrations/). */
  migrationsDir?: string;
}

/** The event store on PostgreSQL, migrations applied. `schema` isolates tests and benchmarks. */
export async function openPostgresEventStore(url: string, opts: OpenStoreOptions & PgClientOptions = {}): Promise<SqlEventStore> {
  return openOn(new PgSqlClient(url, opts), opts, opts.schema);
}

/**
 * The embedded store: PGlite in this process, on disk in `dataDir` (the supernode's data dir)
 * or 'memory://' for a throwaway one. Same SQL, same migrations as PostgreSQL.
 */
export async function openPgliteEventStore(dataDir: string, opts: OpenStoreOptions = {}): Promise<SqlEventStore> {
  return openOn(await PgliteSqlClient.open(dataDir), opts, undefined);
}

async function openOn(client: SqlClient, opts: OpenStoreOptions, schema: string | undefined): Promise<SqlEventStore> {
  try {
    await migrate(client, { dir: opts.migrationsDir, schema });
  } catch (err) {
    await client.close();
    // At start-up the reader is an operator, not a peer: the driver's own error names the
    // address that could not be reached, which DF_ERR_UNAVAILABLE's detail leaves out.
    throw isStoreUnavailable(err) && err.cause !== undefined ? err.cause : err;
  }
  return new SqlEventStore(client, opts);
}
