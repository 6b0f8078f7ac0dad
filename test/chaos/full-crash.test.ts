import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { THREE_REPLICAS, useChaosCluster } from './chaos-cluster.ts';

/**
 * Issue 12, finding 8: every replica killed at once in the middle of the seed, then all
 * restarted. The shards land wherever the restarted replicas' leases put them, so the task may
 * change owner more than once; each new owner must get what another replica's CDN verified
 * from that CDN, not from the origin. The origin may send again only the bytes no CDN had
 * verified (recorded as seeded) when the cluster died.
 */
describe('chaos: kill -9 of every replica at once, mid-seed, then a restart', () => {
  const c = useChaosCluster('full-crash', THREE_REPLICAS);

  it('loses nothing acknowledged, and the origin resends only what no CDN had verified', async () => {
    await c.startPeers();
    await c.waitProgress(0.3);
    await c.waitOwner('the task to have an owner', (o) => o.owner !== null);
    console.log(`[chaos full-crash] kill -9 of all ${c.replicas.length} replicas at ${Math.round(c.progress() * 100)}%`);
    await Promise.all(c.replicas.map((r) => r.kill9()));
    const originAtKill = c.origin.bytesServed();
    const seededAtKill = (await c.events()).flatMap((e) => (e.event.type === 'PiecesSeeded' ? e.event.data.pieces : [])).reduce((n, p) => n + p.size, 0);
    const unverified = Math.max(0, originAtKill - seededAtKill);
    await sleep(1000);
    await Promise.all(c.replicas.map((r) => r.start()));
    await c.finishPeers();
    const report = await c.check({ extraOriginBytes: unverified });
    console.log(`[chaos full-crash] origin ${c.origin.bytesServed()} bytes for a file of ${THREE_REPLICAS.fileBytes}; at the kill it had sent ${originAtKill}, of which ${seededAtKill} verified by a CDN`);
    expect(report.stats.originBytes).toBeLessThanOrEqual(Math.ceil(THREE_REPLICAS.fileBytes * 1.02) + unverified);
  });
});
