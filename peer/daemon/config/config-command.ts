import { Command } from 'commander';

/** `damselfly daemon config …`: runtime configuration helpers (being written). */
export function configCommand(): Command {
  return new Command('config').description('write or print container runtime configuration that points at the daemon').exitOverride();
}
