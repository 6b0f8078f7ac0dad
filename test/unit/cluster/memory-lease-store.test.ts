import { describe, expect, it } from 'vitest';
import { MemoryLeaseStore } from '../../../supernode/cluster/memory-lease-store.ts';
import { describeLeaseStoreConformance } from '../../shared/lease-store-conformance.ts';

describeLeaseStoreConformance('memory', async () => {
  const store = new MemoryLeaseStore();
  return { handles: [store], close: () => store.close() };
});

describe('MemoryLeaseStore', () => {
  it('judges expiry by its injected clock alone', async () => {
    let now = 1_000;
    const store = new MemoryLeaseStore(() => now);
    const first = (await store.acquire(0, 'a', 100))!;
    now += 99;
    expect(await store.acquire(0, 'b', 100)).toBeNull();
    now += 1;
    const taken = (await store.acquire(0, 'b', 100))!;
    expect(taken.epoch).toBeGreaterThan(first.epoch);
    expect(await store.leases()).toEqual([{ shard: 0, owner: 'b', epoch: taken.epoch, expiresAt: new Date(now + 100), held: true }]);
  });
});
