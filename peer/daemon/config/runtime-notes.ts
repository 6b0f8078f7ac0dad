import { dirname } from 'node:path';
import type { ConfigPathFinding } from './containerd-config-path.ts';
import type { RegistryName } from './registry-name.ts';

/** What the user must still do (or know) after each helper: the runtimes read nothing on their own. */

export function containerdNotes(dir: string, otherDirs: string[], finding: ConfigPathFinding, registries: RegistryName[], allRegistries: boolean): string {
  const lines = [
    `containerd reads ${dir} only where it is told to:`,
    `  ctr: ctr images pull --hosts-dir ${dir} IMAGE`,
    `  CRI (kubelet, crictl): in ${finding.file}, then restart containerd (later changes under ${dir} need no restart):`,
    `    [plugins."io.containerd.grpc.v1.cri".registry]   # config version 2 (containerd 1.x)`,
    `    [plugins."io.containerd.cri.v1.images".registry] # config version 3 (containerd 2.x)`,
    `      config_path = "${dir}"`,
    `config_path may list several directories separated by ':'; for each registry containerd uses the first that has a directory for it. This writes to ${dir} only.`,
  ];
  if (otherDirs.length > 0) lines.push(`--dir named several directories: written to the first, ${dir}; not to ${otherDirs.join(', ')}.`);
  lines.push(...configPathStatus(dir, finding, registries, allRegistries));
  lines.push('containerd tries the daemon first and the registry itself (server) after it.');
  if (allRegistries) lines.push("_default/hosts.toml serves every registry without a directory of its own; the daemon takes the upstream from containerd's ns= query parameter (start it with --insecure-registry HOST for each such registry that speaks plain HTTP).");
  return `${lines.join('\n')}\n`;
}

function configPathStatus(dir: string, finding: ConfigPathFinding, registries: RegistryName[], allRegistries: boolean): string[] {
  if (finding.kind === 'unreadable') return [`(${finding.file} could not be read: ${finding.why}; check its config_path yourself.)`];
  if (finding.kind === 'unset') return [`${finding.file} sets no config_path under [${finding.section}]: CRI does not read ${dir} yet.`];
  const at = finding.dirs.indexOf(dir);
  const list = finding.dirs.join(':');
  if (at < 0) return [`${finding.file} has config_path = "${list}", which does not include ${dir}: CRI will not read it (choose --dir ${finding.dirs[0]}).`];
  if (at === 0) return [`${finding.file} has config_path = "${list}": CRI reads ${dir}${finding.dirs.length > 1 ? ' first' : ''}.`];
  const namespaces = [...registries.map((r) => r.host), ...(allRegistries ? ['_default'] : [])];
  return [`${finding.file} has config_path = "${list}": ${dir} comes after ${finding.dirs.slice(0, at).join(', ')}; a directory there for ${namespaces.join(', ')} would be used instead of the one written here.`];
}

export function registriesConfNotes(file: string, mirror: string, registries: RegistryName[]): string {
  const servers = registries.map((r) => r.server);
  const dropIn = dirname(file) === '/etc/containers/registries.conf.d' && file.endsWith('.conf');
  const lines = [
    dropIn
      ? `CRI-O, podman, buildah and skopeo read ${file} as a drop-in: after /etc/containers/registries.conf, a [[registry]] with the same location replacing the main file's. Reload CRI-O after a change (systemctl reload crio).`
      : `${file} is read where it is named: skopeo --registries-conf ${file} …, CONTAINERS_REGISTRIES_CONF=${file} podman …; as a drop-in it must end in .conf and sit in /etc/containers/registries.conf.d/.`,
    `containers/image sends a mirror no X-Dragonfly-Registry header, so the daemon serves these requests from its default upstream: run it with damselfly daemon --registry ${servers[0]}.`,
  ];
  if (registries.length > 1) lines.push(`One default upstream per daemon: ${servers.join(', ')} need one daemon each, each on its own --mirror address.`);
  lines.push(
    `Private registries: containers/image sends the mirror only the credentials stored in auth.json for the mirror's own address (${mirror}), not those of ${registries.map((r) => r.host).join(', ')} (seen with skopeo 1.9). Log in to the mirror too: podman login --tls-verify=false ${mirror}, or skopeo login --tls-verify=false ${mirror}.`,
  );
  return `${lines.join('\n')}\n`;
}

export function dockerNotes(file: string): string {
  return [
    'Docker consults registry-mirrors for Docker Hub (docker.io) images only: images from any other registry are pulled straight from it, not through the daemon.',
    'Docker sends the mirror no X-Dragonfly-Registry header: run the daemon with damselfly daemon --registry https://registry-1.docker.io.',
    `dockerd reads ${file} at start and reloads registry-mirrors on SIGHUP: systemctl reload docker (or restart it).`,
    '',
  ].join('\n');
}
