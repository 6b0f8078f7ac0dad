import { Command } from 'commander';
import { z } from 'zod';
import { parseOptions, sizeOption } from '../../edge/cli/parse-options.ts';
import { runSwarm, type SwarmResult } from './swarm-run.ts';
import { ensureLocalServices } from '../local-services.ts';

const Flags = z.object({
  peers: z.coerce.number().int().min(1).max(200),
  size: sizeOption,
  peerUpload: sizeOption,
  originUpload: sizeOption,
  json: z.boolean().optional(),
  baseline: z.boolean(),
  postgresKafka: z.boolean().optional(),
  protocol: z.enum(['rounds', 'sync']),
});

/**
 * `damselfly bench swarm`: distribution time against the P2P lower bound, origin bytes against
 * the file size, and the all-from-origin baseline with the same caps — all from one run.
 *
 * Default caps: 1 MiB/s per peer, 4 MiB/s for the origin and the CDN. With twice that (the
 * default until session 3) twenty peer processes and the supernode kept two cores 93–96 % busy
 * while timed, so the run measured the machine; at these caps it is 54–87 % busy. The command
 * says when a run was CPU-bound (`cpuBound`).
 */
export function swarmCommand(): Command {
  return new Command('swarm')
    .description('distribute one file to N peer processes and compare with the P2P lower bound')
    .option('--peers <n>', 'peer processes', '20')
    .option('--size <size>', 'file size', '32MiB')
    .option('--peer-upload <rate>', 'each peer\'s upload cap (bytes/s)', '1MiB')
    .option('--origin-upload <rate>', 'cap on the origin and the CDN (bytes/s)', '4MiB')
    .option('--no-baseline', 'skip the all-from-origin baseline run')
    .option('--postgres-kafka', 'run the supernode on PostgreSQL + Kafka (started like the tests do) instead of the embedded store')
    .option('--protocol <rounds|sync>', 'the peers\' protocol with the supernode (docs/decisions.md, "Parents, not pieces")', 'rounds')
    .option('--json', 'one JSON object on stdout')
    .exitOverride()
    .action(async (raw) => {
      const f = parseOptions(Flags, raw, 'bench swarm');
      const services = f.postgresKafka ? await ensureLocalServices() : undefined;
      const common = {
        peers: f.peers,
        fileBytes: f.size,
        peerUpload: f.peerUpload,
        originUpload: f.originUpload,
        ...(services ? { databaseUrl: services.databaseUrl, kafkaBrokers: services.kafkaBrokers.join(',') } : {}),
      };
      const p2p = await runSwarm({ ...common, mode: 'p2p', protocol: f.protocol });
      const baseline = f.baseline ? await runSwarm({ ...common, mode: 'origin' }) : undefined;
      const result = summary(p2p, baseline, f.postgresKafka ? 'postgres+kafka' : 'embedded', f);
      if (f.json) process.stdout.write(`${JSON.stringify(result)}\n`);
      else process.stdout.write(table(result));
      if (!p2p.filesIdentical) throw new Error('some peer\'s file differs from the origin');
    });
}

function summary(p2p: SwarmResult, baseline: SwarmResult | undefined, store: string, f: { peerUpload: number; originUpload: number; protocol: string }) {
  return {
    peers: p2p.peers,
    protocol: f.protocol,
    fileBytes: p2p.fileBytes,
    seconds: round(p2p.seconds),
    lowerBoundSeconds: round(p2p.lowerBoundSeconds),
    ratioToBound: round(p2p.ratioToBound),
    originBytes: p2p.originBytes,
    originBytesRatio: round(p2p.originBytesRatio),
    baselineSeconds: baseline ? round(baseline.seconds) : null,
    speedupOverBaseline: baseline ? round(baseline.seconds / p2p.seconds) : null,
    baselineOriginBytes: baseline?.originBytes ?? null,
    piecesFromPeers: p2p.piecesFromPeers,
    piecesFromCdn: p2p.piecesFromCdn,
    filesIdentical: p2p.filesIdentical && (baseline?.filesIdentical ?? true),
    peerUploadBytesPerSecond: f.peerUpload,
    originUploadBytesPerSecond: f.originUpload,
    store,
    supernodeCpuSeconds: roundOrNull(p2p.cpu.supernodeSeconds),
    peersCpuSeconds: roundOrNull(p2p.cpu.peersSeconds),
    machineCpuBusy: round(p2p.cpu.machineBusy),
    cpuBound: p2p.cpu.machineBusy >= CPU_BOUND,
  };
}

/**
 * A machine this busy while timed was the bottleneck: the ratio then measures its CPU as much as
 * the swarm (all processes share it; the bound assumes only the link caps limit the transfer).
 */
const CPU_BOUND = 0.9;

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function roundOrNull(x: number | null): number | null {
  return x === null ? null : round(x);
}

function table(r: ReturnType<typeof summary>): string {
  const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
  return [
    `swarm: ${r.peers} peers, ${mib(r.fileBytes)} file, peer upload ${mib(r.peerUploadBytesPerSecond)}/s, origin+CDN ${mib(r.originUploadBytesPerSecond)}/s, store ${r.store}`,
    `  distribution time   ${r.seconds.toFixed(2)} s`,
    `  P2P lower bound     ${r.lowerBoundSeconds.toFixed(2)} s   (ratio ${r.ratioToBound.toFixed(3)})`,
    `  origin bytes        ${mib(r.originBytes)}   (${r.originBytesRatio.toFixed(3)} × file)`,
    `  pieces from peers   ${r.piecesFromPeers}, from CDN ${r.piecesFromCdn}`,
    r.baselineSeconds !== null ? `  all-from-origin     ${r.baselineSeconds.toFixed(2)} s   (P2P is ${r.speedupOverBaseline!.toFixed(2)}× faster)` : '  all-from-origin     skipped',
    `  CPU while timed     supernode ${r.supernodeCpuSeconds ?? '?'} s, peers ${r.peersCpuSeconds ?? '?'} s; machine ${(r.machineCpuBusy * 100).toFixed(0)} % busy` +
      (r.cpuBound ? ' — CPU-bound: lower the caps (--peer-upload, --origin-upload) to measure the swarm, not the machine' : ''),
    `  files identical     ${r.filesIdentical ? 'yes' : 'NO'}`,
    '',
  ].join('\n');
}
