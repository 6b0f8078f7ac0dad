import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { useChaosCluster } from './chaos-cluster.ts';
import { clusterScenariosEnabled, PENDING } from './cluster-wired.ts';
import { seededRandom } from './seeded-random.ts';

const MiB = 1024 * 1024;
const SIZE = 24 * MiB;
const KILLS = 3;
/**
 * Origin bytes a takeover may add: CDN pieces that lived only on the dead owner's disk (seeded,
 * not yet fetched by any peer) are fetched again. With the origin at 2 MiB/s and peers pulling
 * each seeded piece within about a second, that is well under 4 MiB (16 pieces) per kill.
 */
const PER_TAKEOVER = 4 * MiB;
const title = 'chaos: kill -9 of the busy task\'s owner, repeatedly, at random moments';

describe.skipIf(!clusterScenariosEnabled())(clusterScenariosEnabled() ? title : `${title} [${PENDING}]`, () => {
  const c = useChaosCluster('kill-owner', { replicas: 3, peers: 6, fileBytes: SIZE, originRate: 2 * MiB, cdnUploadRate: '4MiB', peerUpload: '1MiB' });

  it('loses no acknowledged report, keeps one writer per epoch, and every copy is identical', async () => {
    const random = seededRandom('kill-owner');
    // One kill in each third of the download (10–75 %), at a random point within it.
    const points = Array.from({ length: KILLS }, (_, k) => 0.1 + k * 0.22 + random.between(0, 0.12));
    await c.startPeers();
    for (const point of points) {
      await c.waitProgress(point);
      await sleep(random.between(0, 1000));
      const owner = await c.waitOwner('the task to have a running owner', (o) => o.owner !== null && c.answering().some((r) => r.id === o.owner));
      const victim = c.replica(owner.owner!);
      console.log(`[chaos kill-owner] kill -9 ${victim.id} (epoch ${owner.epoch}, shard ${owner.shard}) at ${Math.round(c.progress() * 100)}%`);
      await victim.kill9();
      const next = await c.waitOwner(`another replica to take over from ${victim.id}`, (o) => o.owner !== null && o.owner !== victim.id && o.epoch > owner.epoch);
      console.log(`[chaos kill-owner] ${next.owner} took over with epoch ${next.epoch}`);
      // The victim comes back as the same replica at the same address, like a restarted pod.
      await sleep(random.between(500, 2500));
      await victim.start();
    }
    await c.finishPeers();
    const report = await c.check({ maxOriginBytes: Math.ceil(SIZE * 1.02) + KILLS * PER_TAKEOVER });
    // Every kill shows in the stream as a takeover: a new epoch opened by OwnershipAcquired.
    expect(report.stats.epochs.filter((e) => e.replicaId !== undefined).length).toBeGreaterThanOrEqual(KILLS);
  });
});
