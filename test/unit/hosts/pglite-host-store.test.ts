import { afterAll } from 'vitest';
import { PgliteSqlClient } from '../../../supernode/store/pglite-sql-client.ts';
import { migrate } from '../../../supernode/store/migrator.ts';
import { SqlHostStore } from '../../../supernode/hosts/sql-host-store.ts';
import { describeHostStoreConformance } from '../../shared/host-store-conformance.ts';

// One PGlite for the file (starting one takes seconds), a schema of its own per test: the
// suite wants an empty store each time. PGlite has one session, so concurrent announcements
// serialise; real concurrency is exercised on PostgreSQL (test/integration/hosts). What this
// run shows is that the same SQL works.
let client: Promise<PgliteSqlClient> | undefined;
let schemas = 0;
afterAll(async () => {
  await (await client)?.close();
});

describeHostStoreConformance('pglite', async () => {
  const c = await (client ??= PgliteSqlClient.open('memory://'));
  const schema = `hosts_${schemas++}`;
  await c.exec(`CREATE SCHEMA ${schema}; SET search_path TO ${schema}`);
  await migrate(c, { schema });
  return { handles: [new SqlHostStore(c)], close: async () => undefined };
});
