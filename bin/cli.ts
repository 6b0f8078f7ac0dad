import { Command, CommanderError } from 'commander';
import { supernodeCommand } from '../supernode/cli/supernode-command.ts';
import { replayCommand } from '../supernode/cli/replay-command.ts';
import { historyCommand } from '../supernode/cli/history-command.ts';
import { clusterCommand } from '../supernode/cli/cluster-command.ts';
import { getCommand } from '../peer/dfget/get-command.ts';
import { demoCommand } from '../bench/demo-command.ts';
import { benchCommand } from '../bench/bench-command.ts';

/**
 * The `damselfly` binary. This is the one place that wires the supernode and the peer sides
 * together; each subcommand lives beside the code it drives. Every error reaches the single
 * exit point below: one line on stderr, exit code 2 for usage errors and 1 for failures.
 */
export function program(): Command {
  return new Command('damselfly')
    .description('Peer-to-peer distribution of files and container images')
    .version('0.1.0')
    .exitOverride()
    .addCommand(supernodeCommand())
    .addCommand(getCommand())
    .addCommand(replayCommand())
    .addCommand(historyCommand())
    .addCommand(clusterCommand())
    .addCommand(demoCommand())
    .addCommand(benchCommand());
}

export async function main(argv: string[]): Promise<void> {
  try {
    await program().parseAsync(argv);
  } catch (err) {
    process.exitCode = exitCodeOf(err);
  }
}

function exitCodeOf(err: unknown): number {
  if (err instanceof CommanderError) {
    // Commander already printed its message (help and version exit with code 0).
    return err.exitCode === 0 ? 0 : 2;
  }
  const e = err as { message?: string; exitCode?: number };
  process.stderr.write(`damselfly: ${e?.message ?? String(err)}\n`);
  return typeof e?.exitCode === 'number' ? e.exitCode : 1;
}
