import { describe, expect, it } from 'vitest';
import { MemoryHostStore } from '../../../supernode/hosts/memory-host-store.ts';
import { describeHostStoreConformance, hostInput } from '../../shared/host-store-conformance.ts';

describeHostStoreConformance('memory', async () => {
  const store = new MemoryHostStore();
  return { handles: [store], close: () => store.close() };
});

describe('MemoryHostStore', () => {
  it('judges liveness by its injected clock alone', async () => {
    let now = 1_000;
    const store = new MemoryHostStore(() => now);
    await store.announce('h', hostInput(), { maxHosts: 10, forgetAfterMs: 60_000 });
    now += 99;
    expect(await store.countLive(100)).toBe(1);
    now += 1;
    expect(await store.countLive(100)).toBe(0);
    expect(await store.list({ ttlMs: 100, seenWithinMs: 1000, limit: 5 })).toMatchObject([{ hostId: 'h', alive: false, lastSeen: new Date(1_000) }]);
  });
});
