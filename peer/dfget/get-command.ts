import { Command, Option } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { DamselflyError } from '../../core/errors.ts';
import { parseOptions } from '../../edge/cli/parse-options.ts';
import { createLogger } from '../../edge/log/logger.ts';
import { GetOptions, headerRecord } from './get-options.ts';
import { startDownload } from './download.ts';
import type { SwarmCounters } from './swarm-counters.ts';

/**
 * `damselfly get URL -o FILE` (also `dfget`): download through the swarm. Exit codes: 0 done,
 * 1 the download failed, 2 bad usage, each failure with one line on stderr (bin/cli.ts prints
 * it). Headers given with --header go to the origin (through the supernode's CDN) and are
 * never printed or logged.
 */
export function getCommand(): Command {
  return new Command('get')
    .description('download a file through the P2P swarm')
    .argument('<url>', "the file's URL at its origin")
    .requiredOption('-o, --output <file>', 'where to write the file')
    .option('--node <host:port,..>', 'supernodes, tried in order (env DAMSELFLY_NODES)', process.env.DAMSELFLY_NODES || '127.0.0.1:8002')
    .option('--digest <sha256:hex>', 'verify the whole file against this digest (also part of the task id)')
    .option('--header <K: V>', 'header for the origin, e.g. Authorization (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--filter <a&b>', 'query parameters to ignore when identifying the task')
    .option('--identifier <id>', 'identifies the content when the URL does not')
    .option('--total-limit <rate>', "cap on this peer's download and upload rates, e.g. 20MiB (bytes/s)")
    .option('--upload-limit <rate>', 'cap on the upload rate only (overrides --total-limit for uploads)')
    .option('--no-back-source', 'fail instead of fetching from the origin when no supernode answers')
    .option('--linger [duration]', 'keep serving pieces after the download: for a duration (30s, 2m), or until interrupted')
    .option('--json', 'print one JSON object on stdout instead of a progress bar')
    .option('--parallelism <n>', 'pieces in flight at once (default 6)')
    .option('--protocol <rounds|sync>', 'rounds: the supernode assigns every piece; sync: it names parents, the peer chooses pieces and reports them in batches', 'rounds')
    .option('--connect-timeout <ms>', 'connect timeout to supernodes and sources (default 3000)')
    .addOption(new Option('--log-level <level>', 'log level on stderr').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('warn'))
    .exitOverride()
    .action(async (url: string, flags: Record<string, unknown>) => {
      await runGet(parseOptions(GetOptions, { url, ...flags }, 'get'));
    });
}

async function runGet(o: GetOptions): Promise<void> {
  // SIGINT/SIGTERM abort a download (the temp file is removed, the supernode told) or end a linger.
  const stop = new AbortController();
  let onSignal!: () => void;
  const interrupted = new Promise<void>((resolve) => {
    onSignal = () => {
      stop.abort(new DamselflyError('DF_ERR_INTERRUPTED', 'interrupted'));
      resolve();
    };
  });
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  try {
    await getAndServe(o, stop.signal, interrupted);
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
}

async function getAndServe(o: GetOptions, signal: AbortSignal, interrupted: Promise<void>): Promise<void> {
  const bar = !o.json && process.stderr.isTTY ? new SingleBar({ format: ' {bar} {percentage}% | {value}/{total} pieces', stream: process.stderr }, Presets.shades_classic) : undefined;
  const progress = (c: SwarmCounters) => {
    if (bar!.getTotal() !== c.pieceCount) bar!.start(c.pieceCount, c.storedPieces);
    bar!.update(c.storedPieces);
  };
  let d;
  try {
    d = await startDownload({
      url: o.url, output: o.output, nodes: o.node, digest: o.digest, headers: headerRecord(o.header), filter: o.filter, identifier: o.identifier,
      token: process.env.DAMSELFLY_TOKEN || undefined,
      totalLimit: o.totalLimit, uploadLimit: o.uploadLimit,
      noBackSource: !o.backSource, connectTimeoutMs: o.connectTimeout, parallelism: o.parallelism, protocol: o.protocol,
      logger: createLogger({ name: 'dfget', level: o.logLevel }),
      onProgress: bar ? progress : undefined,
      signal,
    });
  } finally {
    bar?.stop();
  }
  const r = d.result;
  if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
  else {
    const how = r.backSource ? 'from the origin (no supernode answered)' : `${r.fromPeers} pieces from peers, ${r.fromCdn} from the CDN`;
    process.stderr.write(`${r.outputPath}: ${r.bytes} bytes in ${r.seconds.toFixed(2)} s, ${how}\n`);
  }
  if (o.linger === true) await interrupted;
  else if (o.linger) await Promise.race([new Promise((resolve) => setTimeout(resolve, o.linger as number).unref()), interrupted]);
  await d.close();
}
