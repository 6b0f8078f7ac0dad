import { SqlHostStore } from '../../../supernode/hosts/sql-host-store.ts';
import { migrate } from '../../../supernode/store/migrator.ts';
import { PgSqlClient } from '../../../supernode/store/pg-sql-client.ts';
import { databaseUrl } from '../../shared/env.ts';
import { useFreshSchemas } from '../../shared/fresh-schemas.ts';
import { describeHostStoreConformance } from '../../shared/host-store-conformance.ts';

// Every test file gets schemas of its own in the shared database, dropped at the end.
const freshSchema = useFreshSchemas('hosts_test');

/** Two "replicas" with a pool each on one schema: the racing test runs on real concurrent sessions. */
describeHostStoreConformance('postgres', async () => {
  const schema = freshSchema();
  const clients = [0, 1].map(() => new PgSqlClient(databaseUrl(), { schema, poolSize: 4 }));
  await migrate(clients[0]!, { schema });
  return { handles: clients.map((c) => new SqlHostStore(c)), close: async () => void (await Promise.all(clients.map((c) => c.close()))) };
});
