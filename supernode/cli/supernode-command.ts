import { Command } from 'commander';
import { parseSupernodeConfig, type SupernodeFlags } from '../config.ts';
import { createLogger } from '../../edge/log/logger.ts';
import { startSupernode } from '../supernode.ts';

/** `damselfly supernode`: runs until SIGTERM/SIGINT, then drains and exits 0. */
export function supernodeCommand(): Command {
  return new Command('supernode')
    .description('run a supernode (scheduler + CDN); embedded store unless --database-url is given')
    .option('--port <port>', 'HTTP port (API, CDN pieces, metrics)', '8002')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--advertise <host:port>', 'address peers use to reach this supernode')
    .option('--replica-id <id>', 'this replica\'s id (default: derived from host:port)')
    .option('--database-url <url>', 'PostgreSQL URL (env DAMSELFLY_DATABASE_URL); embedded PGlite when absent')
    .option('--kafka-brokers <h:p,..>', 'Kafka brokers (env DAMSELFLY_KAFKA_BROKERS); in-process bus when absent')
    .option('--kafka-topic <name>', 'topic the events are published to')
    .option('--data-dir <dir>', 'data directory (embedded store, CDN pieces)', '.damselfly/supernode')
    .option('--cdn-upload-rate <rate>', 'cap on the CDN\'s upload to peers, e.g. 20MiB (bytes/s)')
    .option('--cdn-max-bytes <size>', 'CDN disk quota, e.g. 50GiB (least recently used tasks go first)')
    .option('--cdn-max-age <duration>', 'collect CDN tasks unused this long, e.g. 24h')
    .option('--allow-private-origins', 'allow origins on link-local/metadata addresses')
    .option('--peer-address <from-request|declared>', 'how peers are reached: the IP their join came from with the port they declare, or the host:port they declare (behind NAT or a proxy)', 'from-request')
    .option('--max-file-size <size>', 'largest origin file a task may have, e.g. 200GiB (at most and by default 1TiB)')
    .option('--shards <n>', 'virtual shards tasks hash into; the same on every replica of a cluster, for the life of its data', '64')
    .option('--lease-ttl <duration>', 'shard lease lifetime, e.g. 2s: a dead owner is replaced within about this long', '2s')
    .option('--snapshot-every <n>', 'store a task snapshot every n events')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent')
    .exitOverride()
    .action(async (flags: SupernodeFlags) => {
      const config = parseSupernodeConfig(flags);
      const logger = createLogger({ level: config.logLevel });
      const node = await startSupernode(config, logger);
      process.stdout.write(`supernode listening on ${node.address}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGTERM', stop);
          process.off('SIGINT', stop);
          resolve();
        };
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
      });
      await node.stop();
    });
}
