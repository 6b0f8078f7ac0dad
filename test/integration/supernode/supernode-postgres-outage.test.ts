import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSupernodeConfig } from '../../../supernode/config.ts';
import { createLogger } from '../../../edge/log/logger.ts';
import { startSupernode, type RunningSupernode } from '../../../supernode/supernode.ts';
import { databaseUrl } from '../../shared/env.ts';
import { startTestOrigin } from '../../shared/origin.ts';
import { startTcpProxy, viaProxy, type TcpProxy } from '../../../bench/harness/tcp-proxy.ts';
import { freshDatabase } from '../../../bench/cluster/fresh-database.ts';

/**
 * The supernode's API while its PostgreSQL is unreachable (a TCP proxy in between, cut and
 * restored; the shared server keeps running): 503 problem+json with Retry-After, not 500, and
 * back to normal by itself, without a restart, once the database is reachable again.
 */
describe('supernode API through a PostgreSQL outage', () => {
  let proxy: TcpProxy;
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let node: RunningSupernode;
  let origin: Awaited<ReturnType<typeof startTestOrigin>>;
  let dir: string;
  let base: string;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: body !== undefined ? { 'content-type': 'application/json' } : {},
      body: body === undefined ? undefined : JSON.stringify(body),
      // A command left unanswered must fail this test, not hang it (and the supernode's stop).
      signal: AbortSignal.timeout(20_000),
    });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type') ?? '', retryAfter: res.headers.get('retry-after'), body: text ? JSON.parse(text) : null };
  };
  const expect503 = (r: Awaited<ReturnType<typeof call>>) => {
    expect(r.status).toBe(503);
    expect(r.type).toContain('application/problem+json');
    expect(r.body.code).toBe('DF_ERR_UNAVAILABLE');
    expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(r.body.retryAfterMs).toBeGreaterThan(0);
  };

  beforeAll(async () => {
    db = await freshDatabase(databaseUrl(), 'sn_outage');
    const target = new URL(db.url);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
    dir = mkdtempSync(join(tmpdir(), 'df-sn-outage-'));
    origin = await startTestOrigin(256 * 1024);
    const config = parseSupernodeConfig({ port: '0', dataDir: dir, databaseUrl: viaProxy(db.url, proxy), logLevel: 'silent' }, {});
    node = await startSupernode(config, createLogger({ level: 'silent' }));
    base = `http://${node.address}`;
  });

  afterAll(async () => {
    await proxy?.restore();
    await node?.stop();
    await proxy?.close();
    await origin?.close();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 with Retry-After while the database is cut, and 200 again after it is back', async () => {
    proxy.cut();
    expect503(await call('GET', `/api/v1/tasks/${randomBytes(32).toString('hex')}`));
    expect503(await call('POST', '/api/v1/tasks', { url: origin.url }));
    // Health says the process is alive: a database outage is not a reason to restart it.
    expect((await call('GET', '/healthy')).status).toBe(200);

    await proxy.restore();
    const reg = await call('POST', '/api/v1/tasks', { url: origin.url });
    expect(reg.status).toBe(200);
    const view = await call('GET', `/api/v1/tasks/${reg.body.taskId}`);
    expect(view.status).toBe(200);
    expect(view.body.taskId).toBe(reg.body.taskId);
  });

  it('answers 503 for a command on a live task whose append fails, and takes the command once the database is back', async () => {
    const reg = await call('POST', '/api/v1/tasks', { url: origin.url });
    expect(reg.status).toBe(200);
    const taskId: string = reg.body.taskId;
    for (let i = 0; i < 400 && (await call('GET', `/api/v1/tasks/${taskId}`)).body.status !== 'seeded'; i++) await new Promise((r) => setTimeout(r, 25));
    expect((await call('GET', `/api/v1/tasks/${taskId}`)).body.status).toBe('seeded');

    // The task's actor is live (in memory): the join is decided, then its append fails.
    proxy.cut();
    expect503(await call('POST', `/api/v1/tasks/${taskId}/peers`, { peerId: 'p1', hostId: 'h1', address: '127.0.0.1:1' }));
    expect503(await call('POST', `/api/v1/tasks/${taskId}/peers`, { peerId: 'p2', hostId: 'h2', address: '127.0.0.1:2' }));

    await proxy.restore();
    const join = await call('POST', `/api/v1/tasks/${taskId}/peers`, { peerId: 'p1', hostId: 'h1', address: '127.0.0.1:1' });
    expect(join.status).toBe(200);
    const round = await call('POST', `/api/v1/tasks/${taskId}/peers/p1/rounds`, { ok: [], failed: [], want: 4 });
    expect(round.status).toBe(200);
  });
});
