import { Command, Option } from 'commander';
import { z } from 'zod';
import { DamselflyError, usageError } from '../../core/errors.ts';
import { replay, stateHash, stateOf } from '../../core/task/index.ts';
import { eventTime } from '../../core/history/index.ts';
import type { StoredEvent } from '../../core/events/index.ts';
import { readTaskEvents, sourceOptions, type SourceFlags } from './read-task-events.ts';

const Until = z.string().datetime({ offset: true }).optional();

/**
 * `damselfly replay --task ID`: rebuilds a task's state from its events in PostgreSQL (or the
 * embedded store) or in Kafka, and prints the event count and the state hash — the same hash
 * the live actor reports at GET /api/v1/tasks/:id.
 */
export function replayCommand(): Command {
  return sourceOptions(new Command('replay'))
    .description('rebuild a task from its events and print its state hash')
    .requiredOption('--task <id>', 'task id (64 hex digits)')
    .addOption(new Option('--from <source>', 'where to read the events').choices(['postgres', 'kafka']).default('postgres'))
    .option('--until <iso-time>', 'replay only events up to this time')
    .option('--json', 'one JSON object on stdout')
    .exitOverride()
    .action(async (flags: SourceFlags & { from: 'postgres' | 'kafka'; until?: string; json?: boolean }) => {
      const until = Until.safeParse(flags.until);
      if (!until.success) throw usageError(`replay: --until must be an ISO time, got ${flags.until}`);
      const started = performance.now();
      const all = await readTaskEvents(flags.task, flags.from, flags);
      const untilMs = until.data ? Date.parse(until.data) : undefined;
      const events = untilMs === undefined ? all : all.filter((e: StoredEvent) => eventTime(e) <= untilMs);
      if (events.length === 0) throw new DamselflyError('DF_ERR_NOT_FOUND', `no events for task ${flags.task} in ${flags.from}`);
      const snapshot = replay(events);
      const state = stateOf(snapshot);
      const result = {
        taskId: flags.task,
        from: flags.from,
        events: events.length,
        version: events[events.length - 1]!.version,
        status: state.status,
        stateHash: stateHash(snapshot),
        seconds: (performance.now() - started) / 1000,
      };
      if (flags.json) process.stdout.write(`${JSON.stringify(result)}\n`);
      else process.stdout.write(`task ${result.taskId}\n  from       ${result.from}\n  events     ${result.events} (version ${result.version})\n  status     ${result.status}\n  stateHash  ${result.stateHash}\n`);
    });
}
