import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSupernode, type RunningSupernode } from '../../../supernode/supernode.ts';
import { parseSupernodeConfig } from '../../../supernode/config.ts';
import { createLogger } from '../../../edge/log/logger.ts';
import { startDaemon, type RunningDaemon } from '../../../peer/daemon/daemon.ts';
import type { HostList } from '../../../core/wire/host-api.ts';

const token = 'host-registry-token';

/**
 * Issue 11's host registry end to end: a real supernode (embedded store, cluster token) and two
 * daemons side by side on one machine. Both are listed with their upload and proxy ports and
 * the free disk of their data dir; one that stops leaves the list at once; a restart on the
 * same data dir is the same host.
 */
describe('daemons register their hosts with the supernode', () => {
  let node: RunningSupernode;
  let dir: string;
  const running = new Set<RunningDaemon>();

  const daemon = async (name: string) => {
    const d = await startDaemon({
      nodes: [node.address], token, dataDir: join(dir, name), host: '127.0.0.1', port: 0, uploadPort: 0, announceIntervalMs: 200,
      cache: { highWatermark: 0.99, lowWatermark: 0.98, ttlMs: 3_600_000 }, gcIntervalMs: 60_000,
    });
    running.add(d);
    return d;
  };
  const stop = async (d: RunningDaemon) => {
    running.delete(d);
    await d.stop();
  };
  const hosts = async (query = '', authorization = `Bearer ${token}`) => {
    const res = await fetch(`http://${node.address}/api/v1/hosts${query}`, { headers: { authorization } });
    return { status: res.status, body: (await res.json()) as HostList };
  };
  const until = async (what: string, check: (l: HostList) => boolean) => {
    for (const end = Date.now() + 10_000; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
      const { body } = await hosts();
      if (check(body)) return body;
    }
    throw new Error(`timed out waiting until ${what}: ${JSON.stringify((await hosts()).body)}`);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'df-host-registry-'));
    const env = { DAMSELFLY_TOKEN: token };
    node = await startSupernode(parseSupernodeConfig({ port: '0', dataDir: join(dir, 'sn'), logLevel: 'silent' }, env), createLogger({ level: 'silent' }));
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled([...running].map((d) => d.stop()));
    await node?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists both daemons with their ports and disk, drops the one that stops, and keeps a restarted one\'s id', async () => {
    const [a, b] = [await daemon('a'), await daemon('b')];
    expect(a.hostId).not.toBe(b.hostId);
    const listed = await until('both hosts are listed', (l) => [a, b].every((d) => l.hosts.some((h) => h.hostId === d.hostId)));
    for (const d of [a, b]) {
      const h = listed.hosts.find((x) => x.hostId === d.hostId)!;
      expect(h).toMatchObject({ uploadAddress: d.uploadAddress, uploadPort: Number(d.uploadAddress.split(':').pop()), proxyPort: Number(d.address.split(':').pop()), alive: true });
      expect(h.freeDiskBytes).toBeGreaterThan(0);
      expect(h.totalDiskBytes).toBeGreaterThanOrEqual(h.freeDiskBytes);
      expect(Date.parse(h.lastSeen)).toBeGreaterThanOrEqual(Date.parse(h.registeredAt));
    }
    // The token gate covers the list.
    expect((await hosts('', 'Bearer wrong')).status).toBe(401);

    // A daemon that stops leaves at once: no waiting for the TTL (15 s).
    await stop(a);
    const after = (await hosts('?all=true')).body;
    expect(after.hosts.map((h) => h.hostId)).not.toContain(a.hostId);
    expect(after.hosts.map((h) => h.hostId)).toContain(b.hostId);

    // Restarted on its data dir, it is the same host again.
    const again = await daemon('a');
    expect(again.hostId).toBe(a.hostId);
    await until('the restarted host is listed', (l) => l.hosts.some((h) => h.hostId === a.hostId));

    const metrics = await fetch(`http://${node.address}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/^damselfly_hosts_live 2$/m);
  });
});
