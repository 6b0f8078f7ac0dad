import { Command } from 'commander';
import { z } from 'zod';
import { HostPort } from '../../../core/wire/fields.ts';
import { integerOption } from '../../../edge/cli/parse-options.ts';
import { RegistryOption } from './registry-name.ts';

/** The daemon's mirror port when nothing else is said (DESIGN.md: 65001; Dragonfly2's Rust client uses 4001). */
export const DEFAULT_MIRROR = '127.0.0.1:65001';

/** --registry, for the helpers that configure a mirror per registry (containerd, registries.conf). */
export function withRegistryFlag(command: Command): Command {
  return command.option('--registry <host>', 'a registry as images name it: docker.io, ghcr.io, 127.0.0.1:5000, or http://HOST:PORT for a plain-HTTP one (repeatable)', (v: string, all: string[] = []) => [...all, v]);
}

/** The flags every `damselfly daemon config …` helper takes. */
export function withCommonFlags(command: Command): Command {
  return command
    .option('--mirror <host:port>', `the daemon's mirror address (default ${DEFAULT_MIRROR})`)
    .option('--host <host>', "the daemon's mirror host (with --port; default 127.0.0.1)")
    .option('--port <port>', "the daemon's mirror port (default 65001)")
    .option('--write', 'write the files (without --write or --remove: print what would be written, change nothing)')
    .option('--remove', 'delete the files damselfly wrote and restore the ones they replaced')
    .exitOverride();
}

const registry = z.array(RegistryOption).default([]);
const common = {
  mirror: HostPort.optional(),
  host: z.string().min(1).optional(),
  port: integerOption.min(1).max(65535).optional(),
  write: z.boolean().default(false),
  remove: z.boolean().default(false),
};

/** One address out of --mirror or --host/--port, and --write and --remove not both. */
function refineCommon<T extends { mirror?: string; host?: string; port?: number; write: boolean; remove: boolean }>(o: T, ctx: z.RefinementCtx): void {
  if (o.mirror !== undefined && (o.host !== undefined || o.port !== undefined)) ctx.addIssue({ code: 'custom', path: ['mirror'], message: 'give --mirror or --host/--port, not both' });
  if (o.write && o.remove) ctx.addIssue({ code: 'custom', path: ['remove'], message: 'give --write or --remove, not both' });
  if (o.host !== undefined && !HostPort.safeParse(`${o.host}:1`).success) ctx.addIssue({ code: 'custom', path: ['host'], message: 'expected a hostname, an IPv4 address or a bracketed IPv6 address' });
}

function withAddress<T extends { mirror?: string; host?: string; port?: number; write: boolean; remove: boolean }>(o: T) {
  const mirror = o.mirror ?? `${o.host ?? '127.0.0.1'}:${o.port ?? 65001}`;
  const mode: 'print' | 'write' | 'remove' = o.write ? 'write' : o.remove ? 'remove' : 'print';
  return { ...o, mirror, mode };
}

export const ContainerdOptions = z
  .object({ ...common, registry, allRegistries: z.boolean().default(false), dir: z.string().min(1).default('/etc/containerd/certs.d'), containerdConfig: z.string().min(1).default('/etc/containerd/config.toml') })
  .superRefine((o, ctx) => {
    refineCommon(o, ctx);
    if (o.registry.length === 0 && !o.allRegistries) ctx.addIssue({ code: 'custom', path: ['registry'], message: 'give at least one --registry, or --all-registries' });
  })
  .transform(withAddress);
export type ContainerdOptions = z.infer<typeof ContainerdOptions>;

export const RegistriesConfOptions = z
  .object({ ...common, registry, file: z.string().min(1).default('/etc/containers/registries.conf.d/damselfly.conf') })
  .superRefine((o, ctx) => {
    refineCommon(o, ctx);
    if (o.registry.length === 0) ctx.addIssue({ code: 'custom', path: ['registry'], message: 'give at least one --registry' });
  })
  .transform(withAddress);
export type RegistriesConfOptions = z.infer<typeof RegistriesConfOptions>;

export const DockerOptions = z
  .object({ ...common, file: z.string().min(1).default('/etc/docker/daemon.json') })
  .superRefine(refineCommon)
  .transform(withAddress);
export type DockerOptions = z.infer<typeof DockerOptions>;
