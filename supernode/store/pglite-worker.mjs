// The embedded store's engine thread: PGlite (PostgreSQL in WASM) runs here, off the
// supernode's event loop, so its CPU time never delays HTTP, the CDN's streams or timers.
// Plain JavaScript: workers do not inherit the main thread's TypeScript loader.
// Protocol: {id, op: 'query'|'exec'|'close', text?, params?, name?} → {id, rows} | {id, error}.
// Requests are handled one at a time, in order (the client serialises transactions).
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';

const db = await PGlite.create(workerData.dataDir);

// Named statements (SqlQueryable.query's `name`): PGlite's query() parses and plans its text on
// every call, which for the append statement was most of its cost (measured: 2.8 ms of CPU a
// one-event append, 1.3 ms as a prepared statement). PGlite has no API for a named extended-
// protocol statement, so the SQL-level PREPARE/EXECUTE is used, with the parameters as quoted
// literals: 'unknown'-typed literals take the types PREPARE inferred, exactly as unnamed
// parameters of the extended protocol do. Quoting by doubling ' is exact only while
// standard_conforming_strings is on (the default), so that is checked, and a call whose
// parameters are not all plain scalars takes the unprepared path.
const conforming = (await db.query('SHOW standard_conforming_strings')).rows[0]?.standard_conforming_strings === 'on';
const prepared = new Map(); // name → text
const NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function literal(v) {
  if (v === null || v === undefined) return 'NULL';
  return `'${String(v).replaceAll("'", "''")}'`;
}

function preparable(name, params) {
  return conforming && typeof name === 'string' && NAME.test(name) && params.every((v) => v === null || v === undefined || ['string', 'number', 'boolean', 'bigint'].includes(typeof v));
}

async function query(text, params = [], name) {
  if (!preparable(name, params)) return (await db.query(text, params)).rows;
  const known = prepared.get(name);
  if (known === undefined) {
    await db.query(`PREPARE ${name} AS ${text}`);
    prepared.set(name, text);
  } else if (known !== text) {
    throw new Error(`statement name ${name} was prepared for another text`);
  }
  const args = params.length > 0 ? `(${params.map(literal).join(', ')})` : '';
  return (await db.query(`EXECUTE ${name}${args}`)).rows;
}

let queue = Promise.resolve();

parentPort.on('message', (m) => {
  queue = queue.then(async () => {
    try {
      if (m.op === 'query') parentPort.postMessage({ id: m.id, rows: await query(m.text, m.params, m.name) });
      else if (m.op === 'exec') parentPort.postMessage({ id: m.id, rows: (await db.exec(m.text), []) });
      else if (m.op === 'close') {
        await db.close();
        parentPort.postMessage({ id: m.id, rows: [] });
      }
    } catch (err) {
      const e = err ?? {};
      parentPort.postMessage({
        id: m.id,
        error: { message: String(e.message ?? e), code: e.code, detail: e.detail, constraint: e.constraint, table: e.table, schema: e.schema },
      });
    }
  });
});
parentPort.postMessage({ ready: true });
