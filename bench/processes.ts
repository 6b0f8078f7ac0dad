import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** Spawning the real `damselfly` binary for the demo, benchmarks and e2e tests. */
export const DAMSELFLY_BIN = fileURLToPath(new URL('../bin/damselfly.mjs', import.meta.url));

/** The harness peer (bench/harness/harness-peer.ts): dfget's engine with "go", linger-until-EOF, --ack-log and --lie. */
export const HARNESS_PEER = fileURLToPath(new URL('./harness/harness-peer.mjs', import.meta.url));

export function spawnDamselfly(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawnNode(DAMSELFLY_BIN, args, env);
}

/** A harness peer process: `URL -o FILE --node H:P,.. [--upload-limit R] [--ack-log FILE] [--lie all|N,..]`. */
export function spawnHarnessPeer(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawnNode(HARNESS_PEER, args, env);
}

function spawnNode(script: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, [...(process.env.DAMSELFLY_CHILD_NODE_ARGS ?? '').split(' ').filter(Boolean), script, ...args], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/**
 * A supernode process on a free port of 127.0.0.1, healthy: on the embedded store, or on
 * PostgreSQL + Kafka when given (a topic of its own, so runs do not read each other's events).
 */
export async function startSupernodeProcess(o: { dataDir: string; databaseUrl?: string; kafkaBrokers?: string; args?: string[] }): Promise<{ proc: ChildProcess; address: string }> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { DAMSELFLY_DATABASE_URL: o.databaseUrl ?? '', DAMSELFLY_KAFKA_BROKERS: o.kafkaBrokers ?? '' };
  const args = ['supernode', '--port', String(port), '--data-dir', o.dataDir, '--log-level', 'warn', '--kafka-topic', `bench-${Date.now()}`, ...(o.args ?? [])];
  const proc = spawnDamselfly(args, env);
  try {
    await waitHealthy(`http://127.0.0.1:${port}/healthy`, 60_000, proc);
  } catch (err) {
    await stopProcess(proc, 2_000);
    throw err;
  }
  return { proc, address: `127.0.0.1:${port}` };
}

/** A TCP port free right now on 127.0.0.1 (the usual small race is acceptable for tests). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Polls `url` until it answers 2xx, or throws after `timeoutMs` with the process's stderr tail. */
export async function waitHealthy(url: string, timeoutMs: number, proc?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let stderr = '';
  proc?.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  while (Date.now() < deadline) {
    if (proc && proc.exitCode !== null) throw new Error(`process exited with ${proc.exitCode} before ${url} was healthy:\n${stderr}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet: keep polling until the deadline
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} not healthy after ${timeoutMs} ms:\n${stderr}`);
}

/** Resolves with the process's exit code; SIGTERM, then SIGKILL after `graceMs`. */
export async function stopProcess(proc: ChildProcess, graceMs = 10_000): Promise<number | null> {
  if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

/** kill -9, as of a machine that dies: no drain, no cleanup. Resolves once it exited (at once if it already had). */
export async function killProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill('SIGKILL');
  await exited;
}

/** Calls `onLine` for every complete line the stream emits. */
export function onLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buf = '';
  stream.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
}
