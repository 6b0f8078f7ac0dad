import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { startSupernodeProcess, stopProcess } from '../processes.ts';
import { startCpuMeter } from '../process-cpu.ts';
import { peakRssBytes } from '../process-memory.ts';
import { startBenchPeer, type BenchPeer, type PeerResult } from '../swarm/peer-process.ts';
import { startOrigin } from '../swarm/origin-server.ts';

/** The peers' upload cap: far above what two cores can move (the CDN and the origin get none). */
const UNCAPPED = 64 * 1024 ** 3;

export interface Leg {
  seconds: number;
  bytesPerSecond: number;
  fromPeers: number;
  fromCdn: number;
  /** CPU seconds per GiB moved, of each process involved (null without procfs). */
  cpuPerGiB: Record<string, number | null>;
  machineBusy: number;
}

export interface ThroughputResult {
  fileBytes: number;
  /** Peer a pulls the file from the CDN (the supernode fetches it from the origin meanwhile). */
  fromCdn: Leg;
  /** Then peer b pulls it, from a (which lingers and serves) rather than the CDN. */
  fromPeer: Leg;
  /** Peak resident set of each process over the whole run, bytes. */
  peakRss: { supernode: number | null; peerA: number | null; peerB: number | null };
  filesIdentical: boolean;
}

/**
 * The data plane's speed with nothing capped (issue 13): an origin in this process, a supernode
 * process, and two peer processes (dfget's engine). Peer a downloads first, alone, from the
 * CDN: the supernode's CPU is then the CDN's cost to fetch, verify, store and serve each byte.
 * Peer b downloads next while a lingers: the scheduler takes the CDN only for pieces no peer
 * can serve, so b's bytes come from a, and a's CPU is the cost to serve them.
 */
export async function runThroughput(o: { fileBytes: number }): Promise<ThroughputResult> {
  const dir = mkdtempSync(join(tmpdir(), 'damselfly-throughput-'));
  const content = randomBytes(o.fileBytes);
  const digest = createHash('sha256').update(content).digest('hex');
  const origin = await startOrigin({ content });
  let supernode: ChildProcess | undefined;
  const peers: BenchPeer[] = [];
  try {
    const started = await startSupernodeProcess({ dataDir: join(dir, 'supernode') });
    supernode = started.proc;
    const outputs = ['a', 'b'].map((name) => join(dir, `peer-${name}.out`));
    for (const [index, output] of outputs.entries()) {
      peers.push(startBenchPeer({ index, url: origin.url, output, nodes: started.address, peerUpload: UNCAPPED }));
    }
    await Promise.all(peers.map((p) => p.ready));
    const [a, b] = peers as [BenchPeer, BenchPeer];
    const fromCdn = await leg(a, o.fileBytes, { supernode: supernode.pid, peerA: a.proc.pid });
    const fromPeer = await leg(b, o.fileBytes, { supernode: supernode.pid, peerA: a.proc.pid, peerB: b.proc.pid });
    const peakRss = { supernode: peakRssBytes(supernode.pid), peerA: peakRssBytes(a.proc.pid), peerB: peakRssBytes(b.proc.pid) };
    const filesIdentical = outputs.every((f) => createHash('sha256').update(readFileSync(f)).digest('hex') === digest);
    return { fileBytes: o.fileBytes, fromCdn, fromPeer, peakRss, filesIdentical };
  } finally {
    await Promise.all(peers.map((p) => p.stop()));
    if (supernode) await stopProcess(supernode, 15_000);
    await origin.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Starts `peer` and times it from "go" to its result, metering the CPU of `pids`. */
async function leg<K extends string>(peer: BenchPeer, fileBytes: number, pids: Record<K, number | undefined>): Promise<Leg> {
  const groups = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, [pid]])) as Record<K, (number | undefined)[]>;
  const stop = startCpuMeter(groups);
  const goAt = performance.now();
  peer.go();
  const r: PeerResult = await peer.result;
  const cpu = stop();
  const seconds = (peer.doneAt()! - goAt) / 1000;
  const gib = fileBytes / 1024 ** 3;
  const cpuPerGiB: Record<string, number | null> = {};
  for (const [k, s] of Object.entries(cpu.seconds) as [string, number | null][]) cpuPerGiB[k] = s === null ? null : s / gib;
  return { seconds, bytesPerSecond: fileBytes / seconds, fromPeers: r.fromPeers ?? 0, fromCdn: r.fromCdn ?? 0, cpuPerGiB, machineBusy: cpu.machineBusy };
}
