import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { CDN_SOURCE } from '../../../core/events/index.ts';
import { resultsWithin, startPeer, startSupernodeProcess, startUniqueOrigin, sha256Of, tempDir, type PeerProcess, type SupernodeProcess, type TestOrigin } from './swarm-fixture.ts';
import { fetchHistory, joinedPeers, streamsOnceRelayed, verifiedByPeer } from './task-record.ts';

const PEERS = 5;
const SIZE = 6 * 1024 * 1024 + 4321; // 25 pieces of 256 KiB, the last one short
// Capped links, so that fetching from peers pays: the CDN alone could not feed five peers fast.
const CDN_RATE = '1536KiB';
const PEER_UPLOAD = '1MiB';
/** Generous (the swarm needs ~10 s): a bound, not a timing assertion. */
const FINISH_WITHIN_MS = 120_000;

/**
 * The main job with real processes: an origin, a supernode on PostgreSQL + Kafka, five
 * `damselfly get` processes. Every copy is identical, the origin sends the file once, peers
 * feed each other, the history accounts for every piece of every peer, and Kafka carries
 * exactly the stream Postgres holds.
 */
describe('a swarm of dfget processes', () => {
  const work = tempDir('df-e2e-swarm-');
  const topic = `e2e-swarm-distribution-${randomUUID()}`;
  let origin: TestOrigin;
  let supernode: SupernodeProcess;
  const peers: PeerProcess[] = [];

  beforeAll(async () => {
    origin = await startUniqueOrigin(SIZE);
    supernode = await startSupernodeProcess({ dir: work.dir, topic, cdnUploadRate: CDN_RATE });
  });

  afterAll(async () => {
    await Promise.all(peers.map((p) => p.finish()));
    await supernode?.stop();
    await origin?.close();
    work.remove();
  });

  it('delivers identical copies, the origin sends the file once, and every piece is on record', async () => {
    for (let i = 0; i < PEERS; i++) peers.push(startPeer({ index: i, url: origin.url, dir: work.dir, node: supernode.address, uploadLimit: PEER_UPLOAD }));
    await Promise.all(peers.map((p) => p.ready));
    for (const p of peers) p.go();
    const results = await resultsWithin(peers, FINISH_WITHIN_MS);

    for (const p of peers) expect(sha256Of(p.output), `peer ${p.index}'s copy`).toBe(origin.sha256);
    expect(origin.bytesServed()).toBeLessThanOrEqual(1.01 * SIZE);
    const taskId = results[0]!.taskId!;
    expect(results.every((r) => r.taskId === taskId && r.backSource === false)).toBe(true);
    const fromPeers = results.reduce((n, r) => n + r.fromPeers!, 0);
    const fromCdn = results.reduce((n, r) => n + r.fromCdn!, 0);
    expect(fromPeers).toBeGreaterThan(0);

    // Every peer leaves (its PeerLeft is the last event) before the streams are compared.
    expect(await Promise.all(peers.map((p) => p.finish()))).toEqual(peers.map(() => 0));

    const history = await fetchHistory(supernode.base, taskId);
    const pieceCount = Math.ceil(SIZE / (256 * 1024));
    const verified = verifiedByPeer(history.pieces);
    expect(verified.size).toBe(PEERS);
    for (const [peerId, pieces] of verified) expect(pieces.size, `pieces verified by ${peerId}`).toBe(pieceCount);
    // One verified transfer per (peer, piece): no piece was fetched twice, and the record agrees
    // with what the peers themselves counted.
    expect(history.pieces.filter((t) => t.verified)).toHaveLength(PEERS * pieceCount);
    const servedByPeers = Object.entries(history.servedBySource).reduce((n, [source, count]) => n + (source === CDN_SOURCE ? 0 : count), 0);
    expect(servedByPeers).toBe(fromPeers);
    expect(history.servedBySource[CDN_SOURCE] ?? 0).toBe(fromCdn);

    const { postgres, kafka } = await streamsOnceRelayed(topic, taskId);
    expect(kafka.map((e) => e.eventId)).toEqual(postgres.map((e) => e.eventId));
    expect(kafka.map((e) => e.version)).toEqual(postgres.map((_, i) => i + 1));
    expect(new Set(joinedPeers(postgres))).toEqual(new Set(verified.keys()));
    expect(postgres.filter((e) => e.type === 'PeerSucceeded')).toHaveLength(PEERS);
    expect(postgres.filter((e) => e.type === 'PeerLeft' && e.data.reason === 'left')).toHaveLength(PEERS);
  });
});
