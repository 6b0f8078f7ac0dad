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
  /** Closes the store and drops everything this run created. */
  drop(): Promise<void>;
}

/**
 * The PostgreSQL side of one run: a database of its own, created here and dropped at the end,
 * so runs never mix and the relay's backlog is exactly this run's events (the relay reads the
 * store's whole global feed). The store runs its own migrations in it, as the supernode does.
 * The durability settings are read back and reported: an append figure means nothing without.
 */
export async function openPostgresTarget(baseUrl: string, runId: string): Promise<PostgresTarget> {
  const name = `damselfly_bench_${runId}`;
  const admin = new pg.Client({ connectionString: baseUrl, connectionTimeoutMillis: 5_000 });
  let settings: PostgresSettings;
  try {
    await admin.connect();
    settings = await readSettings(admin);
    await admin.query(`CREATE DATABASE ${name}`);
  } catch (err) {
    throw new Error(`PostgreSQL unreachable at ${redact(baseUrl)}: ${(err as Error).message}`, { cause: err });
  } finally {
    await admin.end().catch(() => undefined); // the connect error above is the one worth reporting
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  const dropDatabase = async () => {
    const c = new pg.Client({ connectionString: baseUrl, connectionTimeoutMillis: 5_000 });
    await c.connect();
    try {
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await c.end();
    }
  };
  let store: EventStore;
  try {
    store = await openPostgresEventStore(url.toString());
  } catch (err) {
    await dropDatabase();
    throw err;
  }
  return {
    store,
    settings,
    drop: async () => {
      await store.close();
      await dropDatabase();
    },
  };
}

async function readSettings(client: pg.Client): Promise<PostgresSettings> {
  const show = async (name: string) => String((await client.query(`SHOW ${name}`)).rows[0]?.[name] ?? '?');
  return { version: await show('server_version'), fsync: await show('fsync'), synchronousCommit: await show('synchronous_commit') };
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
