import { PgliteSqlClient } from '../../../supernode/store/pglite-sql-client.ts';
import { migrate } from '../../../supernode/store/migrator.ts';
import { SqlLeaseStore } from '../../../supernode/cluster/sql-lease-store.ts';
import { describeLeaseStoreConformance } from '../../shared/lease-store-conformance.ts';

// PGlite has one session, so the racing tests here serialise; real concurrency is exercised
// on PostgreSQL (test/integration/cluster). What this run shows is that the same SQL works.
describeLeaseStoreConformance('pglite', async () => {
  const client = await PgliteSqlClient.open('memory://');
  await migrate(client);
  const store = new SqlLeaseStore(client);
  return { handles: [store], close: () => client.close() };
});
