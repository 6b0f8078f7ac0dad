import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The daemon's Prometheus metrics, on a registry of its own (several daemons share one test
 * process). Labels are bounded: kinds and outcomes from fixed lists, never a repository,
 * digest or URL.
 */
export function createDaemonMetrics(read: { uploadedBytes: () => number } = { uploadedBytes: () => 0 }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    /** kind: blob | manifest | tags | catalog | ping | proxy | tunnel; outcome: ok | upstream_error | refused | failed | bad_request */
    requests: new Counter({ name: 'damselfly_daemon_requests_total', help: 'Requests the daemon answered, by kind and outcome', labelNames: ['kind', 'outcome'] as const, registers: [registry] }),
    /** source: cache (already held here) | swarm (downloaded for this request) | direct (proxied past the swarm) */
    bytesServed: new Counter({ name: 'damselfly_daemon_served_bytes_total', help: 'Body bytes sent to clients, by where they came from', labelNames: ['source'] as const, registers: [registry] }),
    /** result: allowed | refused | cached_allowed | cached_refused */
    accessChecks: new Counter({ name: 'damselfly_daemon_access_checks_total', help: 'Upstream checks that a client may read a blob before it is served from the cache or the swarm', labelNames: ['result'] as const, registers: [registry] }),
    /** route: p2p | direct | tunnel | mitm */
    proxyRoutes: new Counter({ name: 'damselfly_daemon_proxy_routes_total', help: 'Proxy requests by the route a rule chose', labelNames: ['route'] as const, registers: [registry] }),
    firstByteSeconds: new Histogram({ name: 'damselfly_daemon_first_byte_seconds', help: 'Time from a P2P request to its first body byte sent', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry] }),
    cacheBytes: new Gauge({ name: 'damselfly_daemon_cache_bytes', help: 'Bytes of blobs held in the data dir', registers: [registry] }),
    cacheEvictions: new Counter({ name: 'damselfly_daemon_cache_evictions_total', help: 'Blobs removed by garbage collection, by reason', labelNames: ['reason'] as const, registers: [registry] }),
    uploadedBytes: new Gauge({
      name: 'damselfly_daemon_uploaded_bytes', help: 'Piece bytes this daemon has served to other peers since it started', registers: [registry],
      collect() {
        this.set(read.uploadedBytes());
      },
    }),
    activeDownloads: new Gauge({ name: 'damselfly_daemon_active_downloads', help: 'P2P downloads in progress', registers: [registry] }),
  };
}

export type DaemonMetrics = ReturnType<typeof createDaemonMetrics>;
