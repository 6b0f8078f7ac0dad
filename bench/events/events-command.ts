import { Command } from 'commander';
import { z } from 'zod';
import { parseOptions } from '../../edge/cli/parse-options.ts';
import { runEventsBench, type EventsBenchOptions } from './run-events-bench.ts';
import { renderEventsTable } from './events-table.ts';

const count = (min: number) => z.coerce.number().int().min(min);

/** The flags, validated once; defaults finish in about a minute on a 2-core machine. */
const Flags = z.object({
  events: count(64),
  streamEvents: count(10),
  sequential: count(10),
  writers: count(1).max(1024),
  batch: count(1).max(10_000),
  bigBatch: count(1).max(10_000),
  pgliteEvents: count(0),
  json: z.boolean().default(false),
});

/**
 * `damselfly bench events`: how fast events are made durable (PostgreSQL, embedded PGlite),
 * relayed to Kafka, and folded back into a task (from Postgres, from Kafka, in memory).
 * See docs/benchmarks.md, "Event persistence", for what each figure means.
 */
export function eventsBenchCommand(): Command {
  return new Command('events')
    .description('event persistence benchmark: appends, outbox relay to Kafka, replay')
    .option('--events <n>', 'events appended by the concurrent writers (most of the relay backlog)', '30000')
    .option('--stream-events <n>', 'events of the one big task stream that is replayed', '20000')
    .option('--sequential <n>', 'events appended one per transaction by one writer', '2000')
    .option('--writers <n>', 'concurrent writers, each on its own task stream', '64')
    .option('--batch <n>', 'events per append of each concurrent writer (a round trip: report + assignment)', '2')
    .option('--big-batch <n>', 'events per append when one writer appends the big stream', '100')
    .option('--pglite-events <n>', 'events for the embedded PGlite figures (0 skips them)', '5000')
    .option('--json', 'print one JSON object on stdout')
    .exitOverride()
    .action(async (raw: Record<string, unknown>) => {
      const { json, ...counts } = parseOptions(Flags, raw, 'bench events');
      const options: EventsBenchOptions = counts;
      const progress = json ? () => undefined : (line: string) => process.stderr.write(`  ${line}\n`);
      const result = await runEventsBench(options, progress);
      process.stdout.write(json ? `${JSON.stringify(result)}\n` : renderEventsTable(result));
    });
}
