import type { ChildProcess } from 'node:child_process';
import { killProcess, onLines, spawnDamselfly, stopProcess } from '../processes.ts';

export interface DaemonProcess {
  proc: ChildProcess;
  /** The mirror's host:port, from the daemon's ready line. */
  address: string;
  /** The piece uploader's host:port, from the same line. */
  upload: string;
  /**
   * The sum of every series of a counter or gauge in its /metrics whose labels include
   * `labels` (all series when none are given); 0 when there is none.
   */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  /** Everything the daemon wrote on stderr so far (its log). */
  log(): string;
  /** SIGTERM (it drains), SIGKILL after the grace period. */
  stop(): Promise<number | null>;
  /** SIGKILL at once, as of a node that dies: no drain, no leave. Resolves once it exited. */
  kill(): Promise<void>;
}

export interface DaemonProcessOptions {
  /** The supernodes, host:port[,..]. */
  supernode: string;
  /** The data dir: cold when new. */
  dataDir: string;
  /** Host-wide upload cap, bytes/s. */
  uploadLimit?: number;
  /** More `damselfly daemon` flags (`--registry URL`, …). */
  args?: string[];
  logLevel?: 'warn' | 'info' | 'debug';
  /** Names the daemon in errors (bench image numbers them). */
  name?: string;
}

/**
 * A real `damselfly daemon` process on ports the OS picks, for the benchmarks and the e2e
 * tests; resolves once it printed its ready line.
 */
export async function startDaemonProcess(o: DaemonProcessOptions): Promise<DaemonProcess> {
  const args = ['daemon', '--node', o.supernode, '--port', '0', '--upload-port', '0', '--data-dir', o.dataDir, '--log-level', o.logLevel ?? 'warn'];
  if (o.uploadLimit !== undefined) args.push('--upload-limit', String(o.uploadLimit));
  const proc = spawnDamselfly([...args, ...(o.args ?? [])]);
  const name = o.name ?? 'daemon';
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const tail = () => stderr.slice(-4000);
  let ready: { address: string; upload: string };
  try {
    ready = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} printed no ready line within 60 s: ${tail()}`)), 60_000);
      onLines(proc.stdout!, (line) => {
        if (!line.startsWith('{')) return;
        clearTimeout(timer);
        resolve(JSON.parse(line) as { address: string; upload: string });
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited with ${code} before it was ready: ${tail()}`));
      });
    });
  } catch (err) {
    await stopProcess(proc, 2_000);
    throw err;
  }
  return {
    proc,
    address: ready.address,
    upload: ready.upload,
    async metric(metricName, labels = {}) {
      const text = await fetch(`http://${ready.address}/metrics`).then((r) => r.text());
      let sum = 0;
      for (const m of text.matchAll(new RegExp(`^${metricName}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm'))) {
        const has = m[1] ?? '';
        if (Object.entries(labels).every(([k, v]) => has.includes(`${k}="${v}"`))) sum += Number(m[2]);
      }
      return sum;
    },
    log: () => stderr,
    stop: () => stopProcess(proc, 10_000),
    kill: () => killProcess(proc),
  };
}
