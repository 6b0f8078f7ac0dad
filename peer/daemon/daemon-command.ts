import { Command, Option } from 'commander';
import { parseOptions } from '../../edge/cli/parse-options.ts';
import { createLogger } from '../../edge/log/logger.ts';
import { configCommand } from './config/config-command.ts';
import { DaemonFlags } from './daemon-options.ts';
import { startDaemon } from './daemon.ts';
import { readDaemonConfigFile } from './daemon-config-file.ts';
import { createHttpProxy, loadProxyCa, trustCaInstructions } from './proxy/index.ts';
import { createRegistryMirror } from './registry/index.ts';

/**
 * `damselfly daemon`: the node agent, run once per node and kept running (SIGINT/SIGTERM drain
 * it); `damselfly daemon config …` writes the container runtimes' configuration for it. The
 * cluster token comes from DAMSELFLY_TOKEN, never from a flag (a flag shows in `ps`).
 */
export function daemonCommand(): Command {
  return new Command('daemon')
    .description('the node agent: registry mirror, HTTP proxy, piece uploader and blob cache; announces its host to the supernodes (GET /api/v1/hosts lists them)')
    .option('--node <host:port,..>', 'supernodes, tried in order (env DAMSELFLY_NODES)', process.env.DAMSELFLY_NODES || '127.0.0.1:8002')
    .option('--host <ip>', 'interface the mirror/proxy port listens on', '127.0.0.1')
    .option('--port <n>', 'the registry mirror and HTTP proxy port', '65001')
    .option('--upload-host <ip>', 'interface the piece uploader listens on (default: --host)')
    .option('--upload-port <n>', 'the piece uploader port', '65002')
    .option('--advertise-host <host>', 'address other peers reach the uploader at (default: the upload interface)')
    .option('--data-dir <dir>', 'piece and blob cache (default ~/.cache/damselfly/daemon)')
    .option('--registry <url>', 'default upstream registry, e.g. https://registry-1.docker.io (after X-Dragonfly-Registry and ns=)')
    .option('--insecure-registry <host>', 'a registry named by ns= that speaks plain HTTP (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--upload-limit <rate>', 'host-wide upload cap, e.g. 100MiB (bytes/s)')
    .option('--download-limit <rate>', 'host-wide download cap (bytes/s)')
    .option('--gc-high <fraction>', 'collect the cache when the disk is fuller than this', '0.85')
    .option('--gc-low <fraction>', '… down to this', '0.7')
    .option('--cache-ttl <duration>', 'remove blobs unused this long', '6h')
    .option('--gc-interval <duration>', 'how often the cache is collected', '1m')
    .option('--config <file>', 'YAML file with the proxy rules and HTTPS interception (docs/proxy.md)')
    .addOption(new Option('--log-level <level>', 'log level on stderr').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'))
    .addCommand(configCommand())
    .enablePositionalOptions()
    .exitOverride()
    .action(async (flags: Record<string, unknown>) => {
      await runDaemon(parseOptions(DaemonFlags, flags, 'daemon'));
    });
}

async function runDaemon(o: DaemonFlags): Promise<void> {
  const logger = createLogger({ name: 'daemon', level: o.logLevel });
  const { proxy } = await readDaemonConfigFile(o.config);
  const hijack = proxy.hijackHTTPS && proxy.hijackHTTPS.hosts.length > 0 ? proxy.hijackHTTPS : undefined;
  const ca = hijack ? await loadProxyCa({ certPath: hijack.cert, keyPath: hijack.key, dataDir: o.dataDir }) : undefined;
  const daemon = await startDaemon({
    nodes: o.node, token: process.env.DAMSELFLY_TOKEN || undefined, dataDir: o.dataDir,
    host: o.host, port: o.port, uploadHost: o.uploadHost, uploadPort: o.uploadPort, advertiseHost: o.advertiseHost,
    uploadLimit: o.uploadLimit, downloadLimit: o.downloadLimit,
    cache: { highWatermark: o.gcHigh, lowWatermark: o.gcLow, ttlMs: o.cacheTtl }, gcIntervalMs: o.gcInterval,
    logger,
    routes: (fetcher, metrics) => ({
      mirror: createRegistryMirror({ fetcher, defaultRegistry: o.registry, insecureRegistries: o.insecureRegistry, logger, metrics }),
      proxy: createHttpProxy({ fetcher, rules: proxy.rules, hijack: hijack && ca ? { hosts: hijack.hosts, ca } : undefined, logger, metrics }),
    }),
  });
  if (ca) process.stderr.write(`${trustCaInstructions(ca.certPath, daemon.address)}\n`);
  // One line on stdout for scripts and tests that start daemons: where it listens, which host it is.
  process.stdout.write(`${JSON.stringify({ ready: true, address: daemon.address, upload: daemon.uploadAddress, hostId: daemon.hostId })}\n`);
  await new Promise<void>((resolve) => process.once('SIGINT', resolve).once('SIGTERM', resolve));
  logger.info({}, 'draining');
  await daemon.stop();
}
