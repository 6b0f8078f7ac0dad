import { Command } from 'commander';
import { eventsBenchCommand } from './events/events-command.ts';
import { swarmCommand } from './swarm/swarm-command.ts';
import { failoverCommand } from './failover/failover-command.ts';
import { controlPlaneCommand } from './control-plane/control-plane-command.ts';
import { imageBenchCommand } from './image/image-command.ts';
import { throughputCommand } from './throughput/throughput-command.ts';
import { simulateCommand } from './simulate/simulate-command.ts';

/**
 * `damselfly bench`: the benchmarks that back the performance claims in docs/benchmarks.md.
 * Each prints ratios and rates measured in one run (`--json`: one object on stdout).
 */
export function benchCommand(): Command {
  return new Command('bench')
    .description('benchmarks: event persistence (events); swarm distribution (swarm); supernode failover (failover); the supernode under hundreds of peers (control-plane); N daemons pulling one image (image); the bytes path, nothing capped (throughput); one task with thousands of peers in virtual time (simulate)')
    .exitOverride()
    .addCommand(eventsBenchCommand())
    .addCommand(swarmCommand())
    .addCommand(failoverCommand())
    .addCommand(controlPlaneCommand())
    .addCommand(imageBenchCommand())
    .addCommand(throughputCommand())
    .addCommand(simulateCommand());
}
