import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { computeTaskId } from '../../core/ids/index.ts';
import { pieceCountFor, pieceSizeFor } from '../../core/pieces/index.ts';
import { openPostgresEventStore } from '../../supernode/store/index.ts';
import { checkTask, parseAckLog } from '../invariants/index.ts';
import { freePort } from '../processes.ts';
import { freshDatabase } from '../cluster/fresh-database.ts';
import { Replica } from '../cluster/replica-process.ts';
import { ownerOf } from '../cluster/cluster-api.ts';
import { startOrigin } from '../swarm/origin-server.ts';
import { startBenchPeer, type BenchPeer } from '../swarm/peer-process.ts';
import { stallAfterKill, unheldBytesAtKill, type AckStamp } from './failover-metrics.ts';

export interface FailoverOptions {
  replicas: number;
  peers: number;
  fileBytes: number;
  peerUpload: number;
  originUpload: number;
  leaseTtl: string;
  /** Share of the download (acknowledged pieces) at which the owner is killed. */
  killAt: number;
  databaseUrl: string;
  kafkaBrokers: string[];
  log?: (line: string) => void;
}

export interface FailoverResult {
  replicas: number;
  peers: number;
  fileBytes: number;
  leaseTtl: string;
  killedReplica: string;
  newOwner: string;
  /** Share of the download acknowledged when the owner was killed. */
  killProgress: number;
  stalledPeers: number;
  stallP50Seconds: number;
  stallP99Seconds: number;
  stallMaxSeconds: number;
  /** From the kill to a survivor holding the task's shard lease (polled every 50 ms). */
  takeoverSeconds: number;
  /** Events the new owner read from the store to bring its tasks up to date (the tail after its warm copy). */
  eventsReplayedOnTakeover: number;
  /** The same, by where each catch-up started: a warm copy (Kafka), a stored snapshot, or nothing. */
  catchUpFrom: Record<string, number>;
  acknowledgedLost: number;
  originBytes: number;
  extraOriginBytes: number;
  unheldBytesAtKill: number;
  filesIdentical: boolean;
  /** Every invariant of the chaos suite's checker, over PostgreSQL, Kafka, the ack logs and the files. */
  violations: string[];
  seconds: number;
}

const TOKEN = 'bench-failover-token';

/**
 * One failover, measured: 3 supernode replicas on one PostgreSQL and one Kafka (a database and
 * a topic of this run's own), an origin at a capped rate, N peers that know every replica and
 * log what the replicas acknowledged. Once `killAt` of the download is acknowledged, the task's
 * owner is killed with SIGKILL (no lease release, no drain), and the rest is measured from
 * the peers' acknowledgements, the stored events and the origin's byte counter.
 */
export async function runFailover(o: FailoverOptions): Promise<FailoverResult> {
  const log = o.log ?? (() => undefined);
  const dir = mkdtempSync(join(tmpdir(), 'damselfly-failover-'));
  const db = await freshDatabase(o.databaseUrl, 'bench_failover');
  const topic = `bench-failover-${Date.now()}`;
  const content = randomBytes(o.fileBytes);
  const sha256 = createHash('sha256').update(content).digest('hex');
  const origin = await startOrigin({ content, rate: o.originUpload });
  const taskId = computeTaskId({ url: origin.url, filter: [], digest: null, identifier: null, range: null });
  const pieceCount = pieceCountFor(o.fileBytes, pieceSizeFor(o.fileBytes));
  const replicas: Replica[] = [];
  const peers: BenchPeer[] = [];
  const ackLogs = Array.from({ length: o.peers }, (_, i) => join(dir, `peer-${i}.acks.jsonl`));
  const outputs = Array.from({ length: o.peers }, (_, i) => join(dir, `peer-${i}.out`));
  try {
    for (let i = 1; i <= o.replicas; i++) {
      replicas.push(new Replica({
        replicaId: `r${i}`, port: await freePort(), dir, databaseUrl: db.url, kafkaBrokers: o.kafkaBrokers, topic, token: TOKEN,
        cdnUploadRate: String(o.originUpload), shards: 64, leaseTtl: o.leaseTtl,
      }));
    }
    await Promise.all(replicas.map((r) => r.start()));
    const nodes = replicas.map((r) => r.address);
    for (let i = 0; i < o.peers; i++) {
      // Each peer lists every replica, starting at a different one: they talk to all of them.
      const rotated = [...nodes.slice(i % nodes.length), ...nodes.slice(0, i % nodes.length)].join(',');
      peers.push(startBenchPeer({ index: i, url: origin.url, output: outputs[i]!, nodes: rotated, peerUpload: o.peerUpload, extra: ['--ack-log', ackLogs[i]!], token: TOKEN }));
    }
    await Promise.all(peers.map((p) => p.ready));
    const started = performance.now();
    for (const p of peers) p.go();

    let progress = 0;
    while ((progress = acknowledgedShare(ackLogs, o.peers * pieceCount)) < o.killAt) await sleep(50);
    const owner = await ownerOf(replicas, taskId, TOKEN);
    const victim = replicas.find((r) => r.id === owner.owner)!;
    const killAt = Date.now();
    const finishedBeforeKill = new Set(peers.flatMap((p, i) => (p.doneAt() === undefined ? [] : readAcks([ackLogs[i]!]).slice(0, 1).map((a) => a.peerId))));
    await victim.kill9();
    log(`killed ${victim.id} (owner of shard ${owner.shard}, epoch ${owner.epoch}) at ${Math.round(progress * 100)}% of the download`);
    const survivors = replicas.filter((r) => r !== victim);
    let next: { owner: string | null; epoch: number };
    for (;;) {
      next = await ownerOf(survivors, taskId, TOKEN).catch(() => ({ owner: null, epoch: 0 }));
      if (next.owner && next.owner !== victim.id) break;
      await sleep(50);
    }
    const takeoverSeconds = (Date.now() - killAt) / 1000;
    log(`${next.owner} took over after ${takeoverSeconds.toFixed(2)} s (epoch ${next.epoch})`);

    await Promise.all(peers.map((p) => p.result));
    const seconds = (Math.max(...peers.map((p) => p.doneAt()!)) - started) / 1000;
    const newOwner = survivors.find((r) => r.id === next.owner)!;
    const catchUpFrom = await rehydratedEvents(newOwner);
    const report = await checkTask({
      taskId, databaseUrl: db.url, kafka: { brokers: o.kafkaBrokers, topic }, ackLogs, outputs, expectedSha256: sha256,
      originBytes: origin.bytesServed(), maxOriginBytes: Number.MAX_SAFE_INTEGER,
    });
    const store = await openPostgresEventStore(db.url);
    const events = await store.readStream(taskId).finally(() => store.close());
    const stall = stallAfterKill(readAcks(ackLogs), killAt, finishedBeforeKill);
    const lost = report.violations.filter((v) => v.invariant.startsWith('ack'));
    return {
      replicas: o.replicas,
      peers: o.peers,
      fileBytes: o.fileBytes,
      leaseTtl: o.leaseTtl,
      killedReplica: victim.id,
      newOwner: newOwner.id,
      killProgress: round(progress),
      stalledPeers: stall.peers,
      stallP50Seconds: round(stall.p50Seconds),
      stallP99Seconds: round(stall.p99Seconds),
      stallMaxSeconds: round(stall.maxSeconds),
      takeoverSeconds: round(takeoverSeconds),
      eventsReplayedOnTakeover: Object.values(catchUpFrom).reduce((a, b) => a + b, 0),
      catchUpFrom,
      acknowledgedLost: lost.length,
      originBytes: origin.bytesServed(),
      extraOriginBytes: Math.max(0, origin.bytesServed() - o.fileBytes),
      unheldBytesAtKill: unheldBytesAtKill(events, killAt),
      filesIdentical: !report.violations.some((v) => v.invariant === 'file-identical'),
      violations: report.violations.map((v) => `${v.invariant}: ${v.message}`),
      seconds: round(seconds),
    };
  } finally {
    await Promise.all(peers.map((p) => p.stop()));
    await Promise.all(replicas.map((r) => r.stop().catch(() => null)));
    await origin.close();
    await db.drop().catch(() => undefined); // clean-up after the figures: a failure here must not hide them
    rmSync(dir, { recursive: true, force: true });
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** The acknowledged rounds of the peers' ack logs (parsed by the checker's own reader). */
function readAcks(paths: string[]): AckStamp[] {
  return paths
    .filter((path) => existsSync(path))
    .flatMap((path) => parseAckLog(readFileSync(path, 'utf8'), path).acks)
    .map((a) => ({ peerId: a.peerId, at: a.at ?? 0, ok: a.ok.length }));
}

/** Share of all (peer, piece) pairs acknowledged so far. */
function acknowledgedShare(paths: string[], total: number): number {
  return readAcks(paths).reduce((n, a) => n + a.ok, 0) / total;
}

/** The new owner's events read from the store on rehydration, by where it started from (its /metrics). */
async function rehydratedEvents(r: Replica): Promise<Record<string, number>> {
  const text = await (await request(`${r.base}/metrics`)).body.text();
  const byStart: Record<string, number> = {};
  for (const m of text.matchAll(/^damselfly_rehydrated_events_total\{start="(\w+)"\} (\d+)/gm)) byStart[m[1]!] = Number(m[2]);
  return byStart;
}
