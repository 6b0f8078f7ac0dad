import { Command } from 'commander';
import { z } from 'zod';
import { DEFAULT_POLICY } from '../../core/scheduling/policy.ts';
import { ensureLocalServices } from '../local-services.ts';
import { parseOptions, sizeOption } from '../../edge/cli/parse-options.ts';
import { runControlPlane, type ControlPlaneResult } from './control-plane-run.ts';

const Flags = z.object({
  peers: z.coerce.number().int().min(1).max(5000),
  tasks: z.coerce.number().int().min(1).max(100),
  size: sizeOption,
  pieceMs: z.coerce.number().int().min(1).max(60_000),
  parallelism: z.coerce.number().int().min(1).max(64),
  protocol: z.enum(['sync', 'rounds']),
  postgresKafka: z.boolean().optional(),
  json: z.boolean().optional(),
});
type Flags = z.infer<typeof Flags>;

/**
 * `damselfly bench control-plane`: the supernode under hundreds of peers. The peers are
 * simulated in the bench process (the real wire protocol, no bytes moved), so what is measured
 * is the control plane alone: round latency, the supernode's CPU per round and per piece
 * transfer, and how far the swarm falls behind the time its simulated links allow.
 */
export function controlPlaneCommand(): Command {
  return new Command('control-plane')
    .description('the supernode under N simulated peers: round latency and CPU per round')
    .option('--peers <n>', 'simulated peers', '200')
    .option('--tasks <n>', 'tasks the peers spread over', '1')
    .option('--size <size>', 'file size of each task', '64MiB')
    .option('--piece-ms <ms>', 'how long a simulated piece transfer takes', '250')
    .option('--parallelism <n>', 'pieces in flight per peer (dfget: 6)', '6')
    .option('--protocol <protocol>', 'sync: the supernode assigns parents, peers report in batches; rounds: it assigns every piece', 'sync')
    .option('--postgres-kafka', 'run the supernode on PostgreSQL + Kafka (started like the tests do) instead of the embedded store')
    .option('--json', 'one JSON object on stdout')
    .exitOverride()
    .action(async (raw) => {
      const f = parseOptions(Flags, raw, 'bench control-plane');
      const services = f.postgresKafka ? await ensureLocalServices() : undefined;
      const run = await runControlPlane({
        peers: f.peers, tasks: f.tasks, fileBytes: f.size, pieceMs: f.pieceMs, parallelism: f.parallelism, protocol: f.protocol,
        ...(services ? { databaseUrl: services.databaseUrl, kafkaBrokers: services.kafkaBrokers.join(',') } : {}),
      });
      const result = summary(run, f);
      if (f.json) process.stdout.write(`${JSON.stringify(result)}\n`);
      else process.stdout.write(table(result));
    });
}

/**
 * The time the simulated links allow: every peer needs every piece, at most `parallelism` in
 * flight, each `pieceMs`; and every transfer needs an upload slot (peers' and the CDN's). The
 * pieces must also spread from the CDN, so even an instant supernode stays above it by the
 * ramp (a few piece times): compare runs, not one run with 1.00.
 */
export function linkBoundSeconds(o: { peers: number; tasks: number; pieceCount: number; pieceMs: number; parallelism: number }): number {
  const perTask = Math.ceil(o.peers / o.tasks);
  const downloads = (o.pieceCount * o.pieceMs) / o.parallelism;
  const uploads = (perTask * o.pieceCount * o.pieceMs) / (perTask * DEFAULT_POLICY.peerUploadSlots + DEFAULT_POLICY.cdnUploadSlots);
  return Math.max(downloads, uploads) / 1000;
}

function summary(r: ControlPlaneResult, f: Flags) {
  const sorted = [...r.roundMs].sort((a, b) => a - b);
  const at = (q: number) => quantile(sorted, q);
  const firstAnswers = [...r.firstAnswerMs].sort((a, b) => a - b);
  const bound = linkBoundSeconds({ peers: f.peers, tasks: f.tasks, pieceCount: r.pieceCount, pieceMs: f.pieceMs, parallelism: f.parallelism });
  const cpu = r.cpu.supernodeSeconds;
  return {
    peers: f.peers,
    tasks: f.tasks,
    pieceCount: r.pieceCount,
    pieceMs: f.pieceMs,
    parallelism: f.parallelism,
    protocol: f.protocol,
    store: f.postgresKafka ? 'postgres+kafka' : 'embedded',
    seconds: round(r.seconds),
    linkBoundSeconds: round(bound),
    ratioToLinkBound: round(r.seconds / bound),
    /** Until the supernode had acknowledged every peer's last report (sync: after the files were whole). */
    acknowledgedSeconds: round(r.acknowledgedSeconds),
    /**
     * The start: when the peers got their first answer (every peer asks at the same instant, so
     * this is how long the supernode took to let them all in), and when the first peer was done.
     */
    firstAnswerP50Ms: round(quantile(firstAnswers, 0.5)),
    firstAnswerMaxMs: round(firstAnswers.at(-1) ?? 0),
    firstDoneSeconds: round(r.firstDoneSeconds),
    rounds: r.rounds,
    roundsPerSecond: round(r.rounds / r.seconds),
    roundP50Ms: round(at(0.5)),
    roundP99Ms: round(at(0.99)),
    roundMaxMs: round(sorted.at(-1) ?? 0),
    pieceTransfers: r.pieceTransfers,
    events: r.events,
    eventsPerSecond: round(r.events / r.seconds),
    errors: r.errors,
    supernodeCpuSeconds: cpu === null ? null : round(cpu),
    /** Cores the supernode kept busy on average: 1.0 would make it the bottleneck (it is one event loop). */
    supernodeCores: cpu === null ? null : round(cpu / r.seconds),
    supernodeCpuMsPerRound: cpu === null ? null : round((cpu * 1000) / r.rounds),
    supernodeCpuMsPerTransfer: cpu === null ? null : round((cpu * 1000) / r.pieceTransfers),
    benchCpuSeconds: round(r.cpu.benchSeconds),
    machineCpuBusy: round(r.cpu.machineBusy),
    /**
     * Sync protocol: a simulated transfer's mean duration by the bench's own clock. Above pieceMs
     * the bench process (one event loop for every simulated peer) fired its timers late, and the
     * swarm could not beat linkBoundSeconds × meanTransferMs / pieceMs whatever the supernode did.
     */
    meanTransferMs: r.meanTransferMs === null ? null : round(r.meanTransferMs),
  };
}

/** The q-quantile of ascending numbers (0 when there are none). */
export function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function table(r: ReturnType<typeof summary>): string {
  return [
    `control plane: ${r.peers} simulated peers over ${r.tasks} task(s) of ${r.pieceCount} pieces, ${r.pieceMs} ms a piece, ${r.parallelism} in flight, protocol ${r.protocol}, store ${r.store}`,
    `  swarm time          ${r.seconds.toFixed(2)} s   (links allow ${r.linkBoundSeconds.toFixed(2)} s: ratio ${r.ratioToLinkBound.toFixed(3)}); every report acknowledged after ${r.acknowledgedSeconds.toFixed(2)} s`,
    `  start               first answers p50 ${r.firstAnswerP50Ms.toFixed(0)} ms, last ${r.firstAnswerMaxMs.toFixed(0)} ms; the first peer done after ${r.firstDoneSeconds.toFixed(2)} s`,
    `  rounds              ${r.rounds} (${r.roundsPerSecond.toFixed(0)}/s), latency p50 ${r.roundP50Ms.toFixed(1)} ms, p99 ${r.roundP99Ms.toFixed(1)} ms, max ${r.roundMaxMs.toFixed(1)} ms`,
    `  piece transfers     ${r.pieceTransfers}; events ${r.events} (${r.eventsPerSecond.toFixed(0)}/s); errors ${r.errors}`,
    `  supernode CPU       ${r.supernodeCpuSeconds ?? '?'} s = ${r.supernodeCores ?? '?'} cores; ${r.supernodeCpuMsPerRound ?? '?'} ms a round, ${r.supernodeCpuMsPerTransfer ?? '?'} ms a transfer`,
    `  machine             ${(r.machineCpuBusy * 100).toFixed(0)} % busy (the simulated peers: ${r.benchCpuSeconds.toFixed(1)} s of CPU` +
      `${r.meanTransferMs === null ? '' : `; their transfers took ${r.meanTransferMs.toFixed(0)} ms for ${r.pieceMs}`})`,
    '',
  ].join('\n');
}
