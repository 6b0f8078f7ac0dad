import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { piecePath } from '../../../core/wire/peer-api.ts';
import { CdnStore } from '../../../supernode/cdn/cdn-store.ts';
import { pieceRoute, type PieceRouteOptions } from '../../../supernode/cdn/piece-route.ts';
import { createThrottle } from '../../../edge/rate/throttle.ts';
import { generatedContent, sha256 } from './test-origin.ts';

const TASK = sha256(Buffer.from('piece-route-task'));
const PIECE0 = generatedContent(100_000, 7);

let dir: string;
let store: CdnStore;
let app: FastifyInstance;

/** The store that serves: the one that wrote the piece (it keeps it in memory), or a fresh one keeping nothing (it reads the file). */
async function storeServing(from: 'memory' | 'disk'): Promise<CdnStore> {
  const writer = new CdnStore(dir);
  await mkdir(writer.taskDir(TASK), { recursive: true });
  await writer.writePiece(TASK, 0, [PIECE0]);
  return from === 'memory' ? writer : new CdnStore(dir, 0);
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'df-cdn-route-'));
});
afterEach(async () => {
  await app?.close();
  await rm(dir, { recursive: true, force: true });
});

async function serve(o: Partial<PieceRouteOptions> = {}): Promise<FastifyInstance> {
  app = Fastify();
  await app.register(pieceRoute, { store, ...o });
  await app.ready();
  return app;
}

describe.each(['memory', 'disk'] as const)('GET /pieces/:taskId/:piece, served from %s', (from) => {
  beforeEach(async () => {
    store = await storeServing(from);
    expect(store.hotPiece(TASK, 0) !== undefined).toBe(from === 'memory');
  });

  it('serves a stored piece whole (200) on the path peers use', async () => {
    await serve();
    const res = await app.inject({ method: 'GET', url: piecePath(TASK, 0) });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-length']).toBe('100000');
    expect(res.headers['accept-ranges']).toBe('bytes');
    expect(res.rawPayload.equals(PIECE0)).toBe(true);
  });

  it('serves a Range (206) with Content-Range', async () => {
    await serve();
    const res = await app.inject({ method: 'GET', url: piecePath(TASK, 0), headers: { range: 'bytes=1000-1999' } });
    expect(res.statusCode).toBe(206);
    expect(res.headers['content-range']).toBe('bytes 1000-1999/100000');
    expect(res.rawPayload.equals(PIECE0.subarray(1000, 2000))).toBe(true);
    const tail = await app.inject({ method: 'GET', url: piecePath(TASK, 0), headers: { range: 'bytes=-10' } });
    expect(tail.rawPayload.equals(PIECE0.subarray(-10))).toBe(true);
  });

  it('answers 416 for a range past the end', async () => {
    await serve();
    const res = await app.inject({ method: 'GET', url: piecePath(TASK, 0), headers: { range: 'bytes=100000-' } });
    expect(res.statusCode).toBe(416);
    expect(res.headers['content-range']).toBe('bytes */100000');
    expect(res.json()).toMatchObject({ code: 'DF_ERR_RANGE_NOT_SATISFIABLE' });
  });

  it('answers 404 problem+json for an unknown piece or task', async () => {
    await serve();
    for (const url of [piecePath(TASK, 1), piecePath(sha256(Buffer.from('other')), 0)]) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(404);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.json()).toMatchObject({ code: 'DF_ERR_NOT_FOUND', status: 404 });
    }
  });

  it.each([
    `/pieces/${TASK.toUpperCase()}/0`,
    '/pieces/abc/0',
    `/pieces/${TASK}/-1`,
    `/pieces/${TASK}/1.5`,
    `/pieces/${TASK}/01`,
    `/pieces/${TASK}/meta.json`,
    `/pieces/${TASK}/0%2F..%2F..%2Fmeta.json`,
    '/pieces/..%2F..%2F..%2Fetc%2Fpasswd/0',
    `/pieces/${TASK}/%30`, // issue 12, finding 7: a percent-encoded piece number was decoded and served
    `/pieces/%${TASK.charCodeAt(0).toString(16)}${TASK.slice(1)}/0`, // the same task id, its first digit percent-encoded
  ])('answers 400 for %s and never touches the filesystem for it', async (url) => {
    await writeFile(join(store.taskDir(TASK), 'meta.json'), '{"secret":"not for peers"}');
    await serve();
    const res = await app.inject({ method: 'GET', url });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'DF_ERR_VALIDATION' });
    expect(res.body).not.toContain('not for peers');
  });

  it('refuses beyond its slots with 503 and Retry-After, and frees the slot when a response ends', async () => {
    await serve({ slots: 1, retryAfterMs: 2000, throttle: createThrottle(200_000, { burstBytes: 64 * 1024 }) });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const slow = await request(`${base}${piecePath(TASK, 0)}`);
    expect(slow.statusCode).toBe(200);
    const refused = await request(`${base}${piecePath(TASK, 0)}`);
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('2');
    expect(await refused.body.json()).toMatchObject({ code: 'DF_ERR_UNAVAILABLE' });
    expect(Buffer.from(await slow.body.arrayBuffer()).equals(PIECE0)).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    const again = await request(`${base}${piecePath(TASK, 0)}`);
    expect(again.statusCode).toBe(200);
    await again.body.arrayBuffer();
  });

  it('frees a slot however a response ends (whole, ranged, or refused)', async () => {
    await serve({ slots: 1 });
    for (const range of [undefined, 'bytes=0-9', 'bytes=999999-', undefined]) {
      const res = await app.inject({ method: 'GET', url: piecePath(TASK, 0), headers: range ? { range } : {} });
      expect(res.statusCode).not.toBe(503);
    }
  });

  it('holds every response together to the upload rate cap', async () => {
    const rate = 400_000; // bytes/s; 4 × 100 kB = 400 kB ≈ 1 s beyond the 64 KiB burst
    await serve({ slots: 8, throttle: createThrottle(rate, { burstBytes: 64 * 1024 }) });
    const started = performance.now();
    const all = await Promise.all([0, 1, 2, 3].map(() => app.inject({ method: 'GET', url: piecePath(TASK, 0) })));
    const seconds = (performance.now() - started) / 1000;
    for (const res of all) expect(res.rawPayload.equals(PIECE0)).toBe(true);
    const floor = (4 * PIECE0.length - 64 * 1024) / rate;
    // Only a lower bound, loosely: a loaded machine may be slower, never faster than the cap.
    expect(seconds).toBeGreaterThan(floor * 0.8);
  });
});
