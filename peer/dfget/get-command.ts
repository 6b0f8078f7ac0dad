import { Command, Option } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import pino from 'pino';
import { GetOptions, headerRecord } from './get-options.ts';
import { startDownload } from './download.ts';
import type { SwarmCounters } from './swarm-counters.ts';
import type { AcknowledgedRound } from './download-options.ts';

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
    .addOption(new Option('--log-level <level>', 'log level on stderr').default('warn').hideHelp())
    .addOption(new Option('--parallelism <n>', 'pieces in flight at once').hideHelp())
    .addOption(new Option('--connect-timeout <ms>', 'connect timeout to supernodes and sources').hideHelp())
    .addOption(new Option('--wait-for-go', 'print "ready", then wait for a line on stdin (benchmarks)').hideHelp())
    .addOption(new Option('--linger-until-eof', 'keep serving until stdin closes (benchmarks)').hideHelp())
    // Test only: the e2e tests need a peer *process* that serves corrupt bytes.
    .addOption(new Option('--test-corrupt-uploads <all|pieces>', 'TEST ONLY: serve corrupt bytes for every piece or for these pieces').hideHelp())
    // Test only: the chaos suite checks that every report a supernode acknowledged survives failover.
    .addOption(new Option('--ack-log <file>', 'TEST ONLY: append one JSON line per report a supernode acknowledged (2xx)').hideHelp())
    .exitOverride()
    .action(async (url: string, flags: Record<string, unknown>) => {
      const parsed = GetOptions.safeParse({ url, ...flags });
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        const field = String(issue.path[0] ?? 'url');
        const name = field === 'url' ? 'URL' : `--${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
        throw Object.assign(new Error(`get: ${name}: ${issue.message}`), { exitCode: 2 });
      }
      await runGet(parsed.data);
    });
}

async function runGet(o: GetOptions): Promise<void> {
  // SIGINT/SIGTERM abort a download (the temp file is removed, the supernode told) or end a linger.
  const stop = new AbortController();
  let onSignal!: () => void;
  const interrupted = new Promise<void>((resolve) => {
    onSignal = () => {
      stop.abort(new Error('interrupted'));
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
  const stdin = o.waitForGo || o.lingerUntilEof ? createInterface({ input: process.stdin }) : undefined;
  if (o.waitForGo) {
    process.stdout.write('ready\n');
    await new Promise<void>((resolve) => stdin!.once('line', () => resolve()));
  }
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
      noBackSource: !o.backSource, connectTimeoutMs: o.connectTimeout, parallelism: o.parallelism,
      corruptUploads: corruptPredicate(o.testCorruptUploads),
      onRoundAcknowledged: o.ackLog ? ackLogWriter(o.ackLog) : undefined,
      logger: pino({ name: 'dfget', level: o.logLevel }, pino.destination(2)),
      onProgress: bar ? progress : undefined,
      signal,
    });
  } catch (err) {
    stdin?.close();
    throw Object.assign(new Error(String((err as Error).message ?? err).replace(/\s+/g, ' ')), { exitCode: 1 });
  } finally {
    bar?.stop();
  }
  const r = d.result;
  if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
  else {
    const how = r.backSource ? 'from the origin (no supernode answered)' : `${r.fromPeers} pieces from peers, ${r.fromCdn} from the CDN`;
    process.stderr.write(`${r.outputPath}: ${r.bytes} bytes in ${r.seconds.toFixed(2)} s, ${how}\n`);
  }
  if (o.lingerUntilEof) await new Promise<void>((resolve) => stdin!.once('close', () => resolve()));
  else if (o.linger === true) await interrupted;
  else if (o.linger) await Promise.race([new Promise((resolve) => setTimeout(resolve, o.linger as number).unref()), interrupted]);
  stdin?.close();
  await d.close();
}

/** The uploader's lie for --test-corrupt-uploads: every piece, some pieces, or none (undefined). */
function corruptPredicate(which: GetOptions['testCorruptUploads']): ((taskId: string, piece: number) => boolean) | undefined {
  if (which === undefined) return undefined;
  return which === 'all' ? () => true : (_taskId, piece) => which.has(piece);
}

/**
 * --ack-log: one JSON line per acknowledged report. Written synchronously, so the line is on
 * disk before the session goes on; the chaos checker (bench/invariants) then requires
 * every verified piece listed here to be in the task's events.
 */
function ackLogWriter(path: string): (ack: AcknowledgedRound) => void {
  // `at` (the peer's clock, ms) lets a benchmark see how long a peer went without an answer.
  return (ack) => appendFileSync(path, `${JSON.stringify({ ...ack, at: Date.now() })}\n`);
}
