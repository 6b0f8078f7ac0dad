import { Command } from 'commander';
import { configCommand } from './config/config-command.ts';

/** `damselfly daemon`: the node agent (being written); `damselfly daemon config …` the runtime helpers. */
export function daemonCommand(): Command {
  return new Command('daemon').description('the node agent: registry mirror, HTTP proxy, piece uploader and cache').addCommand(configCommand()).exitOverride();
}
