import { randomUUID } from 'node:crypto';
import pg from 'pg';

/**
 * A database of its own on a PostgreSQL server (dropped by `drop`). Every supernode on one
 * database forms one cluster, and the relay publishes the database's whole feed: a run that
 * must see only its own replicas and events gets a database of its own.
 */
export async function freshDatabase(baseUrl: string, prefix: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
