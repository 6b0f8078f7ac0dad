import type { ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { killProcess, spawnDamselfly, stopProcess, waitHealthy } from '../processes.ts';

export interface ReplicaSpec {
  replicaId: string;
  port: number;
  /** Work directory of the scenario: the replica's data dir and log file go in it. */
  dir: string;
  databaseUrl: string;
  kafkaBrokers: string[];
  topic: string;
  token: string;
  cdnUploadRate: string;
  shards: number;
  leaseTtl: string;
}

/**
 * One `damselfly supernode` replica process of a chaos scenario. Its id, port and data dir are
 * fixed for its whole life, so a restart after kill -9 comes back as the same replica at the
 * same address (peers only know the addresses they were started with). Its stderr is appended
 * to `<dir>/<replicaId>.log` across restarts.
 */
export class Replica {
  proc: ChildProcess | undefined;
  paused = false;
  readonly address: string;
  readonly base: string;
  readonly logFile: string;

  constructor(readonly spec: ReplicaSpec) {
    this.address = `127.0.0.1:${spec.port}`;
    this.base = `http://${this.address}`;
    this.logFile = join(spec.dir, `${spec.replicaId}.log`);
  }

  get id(): string {
    return this.spec.replicaId;
  }

  get running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Starts the process and waits until it answers /healthy. */
  async start(): Promise<void> {
    if (this.running) throw new Error(`replica ${this.id} is already running`);
    const s = this.spec;
    const dataDir = join(s.dir, s.replicaId);
    mkdirSync(dataDir, { recursive: true });
    const args = [
      'supernode', '--replica-id', s.replicaId, '--port', String(s.port), '--host', '127.0.0.1', '--advertise', this.address,
      '--database-url', s.databaseUrl, '--kafka-brokers', s.kafkaBrokers.join(','), '--kafka-topic', s.topic,
      '--data-dir', dataDir, '--cdn-upload-rate', s.cdnUploadRate, '--log-level', 'warn',
      '--shards', String(s.shards), '--lease-ttl', s.leaseTtl,
    ];
    const proc = spawnDamselfly(args, { DAMSELFLY_TOKEN: s.token });
    const log = createWriteStream(this.logFile, { flags: 'a' });
    log.write(`--- ${new Date().toISOString()} start ${s.replicaId} (pid ${proc.pid})\n`);
    proc.stdout!.pipe(log, { end: false });
    proc.stderr!.pipe(log, { end: false });
    proc.once('exit', (code, signal) => log.end(`--- ${new Date().toISOString()} exit ${s.replicaId}: code ${code} signal ${signal}\n`));
    this.proc = proc;
    this.paused = false;
    await waitHealthy(`${this.base}/healthy`, 90_000, proc);
  }

  /** kill -9: no drain, no lease release, no relay flush. */
  async kill9(): Promise<void> {
    await killProcess(this.requireRunning());
    this.paused = false;
  }

  sigstop(): void {
    this.requireRunning().kill('SIGSTOP');
    this.paused = true;
  }

  sigcont(): void {
    this.requireRunning().kill('SIGCONT');
    this.paused = false;
  }

  /** SIGTERM (a clean shutdown: drain, release leases, flush the relay); resolves with the exit code. */
  async stop(graceMs = 30_000): Promise<number | null> {
    if (!this.proc) return null;
    if (this.paused) this.sigcont();
    return stopProcess(this.proc, graceMs);
  }

  private requireRunning(): ChildProcess {
    if (!this.proc || !this.running) throw new Error(`replica ${this.id} is not running`);
    return this.proc;
  }
}
