import { stringify } from 'smol-toml';
import type { RegistryName } from './registry-name.ts';

/**
 * containers-registries.conf(5), version 2 (CRI-O, podman, skopeo: containers/image): each
 * registry with the daemon as its mirror. `insecure`: the mirror port is plain HTTP on
 * loopback; a registry given as http:// is insecure too. containers/image falls back to the
 * registry itself when the mirror fails.
 */
export function registriesConf(mirror: string, registries: RegistryName[]): string {
  return stringify({
    registry: registries.map((r) => ({
      location: r.host,
      ...(r.plainHttp ? { insecure: true } : {}),
      mirror: [{ location: mirror, insecure: true }],
    })),
  });
}
