// The embedded store's engine thread: PGlite (PostgreSQL in WASM) runs here, off the
// supernode's event loop, so its CPU time never delays HTTP, the CDN's streams or timers.
// Plain JavaScript: workers do not inherit the main thread's TypeScript loader.
// Protocol: {id, op: 'query'|'exec'|'close', text?, params?} → {id, rows} | {id, error}.
// Requests are handled one at a time, in order (the client serialises transactions).
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';

const db = await PGlite.create(workerData.dataDir);
let queue = Promise.resolve();

parentPort.on('message', (m) => {
  queue = queue.then(async () => {
    try {
      if (m.op === 'query') parentPort.postMessage({ id: m.id, rows: (await db.query(m.text, m.params)).rows });
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
