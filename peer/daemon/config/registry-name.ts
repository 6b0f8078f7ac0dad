import { z } from 'zod';
import { isHostPort } from '../../../core/wire/host-port.ts';

/**
 * A registry as the runtimes name it. `host` is the registry host namespace: the first part
 * of an image reference (`ghcr.io`, `127.0.0.1:5000`), which is containerd's directory name
 * under its hosts dir and registries.conf's `location`. `server` is the URL the registry
 * really answers at, the value of X-Dragonfly-Registry: https unless given as `http://…`, and
 * Docker Hub's `docker.io` is served by registry-1.docker.io (as containerd and Docker resolve it).
 */
export interface RegistryName {
  host: string;
  server: string;
  plainHttp: boolean;
}

const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_SERVER_HOST = 'registry-1.docker.io';

/** A --registry value: `HOST[:PORT]` or `http(s)://HOST[:PORT]`, nothing after the authority. */
export const RegistryOption = z.string().transform((text, ctx): RegistryName => {
  const parsed = parseRegistry(text.trim());
  if (typeof parsed === 'string') {
    ctx.addIssue({ code: 'custom', message: `'${text}': ${parsed}` });
    return z.NEVER;
  }
  return parsed;
});

function parseRegistry(text: string): RegistryName | string {
  let scheme = 'https';
  let host = text;
  const withScheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/.exec(text);
  if (withScheme) {
    scheme = withScheme[1]!.toLowerCase();
    if (scheme !== 'http' && scheme !== 'https') return 'only http:// and https:// registries';
    host = withScheme[2]!.replace(/\/$/, '');
  }
  if (host === '_default') return 'for every registry use --all-registries';
  if (/[/?#@]/.test(host)) return 'expected a registry host[:port] (no path, query or user)';
  // A bare name gets a stand-in port only to reuse the one host:port parse.
  const hasPort = /:\d+$/.test(host) && !/^\[[^\]]*\]$/.test(host);
  if (!isHostPort(hasPort ? host : `${host}:1`)) return 'expected a registry host[:port]: a hostname, an IPv4 address or a bracketed IPv6 address';
  host = host.toLowerCase();
  const serverHost = host === DOCKER_HUB ? DOCKER_HUB_SERVER_HOST : host;
  return { host, server: `${scheme}://${serverHost}`, plainHttp: scheme === 'http' };
}
