import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { startDownload } from '../../peer/dfget/download.ts';
import { TaskRegistry } from '../../peer/storage/task-registry.ts';
import { registryPieceSource, startUploader } from '../../peer/uploader/index.ts';
import { parseSize } from '../../edge/units/parse-size.ts';
import { createLogger } from '../../edge/log/logger.ts';
import { ackLogWriter, recordAcknowledgedRounds } from './acknowledged-rounds.ts';
import { liesFor, lyingSource } from './lying-source.ts';

/**
 * A peer *process* for the benchmarks, the e2e tests and the chaos suite: dfget's engine
 * (peer/dfget, as a library, exactly as `damselfly get` runs it) with what a harness needs and
 * the product does not offer:
 *   - it prints "ready" and starts on a line "go" on stdin, so all peers of a run start
 *     together once every process is up (process start-up is not measured);
 *   - it prints the download's result as one JSON line and keeps serving until stdin closes;
 *   - `--ack-log FILE`: one JSON line per report a supernode acknowledged (the chaos checker);
 *   - `--lie all|0,3,7`: its uploader flips a byte of those pieces (a corrupt source);
 *   - `--protocol rounds|sync`: dfget's protocol with the supernode (DownloadOptions.protocol).
 * Usage: harness-peer URL -o FILE --node H:P,.. [--upload-limit RATE] [--ack-log FILE] [--lie all|N,..] [--protocol rounds|sync]
 * The cluster token comes from DAMSELFLY_TOKEN, as for `damselfly get`.
 */
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    output: { type: 'string', short: 'o' },
    node: { type: 'string' },
    'upload-limit': { type: 'string' },
    'ack-log': { type: 'string' },
    lie: { type: 'string' },
    protocol: { type: 'string' },
  },
});
const url = positionals[0];
if (!url || !values.output || !values.node) throw new Error('usage: harness-peer URL -o FILE --node H:P,.. [--upload-limit RATE] [--ack-log FILE] [--lie all|N,..] [--protocol rounds|sync]');
const protocol = values.protocol ?? 'rounds';
if (protocol !== 'rounds' && protocol !== 'sync') throw new Error(`--protocol is rounds or sync, not ${protocol}`);
const nodes = values.node.split(',').map((n) => n.trim()).filter(Boolean);

// Warnings on stderr, as `damselfly get` logs by default (the launchers keep its tail for failures).
const logger = createLogger({ name: 'dfget', level: 'warn' });
const registry = new TaskRegistry();
const source = registryPieceSource(registry);
const uploader = await startUploader({
  source: values.lie ? lyingSource(source, liesFor(values.lie)) : source,
  rateLimit: values['upload-limit'] ? parseSize(values['upload-limit']) : undefined,
  logger,
});
const stopRecording = values['ack-log'] ? recordAcknowledgedRounds(nodes, ackLogWriter(values['ack-log'])) : undefined;

// Exit through process.exit on SIGTERM (what stopProcess sends) rather than the default kill, so
// a run under DAMSELFLY_CHILD_NODE_ARGS="--cpu-prof" writes the peer's profile too.
process.once('SIGTERM', () => process.exit(143));
const stdin = createInterface({ input: process.stdin });
const closed = new Promise<void>((resolve) => stdin.once('close', () => resolve()));
process.stdout.write('ready\n');
await new Promise<void>((resolve) => stdin.once('line', () => resolve()));

const download = await startDownload({ url, output: values.output, nodes, token: process.env.DAMSELFLY_TOKEN || undefined, uploader: { uploader, registry }, logger, protocol });
process.stdout.write(`${JSON.stringify(download.result)}\n`);
await closed;
await download.close();
stopRecording?.();
await uploader.close();
