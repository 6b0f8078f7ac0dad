import type { ChildProcess } from 'node:child_process';
import { onLines, spawnHarnessPeer, stopProcess } from '../processes.ts';

/** How a peer takes part (DownloadOptions.protocol). */
export type PeerProtocol = 'rounds' | 'sync';

/** What a peer prints when it is done: `damselfly get --json`'s result (the fields the benchmarks read). */
export interface PeerResult {
  taskId?: string;
  bytes: number;
  seconds: number;
  fromPeers?: number;
  fromCdn?: number;
  peerBytes?: number;
  backSource?: boolean;
}

export interface BenchPeer {
  proc: ChildProcess;
  /** Resolves once the process waits for "go" (process start-up is not measured). */
  ready: Promise<void>;
  /** Resolves with the peer's result, when it is done downloading (it lingers on, serving). */
  result: Promise<PeerResult>;
  /** performance.now() when the result arrived. */
  doneAt(): number | undefined;
  go(): void;
  /** Ends the linger (stdin closed) and stops the process. */
  stop(): Promise<number | null>;
}

/**
 * One peer process of a benchmark (bench/harness/harness-peer.ts: dfget's engine): all peers
 * start together on "go" once every process is up, and each keeps serving its pieces until the
 * benchmark ends (stdin closed), as a real swarm's peers linger.
 */
export function startBenchPeer(o: { index: number; url: string; output: string; nodes: string; peerUpload: number; protocol?: PeerProtocol; extra?: string[]; token?: string }): BenchPeer {
  const args = [o.url, '-o', o.output, '--node', o.nodes, '--upload-limit', String(o.peerUpload), ...(o.protocol ? ['--protocol', o.protocol] : []), ...(o.extra ?? [])];
  const proc = spawnHarnessPeer(args, o.token ? { DAMSELFLY_TOKEN: o.token } : {});
  let stderr = '';
  let doneAt: number | undefined;
  proc.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  let resolveResult!: (r: PeerResult) => void;
  const result = new Promise<PeerResult>((resolve, reject) => {
    resolveResult = resolve;
    proc.once('exit', (code) => reject(new Error(`peer ${o.index} exited with ${code} without a result: ${stderr}`)));
  });
  const ready = new Promise<void>((resolve, reject) => {
    onLines(proc.stdout!, (line) => {
      if (line === 'ready') return resolve();
      if (!line.startsWith('{')) return;
      doneAt = performance.now();
      resolveResult(JSON.parse(line) as PeerResult);
    });
    proc.once('exit', (code) => reject(new Error(`peer ${o.index} exited with ${code} before it was ready: ${stderr}`)));
  });
  // Rejections are read through `ready`/`result` by the caller; a process that ends after both settled is normal.
  ready.catch(() => undefined);
  result.catch(() => undefined);
  return {
    proc,
    ready,
    result,
    doneAt: () => doneAt,
    go: () => proc.stdin!.write('go\n'),
    stop: () => {
      proc.stdin?.end();
      return stopProcess(proc, 5000);
    },
  };
}
