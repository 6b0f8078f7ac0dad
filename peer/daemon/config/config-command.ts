import { Command } from 'commander';
import { parseOptions } from '../../../edge/cli/parse-options.ts';
import { ContainerdOptions, DockerOptions, RegistriesConfOptions, withCommonFlags, withRegistryFlag } from './config-options.ts';
import { findConfigPath } from './containerd-config-path.ts';
import { containerdFiles } from './containerd-hosts.ts';
import { daemonJsonFile } from './docker-daemon-json.ts';
import { markedFile } from './marked-file.ts';
import { registriesConf } from './registries-conf.ts';
import { runHelper } from './run-helper.ts';
import { containerdNotes, dockerNotes, registriesConfNotes } from './runtime-notes.ts';

/**
 * `damselfly daemon config containerd|registries-conf|docker`: the container runtime's
 * configuration that points it at the daemon's mirror. Prints what it would write unless told
 * --write; --remove undoes a --write (docs/runtimes.md). Every file goes through OwnedFile.
 */
export function configCommand(): Command {
  return new Command('config')
    .description('write or print container runtime configuration that points at the daemon')
    .addCommand(containerdCommand())
    .addCommand(registriesConfCommand())
    .addCommand(dockerCommand())
    .exitOverride();
}

function containerdCommand(): Command {
  return withCommonFlags(withRegistryFlag(new Command('containerd').description("containerd's hosts.toml, one per registry (and _default with --all-registries)")))
    .option('--all-registries', 'also write _default/hosts.toml: every registry without a directory of its own goes through the daemon')
    .option('--dir <dir>', "containerd's hosts directory (its config_path; of a ':'-separated list, the first is written)", '/etc/containerd/certs.d')
    .option('--containerd-config <file>', "containerd's config.toml, read (never written) to check its config_path", '/etc/containerd/config.toml')
    .action(async (flags: Record<string, unknown>) => {
      const o = parseOptions(ContainerdOptions, flags, 'daemon config containerd');
      const [dir, ...otherDirs] = o.dir.split(':').filter(Boolean);
      const report = await runHelper(containerdFiles(dir!, o.mirror, o.registry, o.allRegistries), o.mode);
      const notes = o.mode === 'remove' ? undoNote(`${o.containerdConfig}'s config_path`) : containerdNotes(dir!, otherDirs, await findConfigPath(o.containerdConfig), o.registry, o.allRegistries);
      process.stdout.write(`${report}\n${notes}`);
    });
}

function registriesConfCommand(): Command {
  return withCommonFlags(withRegistryFlag(new Command('registries-conf').description('registries.conf (CRI-O, podman, skopeo) with the daemon as each registry\'s mirror')))
    .option('--file <file>', 'where --write puts it (a registries.conf.d drop-in)', '/etc/containers/registries.conf.d/damselfly.conf')
    .action(async (flags: Record<string, unknown>) => {
      const o = parseOptions(RegistriesConfOptions, flags, 'daemon config registries-conf');
      const report = await runHelper([markedFile(o.file, registriesConf(o.mirror, o.registry), 'registries-conf')], o.mode);
      process.stdout.write(`${report}\n${o.mode === 'remove' ? undoNote('auth.json logins to the mirror') : registriesConfNotes(o.file, o.mirror, o.registry)}`);
    });
}

function dockerCommand(): Command {
  return withCommonFlags(new Command('docker').description("dockerd's daemon.json with the daemon as its registry mirror (Docker Hub only)"))
    .option('--file <file>', 'the daemon.json to merge into (its other keys are kept)', '/etc/docker/daemon.json')
    .action(async (flags: Record<string, unknown>) => {
      const o = parseOptions(DockerOptions, flags, 'daemon config docker');
      const report = await runHelper([daemonJsonFile(o.file, o.mirror)], o.mode);
      process.stdout.write(`${report}\n${o.mode === 'remove' ? 'Reload or restart dockerd to use the restored daemon.json.\n' : dockerNotes(o.file)}`);
    });
}

function undoNote(what: string): string {
  return `Only files damselfly wrote were removed; ${what} and anything else you changed by hand stay as they are.\n`;
}
