import { describe, expect, it } from 'vitest';
import { pollUntil } from '../e2e/swarm/swarm-fixture.ts';
import { THREE_REPLICAS, useChaosCluster, type ChaosCluster } from './chaos-cluster.ts';
import { unbalanced } from './cluster-api.ts';

const title = 'chaos: a replica added and one removed during the download (rebalance)';

/** Waits until an answering replica's view shows the shards spread evenly over exactly `live`. */
function balanced(c: ChaosCluster, live: string[]) {
  let last = 'no view yet';
  return pollUntil(`the shards to spread evenly over ${live.join(',')}`, async () => {
    for (const r of c.answering()) {
      const view = await c.clusterView(r).catch((err: Error) => void (last = err.message));
      if (!view) continue;
      const off = unbalanced(view, live);
      if (!off) return view;
      last = `${r.id}: ${off}`;
    }
    return undefined;
  }, 60_000, 500).catch((err: Error) => {
    throw new Error(`${err.message} (last: ${last})`);
  });
}

describe(title, () => {
  const c = useChaosCluster('rebalance', THREE_REPLICAS);

  it('moves shards without stopping the swarm, and the task survives both moves', async () => {
    await balanced(c, ['r1', 'r2', 'r3']);
    await c.startPeers();
    await c.waitProgress(0.25);
    const added = await c.addReplica();
    console.log(`[chaos rebalance] added ${added.id} at ${Math.round(c.progress() * 100)}%`);
    await balanced(c, ['r1', 'r2', 'r3', added.id]);

    await c.waitProgress(Math.max(0.5, c.progress() + 0.1));
    // Remove the task's owner, so the task itself has to move (cleanly: SIGTERM).
    const owner = await c.waitOwner('the task to have an owner', (o) => o.owner !== null);
    const removed = c.replica(owner.owner!);
    console.log(`[chaos rebalance] stopping ${removed.id} (owner, epoch ${owner.epoch}) at ${Math.round(c.progress() * 100)}%`);
    expect(await removed.stop(), `${removed.id}'s exit code after SIGTERM`).toBe(0);
    await c.waitOwner(`another replica to take over from ${removed.id}`, (o) => o.owner !== null && o.owner !== removed.id && o.epoch > owner.epoch);
    await balanced(c, ['r1', 'r2', 'r3', added.id].filter((id) => id !== removed.id));

    await c.finishPeers();
    await c.check();
  });
});
