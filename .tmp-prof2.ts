import pg from 'pg';
import { openPostgresEventStore } from './supernode/store/index.ts';
import { newEvents } from './test/shared/event-store-conformance.ts';
import { EVENT_COLUMNS } from './supernode/store/event-row.ts';
const url = process.env.DAMSELFLY_DATABASE_URL!;
const schema = `prof_${Date.now()}`;
const store = await openPostgresEventStore(url, { schema });
const c = new pg.Client({ connectionString: url, options: `-c search_path=${schema}` }); await c.connect();
const evs = Array.from({ length: 4000 }, () => newEvents(1));
const guard = 'INSERT INTO streams (stream_id, version, epoch) VALUES ($1, $3, $4) ON CONFLICT (stream_id) DO NOTHING RETURNING version';
const sql = (cols: string) => `WITH guard AS (${guard}),
         ins AS (
           INSERT INTO events (stream_id, version, event_id, type, schema_version, data, epoch)
           SELECT $1, $2 + e.ord, (e.v->>'eventId')::uuid, e.v->>'type', (e.v->>'schemaVersion')::int, e.v->'data', $4
           FROM guard, jsonb_array_elements($5::jsonb) WITH ORDINALITY AS e(v, ord)
           RETURNING *)
         SELECT ${cols} FROM ins ORDER BY version`;
await c.query('BEGIN');
let k = 0;
for (const [label, text, named] of [['full', sql(EVENT_COLUMNS), false], ['full named', sql(EVENT_COLUMNS), true], ['position only', sql('position'), false], ['position named', sql('position'), true]] as const) {
  const t = performance.now();
  for (let i = 0; i < 500; i++, k++) {
    const values = [`s${k}`, 0, 1, 1, JSON.stringify(evs[k])];
    await c.query(named ? { name: label, text, values } : { text, values });
  }
  console.log(label, ((performance.now() - t) / 500 * 1000).toFixed(1), 'µs');
}
await c.query('COMMIT');
const ex = await c.query(`EXPLAIN ANALYZE ${sql(EVENT_COLUMNS).replace('$5::jsonb', `'${JSON.stringify(evs[3999]).replace(/'/g, "''")}'::jsonb`).replace(/\$1/g, "'zz'").replace(/\$2/g, '0').replace(/\$3/g, '1').replace(/\$4/g, '1')}`);
console.log(ex.rows.map((r) => r['QUERY PLAN']).join('\n'));
await c.query(`DROP SCHEMA ${schema} CASCADE`); await c.end(); await store.close();
