import { join } from 'node:path';
import { stringify } from 'smol-toml';
import type { RegistryName } from './registry-name.ts';
import { markedFile } from './marked-file.ts';
import type { OwnedFile } from './owned-file.ts';

/**
 * containerd's hosts.toml for one registry, as Dragonfly2's dfinit writes it: the daemon's
 * mirror as the one `host`, asked to pull and resolve, with X-Dragonfly-Registry naming the
 * registry's real URL (the daemon's first choice of upstream). `server` is the registry
 * itself, which containerd tries after the hosts: a daemon that is down costs a retry, not
 * the pull (containerd docs/hosts.md, "server field").
 * Without a registry: `_default/hosts.toml`, used for every registry that has no directory of
 * its own; no server and no header, the daemon takes the upstream from containerd's `ns=`.
 */
export function hostsToml(mirror: string, registry?: RegistryName): string {
  const host = `http://${mirror}`;
  const capabilities = ['pull', 'resolve'];
  if (!registry) return stringify({ host: { [host]: { capabilities } } });
  return stringify({ server: registry.server, host: { [host]: { capabilities, header: { 'X-Dragonfly-Registry': [registry.server] } } } });
}

/** The files `damselfly daemon config containerd` owns under `dir`. */
export function containerdFiles(dir: string, mirror: string, registries: RegistryName[], allRegistries: boolean): OwnedFile[] {
  const file = (namespace: string, body: string) => markedFile(join(dir, namespace, 'hosts.toml'), body, 'containerd', { dropEmptyParent: true });
  const files = registries.map((r) => file(r.host, hostsToml(mirror, r)));
  if (allRegistries) files.push(file('_default', hostsToml(mirror)));
  return files;
}
