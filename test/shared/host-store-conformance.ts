import { afterEach, describe, expect, it } from 'vitest';
import type { HostInput, HostLimits, HostStore } from '../../supernode/hosts/host-store.ts';

/**
 * Several handles onto ONE host store, as several replicas would hold: the memory adapter hands
 * out one instance, PostgreSQL one client (own pool) per handle, PGlite one session.
 */
export interface HostStoreFixture {
  handles: HostStore[];
  close(): Promise<void>;
}

const LONG = 60_000;
/** Short enough to wait out in a test; the waits below are several times longer. */
const SHORT = 150;
const ROOMY: HostLimits = { maxHosts: 1000, forgetAfterMs: LONG };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const hostInput = (over: Partial<HostInput> = {}): HostInput => ({
  hostname: 'node-a', uploadAddress: '10.0.0.1:65002', proxyPort: 65001, freeDiskBytes: 5e11, totalDiskBytes: 1e12, version: '0.1.0', ...over,
});

/**
 * The contract every HostStore adapter keeps (memory, PGlite, PostgreSQL). Each test gets a
 * store of its own (the cap counts every host). Liveness is exercised with real waits: the SQL
 * adapters judge it by the database's clock, which a test cannot move.
 */
export function describeHostStoreConformance(name: string, open: () => Promise<HostStoreFixture>): void {
  describe(`HostStore conformance: ${name}`, () => {
    const opened: HostStoreFixture[] = [];
    const fresh = async () => {
      const fx = await open();
      opened.push(fx);
      return fx.handles;
    };
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((fx) => fx.close()));
    });
    const ids = async (s: HostStore, o: { ttlMs?: number; seenWithinMs?: number; limit?: number; after?: string } = {}) =>
      (await s.list({ ttlMs: o.ttlMs ?? LONG, seenWithinMs: o.seenWithinMs ?? LONG, limit: o.limit ?? 100, after: o.after })).map((h) => h.hostId);

    it('registers a host, and a heartbeat refreshes it in place keeping registeredAt', async () => {
      const [a, b] = await fresh();
      const first = await a!.announce('host-1', hostInput(), ROOMY);
      expect(first).toMatchObject({ hostId: 'host-1', ...hostInput(), alive: true });
      expect(first!.lastSeen.getTime()).toBe(first!.registeredAt.getTime());
      await sleep(20);
      // Through another handle (another replica): the same row.
      const again = await (b ?? a)!.announce('host-1', hostInput({ freeDiskBytes: 4e11, proxyPort: null, version: null, uploadAddress: '10.0.0.2:7000' }), ROOMY);
      expect(again).toMatchObject({ hostId: 'host-1', freeDiskBytes: 4e11, proxyPort: null, version: null, uploadAddress: '10.0.0.2:7000', alive: true });
      expect(again!.registeredAt.getTime()).toBe(first!.registeredAt.getTime());
      expect(again!.lastSeen.getTime()).toBeGreaterThan(first!.lastSeen.getTime());
      const listed = await a!.list({ ttlMs: LONG, seenWithinMs: LONG, limit: 10 });
      expect(listed).toEqual([again]);
    });

    it('keeps disk sizes beyond 32 bits exactly', async () => {
      const [s] = await fresh();
      const big = hostInput({ freeDiskBytes: 2 ** 52 + 1, totalDiskBytes: Number.MAX_SAFE_INTEGER });
      await s!.announce('big', big, ROOMY);
      expect((await s!.list({ ttlMs: LONG, seenWithinMs: LONG, limit: 1 }))[0]).toMatchObject(big);
    });

    it('lists by id in byte order, pages with limit and after', async () => {
      const [s] = await fresh();
      for (const id of ['b-2', 'B-1', 'a.3', 'a:1', 'c_9']) await s!.announce(id, hostInput(), ROOMY);
      const all = ['B-1', 'a.3', 'a:1', 'b-2', 'c_9'];
      expect(await ids(s!)).toEqual(all);
      expect(await ids(s!, { limit: 2 })).toEqual(all.slice(0, 2));
      expect(await ids(s!, { limit: 2, after: 'a.3' })).toEqual(all.slice(2, 4));
      expect(await ids(s!, { after: 'c_9' })).toEqual([]);
      expect(await ids(s!, { after: 'a' })).toEqual(all.slice(1));
    });

    it('judges liveness by the TTL: a silent host turns stale, then drops out of the window', async () => {
      const [s] = await fresh();
      await s!.announce('quiet', hostInput(), ROOMY);
      await sleep(SHORT * 3);
      await s!.announce('chatty', hostInput(), ROOMY);
      expect(await ids(s!, { ttlMs: SHORT, seenWithinMs: SHORT })).toEqual(['chatty']);
      const withStale = await s!.list({ ttlMs: SHORT, seenWithinMs: LONG, limit: 10 });
      expect(withStale.map((h) => [h.hostId, h.alive])).toEqual([['chatty', true], ['quiet', false]]);
      expect(await s!.countLive(SHORT)).toBe(1);
      expect(await s!.countLive(LONG)).toBe(2);
      // A heartbeat brings it back.
      await s!.announce('quiet', hostInput(), ROOMY);
      expect(await s!.countLive(SHORT)).toBe(2);
    });

    it('removes a host; removing it again is a no-op', async () => {
      const [s] = await fresh();
      await s!.announce('leaving', hostInput(), ROOMY);
      await s!.announce('staying', hostInput(), ROOMY);
      expect(await s!.remove('leaving')).toBe(true);
      expect(await s!.remove('leaving')).toBe(false);
      expect(await ids(s!)).toEqual(['staying']);
      // Announcing after leaving starts a new registration.
      const back = await s!.announce('leaving', hostInput(), ROOMY);
      expect(back!.registeredAt.getTime()).toBe(back!.lastSeen.getTime());
    });

    it('refuses a new host beyond maxHosts, still refreshes stored ones, and forgets long-gone hosts to make room', async () => {
      const [s] = await fresh();
      const cap: HostLimits = { maxHosts: 3, forgetAfterMs: SHORT };
      for (const id of ['h1', 'h2', 'h3']) expect(await s!.announce(id, hostInput(), cap)).not.toBeNull();
      // Not forgettable yet: all three were just seen.
      expect(await s!.announce('h4', hostInput(), cap)).toBeNull();
      expect(await s!.announce('h2', hostInput({ freeDiskBytes: 1 }), cap)).toMatchObject({ freeDiskBytes: 1 });
      await sleep(SHORT * 3);
      await s!.announce('h2', hostInput(), cap);
      // h1 and h3 are unseen for longer than forgetAfterMs: forgotten, and h4 gets in.
      expect(await s!.announce('h4', hostInput(), cap)).not.toBeNull();
      expect(await ids(s!)).toEqual(['h2', 'h4']);
    });

    it('counts one row for the same new host announced through every handle at once', async () => {
      const handles = await fresh();
      const results = await Promise.all(handles.flatMap((h) => [h.announce('racing', hostInput(), ROOMY), h.announce('racing', hostInput(), ROOMY)]));
      expect(results.every((r) => r?.hostId === 'racing')).toBe(true);
      expect(await ids(handles[0]!)).toEqual(['racing']);
    });

    it('refuses malformed arguments as DF_ERR_VALIDATION', async () => {
      const [s] = await fresh();
      await expect(s!.announce('', hostInput(), ROOMY)).rejects.toMatchObject({ code: 'DF_ERR_VALIDATION' });
      await expect(s!.announce('x', hostInput(), { maxHosts: 0, forgetAfterMs: 1 })).rejects.toMatchObject({ code: 'DF_ERR_VALIDATION' });
      await expect(s!.list({ ttlMs: 0, seenWithinMs: 1, limit: 1 })).rejects.toMatchObject({ code: 'DF_ERR_VALIDATION' });
      await expect(s!.list({ ttlMs: 1, seenWithinMs: 1, limit: 0 })).rejects.toMatchObject({ code: 'DF_ERR_VALIDATION' });
      await expect(s!.countLive(-5)).rejects.toMatchObject({ code: 'DF_ERR_VALIDATION' });
    });
  });
}
