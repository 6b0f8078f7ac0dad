import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { MAX_FILE_SIZE } from '../../../core/pieces/index.ts';
import { startSupernode, type RunningSupernode } from '../../../supernode/supernode.ts';
import { parseSupernodeConfig } from '../../../supernode/config.ts';
import { databaseUrl } from '../../shared/env.ts';
import { freshDatabase } from '../../../bench/cluster/fresh-database.ts';
import { startTestOrigin } from '../../shared/origin.ts';

const token = 'bounds-token';

/**
 * An origin that announces any length on HEAD (the path says which) and cuts every GET: all a
 * supernode may learn from it is the length, and what it does with a length is the test.
 */
async function announcingOrigin(): Promise<{ url: (length: number) => string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'HEAD') return void res.destroy();
    res.writeHead(200, { 'content-length': (req.url ?? '/0').slice(1), 'accept-ranges': 'bytes', etag: '"big"' }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (length) => `http://127.0.0.1:${port}/${length}`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/**
 * Issue 12, findings 2 and 4, through the real HTTP API of a supernode on PostgreSQL: bad input
 * is a 400 problem naming the field (PostgreSQL refused NUL and unpaired surrogates at the
 * append, a 500), and an origin announcing a huge file fails its task with
 * DF_ERR_FILE_TOO_LARGE while the supernode serves on (it laid out ~5·10⁸ pieces and died).
 */
describe('input bounds on a real supernode (PostgreSQL)', () => {
  let node: RunningSupernode;
  let dir: string;
  let db: { url: string; drop: () => Promise<void> };
  let origin: Awaited<ReturnType<typeof startTestOrigin>>;
  let big: Awaited<ReturnType<typeof announcingOrigin>>;

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`http://${node.address}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: text ? JSON.parse(text) : null };
  };

  /** The 400 problem a body earns, with the field it must name. */
  const expectRefused = async (path: string, body: unknown, field: string, method = 'POST') => {
    const res = await call(method, path, body);
    expect(res, JSON.stringify(res.body)).toMatchObject({ status: 400, body: { code: 'DF_ERR_VALIDATION', status: 400 } });
    expect(res.type).toContain('application/problem+json');
    expect(res.body.detail).toContain(field);
    return res.body.detail as string;
  };

  const settled = async (taskId: string) => {
    for (let i = 0; i < 200; i++) {
      const view = await call('GET', `/api/v1/tasks/${taskId}`);
      if (view.body.status === 'failed' || view.body.status === 'seeded') return view.body;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`task ${taskId} never settled`);
  };

  beforeAll(async () => {
    db = await freshDatabase(databaseUrl(), 'sn_bounds');
    dir = mkdtempSync(join(tmpdir(), 'df-bounds-'));
    origin = await startTestOrigin(512 * 1024 + 3);
    big = await announcingOrigin();
    node = await startSupernode(parseSupernodeConfig({ port: '0', dataDir: dir, databaseUrl: db.url, logLevel: 'warn' }, { DAMSELFLY_TOKEN: token }), pino({ level: 'warn' }));
  });

  afterAll(async () => {
    await node?.stop();
    await db?.drop();
    await origin?.close();
    await big?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const BAD = { 'a NUL': 'x\u0000y', 'a lone high surrogate': 'x\uD800y', 'a lone low surrogate': 'x\uDC00y' };

  for (const [what, bad] of Object.entries(BAD)) {
    it(`answers ${what} in url, identifier or filter with 400 naming the field, never 500`, async () => {
      const detail = await expectRefused('/api/v1/tasks', { url: `${origin.url}?q=${bad}` }, '/url');
      expect(detail).toMatch(/NUL.*surrogate/);
      await expectRefused('/api/v1/tasks', { url: origin.url, identifier: `id-${bad}` }, '/identifier');
      await expectRefused('/api/v1/tasks', { url: origin.url, filter: ['sig', bad] }, '/filter/1');
    });
  }

  it('answers a NUL or a lone surrogate in a leave reason with 400 naming the field, and the peer can still leave', async () => {
    const task = await call('POST', '/api/v1/tasks', { url: origin.url });
    expect(task.status).toBe(200);
    const { taskId } = task.body;
    expect((await call('POST', `/api/v1/tasks/${taskId}/peers`, { peerId: 'p1', hostId: 'h1', address: '127.0.0.1:9' })).status).toBe(200);
    for (const bad of Object.values(BAD)) await expectRefused(`/api/v1/tasks/${taskId}/peers/p1`, { outcome: 'failed', reason: `disk ${bad}` }, '/reason', 'DELETE');
    expect((await call('DELETE', `/api/v1/tasks/${taskId}/peers/p1`, { outcome: 'failed', reason: 'disk full 😀' })).status).toBe(204);
  });

  it('bounds origin headers: count, total bytes, names that are tokens, values without control characters', async () => {
    const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`x-h${i}`, 'v']));
    expect(await expectRefused('/api/v1/tasks', { url: origin.url, headers: many }, '/headers')).toContain('at most 64 headers');
    const heavy = { 'x-a': 'v'.repeat(8192), 'x-b': 'v'.repeat(8192) };
    expect(await expectRefused('/api/v1/tasks', { url: origin.url, headers: heavy }, '/headers')).toContain('at most 16384 bytes');
    await expectRefused('/api/v1/tasks', { url: origin.url, headers: { 'x a': 'v' } }, '/headers/x a');
    await expectRefused('/api/v1/tasks', { url: origin.url, headers: { 'x-a': 'v\r\nInjected: 1' } }, '/headers/x-a');
    await expectRefused('/api/v1/tasks', { url: origin.url, headers: { 'x-a': 'v\u0000' } }, '/headers/x-a');
  });

  it.each([
    ['Content-Length 9007199254740991 (2^53 - 1)', Number.MAX_SAFE_INTEGER],
    ['one byte more than 1 TiB', MAX_FILE_SIZE + 1],
  ])('fails the task of an origin announcing %s with DF_ERR_FILE_TOO_LARGE, and serves on', async (_what, length) => {
    const task = await call('POST', '/api/v1/tasks', { url: big.url(length) });
    expect(task.status).toBe(200);
    const view = await settled(task.body.taskId);
    expect(view).toMatchObject({ status: 'failed', pieceCount: null, contentLength: null });
    expect(view.failure).toContain('DF_ERR_FILE_TOO_LARGE');
    // The supernode is alive and still works: a normal task seeds.
    expect((await fetch(`http://${node.address}/healthy`)).status).toBe(200);
    const normal = await call('POST', '/api/v1/tasks', { url: origin.url, identifier: `after-${length}` });
    expect((await settled(normal.body.taskId)).status).toBe('seeded');
  });
});
