import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LeaseGrant, LeaseStore, ReplicaInfo } from '../../supernode/cluster/lease-store.ts';

/**
 * Several handles onto ONE lease store, as several replicas would hold: the memory adapter
 * hands out one instance, PostgreSQL one client (own pool) per handle, PGlite one session.
 */
export interface LeaseStoreFixture {
  handles: LeaseStore[];
  close(): Promise<void>;
}

const LONG = 60_000;
/** Short enough to wait out in a test; the waits below are several times longer. */
const SHORT = 150;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Renews one lease through the batch call: whether it was renewed. */
export const renewOne = async (store: LeaseStore, shard: number, replicaId: string, epoch: number, ttlMs: number) =>
  (await store.renew(replicaId, [{ shard, epoch }], ttlMs)).has(shard);

/**
 * The contract every LeaseStore adapter keeps (memory, PGlite, PostgreSQL). Tests share one
 * store per suite, so each takes fresh shard numbers and replica ids. Expiry is exercised with
 * real waits: the SQL adapters judge it by the database's clock, which a test cannot move.
 */
export function describeLeaseStoreConformance(name: string, open: () => Promise<LeaseStoreFixture>): void {
  describe(`LeaseStore conformance: ${name}`, () => {
    let fx: LeaseStoreFixture;
    let shardSeq = 0;
    let idSeq = 0;
    const shard = () => shardSeq++;
    const replica = (tag: string) => `${tag}-${idSeq++}`;
    /** The i-th replica's handle: replicas spread over the fixture's handles (connections). */
    const via = (i: number) => fx.handles[i % fx.handles.length]!;
    const leaseOf = async (s: number) => (await fx.handles[0]!.leases()).find((l) => l.shard === s);
    beforeAll(async () => {
      fx = await open();
    });
    afterAll(async () => {
      await fx?.close();
    });

    it('grants a free shard, keeps the epoch for its owner while live, and refuses others', async () => {
      const s = shard();
      const [a, b] = [replica('a'), replica('b')];
      const first = await via(0).acquire(s, a, LONG);
      expect(first?.epoch).toBeGreaterThan(0);
      expect(await via(1).acquire(s, b, LONG)).toBeNull();
      expect(await via(1).acquire(s, a, LONG)).toEqual(first);
      expect(await renewOne(via(0), s, a, first!.epoch, LONG)).toBe(true);
      expect(await renewOne(via(1), s, b, first!.epoch, LONG)).toBe(false);
      const lease = await leaseOf(s);
      expect(lease).toMatchObject({ shard: s, owner: a, epoch: first!.epoch, held: true });
      expect(lease!.expiresAt!.getTime()).toBeGreaterThan(Date.now() + LONG / 2);
    });

    it('hands out strictly increasing epochs across owner changes, and only then', async () => {
      const s = shard();
      const owners = [replica('x'), replica('y'), replica('z')];
      let last = 0;
      for (let round = 0; round < 12; round++) {
        const me = owners[round % 3]!;
        const grant = await via(round).acquire(s, me, LONG);
        expect(grant!.epoch).toBeGreaterThan(last);
        // Renewing or acquiring again while live never changes the epoch.
        expect(await renewOne(via(round + 1), s, me, grant!.epoch, LONG)).toBe(true);
        expect(await via(round + 2).acquire(s, me, LONG)).toEqual(grant);
        expect((await leaseOf(s))!.epoch).toBe(grant!.epoch);
        last = grant!.epoch;
        expect(await via(round).release(s, me, grant!.epoch)).toBe(true);
        expect(await leaseOf(s)).toMatchObject({ owner: null, epoch: grant!.epoch, held: false, expiresAt: null });
      }
      // A release by the same owner and a re-acquire is a new term too.
      const again = await via(0).acquire(s, owners[2]!, LONG);
      expect(again!.epoch).toBeGreaterThan(last);
    });

    it('lets exactly one of many replicas racing for a free shard win', async () => {
      const shards = Array.from({ length: 20 }, shard);
      const racers = Array.from({ length: 8 }, () => replica('racer'));
      const attempts = shards.flatMap((s) => racers.map((r, i) => ({ s, r, grant: via(i).acquire(s, r, LONG) })));
      const results = await Promise.all(attempts.map(async (a) => ({ ...a, grant: await a.grant })));
      const epochs = new Set<number>();
      for (const s of shards) {
        const winners = results.filter((x) => x.s === s && x.grant !== null);
        expect(winners).toHaveLength(1);
        expect(await leaseOf(s)).toMatchObject({ owner: winners[0]!.r, epoch: winners[0]!.grant!.epoch, held: true });
        epochs.add(winners[0]!.grant!.epoch);
      }
      // An epoch names one ownership term: never shared between shards or owners.
      expect(epochs.size).toBe(shards.length);
    });

    it('lets exactly one replica take over an expired lease, with a higher epoch', async () => {
      const shards = Array.from({ length: 6 }, shard);
      const old = replica('old');
      const before = new Map<number, number>();
      for (const s of shards) before.set(s, (await via(0).acquire(s, old, SHORT))!.epoch);
      await sleep(SHORT * 3);
      expect((await fx.handles[0]!.leases()).filter((l) => shards.includes(l.shard)).every((l) => !l.held && l.owner === old)).toBe(true);
      const racers = Array.from({ length: 6 }, () => replica('heir'));
      const results = await Promise.all(shards.flatMap((s) => racers.map(async (r, i) => ({ s, r, grant: await via(i + 1).acquire(s, r, LONG) }))));
      for (const s of shards) {
        const winners = results.filter((x) => x.s === s && x.grant !== null);
        expect(winners).toHaveLength(1);
        expect(winners[0]!.grant!.epoch).toBeGreaterThan(before.get(s)!);
      }
    });

    it('fences a stale owner: after a takeover it can neither renew, release nor re-acquire', async () => {
      const s = shard();
      const [stale, heir] = [replica('stale'), replica('heir')];
      const old = (await via(0).acquire(s, stale, SHORT))!;
      await sleep(SHORT * 3);
      const taken = (await via(1).acquire(s, heir, LONG))!;
      expect(taken.epoch).toBeGreaterThan(old.epoch);
      expect(await renewOne(via(0), s, stale, old.epoch, LONG)).toBe(false);
      expect(await via(0).release(s, stale, old.epoch)).toBe(false);
      expect(await via(0).acquire(s, stale, LONG)).toBeNull();
      // Even the heir's own epoch is refused when the replica id does not match, and vice versa.
      expect(await renewOne(via(0), s, stale, taken.epoch, LONG)).toBe(false);
      expect(await via(0).release(s, heir, old.epoch)).toBe(false);
      expect(await leaseOf(s)).toMatchObject({ owner: heir, epoch: taken.epoch, held: true });
    });

    it('after expiry without a takeover: renew keeps the epoch, re-acquire starts a new term', async () => {
      const [s1, s2] = [shard(), shard()];
      const me = replica('napper');
      const g1 = (await via(0).acquire(s1, me, SHORT))!;
      const g2 = (await via(0).acquire(s2, me, SHORT))!;
      await sleep(SHORT * 3);
      // Nobody else held s1 meanwhile, so nobody else can have written: the same term goes on.
      expect(await renewOne(via(1), s1, me, g1.epoch, LONG)).toBe(true);
      expect(await leaseOf(s1)).toMatchObject({ owner: me, epoch: g1.epoch, held: true });
      const again: LeaseGrant = (await via(1).acquire(s2, me, LONG))!;
      expect(again.epoch).toBeGreaterThan(g2.epoch);
    });

    it('keeps each epoch to one term under concurrent churn', async () => {
      const shards = Array.from({ length: 4 }, shard);
      const replicas = Array.from({ length: 5 }, () => replica('churn'));
      const terms = new Map<number, string>();
      await Promise.all(replicas.map(async (r, i) => {
        for (let round = 0; round < 15; round++) {
          const s = shards[(i + round) % shards.length]!;
          const grant = await via(i).acquire(s, r, LONG);
          if (!grant) continue;
          const term = `${s}/${r}`;
          expect(terms.get(grant.epoch) ?? term).toBe(term);
          terms.set(grant.epoch, term);
          if (round % 2 === 0) expect(await via(i + 1).release(s, r, grant.epoch)).toBe(true);
        }
      }));
      expect(terms.size).toBeGreaterThan(shards.length);
    });

    it('renews a batch in one step: only the leases still this replica\'s with that epoch', async () => {
      const [mine, lapsed, stolen, foreign] = [shard(), shard(), shard(), shard()];
      const [me, other] = [replica('batch'), replica('thief')];
      const gMine = (await via(0).acquire(mine, me, LONG))!;
      const gLapsed = (await via(0).acquire(lapsed, me, SHORT))!;
      const gStolen = (await via(0).acquire(stolen, me, SHORT))!;
      const gForeign = (await via(1).acquire(foreign, other, LONG))!;
      await sleep(SHORT * 3);
      const gThief = (await via(1).acquire(stolen, other, LONG))!;
      const batch = [
        { shard: mine, epoch: gMine.epoch },
        { shard: lapsed, epoch: gLapsed.epoch }, // expired, nobody took it: renewed, same term
        { shard: stolen, epoch: gStolen.epoch }, // taken over meanwhile: refused
        { shard: foreign, epoch: gForeign.epoch }, // never ours
        { shard: shard(), epoch: 1 }, // never leased
      ];
      expect([...(await via(2).renew(me, batch, LONG))].sort((a, b) => a - b)).toEqual([mine, lapsed]);
      expect(await leaseOf(lapsed)).toMatchObject({ owner: me, epoch: gLapsed.epoch, held: true });
      expect(await leaseOf(stolen)).toMatchObject({ owner: other, epoch: gThief.epoch, held: true });
      expect(await via(0).renew(me, [], LONG)).toEqual(new Set());
    });

    it('tracks live replicas by heartbeat age, keeping startedAt and updating the address', async () => {
      const [a, b] = [replica('member'), replica('member')];
      const mine = (list: ReplicaInfo[]) => list.filter((r) => r.replicaId === a || r.replicaId === b);
      await via(0).heartbeat(a, 'http://127.0.0.1:1001');
      await via(1).heartbeat(b, 'http://127.0.0.1:1002');
      const first = mine(await via(2).liveReplicas(LONG));
      expect(first.map((r) => [r.replicaId, r.address])).toEqual([[a, 'http://127.0.0.1:1001'], [b, 'http://127.0.0.1:1002']]);
      await sleep(SHORT * 3);
      expect(mine(await via(0).liveReplicas(SHORT))).toEqual([]);
      await via(1).heartbeat(b, 'http://127.0.0.1:2002');
      const later = mine(await via(0).liveReplicas(SHORT));
      expect(later.map((r) => [r.replicaId, r.address])).toEqual([[b, 'http://127.0.0.1:2002']]);
      expect(later[0]!.startedAt).toEqual(first[1]!.startedAt);
      expect(later[0]!.heartbeatAt.getTime()).toBeGreaterThan(first[1]!.heartbeatAt.getTime());
      await via(2).leave(b);
      expect(mine(await via(0).liveReplicas(LONG)).map((r) => r.replicaId)).toEqual([a]);
    });

    it('refuses malformed arguments with DF_ERR_VALIDATION', async () => {
      const store = via(0);
      await expect(store.acquire(-1, 'r', LONG)).rejects.toMatchObject({ code: 'DF_ERR_VALIDATION' });
      await expect(store.acquire(1.5, 'r', LONG)).rejects.toMatchObject({ code: 'DF_ERR_VALIDATION' });
      await expect(store.acquire(shard(), '', LONG)).rejects.toMatchObject({ code: 'DF_ERR_VALIDATION' });
      await expect(store.acquire(shard(), 'r', 0)).rejects.toMatchObject({ code: 'DF_ERR_VALIDATION' });
      await expect(store.renew('r', [{ shard: shard(), epoch: 1 }], Number.NaN)).rejects.toMatchObject({ code: 'DF_ERR_VALIDATION' });
      await expect(store.renew('r', [{ shard: -1, epoch: 1 }], LONG)).rejects.toMatchObject({ code: 'DF_ERR_VALIDATION' });
      await expect(store.liveReplicas(-5)).rejects.toMatchObject({ code: 'DF_ERR_VALIDATION' });
    });
  });
}
