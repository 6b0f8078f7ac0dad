import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { startSupernodeProcess, stopProcess } from '../processes.ts';
import { startBenchPeer, type BenchPeer, type PeerProtocol, type PeerResult } from './peer-process.ts';

export type { PeerResult } from './peer-process.ts';
import { startOrigin, type Origin } from './origin-server.ts';
import { fileSha256, generatedContent } from './origin-content.ts';
import { p2pLowerBoundSeconds } from '../lower-bound.ts';
import { startCpuMeter } from '../process-cpu.ts';

export interface SwarmOptions {
  peers: number;
  fileBytes: number;
  /** Each peer's upload cap, bytes/s. */
  peerUpload: number;
  /** Cap on everything that is not a peer: the origin's upload, and the CDN's upload to peers. */
  originUpload: number;
  /** P2P through a supernode, or every peer straight from the origin (the baseline). */
  mode: 'p2p' | 'origin';
  /** The peers' protocol with the supernode (default rounds). */
  protocol?: PeerProtocol;
  /** Postgres + Kafka for the supernode; absent = the embedded default. */
  databaseUrl?: string;
  kafkaBrokers?: string;
  /** Called as peers finish (for progress output). */
  onPeerDone?: (index: number, result: PeerResult) => void;
  /** Work directory to use and keep (the demo's, so that replay and history work after it); else a temp dir, removed. */
  dir?: string;
}


export interface SwarmResult {
  peers: number;
  fileBytes: number;
  seconds: number;
  lowerBoundSeconds: number;
  ratioToBound: number;
  originBytes: number;
  originBytesRatio: number;
  filesIdentical: boolean;
  taskId?: string;
  piecesFromPeers: number;
  piecesFromCdn: number;
  peerResults: PeerResult[];
  /** CPU seconds used during the timed part (null without /proc), and the machine's busy share then. */
  cpu: { supernodeSeconds: number | null; peersSeconds: number | null; machineBusy: number };
}

/**
 * One swarm download with real processes on loopback: an origin (in this process, capped), a
 * supernode process (CDN capped at the same rate), and N `damselfly get` processes with their
 * uploads capped. Every peer process starts first and waits for "go" on stdin, so process
 * start-up (seconds on two cores) is not measured; the clock runs from "go" to the last peer's
 * result. Peers keep serving until the end (stdin closed), as a real swarm's peers linger.
 */
export async function runSwarm(o: SwarmOptions): Promise<SwarmResult> {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'damselfly-swarm-'));
  if (o.dir) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
  }
  // Generated, not held: the piece-size runs go to 10 GiB, past what a Node buffer may hold.
  const content = generatedContent(o.fileBytes, randomUUID());
  const digest = content.sha256();
  const origin: Origin = await startOrigin({ content, rate: o.originUpload });
  const peers: BenchPeer[] = [];
  let supernode: ChildProcess | undefined;
  try {
    let nodeAddress = '127.0.0.1:1'; // the baseline: no supernode answers, every peer goes to the origin
    if (o.mode === 'p2p') {
      const started = await startSupernodeProcess({
        dataDir: join(dir, 'supernode'), databaseUrl: o.databaseUrl, kafkaBrokers: o.kafkaBrokers, args: ['--cdn-upload-rate', String(o.originUpload)],
      });
      supernode = started.proc;
      nodeAddress = started.address;
    }
    const outputs = Array.from({ length: o.peers }, (_, i) => join(dir, `peer-${i}.out`));
    for (let i = 0; i < o.peers; i++) {
      const peer = startBenchPeer({
        index: i, url: origin.url, output: outputs[i]!, nodes: nodeAddress, peerUpload: o.peerUpload, protocol: o.protocol,
        extra: o.mode === 'origin' ? ['--connect-timeout', '200'] : [],
      });
      void peer.result.then((r) => o.onPeerDone?.(i, r), () => undefined);
      peers.push(peer);
    }
    await Promise.all(peers.map((p) => p.ready));
    const stopCpuMeter = startCpuMeter({ supernode: [supernode?.pid], peers: peers.map((p) => p.proc.pid) });
    const goAt = performance.now();
    for (const p of peers) p.go();
    const done = await Promise.all(peers.map((p) => p.result));
    const cpu = stopCpuMeter();
    const doneAt = peers.map((p) => p.doneAt()!);
    const seconds = (Math.max(...doneAt) - goAt) / 1000;
    const filesIdentical = (await Promise.all(outputs.map(fileSha256))).every((d) => d === digest);
    const lowerBoundSeconds = p2pLowerBoundSeconds({ fileBytes: o.fileBytes, peers: o.peers, serverUpload: o.originUpload, peerUpload: o.peerUpload, minDownload: Infinity });
    return {
      peers: o.peers,
      fileBytes: o.fileBytes,
      seconds,
      lowerBoundSeconds,
      ratioToBound: seconds / lowerBoundSeconds,
      originBytes: origin.bytesServed(),
      originBytesRatio: origin.bytesServed() / o.fileBytes,
      filesIdentical,
      taskId: done[0]?.taskId,
      piecesFromPeers: done.reduce((s, r) => s + (r.fromPeers ?? 0), 0),
      piecesFromCdn: done.reduce((s, r) => s + (r.fromCdn ?? 0), 0),
      peerResults: done,
      cpu: { supernodeSeconds: cpu.seconds.supernode, peersSeconds: cpu.seconds.peers, machineBusy: cpu.machineBusy },
    };
  } finally {
    await Promise.all(peers.map((p) => p.stop()));
    if (supernode) await stopProcess(supernode, 15_000);
    await origin.close();
    if (!o.dir) rmSync(dir, { recursive: true, force: true });
  }
}
