import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { pollUntil, TOKEN } from '../e2e/swarm/swarm-fixture.ts';
import { THREE_REPLICAS, useChaosCluster } from './chaos-cluster.ts';

const LEASE_TTL_MS = 2000;
/** Paused for three lease lifetimes at least: long past the point where another replica takes over. */
const PAUSE_MS = 3 * LEASE_TTL_MS;
const title = 'chaos: SIGSTOP of the owner for longer than its lease, then SIGCONT';

describe(title, () => {
  const c = useChaosCluster('pause-owner', { ...THREE_REPLICAS, leaseTtl: `${LEASE_TTL_MS}ms` });

  it('fences the paused owner: it writes nothing with its old epoch and steps down', async () => {
    await c.startPeers();
    await c.waitProgress(0.3);
    const before = await c.waitOwner('the task to have an owner', (o) => o.owner !== null);
    const paused = c.replica(before.owner!);
    const pausedAt = Date.now();
    paused.sigstop();
    console.log(`[chaos pause-owner] SIGSTOP ${paused.id} (epoch ${before.epoch}, shard ${before.shard}) at ${Math.round(c.progress() * 100)}%`);

    const after = await c.waitOwner(`another replica to take the shard from ${paused.id}`, (o) => o.owner !== null && o.owner !== paused.id && o.epoch > before.epoch);
    const takeover = await pollUntil(`OwnershipAcquired with epoch ${after.epoch} in the stream`, async () => {
      return (await c.events()).find((e) => e.event.type === 'OwnershipAcquired' && e.epoch === after.epoch);
    }, 60_000);
    await sleep(Math.max(0, PAUSE_MS - (Date.now() - pausedAt)));
    paused.sigcont();
    console.log(`[chaos pause-owner] SIGCONT ${paused.id} after ${Date.now() - pausedAt} ms; ${after.owner} owns the shard with epoch ${after.epoch} since version ${takeover.version}`);

    // It steps down: asked about the task, it no longer answers from the state it was paused
    // with (version < the takeover's) but forwards to the owner — or, had it won the shard back
    // since, only with a new epoch and the stream replayed past the takeover.
    let last = 'no answer yet';
    await pollUntil(`${paused.id} to step down from the task`, async () => {
      const res = await fetch(`${paused.base}/api/v1/tasks/${c.taskId}`, { headers: { authorization: `Bearer ${TOKEN}` }, signal: AbortSignal.timeout(3000) }).catch((err: Error) => err);
      if (res instanceof Error) return void (last = res.message);
      const body = (await res.json().catch(() => ({}))) as { version?: number };
      last = `${res.status} version ${body.version}`;
      return res.ok && (body.version ?? 0) >= takeover.version ? true : undefined;
    }, 30_000).catch((err: Error) => {
      throw new Error(`${err.message}; its last answer: ${last} (the takeover is version ${takeover.version})`);
    });
    const view = await c.clusterView(paused);
    const lease = view.shards.find((s) => s.shard === before.shard);
    expect(lease && !(lease.owner === paused.id && lease.epoch === before.epoch), `${paused.id}'s view of shard ${before.shard}: ${JSON.stringify(lease)}`).toBe(true);

    await c.finishPeers();
    await c.check();
    // Nothing from the paused owner's epoch after the takeover (the checker's epoch order says
    // the same in general; this names the replica).
    const late = (await c.events()).filter((e) => e.version > takeover.version && e.epoch <= before.epoch);
    expect(late.map((e) => `v${e.version} ${e.event.type} epoch ${e.epoch}`), `${paused.id} wrote after it was fenced`).toEqual([]);
    // Fenced, not crashed: it still runs and answers.
    expect(paused.running).toBe(true);
    expect((await fetch(`${paused.base}/healthy`)).ok).toBe(true);
  });
});
