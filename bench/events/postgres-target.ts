import pg from 'pg';
import type { EventStore } from '../../supernode/store/event-store.ts';
import { openPostgresEventStore } from '../../supernode/store/index.ts';

export interface PostgresSettings {
  version: string;
  fsync: string;
  synchronousCommit: string;
}

export interface PostgresTarget {
  store: EventStore;
  settings: PostgresSettings;
  schema: string;
  /** The oldest open transaction in the cluster, which holds the gap-free feed back. */
  oldestTransaction(): Promise<string>;
  /** Closes the store and drops everything this run created. */
  drop(): Promise<void>;
}

/**
 * The PostgreSQL side of one run: a schema of its own (the store's `schema` option; its
 * migrations create it), dropped at the end, so runs never mix and the relay's backlog is
 * exactly this run's events (the relay reads the store's whole global feed). The durability
 * settings are read back and reported: an append figure means nothing without them.
 */
export async function openPostgresTarget(url: string, runId: string): Promise<PostgresTarget> {
  const schema = `damselfly_bench_${runId}`;
  const admin = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await admin.connect();
  } catch (err) {
    await admin.end().catch(() => undefined); // the connect error is the one worth reporting
    throw new Error(`PostgreSQL unreachable at ${redact(url)}: ${(err as Error).message}`, { cause: err });
  }
  const dropSchema = () => admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).then(() => undefined);
  try {
    const settings = await readSettings(admin);
    const store = await openPostgresEventStore(url, { schema });
    return {
      store,
      settings,
      schema,
      oldestTransaction: () => oldestTransaction(admin),
      drop: async () => {
        try {
          await store.close();
          await dropSchema();
        } finally {
          await admin.end();
        }
      },
    };
  } catch (err) {
    await dropSchema().finally(() => admin.end());
    throw err;
  }
}

async function readSettings(client: pg.Client): Promise<PostgresSettings> {
  const show = async (name: string) => String((await client.query(`SHOW ${name}`)).rows[0]?.[name] ?? '?');
  return { version: await show('server_version'), fsync: await show('fsync'), synchronousCommit: await show('synchronous_commit') };
}

async function oldestTransaction(client: pg.Client): Promise<string> {
  const { rows } = await client.query<{ pid: number; datname: string | null; state: string | null; since: string | null; query: string | null }>(
    `SELECT pid, datname, state, xact_start::text AS since, left(query, 80) AS query FROM pg_stat_activity
     WHERE backend_xid IS NOT NULL ORDER BY age(backend_xid) DESC LIMIT 1`,
  );
  const t = rows[0];
  if (!t) return 'no open transaction holds an xid now';
  return `oldest open transaction: pid ${t.pid} in database ${t.datname ?? '?'} (${t.state ?? '?'} since ${t.since ?? '?'}): ${t.query ?? ''}`;
}

/** The URL without its password, for messages. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable DAMSELFLY_DATABASE_URL)'; // never echo a URL we cannot redact
  }
}
