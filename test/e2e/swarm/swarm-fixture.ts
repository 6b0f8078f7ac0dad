import { afterAll, beforeAll } from 'vitest';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { freePort, onLines, spawnDamselfly, spawnHarnessPeer, stopProcess, waitHealthy } from '../../../bench/processes.ts';
import { startOrigin, type Origin } from '../../../bench/swarm/origin-server.ts';
import type { PeerResult } from '../../../bench/swarm/swarm-run.ts';
import { databaseUrl, kafkaBrokers } from '../../shared/env.ts';

/**
 * Real processes on loopback for the swarm e2e tests: an origin (in the test process, counting
 * its bytes), one `damselfly supernode` process on the real PostgreSQL + Kafka, and harness
 * peer processes (bench/harness/harness-peer.ts: dfget's engine, started on "go" and serving
 * until stdin closes), so a test decides when each peer starts and keeps every peer serving
 * until it ends.
 */
export const TOKEN = 'e2e-swarm-token';

export interface TestOrigin extends Origin {
  content: Buffer;
  sha256: string;
}

/** An origin serving random bytes under a unique path, so the task id is new in the shared database. */
export async function startUniqueOrigin(bytes: number): Promise<TestOrigin> {
  const content = randomBytes(bytes);
  const origin = await startOrigin({ content, path: `/e2e-${randomUUID()}.bin` });
  return Object.assign(origin, { content, sha256: createHash('sha256').update(content).digest('hex') });
}

export interface SupernodeProcess {
  proc: ChildProcess;
  base: string;
  address: string;
  topic: string;
  stop(): Promise<number | null>;
}

export async function startSupernodeProcess(o: { dir: string; topic: string; cdnUploadRate: string }): Promise<SupernodeProcess> {
  const port = await freePort();
  const proc = spawnDamselfly(
    [
      'supernode', '--port', String(port), '--data-dir', join(o.dir, 'supernode'), '--log-level', 'warn',
      '--database-url', databaseUrl(), '--kafka-brokers', kafkaBrokers().join(','), '--kafka-topic', o.topic,
      '--cdn-upload-rate', o.cdnUploadRate,
    ],
    { DAMSELFLY_TOKEN: TOKEN },
  );
  const address = `127.0.0.1:${port}`;
  await waitHealthy(`http://${address}/healthy`, 90_000, proc);
  return { proc, base: `http://${address}`, address, topic: o.topic, stop: () => stopProcess(proc, 20_000) };
}

export interface PeerProcess {
  index: number;
  proc: ChildProcess;
  output: string;
  /** Resolves once the process printed "ready" (it waits for go()). */
  ready: Promise<void>;
  /** The --json result; rejects if the process exits without one. */
  result: Promise<PeerResult>;
  go(): void;
  stderr(): string;
  /** Closes stdin (ends the linger) and waits for the exit code. */
  finish(): Promise<number | null>;
}

export function startPeer(o: { index: number; url: string; dir: string; node: string; uploadLimit: string; extra?: string[] }): PeerProcess {
  const output = join(o.dir, `peer-${o.index}.out`);
  const proc = spawnHarnessPeer([o.url, '-o', output, '--node', o.node, '--upload-limit', o.uploadLimit, ...(o.extra ?? [])], { DAMSELFLY_TOKEN: TOKEN });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  let onReady!: () => void;
  let onResult!: (r: PeerResult) => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const result = new Promise<PeerResult>((resolve) => (onResult = resolve));
  onLines(proc.stdout!, (line) => {
    if (line === 'ready') onReady();
    else if (line.startsWith('{')) onResult(JSON.parse(line) as PeerResult);
  });
  const failed = exited.then((code) => {
    throw new Error(`peer ${o.index} exited with ${code} (signal ${proc.signalCode}) without a result: ${stderr}`);
  });
  const readyOrExit = Promise.race([ready, failed]);
  const resultOrExit = Promise.race([result, failed]);
  // A test that kills a peer never awaits its result: keep that rejection from being "unhandled"
  // (awaiting these promises still throws).
  for (const p of [failed, readyOrExit, resultOrExit]) p.catch(() => undefined);
  return {
    index: o.index,
    proc,
    output,
    ready: readyOrExit,
    result: resultOrExit,
    go: () => void proc.stdin!.write('go\n'),
    stderr: () => stderr,
    finish: async () => {
      proc.stdin!.end();
      // Closing stdin ends the linger: the peer leaves the task and exits by itself.
      const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000).unref());
      const code = await Promise.race([exited, timeout]);
      return code === 'timeout' ? stopProcess(proc, 5000) : code;
    },
  };
}

export function sha256Of(path: string): string | undefined {
  return existsSync(path) ? createHash('sha256').update(readFileSync(path)).digest('hex') : undefined;
}

export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Polls `check` every `everyMs` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function pollUntil<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Every peer's result, or a clear failure after `timeoutMs`: a swarm that stops making progress
 * (a peer stuck on a bad source forever) fails the test instead of hanging it.
 */
export async function resultsWithin(peers: readonly PeerProcess[], timeoutMs: number): Promise<PeerResult[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the peers did not all finish within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([Promise.all(peers.map((p) => p.result)), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface Swarm {
  work: { dir: string; remove(): void };
  topic: string;
  origin: TestOrigin;
  supernode: SupernodeProcess;
  /** Peers the test started: each is finished (stdin closed, process stopped) after the file. */
  peers: PeerProcess[];
}

/**
 * A test file's swarm world, set up before its tests and torn down after them: a work
 * directory, an origin at a unique URL, and a supernode process on PostgreSQL + Kafka with a
 * topic of its own. Call at describe level; read `origin` and `supernode` inside tests.
 */
export function useSwarm(name: string, o: { size: number; cdnUploadRate: string }): Swarm {
  const swarm = { work: tempDir(`df-e2e-${name}-`), topic: `e2e-swarm-${name}-${randomUUID()}`, peers: [] as PeerProcess[] } as Swarm;
  beforeAll(async () => {
    swarm.origin = await startUniqueOrigin(o.size);
    swarm.supernode = await startSupernodeProcess({ dir: swarm.work.dir, topic: swarm.topic, cdnUploadRate: o.cdnUploadRate });
  });
  afterAll(async () => {
    await Promise.all(swarm.peers.map((p) => p.finish()));
    await swarm.supernode?.stop();
    await swarm.origin?.close();
    swarm.work.remove();
  });
  return swarm;
}
