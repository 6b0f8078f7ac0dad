import { describe, expect, it } from 'vitest';
import { CDN_SOURCE } from '../../../core/events/index.ts';
import { TOKEN, resultsWithin, startPeer, sha256Of, useSwarm } from './swarm-fixture.ts';
import { spawnSync } from 'node:child_process';
import { fetchHistory, joinedPeers, streamsOnceRelayed, verifiedByPeer } from './task-record.ts';
import { DAMSELFLY_BIN } from '../../../bench/processes.ts';
import { databaseUrl, kafkaBrokers } from '../../shared/env.ts';

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
  const swarm = useSwarm('swarm', { size: SIZE, cdnUploadRate: CDN_RATE });
  const { work, topic, peers } = swarm;
  let finishedTask = '';


  it('delivers identical copies, the origin sends the file once, and every piece is on record', async () => {
    for (let i = 0; i < PEERS; i++) peers.push(startPeer({ index: i, url: swarm.origin.url, dir: work.dir, node: swarm.supernode.address, uploadLimit: PEER_UPLOAD }));
    await Promise.all(peers.map((p) => p.ready));
    for (const p of peers) p.go();
    const results = await resultsWithin(peers, FINISH_WITHIN_MS);

    for (const p of peers) expect(sha256Of(p.output), `peer ${p.index}'s copy`).toBe(swarm.origin.sha256);
    expect(swarm.origin.bytesServed()).toBeLessThanOrEqual(1.01 * SIZE);
    const taskId = results[0]!.taskId!;
    finishedTask = taskId;
    expect(results.every((r) => r.taskId === taskId && r.backSource === false)).toBe(true);
    const fromPeers = results.reduce((n, r) => n + r.fromPeers!, 0);
    const fromCdn = results.reduce((n, r) => n + r.fromCdn!, 0);
    expect(fromPeers).toBeGreaterThan(0);

    // Every peer leaves (its PeerLeft is the last event) before the streams are compared.
    expect(await Promise.all(peers.map((p) => p.finish()))).toEqual(peers.map(() => 0));

    const history = await fetchHistory(swarm.supernode.base, taskId);
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

  it('replays to the live state hash from Postgres and from Kafka with the CLI, and prints the history', async () => {
    expect(finishedTask).not.toBe('');
    const res = await fetch(`${swarm.supernode.base}/api/v1/tasks/${finishedTask}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const live = (await res.json()) as { stateHash: string };
    const { postgres } = await streamsOnceRelayed(topic, finishedTask);
    const cli = (args: string[]) => {
      const r = spawnSync(process.execPath, [DAMSELFLY_BIN, ...args, '--task', finishedTask, '--json'], {
        encoding: 'utf8',
        timeout: 120_000,
        env: { ...process.env, DAMSELFLY_DATABASE_URL: databaseUrl(), DAMSELFLY_KAFKA_BROKERS: kafkaBrokers().join(',') },
      });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as Record<string, unknown>;
    };
    for (const from of ['postgres', 'kafka']) {
      const replayed = cli(['replay', '--from', from, '--kafka-topic', topic]);
      expect(replayed).toMatchObject({ taskId: finishedTask, events: postgres.length, stateHash: live.stateHash });
    }
    // --until cuts the history: the state before the first peer joined is a different one.
    const joinedAt = postgres.find((e) => e.type === 'PeerJoined')!.data.at;
    const early = cli(['replay', '--until', new Date(joinedAt - 1).toISOString()]);
    expect(early.events).toBe(postgres.findIndex((e) => e.type === 'PeerJoined'));
    expect(early.stateHash).not.toBe(live.stateHash);
    const history = cli(['history']) as { events: unknown[]; pieces: { verified: boolean }[] };
    expect(history.events).toHaveLength(postgres.length);
    expect(history.pieces.filter((p) => p.verified).length).toBeGreaterThan(0);
  });
});

/**
 * The same swarm with dfget on the sync protocol (docs/decisions.md, "Parents, not pieces"):
 * the supernode names parents, the peers choose pieces from their parents' bitfields and
 * report in batches. The same guarantees, with a fraction of the reports.
 */
describe('a swarm of dfget processes on the sync protocol', () => {
  const swarm = useSwarm('sync', { size: SIZE, cdnUploadRate: CDN_RATE });
  const { work, topic, peers } = swarm;

  it('delivers identical copies, the origin sends the file once, every piece is on record, reported in batches', async () => {
    for (let i = 0; i < PEERS; i++) peers.push(startPeer({ index: i, url: swarm.origin.url, dir: work.dir, node: swarm.supernode.address, uploadLimit: PEER_UPLOAD, extra: ['--protocol', 'sync'] }));
    await Promise.all(peers.map((p) => p.ready));
    for (const p of peers) p.go();
    const results = await resultsWithin(peers, FINISH_WITHIN_MS);

    for (const p of peers) expect(sha256Of(p.output), `peer ${p.index}'s copy`).toBe(swarm.origin.sha256);
    expect(swarm.origin.bytesServed()).toBeLessThanOrEqual(1.01 * SIZE);
    const taskId = results[0]!.taskId!;
    expect(results.every((r) => r.taskId === taskId && r.backSource === false)).toBe(true);
    const fromPeers = results.reduce((n, r) => n + r.fromPeers!, 0);
    expect(fromPeers).toBeGreaterThan(0);
    expect(await Promise.all(peers.map((p) => p.finish()))).toEqual(peers.map(() => 0));

    const history = await fetchHistory(swarm.supernode.base, taskId);
    const pieceCount = Math.ceil(SIZE / (256 * 1024));
    const verified = verifiedByPeer(history.pieces);
    expect(verified.size).toBe(PEERS);
    for (const [peerId, pieces] of verified) expect(pieces.size, `pieces verified by ${peerId}`).toBe(pieceCount);
    expect(history.pieces.filter((t) => t.verified)).toHaveLength(PEERS * pieceCount);
    const servedByPeers = Object.entries(history.servedBySource).reduce((n, [source, count]) => n + (source === CDN_SOURCE ? 0 : count), 0);
    expect(servedByPeers).toBe(fromPeers);

    const { postgres, kafka } = await streamsOnceRelayed(topic, taskId);
    expect(kafka.map((e) => e.eventId)).toEqual(postgres.map((e) => e.eventId));
    expect(postgres.filter((e) => e.type === 'PiecesAssigned')).toEqual([]);
    expect(postgres.filter((e) => e.type === 'ParentsAssigned').length).toBeGreaterThanOrEqual(PEERS);
    // Reports in batches: far fewer report events than verified pieces (rounds make about one each).
    const reports = postgres.filter((e) => e.type === 'PiecesReported' && e.data.ok.length > 0);
    expect(reports.length).toBeLessThan((PEERS * pieceCount) / 4);
    expect(postgres.filter((e) => e.type === 'PeerSucceeded')).toHaveLength(PEERS);
  });
});
