import { Command, Option } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { createInterface } from 'node:readline';
import { GetOptions, headerRecord } from './get-options.ts';
import { download } from './download.ts';

/**
 * `damselfly get URL -o FILE` (also `dfget`): download through the swarm. Exit codes: 0 done,
 * 1 the download failed, 2 bad usage — each failure with one line on stderr. Headers given
 * with --header go to the origin (through the supernode's CDN) and are never printed.
 */
export function getCommand(): Command {
  return new Command('get')
    .description('download a file through the P2P swarm')
    .argument('<url>', 'the file\'s URL at its origin')
    .requiredOption('-o, --output <file>', 'where to write the file')
    .option('--node <host:port,..>', 'supernodes (env DAMSELFLY_NODES)', process.env.DAMSELFLY_NODES ?? '127.0.0.1:8002')
    .option('--digest <sha256:hex>', 'verify the whole file against this digest (also part of the task id)')
    .option('--header <K: V>', 'header for the origin, e.g. Authorization (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--filter <a&b>', 'query parameters to ignore when identifying the task')
    .option('--identifier <id>', 'identifies the content when the URL does not')
    .option('--total-limit <rate>', 'cap on this peer\'s download and upload rates, e.g. 20MiB (bytes/s)')
    .option('--upload-limit <rate>', 'cap on the upload rate only (overrides --total-limit for uploads)')
    .option('--no-back-source', 'fail instead of fetching from the origin when no supernode answers')
    .option('--linger <ms>', 'keep serving pieces this long after the download', '0')
    .option('--json', 'print one JSON object on stdout instead of a progress bar')
    .addOption(new Option('--parallelism <n>', 'pieces in flight at once').hideHelp())
    .addOption(new Option('--connect-timeout <ms>', 'connect timeout to supernodes').hideHelp())
    .addOption(new Option('--wait-for-go', 'print "ready", then wait for a line on stdin (benchmarks)').hideHelp())
    .addOption(new Option('--linger-until-eof', 'keep serving until stdin closes (benchmarks)').hideHelp())
    // Test only: the e2e tests need a peer *process* that serves corrupt bytes (test/e2e/swarm).
    .addOption(new Option('--test-corrupt-uploads <all|pieces>', 'TEST ONLY: serve corrupt bytes for every piece or for these pieces').hideHelp())
    .exitOverride()
    .action(async (url: string, flags: Record<string, unknown>) => {
      const parsed = GetOptions.safeParse({ url, ...flags });
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw Object.assign(new Error(`get: ${issue.path.join('.') || 'url'}: ${issue.message}`), { exitCode: 2 });
      }
      const o = parsed.data;
      const stdin = o.waitForGo || o.lingerUntilEof ? createInterface({ input: process.stdin }) : undefined;
      if (o.waitForGo) {
        process.stdout.write('ready\n');
        await new Promise<void>((resolve) => stdin!.once('line', () => resolve()));
      }
      const bar = !o.json && process.stderr.isTTY ? new SingleBar({ format: ' {bar} {percentage}% | {value}/{total} pieces', stream: process.stderr }, Presets.shades_classic) : undefined;
      const d = await download({
        url: o.url,
        output: o.output,
        nodes: o.node,
        digest: o.digest,
        headers: headerRecord(o.header),
        filter: o.filter,
        identifier: o.identifier,
        token: process.env.DAMSELFLY_TOKEN || undefined,
        downloadLimit: o.totalLimit,
        uploadLimit: o.uploadLimit ?? o.totalLimit,
        noBackSource: !o.backSource,
        connectTimeoutMs: o.connectTimeout,
        parallelism: o.parallelism,
        corruptUploads: corruptPredicate(o.testCorruptUploads),
        onProgress: bar
          ? (p) => {
              if (bar.getTotal() !== p.pieceCount) bar.start(p.pieceCount, p.stored);
              bar.update(p.stored);
            }
          : undefined,
      });
      bar?.stop();
      const r = d.result;
      if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else {
        const how = r.backSource ? 'from the origin (no supernode answered)' : `${r.fromPeers} pieces from peers, ${r.fromCdn} from the CDN`;
        process.stderr.write(`${r.output}: ${r.bytes} bytes in ${r.seconds.toFixed(2)} s, ${how}\n`);
      }
      if (o.lingerUntilEof) await new Promise<void>((resolve) => stdin!.once('close', () => resolve()));
      else if (o.linger > 0) await new Promise((resolve) => setTimeout(resolve, o.linger));
      stdin?.close();
      await d.close();
    });
}

/** The uploader's lie for --test-corrupt-uploads: every piece, some pieces, or none (undefined). */
function corruptPredicate(which: GetOptions['testCorruptUploads']): ((taskId: string, piece: number) => boolean) | undefined {
  if (which === undefined) return undefined;
  return which === 'all' ? () => true : (_taskId, piece) => which.has(piece);
}
