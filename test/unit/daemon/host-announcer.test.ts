import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLog, type LogSink } from '../../../edge/log/log-sink.ts';
import { startHostAnnouncer, type HostAnnouncer } from '../../../peer/daemon/host-announcer.ts';
import { loadHostId } from '../../../peer/daemon/host-id.ts';
import { registerHostRoutes } from '../../../supernode/http/routes/host-routes.ts';
import { createApp, type App } from '../../../supernode/http/server.ts';
import { MemoryHostStore } from '../../../supernode/hosts/memory-host-store.ts';
import { createMetrics } from '../../../supernode/metrics.ts';

const token = 'tok';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const LONG = 60_000;

/** Warnings a test can count (the announcer's are rate-limited). */
function recordingLog(): LogSink & { warnings: string[] } {
  const warnings: string[] = [];
  return { ...silentLog, warn: (obj, msg) => void warnings.push(`${msg} ${JSON.stringify(obj)}`), warnings };
}

async function until(what: string, check: () => Promise<boolean>, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(20)) if (await check()) return;
  throw new Error(`timed out waiting until ${what}`);
}

/**
 * The daemon's side of the host registry against the real host routes (memory store) on
 * loopback: identity kept in the data dir, heartbeats, failover between nodes, the token, and
 * a supernode that is down or silent never holding the daemon up.
 */
describe('host announcer', () => {
  let dir: string;
  let app: App;
  let node: string;
  const store = new MemoryHostStore();
  const announcers: HostAnnouncer[] = [];
  const hostIds = async () => (await store.list({ ttlMs: LONG, seenWithinMs: LONG, limit: 100 })).map((h) => h.hostId);
  /** An announcer over a data dir of its own (`name`), stopped after the test. */
  const start = async (o: Partial<Parameters<typeof startHostAnnouncer>[0]> & { name: string }) => {
    mkdirSync(join(dir, o.name));
    const hostId = await loadHostId(join(dir, o.name), o.hostname ?? 'test-box', silentLog);
    const a = startHostAnnouncer({ nodes: [node], token, hostId, dataDir: join(dir, o.name), uploadAddress: '127.0.0.1:65002', proxyPort: 65001, intervalMs: 50, logger: silentLog, ...o });
    announcers.push(a);
    return a;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'df-announcer-'));
    app = await createApp({ logger: pino({ level: 'silent' }), metrics: createMetrics(), token });
    registerHostRoutes(app, store);
    await app.listen({ port: 0, host: '127.0.0.1' });
    node = `127.0.0.1:${(app.server.address() as { port: number }).port}`;
  });
  afterEach(async () => {
    await Promise.all(announcers.splice(0).map((a) => a.stop()));
  });
  afterAll(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the host id in the data dir: the same after a restart, another in another dir, a new one for a corrupt file', async () => {
    for (const d of ['id1', 'id2', 'id3']) mkdirSync(join(dir, d));
    const first = await loadHostId(join(dir, 'id1'), 'my box.local', silentLog);
    expect(first).toMatch(/^my-box\.local-[0-9a-f]{12}$/);
    expect(readFileSync(join(dir, 'id1', 'host-id'), 'utf8').trim()).toBe(first);
    expect(await loadHostId(join(dir, 'id1'), 'renamed', silentLog)).toBe(first);
    expect(await loadHostId(join(dir, 'id2'), 'my box.local', silentLog)).not.toBe(first);
    writeFileSync(join(dir, 'id3', 'host-id'), 'not/valid id\n');
    const log = recordingLog();
    const fresh = await loadHostId(join(dir, 'id3'), 'x', log);
    expect(fresh).toMatch(/^x-[0-9a-f]{12}$/);
    expect(log.warnings).toHaveLength(1);
  });

  it('announces at once and on every heartbeat with the disk of its data dir, and leaves on stop', async () => {
    const a = await start({ name: 'beat', hostname: 'beat-box' });
    await until('announced', async () => (await hostIds()).includes(a.hostId));
    const [first] = (await store.list({ ttlMs: LONG, seenWithinMs: LONG, limit: 100 })).filter((h) => h.hostId === a.hostId);
    expect(first).toMatchObject({ hostname: 'beat-box', uploadAddress: '127.0.0.1:65002', proxyPort: 65001 });
    expect(first!.freeDiskBytes).toBeGreaterThan(0);
    expect(first!.totalDiskBytes).toBeGreaterThanOrEqual(first!.freeDiskBytes);
    await until('a heartbeat', async () => (await store.list({ ttlMs: LONG, seenWithinMs: LONG, limit: 100 })).some((h) => h.hostId === a.hostId && h.lastSeen > first!.lastSeen));
    await a.stop();
    expect(await hostIds()).not.toContain(a.hostId);
  });

  it('fails over to the next node when the first is down', async () => {
    const a = await start({ name: 'failover', nodes: ['127.0.0.1:1', node] });
    await until('announced through the second node', async () => (await hostIds()).includes(a.hostId));
  });

  it('warns (once a minute at most) when refused, e.g. without the token, and never throws', async () => {
    const log = recordingLog();
    const a = await start({ name: 'notoken', token: undefined, logger: log });
    await sleep(400);
    expect(await hostIds()).not.toContain(a.hostId);
    expect(log.warnings).toHaveLength(1);
    expect(log.warnings[0]).toMatch(/could not announce the host.*401 DF_ERR_UNAUTHORIZED/);
  });

  it('neither holds the start nor the stop on a supernode that accepts connections and never answers', async () => {
    mkdirSync(join(dir, 'silent'));
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    try {
      const log = recordingLog();
      const began = Date.now();
      const a = startHostAnnouncer({ nodes: [`127.0.0.1:${(silent.address() as { port: number }).port}`], hostId: 'silent-host', dataDir: join(dir, 'silent'), uploadAddress: '127.0.0.1:65002', logger: log });
      expect(Date.now() - began).toBeLessThan(1000);
      const stopping = Date.now();
      await a.stop();
      // LEAVE_WITHIN_MS (3 s) is the bound, whatever the client's own timeouts are.
      expect(Date.now() - stopping).toBeLessThan(3800);
      expect(log.warnings.join('\n')).toMatch(/could not tell a supernode the host leaves/);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });
});
