import { describe, expect, it } from 'vitest';
import { bySource, type TaskEvent, type VerifiedPiece } from '../../../../core/events/index.ts';
import { decide, refusedSyncReports, syncResponse, taskInvariantViolations, type Sync, type TaskState } from '../../../../core/task/index.ts';
import { OPTIONS, POLICY, digestOf, join, run, seedingTask } from './fixtures.ts';

const sync = (peerId: string, at: number, ok: VerifiedPiece[] = [], failed: Sync['failed'] = [], replace: string[] = []): Sync => ({ type: 'Sync', at, peerId, ok: bySource(ok), failed, replace });
const types = (events: TaskEvent[]) => events.map((e) => e.type);
const parentsOf = (s: TaskState, id: string) => s.peers.get(id)!.parents;
/** Three peer parents each, so that six peers leave room to replace one. */
const SYNC = { ...OPTIONS, policy: { ...POLICY, parentsPerPeer: 3, maxChildren: 6 } };
const RESPONSE = { cdnAddress: '127.0.0.1:9000', waitRetryMs: 200, syncIntervalMs: 1_000, syncsPerSecond: 200, parentsPerPeer: SYNC.policy.parentsPerPeer };

/** Peers a to f on an 8-piece seeded task, each synced once (so each has its parents). */
function swarm(): TaskState {
  const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
  return run([...ids.map((id) => join(id)), ...ids.map((id, i) => sync(id, 100 + i))], seedingTask(8), SYNC).state;
}

describe('Sync', () => {
  it('gives a new peer parentsPerPeer peers and the CDN, and records them as a decision', () => {
    const s = swarm();
    for (const id of ['a', 'b', 'c', 'd', 'e', 'f']) {
      const parents = parentsOf(s, id);
      expect(parents.filter((p) => p !== 'cdn')).toHaveLength(SYNC.policy.parentsPerPeer);
      expect(parents).toContain('cdn');
      expect(parents).not.toContain(id);
    }
    expect(taskInvariantViolations(s)).toEqual([]);
    // Nothing changed: a second sync decides nothing (no event but the periodic heartbeat).
    expect(decide(sync('a', 200), s, SYNC)).toEqual([]);
  });

  it('records pieces verified from a parent in one report, and refuses those from a source that never was one', () => {
    let s = swarm();
    const [parent] = parentsOf(s, 'a').filter((p) => p !== 'cdn');
    const outsider = ['b', 'c', 'd', 'e', 'f'].find((id) => !parentsOf(s, 'a').includes(id) && !parentsOf(s, id).includes('a'));
    const ok = [{ piece: 0, source: 'cdn', ms: 5 }, { piece: 1, source: parent!, ms: 5 }, ...(outsider ? [{ piece: 2, source: outsider, ms: 5 }] : [])];
    expect(refusedSyncReports(s, 'a', bySource(ok))).toEqual(outsider ? [{ piece: 2, source: outsider, reason: 'not_parent' }] : []);
    const events = decide(sync('a', 300, ok), s, SYNC);
    expect(events[0]).toEqual({ type: 'PiecesReported', data: { peerId: 'a', ok: bySource(ok.slice(0, 2)), failed: [], at: 300 } });
    s = run([sync('a', 300, ok)], s, SYNC).state;
    expect(s.peers.get('a')!.have.slice(0, 3)).toEqual([true, true, false]);
    expect(s.cdnServed).toBe(1);
  });

  it('believes a piece from a child too (the link works both ways), and names children as sources', () => {
    // a syncs alone (its only parent is the CDN), then b joins and gets a as a parent.
    const s = run([join('a'), sync('a', 100), join('b'), sync('b', 200)], seedingTask(8), SYNC).state;
    expect(parentsOf(s, 'a')).toEqual(['cdn']);
    expect(s.peers.get('a')!.children).toEqual(['b']);
    const answer = syncResponse(s, 'a', 8, RESPONSE);
    expect(answer.action === 'sync' && answer.parents.map((p) => p.peerId)).toEqual(['cdn', 'b']);
    const after = run([sync('a', 300, [{ piece: 6, source: 'b', ms: 1 }])], s, SYNC).state;
    expect(after.peers.get('a')!.have[6]).toBe(true);
  });

  it('replaces a parent that failed the peer in the same decision, and blames it once', () => {
    const s = swarm();
    const [bad] = parentsOf(s, 'a').filter((p) => p !== 'cdn');
    const events = decide(sync('a', 300, [], [{ piece: 3, source: bad!, reason: 'digest' }]), s, SYNC);
    expect(types(events)).toEqual(['PiecesReported', 'ParentsAssigned']);
    const after = run([sync('a', 300, [], [{ piece: 3, source: bad!, reason: 'digest' }])], s, SYNC).state;
    expect(parentsOf(after, 'a')).not.toContain(bad);
    expect(after.peers.get(bad!)!.failuresCaused).toBe(1);
    // Reported again, it is stale: no longer a parent, so not counted.
    const again = run([sync('a', 400, [], [{ piece: 4, source: bad!, reason: 'digest' }])], after, SYNC).state;
    expect(again.peers.get(bad!)!.failuresCaused).toBe(1);
    expect(taskInvariantViolations(again)).toEqual([]);
  });

  it('still believes a piece from a parent it had before a re-parenting', () => {
    const s = swarm();
    const [old] = parentsOf(s, 'a').filter((p) => p !== 'cdn');
    const replaced = run([sync('a', 300, [], [], [old!])], s, SYNC).state;
    expect(parentsOf(replaced, 'a')).not.toContain(old);
    const after = run([sync('a', 400, [{ piece: 5, source: old!, ms: 1 }])], replaced, SYNC).state;
    expect(after.peers.get('a')!.have[5]).toBe(true);
  });

  it('makes a peer succeeded by the sync that completes it, which lets go of its parents; done from then on', () => {
    let s = run([join('a'), join('b'), sync('a', 100), sync('b', 101)], seedingTask(2), SYNC).state;
    expect(s.cdnChildren).toBe(2);
    const last = sync('a', 200, [{ piece: 0, source: 'cdn', ms: 1 }, { piece: 1, source: 'b', ms: 1 }]);
    expect(types(decide(last, s, SYNC))).toEqual(['PiecesReported', 'PeerSucceeded']);
    s = run([last], s, SYNC).state;
    expect(s.peers.get('a')!.status).toBe('succeeded');
    expect(syncResponse(s, 'a', 2, RESPONSE)).toEqual({ action: 'done' });
    expect(parentsOf(s, 'a')).toEqual([]);
    expect(s.cdnChildren).toBe(1);
    expect(s.peers.get('b')!.children).toEqual([]);
    expect(taskInvariantViolations(s)).toEqual([]);
    // b now fetches from a, which serves as a finished peer.
    s = run([sync('b', 300)], s, SYNC).state;
    expect(parentsOf(s, 'b')).toContain('a');
  });

  it('answers with the parents’ addresses and the digests the peer does not know yet', () => {
    const s = run([join('a'), join('bb'), sync('a', 100)], seedingTask(8, 5), SYNC).state;
    const response = syncResponse(s, 'a', 2, RESPONSE);
    expect(response).toMatchObject({
      action: 'sync',
      parents: [{ peerId: 'bb', address: '127.0.0.1:6002' }, { peerId: 'cdn', address: '127.0.0.1:9000' }],
      digests: [digestOf(2), digestOf(3), digestOf(4)],
      pieceCount: 8,
      // One peer parent of the three it should have: it asks again at a quarter of the interval.
      syncAfterMs: 250,
    });
  });

  it('asks a peer with its full set of parents to sync again after the interval, one with fewer sooner', () => {
    const s = swarm();
    expect(syncResponse(s, 'a', 8, RESPONSE)).toMatchObject({ action: 'sync', syncAfterMs: 1_000 });
    // The interval grows with the swarm (syncsPerSecond), the short one does not.
    expect(syncResponse(s, 'a', 8, { ...RESPONSE, syncsPerSecond: 2 })).toMatchObject({ syncAfterMs: 3_000 });
    const alone = run([join('a'), sync('a', 100)], seedingTask(8), SYNC).state;
    expect(parentsOf(alone, 'a')).toEqual(['cdn']);
    expect(syncResponse(alone, 'a', 8, { ...RESPONSE, syncsPerSecond: 2 })).toMatchObject({ syncAfterMs: 250 });
  });

  it('joins in the same decision when the sync carries a join, and refuses another address under an active id', () => {
    const s = run([join('a'), sync('a', 100)], seedingTask(4), SYNC).state;
    const first: Sync = { ...sync('b', 200), join: { hostId: 'host-b', address: '127.0.0.1:7001' } };
    expect(types(decide(first, s, SYNC))).toEqual(['PeerJoined', 'ParentsAssigned']);
    const after = run([first], s, SYNC).state;
    expect(parentsOf(after, 'b')).toEqual(['a', 'cdn']);
    expect(decide({ ...first, at: 300 }, after, SYNC)).toEqual([]); // a retried first sync: joined already, nothing new
    expect(() => decide({ ...first, join: { hostId: 'host-b', address: '127.0.0.1:7002' } }, after, SYNC)).toThrowError(expect.objectContaining({ code: 'DF_ERR_PEER_EXISTS' }));
  });

  it('refuses a peer that left, and lets a finished one sync harmlessly', () => {
    const s = run([join('a'), sync('a', 100), { type: 'Leave', at: 200, peerId: 'a', outcome: 'left' }], seedingTask(4), SYNC).state;
    expect(() => decide(sync('a', 300), s, SYNC)).toThrowError(expect.objectContaining({ code: 'DF_ERR_PEER_GONE' }));
    const done = run([join('b'), { type: 'Leave', at: 200, peerId: 'b', outcome: 'succeeded' }], seedingTask(4), SYNC).state;
    expect(decide(sync('b', 300), done, SYNC)).toEqual([]);
  });
});
