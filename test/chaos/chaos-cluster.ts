import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { freePort } from '../../bench/processes.ts';
import type { PeerResult } from '../../bench/swarm/swarm-run.ts';
import { computeTaskId } from '../../core/ids/index.ts';
import { pieceCountFor, pieceSizeFor } from '../../core/pieces/index.ts';
import { startChaosServices, type ChaosServices } from '../shared/chaos-services.ts';
import { checkTask, epochStarts, formatViolations, parseAckLog, readPostgres, type CheckedEvent, type TaskCheckReport } from '../../bench/invariants/index.ts';
import { startTestOrigin } from '../shared/origin.ts';
import { pollUntil, resultsWithin, startPeer, tempDir, TOKEN, type PeerProcess } from '../e2e/swarm/swarm-fixture.ts';
import { freshDatabase } from '../../bench/cluster/fresh-database.ts';
import { ClusterView, getJson, ownerOf, TaskOwner } from './cluster-api.ts';
import { Replica } from '../../bench/cluster/replica-process.ts';

export interface ChaosOptions {
  /** Replicas started before the peers. */
  replicas: number;
  peers: number;
  fileBytes: number;
  /** The origin's upload cap, bytes/s: it paces the CDN's seeding, so the download lasts. */
  originRate: number;
  cdnUploadRate: string;
  /** Each peer's upload cap. */
  peerUpload: string;
  shards?: number;
  leaseTtl?: string;
}

const MiB = 1024 * 1024;

/**
 * The multi-replica scenarios' swarm: 3 replicas, 6 peers, 24 MiB (96 pieces). The origin at
 * 1 MiB/s paces the CDN's seed to ~24 s, so a fault placed by download progress lands in the
 * middle of it; the CDN (4 MiB/s) and the peers (1 MiB/s up each) keep up with the seed.
 */
export const THREE_REPLICAS: ChaosOptions = { replicas: 3, peers: 6, fileBytes: 24 * MiB, originRate: 1 * MiB, cdnUploadRate: '4MiB', peerUpload: '1MiB' };

type Origin = Awaited<ReturnType<typeof startTestOrigin>>;

/**
 * A chaos scenario's world, set up before its tests and torn down after them: the dedicated
 * PostgreSQL and Kafka (test/shared/chaos-services.ts) with a fresh database and topic, an
 * origin serving a generated file at a capped rate (counting its bytes), supernode replica
 * processes, and `damselfly get` peer processes that know every initial replica (each starts
 * with a different one first) and log what the replicas acknowledged (--ack-log).
 *
 * Call at describe level; use inside tests. On a failed test the work directory (replica logs,
 * ack logs, peers' files) is kept and its path printed, as with DAMSELFLY_CHAOS_KEEP=1.
 */
export class ChaosCluster {
  services!: ChaosServices;
  databaseUrl = '';
  origin!: Origin;
  taskId = '';
  readonly replicas: Replica[] = [];
  readonly peers: PeerProcess[] = [];
  readonly ackLogs: string[] = [];
  readonly topic = `chaos-${randomUUID()}`;
  /** Made in setUp (a skipped scenario still constructs its cluster while vitest collects it). */
  work!: ReturnType<typeof tempDir>;
  readonly pieceCount: number;
  private dropDatabase: (() => Promise<void>) | undefined;
  private replicaCount = 0;
  private keep = process.env.DAMSELFLY_CHAOS_KEEP === '1';

  constructor(
    readonly name: string,
    readonly o: ChaosOptions,
  ) {
    this.pieceCount = pieceCountFor(o.fileBytes, pieceSizeFor(o.fileBytes));
  }

  async setUp(): Promise<void> {
    const started = Date.now();
    this.work = tempDir(`df-chaos-${this.name}-`);
    this.services = await startChaosServices();
    const servicesMs = Date.now() - started;
    const db = await freshDatabase(this.services.databaseUrl, `chaos_${this.name.replace(/\W/g, '_')}`);
    this.databaseUrl = db.url;
    this.dropDatabase = db.drop;
    this.origin = await startTestOrigin(this.o.fileBytes, this.o.originRate);
    this.taskId = computeTaskId({ url: this.origin.url });
    const initial = await Promise.all(Array.from({ length: this.o.replicas }, () => this.newReplica()));
    await Promise.all(initial.map((r) => r.start()));
    console.log(`[chaos ${this.name}] set up in ${((Date.now() - started) / 1000).toFixed(1)} s (services ${(servicesMs / 1000).toFixed(1)} s), work dir ${this.work.dir}`);
  }

  async tearDown(): Promise<void> {
    const problems: string[] = [];
    const attempt = async (what: string, f: () => Promise<unknown>) => {
      try {
        await f();
      } catch (err) {
        problems.push(`${what}: ${(err as Error).message}`);
      }
    };
    await attempt('peers', () => Promise.all(this.peers.map((p) => p.finish())));
    await attempt('replicas', async () => {
      // Asserted by the scenarios that call stopReplicas() themselves; here only worth seeing.
      for (const { replica, code } of await this.stopReplicas()) {
        if (code === null) console.log(`[chaos ${this.name}] ${replica} did not stop within 15 s of SIGTERM; killed`);
        else if (code !== 0) console.log(`[chaos ${this.name}] ${replica} exited with ${code} on SIGTERM`);
      }
    });
    await attempt('origin', async () => this.origin?.close());
    await attempt('database', async () => this.dropDatabase?.());
    await attempt('services', async () => this.services?.down());
    if (this.keep) console.log(`[chaos ${this.name}] kept the work directory ${this.work?.dir}`);
    else this.work?.remove();
    if (problems.length > 0) throw new Error(`chaos tear-down: ${problems.join('; ')}`);
  }

  /** A replica with a new id and port (not started). Peers started later list it; earlier ones do not. */
  async newReplica(): Promise<Replica> {
    const replicaId = `r${++this.replicaCount}`; // before the await: replicas made concurrently get distinct ids
    const r = new Replica({
      replicaId, port: await freePort(), dir: this.work.dir,
      databaseUrl: this.databaseUrl, kafkaBrokers: this.services.kafkaBrokers, topic: this.topic, token: TOKEN,
      cdnUploadRate: this.o.cdnUploadRate, shards: this.o.shards ?? 64, leaseTtl: this.o.leaseTtl ?? '2s',
    });
    this.replicas.push(r);
    return r;
  }

  async addReplica(): Promise<Replica> {
    const r = await this.newReplica();
    await r.start();
    return r;
  }

  /**
   * SIGTERMs every running replica at once (a clean shutdown: drain, flush, release the leases)
   * and gives each one's exit code; null when it had not exited `graceMs` later and was killed.
   */
  async stopReplicas(graceMs = 15_000): Promise<{ replica: string; code: number | null }[]> {
    return Promise.all(this.replicas.filter((r) => r.running).map(async (r) => ({ replica: r.id, code: await r.stop(graceMs) })));
  }

  replica(id: string): Replica {
    const r = this.replicas.find((x) => x.id === id);
    if (!r) throw new Error(`no replica ${id} in this scenario (have ${this.replicas.map((x) => x.id).join(', ')})`);
    return r;
  }

  /** Starts the peers, each listing every running replica (rotated, so they spread their first choice), and lets them go at once. */
  async startPeers(): Promise<void> {
    const nodes = this.replicas.filter((r) => r.running).map((r) => r.address);
    for (let i = 0; i < this.o.peers; i++) {
      const ackLog = join(this.work.dir, `peer-${i}.acks.jsonl`);
      this.ackLogs.push(ackLog);
      const node = [...nodes.slice(i % nodes.length), ...nodes.slice(0, i % nodes.length)].join(',');
      this.peers.push(startPeer({ index: i, url: this.origin.url, dir: this.work.dir, node, uploadLimit: this.o.peerUpload, extra: ['--ack-log', ackLog] }));
    }
    await Promise.all(this.peers.map((p) => p.ready));
    for (const p of this.peers) p.go();
  }

  /** Share of all (peer, piece) pairs the replicas have acknowledged so far, from the ack logs. */
  progress(): number {
    const seen = new Set<string>();
    for (const path of this.ackLogs) {
      if (!existsSync(path)) continue;
      for (const ack of parseAckLog(readFileSync(path, 'utf8'), path).acks) for (const ok of ack.ok) seen.add(`${ack.peerId}/${ok.piece}`);
    }
    return seen.size / (this.o.peers * this.pieceCount);
  }

  /** Waits until `fraction` of the download is acknowledged; fails if the swarm stalls for `timeoutMs`. */
  waitProgress(fraction: number, timeoutMs = 120_000): Promise<number> {
    return pollUntil(`${Math.round(fraction * 100)}% of the download to be acknowledged (at ${Math.round(this.progress() * 100)}%)`, async () => {
      const p = this.progress();
      return p >= fraction ? p : undefined;
    }, timeoutMs, 100);
  }

  /** Replicas that can answer now (running and not paused). */
  answering(): Replica[] {
    return this.replicas.filter((r) => r.running && !r.paused);
  }

  /** The task's owner as the cluster API reports it, asking the answering replicas in turn. */
  ownerOf(taskId = this.taskId): Promise<TaskOwner> {
    return ownerOf(this.answering(), taskId, TOKEN);
  }

  /** Polls ownerOf until `accept` holds (e.g. a live owner other than the one just killed). */
  waitOwner(what: string, accept: (o: TaskOwner) => boolean, timeoutMs = 60_000): Promise<TaskOwner> {
    return pollUntil(what, async () => {
      const owner = await this.ownerOf().catch(() => undefined);
      return owner && accept(owner) ? owner : undefined;
    }, timeoutMs, 200);
  }

  clusterView(r: Replica): Promise<ClusterView> {
    return getJson(`${r.base}/api/v1/cluster`, ClusterView, TOKEN);
  }

  /** The task's stream as PostgreSQL holds it now. */
  async events(): Promise<CheckedEvent[]> {
    return readPostgres(this.databaseUrl, this.taskId, []);
  }

  /** Every peer's result (failing after `timeoutMs` if the swarm hangs), then each peer leaves and exits 0. */
  async finishPeers(timeoutMs = 150_000): Promise<PeerResult[]> {
    const results = await resultsWithin(this.peers, timeoutMs);
    const codes = await Promise.all(this.peers.map((p) => p.finish()));
    const bad = codes.map((code, i) => ({ code, i })).filter((x) => x.code !== 0);
    if (bad.length > 0) throw new Error(`peers exited with ${bad.map((x) => `peer ${x.i}: ${x.code} (${this.peers[x.i]!.stderr().slice(-500)})`).join('; ')}`);
    for (const r of results) if (r.taskId !== this.taskId || r.backSource) throw new Error(`a peer did not download task ${this.taskId} through the swarm: ${JSON.stringify(r)}`);
    return results;
  }

  /**
   * The invariant checker over the task (bench/invariants), printed; throws with every
   * violation if any. Call while the replicas still run (Kafka is read once the relay caught up).
   *
   * The origin may send the file once (+2 %: a resumed seed's partial piece) plus `perTakeover`
   * for every change of owner the stream records: CDN pieces that lived only on the former
   * owner's disk, seeded but not yet fetched by any peer, are fetched again. The default, 4 MiB
   * (16 pieces), is a generous bound on that window at these scenarios' rates, and still fails a
   * takeover that fetches the whole file again. `damselfly bench failover` measures it exactly.
   */
  async check(o: { perTakeover?: number; extraOriginBytes?: number; firstEpochNeedsOwnership?: boolean } = {}): Promise<TaskCheckReport> {
    const takeovers = Math.max(0, epochStarts(await this.events()).length - 1);
    // `extraOriginBytes`, when given, replaces the per-takeover allowance with a bound of the scenario's own.
    const maxOriginBytes = Math.ceil(this.o.fileBytes * 1.02) + (o.extraOriginBytes ?? takeovers * (o.perTakeover ?? 4 * MiB));
    const report = await checkTask({
      taskId: this.taskId, databaseUrl: this.databaseUrl, kafka: { brokers: this.services.kafkaBrokers, topic: this.topic },
      ackLogs: this.ackLogs, outputs: this.peers.map((p) => p.output), expectedSha256: this.origin.sha256,
      originBytes: this.origin.bytesServed(), maxOriginBytes, firstEpochNeedsOwnership: o.firstEpochNeedsOwnership,
    });
    const s = report.stats;
    console.log(
      `[chaos ${this.name}] task ${this.taskId.slice(0, 12)}: ${s.events} events, epochs ${s.epochs.map((e) => `${e.epoch}@v${e.version}${e.replicaId ? `(${e.replicaId})` : ''}`).join(' ')}, ` +
        `${s.acknowledgedPieces} acknowledged pieces, Kafka ${s.kafkaMessages} messages (${s.kafkaDuplicates} repeats), origin ${s.originBytes} bytes for a file of ${this.o.fileBytes} (bound ${maxOriginBytes}: ${takeovers} takeovers)`,
    );
    if (report.violations.length > 0) {
      this.keep = true;
      const text = formatViolations(report.violations);
      console.log(`[chaos ${this.name}] ${report.violations.length} invariant violations:\n${text}\n${this.logTails()}`);
      throw new Error(`${report.violations.length} invariant violations (seed and logs above):\n${text}`);
    }
    return report;
  }

  /** The last lines of every replica's log, for a failure message. */
  logTails(lines = 25): string {
    return this.replicas
      .map((r) => `--- ${r.logFile} (last ${lines} lines)\n${existsSync(r.logFile) ? readFileSync(r.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') : '(none)'}`)
      .join('\n');
  }

  markFailed(): void {
    if (!this.keep) console.log(`[chaos ${this.name}] a test failed; keeping ${this.work.dir}\n${this.logTails()}`);
    this.keep = true;
  }
}

export function useChaosCluster(name: string, o: ChaosOptions): ChaosCluster {
  const cluster = new ChaosCluster(name, o);
  beforeAll(() => cluster.setUp());
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') cluster.markFailed();
  });
  afterAll(() => cluster.tearDown());
  return cluster;
}
