import { Command, CommanderError } from 'commander';
import { DamselflyError } from '../core/errors.ts';

/**
 * The subcommands, each loaded only when it runs. A peer's `damselfly get` (and `dfget`) then
 * loads the peer side alone, not the supernode's store, Kafka client, web framework and
 * embedded Postgres. Measured with `damselfly get --help`: 0.9 s → 0.55 s wall, 1.3 s → 0.7 s
 * of CPU, paid on every call of a node pulling an image (and by every peer a test starts).
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  supernode: async () => (await import('../supernode/cli/supernode-command.ts')).supernodeCommand(),
  get: async () => (await import('../peer/dfget/get-command.ts')).getCommand(),
  daemon: async () => (await import('../peer/daemon/daemon-command.ts')).daemonCommand(),
  replay: async () => (await import('../supernode/cli/replay-command.ts')).replayCommand(),
  history: async () => (await import('../supernode/cli/history-command.ts')).historyCommand(),
  cluster: async () => (await import('../supernode/cli/cluster-command.ts')).clusterCommand(),
  demo: async () => (await import('../bench/demo-command.ts')).demoCommand(),
  bench: async () => (await import('../bench/bench-command.ts')).benchCommand(),
};

/**
 * The `damselfly` binary. This is the one place that wires the supernode and the peer sides
 * together; each subcommand lives beside the code it drives. Every error reaches the single
 * exit point below: one line on stderr and the catalogued exit code (core/errors.ts): 2 for
 * usage mistakes (commander's and DF_ERR_USAGE), 1 for failures.
 * `only`: the subcommand about to run (the others are not loaded); absent, every one (help).
 */
export async function program(only?: string): Promise<Command> {
  const names = only !== undefined && only in COMMANDS ? [only] : Object.keys(COMMANDS);
  const root = new Command('damselfly')
    .description('Peer-to-peer distribution of files and container images')
    .version('0.1.0')
    // A subcommand's options stay its own (`daemon config containerd --registry` is not the daemon's --registry).
    .enablePositionalOptions()
    .exitOverride();
  for (const command of await Promise.all(names.map((name) => COMMANDS[name]!()))) root.addCommand(command);
  return root;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await (await program(argv[2])).parseAsync(argv);
  } catch (err) {
    process.exitCode = exitCodeOf(err);
  }
}

function exitCodeOf(err: unknown): number {
  if (err instanceof CommanderError) {
    // Commander already printed its message (help and version exit with code 0).
    return err.exitCode === 0 ? 0 : 2;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`damselfly: ${message.replace(/\s+/g, ' ').trim()}\n`);
  return err instanceof DamselflyError ? err.exitCode : 1;
}
