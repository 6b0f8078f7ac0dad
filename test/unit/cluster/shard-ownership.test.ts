import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { MemoryLeaseStore, ShardOwnership } from '../../../supernode/cluster/index.ts';
import { computeTaskId } from '../../../core/ids/index.ts';

const TTL = 2000;
const SHARDS = 8;

/** Replicas on one memory lease store and one fake clock (the store's and the replicas' own). */
function cluster() {
  let now = 0;
  const leases = new MemoryLeaseStore(() => now);
  const events: string[] = [];
  const replica = (id: string) =>
    new ShardOwnership({
      leases,
      replicaId: id,
      address: () => `${id}.test:1`,
      shardCount: SHARDS,
      leaseTtlMs: TTL,
      tickMs: TTL / 4,
      logger: pino({ level: 'silent' }),
      onAcquired: (shard, epoch) => events.push(`${id} +${shard}@${epoch}`),
      onLost: (shard) => void events.push(`${id} -${shard}`),
      now: () => now,
    });
  return { leases, events, replica, advance: (ms: number) => (now += ms) };
}

const held = (o: ShardOwnership) => o.status().held.filter((h) => h.valid).map((h) => h.shard);

describe('ShardOwnership', () => {
  it('a lone replica holds every shard; a second one gets half of them handed over, without a gap in ownership', async () => {
    const c = cluster();
    const a = c.replica('a');
    await a.tick();
    expect(held(a)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);

    const b = c.replica('b');
    await b.tick(); // b is live now, but a still holds everything: b waits
    expect(held(b)).toEqual([]);
    await a.tick(); // a sees b and releases b's share
    await b.tick(); // b takes it
    expect(held(a).length).toBe(4);
    expect(held(b).length).toBe(4);
    expect([...held(a), ...held(b)].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    // Each shard moved with a fresh, higher epoch.
    const leases = await c.leases.leases();
    for (const s of held(b)) expect(leases[s]!.epoch).toBeGreaterThan(8);
  });

  it('takes over the shards of a replica that stopped renewing once its lease has expired, never before', async () => {
    const c = cluster();
    const a = c.replica('a');
    const b = c.replica('b');
    for (let i = 0; i < 3; i++) {
      await a.tick();
      await b.tick();
    }
    const aShards = held(a);
    expect(aShards.length).toBe(4);

    // a is killed: it never ticks again. Before its lease runs out, b must not take its shards.
    c.advance(TTL - 100);
    await b.tick();
    expect(held(b).length).toBe(4);
    c.advance(200);
    await b.tick();
    await b.tick();
    expect(held(b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('a replica paused past its lease stops claiming its tasks the moment it runs again, before its loop notices', async () => {
    const c = cluster();
    const a = c.replica('a');
    await a.tick();
    const task = computeTaskId({ url: 'http://o.test/f', filter: [], digest: null, identifier: null, range: null });
    expect(a.claim(task)).toMatchObject({ replicaId: 'a' });
    c.advance(TTL * 0.75 + 1); // SIGSTOP for most of a TTL: the local margin is gone
    expect(a.claim(task)).toBeUndefined();
    await a.tick(); // nobody took it: the renew succeeds and the same term goes on
    expect(a.claim(task)).toMatchObject({ replicaId: 'a' });
  });

  it('steps down from a shard whose renew fails (another replica holds it with a later epoch)', async () => {
    const c = cluster();
    const a = c.replica('a');
    await a.tick();
    c.advance(TTL + 1);
    await c.leases.acquire(3, 'intruder', TTL); // a's lease expired and someone else took shard 3
    await a.tick();
    expect(held(a)).not.toContain(3);
    expect(c.events).toContain('a -3');
  });

  it('renews every shard it keeps with one store call a round', async () => {
    const c = cluster();
    const a = c.replica('a');
    await a.tick();
    const calls: number[] = [];
    const renew = c.leases.renew.bind(c.leases);
    c.leases.renew = async (replicaId, batch, ttlMs) => {
      calls.push(batch.length);
      return renew(replicaId, batch, ttlMs);
    };
    c.advance(TTL / 4);
    await a.tick();
    expect(calls).toEqual([SHARDS]);
    expect(held(a)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('gives every shard back on a clean stop, so the others take over without waiting for a TTL', async () => {
    const c = cluster();
    const a = c.replica('a');
    const b = c.replica('b');
    await a.tick();
    await b.tick();
    await a.stop();
    await b.tick();
    expect(held(b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });
});
