import type { IncomingMessage, ServerResponse } from 'node:http';
import { DamselflyError } from '../../../core/errors.ts';
import { silentLog, type LogSink } from '../../../edge/log/log-sink.ts';
import { redactUrl } from '../../../edge/log/redact.ts';
import type { DaemonMetrics } from '../daemon-metrics.ts';
import type { P2PFetcher } from '../p2p-fetcher.ts';
import { BlobAccess } from './blob-access.ts';
import { chooseUpstream, registryOrigin } from './choose-upstream.ts';
import { headerValue, upstreamRequestHeaders } from './forward-headers.ts';
import { isSwarmDigest, parseRegistryPath, type RegistryRoute } from './registry-path.ts';
import { sendRegistryProblem } from './registry-problem.ts';
import { serveBlob, type BlobOutcome } from './serve-blob.ts';
import { UpstreamClient } from './upstream-client.ts';

export interface RegistryMirrorOptions {
  fetcher: P2PFetcher;
  /** The registry for requests that name none, e.g. https://index.docker.io or http://127.0.0.1:5000. */
  defaultRegistry?: string;
  /** Hosts (host or host:port) reached over http when containerd names them by ns=. */
  insecureRegistries?: string[];
  logger?: LogSink;
  metrics?: DaemonMetrics;
  /** How long a registry's "yes, this credential may read this blob" is believed; 60 s by default. */
  accessTtlMs?: number;
  connectTimeoutMs?: number;
}

export interface RegistryMirror {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  close(): Promise<void>;
}

/** The metric kinds of daemon-metrics.ts; a referrers list is an index of manifests. */
const KIND: Record<RegistryRoute['kind'], string> = { ping: 'ping', catalog: 'catalog', manifest: 'manifest', blob: 'blob', tags: 'tags', referrers: 'manifest' };

/**
 * The OCI distribution pull API in front of one or more registries (docs/registry-mirror.md).
 * Everything passes through to the upstream unchanged except sha256 blobs, which come from the
 * swarm once the registry has accepted the client's own credentials for that blob in that
 * repository. Only pulls: anything else is a 405.
 */
export function createRegistryMirror(o: RegistryMirrorOptions): RegistryMirror {
  const log = o.logger ?? silentLog;
  const defaultRegistry = o.defaultRegistry === undefined ? undefined : registryOrigin(o.defaultRegistry, 'the default registry');
  const insecure = new Set((o.insecureRegistries ?? []).map((h) => h.toLowerCase()));
  const upstream = new UpstreamClient({ connectTimeoutMs: o.connectTimeoutMs });
  const access = new BlobAccess(upstream, { ttlMs: o.accessTtlMs ?? 60_000 }, o.metrics);
  const blobs = { fetcher: o.fetcher, access, upstream, log, metrics: o.metrics };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const startedAt = performance.now();
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const path = q < 0 ? target : target.slice(0, q);
    const query = q < 0 ? '' : target.slice(q + 1);
    const route = parseRegistryPath(path);
    const kind = 'refused' in route ? 'other' : KIND[route.kind];
    let outcome: BlobOutcome = 'ok';
    let registry: URL | undefined;
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        outcome = 'bad_request';
        return sendRegistryProblem(res, new DamselflyError('DF_ERR_METHOD_NOT_ALLOWED', 'this mirror serves pulls only (GET, HEAD)'), 'UNSUPPORTED', { allow: 'GET, HEAD' });
      }
      if ('refused' in route) {
        outcome = 'bad_request';
        const code = route.refused === 'NOT_FOUND' ? 'DF_ERR_NOT_FOUND' : 'DF_ERR_VALIDATION';
        return sendRegistryProblem(res, new DamselflyError(code, route.message), route.refused);
      }
      const { rest, ns } = withoutNs(query);
      registry = chooseUpstream({ header: headerValue(req.headers['x-dragonfly-registry']), ns, defaultRegistry, insecure });
      const url = new URL(`${route.kind === 'ping' ? '/v2/' : path}${rest ? `?${rest}` : ''}`, registry);
      const headers = upstreamRequestHeaders(req.rawHeaders);
      const useP2P = !/^\s*false\s*$/i.test(headerValue(req.headers['x-dragonfly-use-p2p']) ?? '');
      if (route.kind === 'blob' && useP2P && isSwarmDigest(route.digest)) {
        outcome = await serveBlob(blobs, req, res, { registry, name: route.name, digest: route.digest, url, headers, startedAt });
      } else {
        const status = await upstream.passThrough(req, res, url, headers);
        outcome = status < 400 ? 'ok' : 'upstream_error';
      }
    } catch (err) {
      outcome = err instanceof DamselflyError && err.status < 500 ? 'bad_request' : 'failed';
      log[outcome === 'failed' ? 'warn' : 'debug']({ method: req.method, url: redactUrl(target), registry: registry?.origin, err: (err as Error).message }, 'registry request failed');
      if (res.headersSent) res.destroy();
      else sendRegistryProblem(res, err);
    } finally {
      o.metrics?.requests.inc({ kind, outcome });
      log.debug({ method: req.method, url: redactUrl(target), registry: registry?.origin, status: res.statusCode, outcome }, 'registry request');
    }
  }

  return { handle, close: () => upstream.close() };
}

/** The query without containerd's ns= (which names the registry to the mirror, not to it), as sent otherwise. */
function withoutNs(query: string): { rest: string; ns: string | undefined } {
  let ns: string | undefined;
  const kept = query.split('&').filter((part) => {
    if (part === '') return false;
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq);
    if (name !== 'ns') return true;
    ns ??= decodeQueryValue(eq < 0 ? '' : part.slice(eq + 1));
    return false;
  });
  return { rest: kept.join('&'), ns };
}

function decodeQueryValue(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    // The URIError repeats the input; saying which parameter is enough.
    throw new DamselflyError('DF_ERR_VALIDATION', 'the ns query parameter is not valid percent-encoding');
  }
}
