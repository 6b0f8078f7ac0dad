import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DamselflyError } from '../../core/errors.ts';
import { assertSchemaName, type SqlClient } from './sql-client.ts';

/** The project's migrations: migrations/NNNN_name.sql, applied in name order. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

const MIGRATION_FILE = /^\d{4}_[a-z0-9_]+\.sql$/;

export interface MigrateOptions {
  dir?: string;
  /** The schema the client's search_path points at; created here (under the lock) if missing. */
  schema?: string;
}

export class MigrationChecksumMismatch extends DamselflyError {
  constructor(readonly file: string, readonly applied: string, readonly onDisk: string) {
    super('DF_ERR_MIGRATION_CHANGED', `migration ${file} was applied with sha256 ${applied} but the file now has ${onDisk}: ` +
      'applied migrations must never change; add a new migration instead');
  }
}

/**
 * Applies the migrations not yet applied and records each (name, sha256) in schema_migrations.
 * Hand-written rather than a library because it must run on PGlite too (docs/decisions.md,
 * "Migrations").
 *
 * Each file runs in a transaction of its own that first takes a transaction-level advisory
 * lock, then (re)checks whether the file is applied. Two replicas starting together thus
 * serialise: the second waits, then finds the file recorded and skips it. The lock is per
 * schema, so separate test schemas in one database do not wait for each other.
 * Returns the names of the files applied by this call.
 */
export async function migrate(client: SqlClient, opts: MigrateOptions = {}): Promise<string[]> {
  const dir = opts.dir ?? MIGRATIONS_DIR;
  if (opts.schema !== undefined) assertSchemaName(opts.schema);
  const files = (await readdir(dir)).filter((f) => MIGRATION_FILE.test(f)).sort();
  const lockKey = `damselfly.migrations:${opts.schema ?? 'public'}`;
  const applied: string[] = [];
  for (const file of files) {
    const sql = await readFile(join(dir, file), 'utf8');
    const sha256 = createHash('sha256').update(sql).digest('hex');
    const ran = await client.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [lockKey]);
      if (opts.schema) await tx.exec(`CREATE SCHEMA IF NOT EXISTS ${opts.schema}`);
      await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
        name text PRIMARY KEY, sha256 text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      const [row] = await tx.query<{ sha256: string }>('SELECT sha256 FROM schema_migrations WHERE name = $1', [file]);
      if (row) {
        if (row.sha256 !== sha256) throw new MigrationChecksumMismatch(file, row.sha256, sha256);
        return false;
      }
      await tx.exec(sql);
      await tx.query('INSERT INTO schema_migrations (name, sha256) VALUES ($1, $2)', [file, sha256]);
      return true;
    });
    if (ran) applied.push(file);
  }
  return applied;
}
