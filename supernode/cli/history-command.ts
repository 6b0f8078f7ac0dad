import { Command, Option } from 'commander';
import { DamselflyError } from '../../core/errors.ts';
import { pieceProvenance, servedBySource, timeline } from '../../core/history/index.ts';
import { readTaskEvents, sourceOptions, type SourceFlags } from './read-task-events.ts';

/** `damselfly history --task ID`: the task's timeline and per-piece provenance, from its events (in the store, or in Kafka). */
export function historyCommand(): Command {
  return sourceOptions(new Command('history'))
    .description('print the timeline of a task\'s events and where every piece came from')
    .requiredOption('--task <id>', 'task id (64 hex digits)')
    .addOption(new Option('--from <source>', 'where to read the events').choices(['postgres', 'kafka']).default('postgres'))
    .option('--json', 'one JSON object on stdout')
    .exitOverride()
    .action(async (flags: SourceFlags & { from: 'postgres' | 'kafka'; json?: boolean }) => {
      const events = await readTaskEvents(flags.task, flags.from, flags);
      if (events.length === 0) throw new DamselflyError('DF_ERR_NOT_FOUND', `no events for task ${flags.task}`);
      const entries = timeline(events);
      const pieces = pieceProvenance(events);
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ taskId: flags.task, events: entries, pieces, servedBySource: servedBySource(pieces) })}\n`);
        return;
      }
      const t0 = entries[0]!.at;
      const lines = entries.map((e) => `${String(e.version).padStart(6)}  +${((e.at - t0) / 1000).toFixed(3).padStart(9)}s  ${e.type.padEnd(18)} ${e.summary}`);
      const served = Object.entries(servedBySource(pieces)).map(([s, n]) => `${s}: ${n}`).join(', ');
      process.stdout.write(`task ${flags.task}\n${lines.join('\n')}\n\npieces verified by source: ${served || 'none'}\n`);
    });
}
