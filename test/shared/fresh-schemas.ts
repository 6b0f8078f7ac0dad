import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll } from 'vitest';
import { databaseUrl } from './env.ts';

/**
 * Schemas of a test file's own in the shared PostgreSQL database, all dropped after the file:
 * runs (and other engineers' runs) never see each other's rows. Call at module level; the
 * returned function makes a new schema name each time.
 */
export function useFreshSchemas(prefix: string): () => string {
  const schemas: string[] = [];
  afterAll(async () => {
    const admin = new pg.Client({ connectionString: databaseUrl() });
    await admin.connect();
    try {
      for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    } finally {
      await admin.end();
    }
  });
  return () => {
    const schema = `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    schemas.push(schema);
    return schema;
  };
}
