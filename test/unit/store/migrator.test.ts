import { createHash } from 'node:crypto';
import { appendFile, copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR, MigrationChecksumMismatch, migrate } from '../../../supernode/store/migrator.ts';
import { PgliteSqlClient } from '../../../supernode/store/pglite-sql-client.ts';

describe('migrate (on PGlite)', () => {
  let dir: string;
  let client: PgliteSqlClient;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'damselfly-migrations-'));
    // The migrator's mechanics on a known set: the project's first migration plus test files.
    await copyFile(join(MIGRATIONS_DIR, '0001_event_store.sql'), join(dir, '0001_event_store.sql'));
    client = await PgliteSqlClient.open('memory://');
  });
  afterEach(async () => {
    await client.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('applies every file once, in name order, recording name and sha256', async () => {
    await writeFile(join(dir, '0002_second.sql'), 'CREATE TABLE second (id int);');
    await writeFile(join(dir, 'README.md'), 'not a migration');
    expect(await migrate(client, { dir })).toEqual(['0001_event_store.sql', '0002_second.sql']);
    const rows = await client.query<{ name: string; sha256: string }>('SELECT name, sha256 FROM schema_migrations ORDER BY name');
    const sha = async (f: string) => createHash('sha256').update(await readFile(join(dir, f), 'utf8')).digest('hex');
    expect(rows).toEqual([
      { name: '0001_event_store.sql', sha256: await sha('0001_event_store.sql') },
      { name: '0002_second.sql', sha256: await sha('0002_second.sql') },
    ]);
    expect(await migrate(client, { dir })).toEqual([]);
    await writeFile(join(dir, '0003_third.sql'), 'CREATE TABLE third (id int);');
    expect(await migrate(client, { dir })).toEqual(['0003_third.sql']);
  });

  it('refuses to run when an applied file changed', async () => {
    await migrate(client, { dir });
    await appendFile(join(dir, '0001_event_store.sql'), '\n-- edited after release\n');
    await expect(migrate(client, { dir })).rejects.toBeInstanceOf(MigrationChecksumMismatch);
  });

  it('rolls a failing file back entirely and does not record it', async () => {
    await writeFile(join(dir, '0002_broken.sql'), 'CREATE TABLE half (id int); SELECT no_such_function();');
    await expect(migrate(client, { dir })).rejects.toThrow(/no_such_function/);
    const names = await client.query<{ name: string }>('SELECT name FROM schema_migrations');
    expect(names.map((r) => r.name)).toEqual(['0001_event_store.sql']);
    expect(await client.query("SELECT 1 FROM pg_tables WHERE tablename = 'half'")).toEqual([]);
  });
});
