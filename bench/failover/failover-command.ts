import { Command } from 'commander';
import { z } from 'zod';
import { parseOptions, sizeOption } from '../../edge/cli/parse-options.ts';
import { ensureLocalServices } from '../local-services.ts';
import { runFailover, type FailoverResult } from './failover-run.ts';

const Flags = z.object({
  replicas: z.coerce.number().int().min(2).max(9),
  peers: z.coerce.number().int().min(1).max(100),
  size: sizeOption,
  peerUpload: sizeOption,
  originUpload: sizeOption,
  leaseTtl: z.string().regex(/^\d+(ms|s)$/, 'a duration such as 2s or 1500ms'),
  killAt: z.coerce.number().gt(0).lt(1),
  json: z.boolean().optional(),
});

/**
 * `damselfly bench failover`: kills the busy task's owner mid-download (SIGKILL) in a cluster
 * of replicas on the local PostgreSQL and Kafka (started or reused like the tests do) and
 * prints what the failover cost: the peers' stall, the time to takeover, events replayed,
 * acknowledged reports lost, and origin bytes fetched again against the bytes nobody held.
 */
export function failoverCommand(): Command {
  return new Command('failover')
    .description('kill the owner of a busy task mid-download and measure the failover')
    .option('--replicas <n>', 'supernode replicas', '3')
    .option('--peers <n>', 'peer processes', '8')
    .option('--size <size>', 'file size', '32MiB')
    .option('--peer-upload <rate>', 'each peer\'s upload cap (bytes/s)', '1MiB')
    .option('--origin-upload <rate>', 'cap on the origin and on each replica\'s CDN (bytes/s)', '4MiB')
    .option('--lease-ttl <duration>', 'the replicas\' shard lease TTL', '2s')
    .option('--kill-at <fraction>', 'share of the download acknowledged when the owner is killed', '0.5')
    .option('--json', 'one JSON object on stdout')
    .exitOverride()
    .action(async (raw) => {
      const f = parseOptions(Flags, raw, 'bench failover');
      const services = await ensureLocalServices();
      const result = await runFailover({
        replicas: f.replicas, peers: f.peers, fileBytes: f.size, peerUpload: f.peerUpload, originUpload: f.originUpload,
        leaseTtl: f.leaseTtl, killAt: f.killAt, databaseUrl: services.databaseUrl, kafkaBrokers: services.kafkaBrokers,
        log: f.json ? undefined : (line) => process.stderr.write(`${line}\n`),
      });
      process.stdout.write(f.json ? `${JSON.stringify(result)}\n` : table(result));
      if (result.violations.length > 0) throw new Error(`${result.violations.length} invariant violation(s): ${result.violations.slice(0, 3).join('; ')}`);
    });
}

function table(r: FailoverResult): string {
  const mib = (b: number) => `${(b / 1048576).toFixed(2)} MiB`;
  return [
    `failover: ${r.replicas} replicas, ${r.peers} peers, ${mib(r.fileBytes)} file, lease TTL ${r.leaseTtl}; killed ${r.killedReplica} at ${Math.round(r.killProgress * 100)}%, ${r.newOwner} took over`,
    `  peers' stall          p50 ${r.stallP50Seconds.toFixed(2)} s, p99 ${r.stallP99Seconds.toFixed(2)} s, max ${r.stallMaxSeconds.toFixed(2)} s (${r.stalledPeers} peers downloading at the kill)`,
    `  takeover              ${r.takeoverSeconds.toFixed(2)} s after the kill`,
    `  events replayed       ${r.eventsReplayedOnTakeover} from the store (catch-ups by start: ${JSON.stringify(r.catchUpFrom)})`,
    `  acknowledged lost     ${r.acknowledgedLost}`,
    `  extra origin bytes    ${mib(r.extraOriginBytes)}   (unheld at the kill: ${mib(r.unheldBytesAtKill)})`,
    `  files identical       ${r.filesIdentical ? 'yes' : 'NO'}`,
    `  invariants            ${r.violations.length === 0 ? 'all hold' : r.violations.join('; ')}`,
    '',
  ].join('\n');
}
