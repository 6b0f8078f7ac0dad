import { Command } from 'commander';
import { eventsBenchCommand } from './events/events-command.ts';
import { swarmCommand } from './swarm/swarm-command.ts';

/**
 * `damselfly bench`: the benchmarks that back the performance claims in docs/benchmarks.md.
 * Each prints ratios and rates measured in one run (`--json`: one object on stdout).
 */
export function benchCommand(): Command {
  return new Command('bench')
    .description('benchmarks: event persistence (events); swarm distribution (swarm)')
    .exitOverride()
    .addCommand(eventsBenchCommand())
    .addCommand(swarmCommand());
}
