import { Command } from 'commander';
import { z } from 'zod';
import { parseOptions, sizeOption } from '../../edge/cli/parse-options.ts';
import { runThroughput, type Leg, type ThroughputResult } from './throughput-run.ts';

const Flags = z.object({ size: sizeOption.refine((n) => n > 0, 'must be more than 0 bytes'), json: z.boolean().optional() });

/** Issue 13's targets, printed beside the figures. */
const TARGETS = { bytesPerSecond: 500e6, cpuSecondsPerGiB: 2 };

/**
 * `damselfly bench throughput`: how fast the bytes path is, and what each byte costs in CPU,
 * with nothing capped (issue 13): one peer from the CDN, then a second peer from the first.
 */
export function throughputCommand(): Command {
  return new Command('throughput')
    .description('one peer pulls a file from the CDN, then a second from the first, nothing capped: rates and CPU per GiB')
    .option('--size <size>', 'file size (held in memory by the benchmark\'s origin)', '1GiB')
    .option('--json', 'one JSON object on stdout')
    .exitOverride()
    .action(async (raw) => {
      const f = parseOptions(Flags, raw, 'bench throughput');
      const r = await runThroughput({ fileBytes: f.size });
      const out = summary(r);
      process.stdout.write(f.json ? `${JSON.stringify(out)}\n` : table(out));
      if (!r.filesIdentical) throw new Error('a peer\'s file differs from the origin');
    });
}

function summary(r: ThroughputResult) {
  const leg = (l: Leg) => ({
    seconds: round(l.seconds),
    megabytesPerSecond: round(l.bytesPerSecond / 1e6),
    piecesFromPeers: l.fromPeers,
    piecesFromCdn: l.fromCdn,
    cpuSecondsPerGiB: Object.fromEntries(Object.entries(l.cpuPerGiB).map(([k, v]) => [k, v === null ? null : round(v)])),
    machineCpuBusy: round(l.machineBusy),
  });
  const mib = (b: number | null) => (b === null ? null : round(b / 1024 ** 2));
  return {
    fileBytes: r.fileBytes,
    fromCdn: leg(r.fromCdn),
    fromPeer: leg(r.fromPeer),
    peakRssMiB: { supernode: mib(r.peakRss.supernode), peerA: mib(r.peakRss.peerA), peerB: mib(r.peakRss.peerB) },
    targets: { megabytesPerSecond: TARGETS.bytesPerSecond / 1e6, cpuSecondsPerGiB: TARGETS.cpuSecondsPerGiB },
    filesIdentical: r.filesIdentical,
  };
}

function table(s: ReturnType<typeof summary>): string {
  const line = (name: string, l: ReturnType<typeof summary>['fromCdn']) =>
    `  ${name.padEnd(22)}${String(l.seconds).padStart(8)} s  ${String(l.megabytesPerSecond).padStart(8)} MB/s   CPU s/GiB: ${Object.entries(l.cpuSecondsPerGiB).map(([k, v]) => `${k} ${v ?? '?'}`).join(', ')}   (pieces: ${l.piecesFromPeers} from peers, ${l.piecesFromCdn} from the CDN)\n`;
  return [
    `throughput: ${(s.fileBytes / 1024 ** 2).toFixed(1)} MiB, nothing capped (targets: ≥ ${s.targets.megabytesPerSecond} MB/s, ≤ ${s.targets.cpuSecondsPerGiB} s of CPU per GiB on each side)\n`,
    line('peer a from the CDN', s.fromCdn),
    line('peer b from peer a', s.fromPeer),
    `  peak RSS               supernode ${s.peakRssMiB.supernode} MiB, peer a ${s.peakRssMiB.peerA} MiB, peer b ${s.peakRssMiB.peerB} MiB\n`,
    `  files identical        ${s.filesIdentical ? 'yes' : 'NO'}\n`,
  ].join('');
}

const round = (n: number) => Math.round(n * 1000) / 1000;
