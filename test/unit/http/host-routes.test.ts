import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../../supernode/http/server.ts';
import { createMetrics } from '../../../supernode/metrics.ts';
import { registerHostRoutes } from '../../../supernode/http/routes/host-routes.ts';
import { MemoryHostStore } from '../../../supernode/hosts/memory-host-store.ts';
import type { HostAnnouncement, HostList } from '../../../core/wire/host-api.ts';

const token = 'the-cluster-token';
const TTL = 1000;
const auth = { authorization: `Bearer ${token}` };
const body = (over: Partial<HostAnnouncement> = {}): HostAnnouncement => ({
  hostname: 'node-a', uploadAddress: '127.0.0.1:65002', proxyPort: 65001, freeDiskBytes: 123_456_789_012, totalDiskBytes: 2e12, version: '0.1.0', ...over,
});

/**
 * The host routes on the real app (token gate, zod, problem+json) over a memory store with a
 * clock of the test's: liveness is checked by moving the clock, not by sleeping.
 */
describe('host routes', () => {
  let app: App;
  let now: number;
  let store: MemoryHostStore;

  beforeAll(async () => {
    store = new MemoryHostStore(() => now);
    const metrics = createMetrics({ liveHosts: () => store.countLive(TTL) });
    app = await createApp({ logger: pino({ level: 'silent' }), metrics, token });
    registerHostRoutes(app, store, { ttlMs: TTL, limits: { maxHosts: 5, forgetAfterMs: 10 * TTL } });
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
  });
  beforeEach(async () => {
    now = 1_700_000_000_000;
    for (const h of await store.list({ ttlMs: 1, seenWithinMs: 1e12, limit: 100 })) await store.remove(h.hostId);
  });

  const put = (hostId: string, payload: unknown, headers: Record<string, string> = auth) =>
    app.inject({ method: 'PUT', url: `/api/v1/hosts/${hostId}`, headers, payload: payload as object });
  const list = async (query = '') => {
    const res = await app.inject({ method: 'GET', url: `/api/v1/hosts${query}`, headers: auth });
    expect(res.statusCode).toBe(200);
    return res.json<HostList>();
  };

  it('needs the cluster token on every host route', async () => {
    for (const [method, url] of [['PUT', '/api/v1/hosts/h1'], ['DELETE', '/api/v1/hosts/h1'], ['GET', '/api/v1/hosts']] as const) {
      for (const headers of [{}, { authorization: 'Bearer wrong' }]) {
        const res = await app.inject({ method, url, headers, ...(method === 'PUT' ? { payload: body() } : {}) });
        expect(res.statusCode, `${method} ${url}`).toBe(401);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      }
    }
    expect((await list()).hosts).toEqual([]);
  });

  it('registers a host, lists it with its ports, disk and times, and a heartbeat refreshes it', async () => {
    const first = await put('host-a', body());
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ hostId: 'host-a', ip: '127.0.0.1', uploadPort: 65002, proxyPort: 65001, alive: true });
    now += 600;
    expect((await put('host-a', body({ freeDiskBytes: 99 }))).statusCode).toBe(200);
    const { hosts, ttlMs, next } = await list();
    expect(ttlMs).toBe(TTL);
    expect(next).toBeUndefined();
    expect(hosts).toEqual([{
      hostId: 'host-a', hostname: 'node-a', ip: '127.0.0.1', uploadPort: 65002, uploadAddress: '127.0.0.1:65002', proxyPort: 65001,
      freeDiskBytes: 99, totalDiskBytes: 2e12, version: '0.1.0',
      registeredAt: new Date(1_700_000_000_000).toISOString(), lastSeen: new Date(1_700_000_000_600).toISOString(), alive: true,
    }]);
  });

  it('puts the address the announcement came from in front of the declared upload port', async () => {
    // app.inject comes from 127.0.0.1: a declared non-loopback host is not believed (docs/security.md).
    const res = await put('host-b', body({ uploadAddress: '10.9.8.7:7000', proxyPort: undefined, version: undefined }));
    expect(res.json()).toMatchObject({ ip: '127.0.0.1', uploadPort: 7000, uploadAddress: '127.0.0.1:7000', proxyPort: null, version: null });
  });

  it('drops a host from the list once it misses the TTL, and lists it as stale with all=true', async () => {
    await put('quiet', body());
    now += TTL - 1;
    await put('chatty', body());
    expect((await list()).hosts.map((h) => h.hostId)).toEqual(['chatty', 'quiet']);
    now += 1;
    expect((await list()).hosts.map((h) => h.hostId)).toEqual(['chatty']);
    expect((await list('?all=true')).hosts.map((h) => [h.hostId, h.alive])).toEqual([['chatty', true], ['quiet', false]]);
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/^damselfly_hosts_live 1$/m);
  });

  it('removes a host on DELETE, and DELETE of an unknown host is no error', async () => {
    await put('leaving', body());
    await put('staying', body());
    for (let i = 0; i < 2; i++) {
      const res = await app.inject({ method: 'DELETE', url: '/api/v1/hosts/leaving', headers: auth });
      expect(res.statusCode).toBe(204);
      expect(res.body).toBe('');
    }
    expect((await list('?all=true')).hosts.map((h) => h.hostId)).toEqual(['staying']);
  });

  it('pages with limit and next', async () => {
    for (const id of ['e', 'a', 'd', 'c', 'b']) await put(id, body());
    const first = await list('?limit=2');
    expect(first.hosts.map((h) => h.hostId)).toEqual(['a', 'b']);
    expect(first.next).toBe('b');
    const second = await list(`?limit=2&after=${first.next}`);
    expect(second.hosts.map((h) => h.hostId)).toEqual(['c', 'd']);
    const last = await list(`?limit=2&after=${second.next}`);
    expect(last).toMatchObject({ hosts: [{ hostId: 'e' }] });
    expect(last.next).toBeUndefined();
  });

  it('answers 503 problem+json with Retry-After to a new host beyond the cap, and still takes heartbeats', async () => {
    for (const id of ['h1', 'h2', 'h3', 'h4', 'h5']) expect((await put(id, body())).statusCode).toBe(200);
    const refused = await put('h6', body());
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.json()).toMatchObject({ code: 'DF_ERR_UNAVAILABLE' });
    expect((await put('h3', body())).statusCode).toBe(200);
  });

  it('refuses malformed ids, bodies and queries with 400 problem+json, storing nothing', async () => {
    const bad: Array<[string, unknown]> = [
      ['has%20space', body()],
      ['slash%2Fin', body()],
      ['x'.repeat(201), body()],
      ['ok', { ...body(), uploadAddress: undefined }],
      ['ok', body({ uploadAddress: '[[[:::99999' })],
      ['ok', body({ uploadAddress: 'host:0' })],
      ['ok', body({ uploadAddress: 'no-port' })],
      ['ok', body({ proxyPort: 70000 })],
      ['ok', body({ freeDiskBytes: -1 })],
      ['ok', body({ totalDiskBytes: 1.5 })],
      ['ok', body({ freeDiskBytes: 2 ** 53 })],
      ['ok', body({ hostname: '' })],
      ['ok', body({ hostname: 'a'.repeat(254) })],
      ['ok', body({ hostname: 'nul\u0000' })],
      ['ok', body({ version: 'v'.repeat(65) })],
      ['ok', [body()]],
    ];
    for (const [id, payload] of bad) {
      const res = await put(id, payload);
      expect(res.statusCode, `${id} ${JSON.stringify(payload)}`).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    for (const query of ['?limit=0', '?limit=1001', '?all=yes', '?after=bad%20id']) {
      const res = await app.inject({ method: 'GET', url: `/api/v1/hosts${query}`, headers: auth });
      expect(res.statusCode, query).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    expect((await list('?all=true')).hosts).toEqual([]);
  });
});
