import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { THREE_REPLICAS, useChaosCluster } from './chaos-cluster.ts';
import { seededRandom } from './seeded-random.ts';

const KILLS = 3;
const title = 'chaos: kill -9 of the busy task\'s owner, repeatedly, at random moments';

describe(title, () => {
  const c = useChaosCluster('kill-owner', THREE_REPLICAS);

  it('loses no acknowledged report, keeps one writer per epoch, and every copy is identical', async () => {
    const random = seededRandom('kill-owner');
    // One kill in each third of the download (10–75 %), at a random point within it.
    const points = Array.from({ length: KILLS }, (_, k) => 0.1 + k * 0.22 + random.between(0, 0.12));
    await c.startPeers();
    const restarts = new Map<string, Promise<void>>();
    for (const point of points) {
      // The origin at 1 MiB/s makes the seed last ~24 s, so every kill lands mid-download.
      await c.waitProgress(point);
      await sleep(random.between(0, 1000));
      const owner = await c.waitOwner('the task to have a running owner', (o) => o.owner !== null && c.answering().some((r) => r.id === o.owner));
      const victim = c.replica(owner.owner!);
      await restarts.get(victim.id); // back from its previous kill (it may own the shard again)
      console.log(`[chaos kill-owner] kill -9 ${victim.id} (epoch ${owner.epoch}, shard ${owner.shard}) at ${Math.round(c.progress() * 100)}%`);
      await victim.kill9();
      const next = await c.waitOwner(`another replica to take over from ${victim.id}`, (o) => o.owner !== null && o.owner !== victim.id && o.epoch > owner.epoch);
      console.log(`[chaos kill-owner] ${next.owner} took over with epoch ${next.epoch}`);
      // The victim comes back as the same replica at the same address, like a restarted pod;
      // meanwhile the download goes on towards the next kill.
      const delay = random.between(500, 2500);
      restarts.set(victim.id, sleep(delay).then(() => victim.start()));
    }
    await Promise.all(restarts.values());
    await c.finishPeers();
    const report = await c.check();
    // Every kill shows in the stream as a takeover: a new epoch opened by OwnershipAcquired.
    expect(report.stats.epochs.filter((e) => e.replicaId !== undefined).length).toBeGreaterThanOrEqual(KILLS);
  });
});
