import { DamselflyError } from '../../../core/errors.ts';
import { isHostPort } from '../../../core/wire/host-port.ts';

export interface UpstreamChoice {
  /** The X-Dragonfly-Registry header, if the client sent one. */
  header?: string;
  /** containerd's `ns=` query parameter: the registry host the image is named with. */
  ns?: string;
  defaultRegistry?: URL;
  /** Hosts (host or host:port, as ns= names them) reached over http. */
  insecure: ReadonlySet<string>;
}

/** Docker Hub's name in an image reference is not where its API is. */
const NS_ALIASES: Record<string, string> = { 'docker.io': 'registry-1.docker.io' };

/**
 * The registry a request goes to, in Dragonfly2's order: the X-Dragonfly-Registry header (a URL
 * with its scheme), containerd's `ns=` (a host: https unless marked insecure), then the
 * daemon's default. Only an origin is kept: the distribution API lives at `/v2/` of the host.
 */
export function chooseUpstream(c: UpstreamChoice): URL {
  if (c.header !== undefined) return registryOrigin(c.header, 'the X-Dragonfly-Registry header');
  if (c.ns !== undefined) {
    const host = c.ns.toLowerCase();
    const withPort = /:\d+$/.test(host) ? host : `${host}:443`;
    if (!isHostPort(withPort)) throw new DamselflyError('DF_ERR_VALIDATION', 'the ns query parameter must be a registry host[:port]');
    // Marked insecure by host:port or by host alone (any port of it).
    const insecure = c.insecure.has(host) || c.insecure.has(withPort.slice(0, withPort.lastIndexOf(':')));
    return new URL(`${insecure ? 'http' : 'https'}://${NS_ALIASES[host] ?? host}`);
  }
  if (c.defaultRegistry) return c.defaultRegistry;
  throw new DamselflyError(
    'DF_ERR_VALIDATION',
    'no upstream registry for this request: send X-Dragonfly-Registry: https://REGISTRY (containerd hosts.toml header), let containerd add ?ns=, or start the daemon with --registry URL',
  );
}

/** A registry URL as configured or sent: http(s), no credentials, no path beyond `/`. */
export function registryOrigin(value: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new DamselflyError('DF_ERR_VALIDATION', `${what} must be a URL such as https://registry.example.com`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new DamselflyError('DF_ERR_VALIDATION', `${what} must be an http or https URL`);
  if (url.username || url.password) throw new DamselflyError('DF_ERR_VALIDATION', `${what} must not carry credentials (send Authorization instead)`);
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) throw new DamselflyError('DF_ERR_VALIDATION', `${what} must be a scheme and host only`);
  return new URL(url.origin);
}
