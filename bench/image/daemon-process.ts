import type { ChildProcess } from 'node:child_process';
import { onLines, spawnDamselfly, stopProcess } from '../processes.ts';

export interface DaemonProcess {
  proc: ChildProcess;
  /** The mirror's host:port, from the daemon's ready line. */
  address: string;
  /** A counter or gauge without labels from its /metrics (0 when absent). */
  metric(name: string): Promise<number>;
  stop(): Promise<number | null>;
}

/**
 * A real `damselfly daemon` process on ports the OS picks, with a data dir of its own (cold
 * when the dir is new) and its host-wide upload cap; resolves once it printed its ready line.
 */
export async function startDaemonProcess(o: { index: number; supernode: string; dataDir: string; uploadLimit: number }): Promise<DaemonProcess> {
  const proc = spawnDamselfly(['daemon', '--node', o.supernode, '--port', '0', '--upload-port', '0', '--data-dir', o.dataDir, '--upload-limit', String(o.uploadLimit), '--log-level', 'warn']);
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  let address: string;
  try {
    address = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`daemon ${o.index} printed no ready line within 60 s: ${stderr}`)), 60_000);
      onLines(proc.stdout!, (line) => {
        if (!line.startsWith('{')) return;
        clearTimeout(timer);
        resolve((JSON.parse(line) as { address: string }).address);
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`daemon ${o.index} exited with ${code} before it was ready: ${stderr}`));
      });
    });
  } catch (err) {
    await stopProcess(proc, 2_000);
    throw err;
  }
  return {
    proc,
    address,
    async metric(name) {
      const text = await fetch(`http://${address}/metrics`).then((r) => r.text());
      const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
      return m ? Number(m[1]) : 0;
    },
    stop: () => stopProcess(proc, 10_000),
  };
}
