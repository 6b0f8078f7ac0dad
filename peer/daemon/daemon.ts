import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { DamselflyError } from '../../core/errors.ts';
import { problemOfError, sendProblem } from '../../edge/http/problem.ts';
import { silentLog, type LogSink } from '../../edge/log/log-sink.ts';
import { TaskRegistry } from '../storage/task-registry.ts';
import { registryPieceSource, startUploader } from '../uploader/index.ts';
import { createDaemonMetrics, type DaemonMetrics } from './daemon-metrics.ts';
import { createSwarmFetcher } from './tasks/swarm-fetcher.ts';
import type { P2PFetcher } from './p2p-fetcher.ts';
import { startHostAnnouncer } from './host-announcer.ts';
import { loadHostId } from './host-id.ts';

/** What the daemon port mounts besides health and metrics: the mirror (`/v2…`) and the proxy (absolute-form URLs, CONNECT). */
export interface DaemonRoutes {
  mirror?: { handle(req: IncomingMessage, res: ServerResponse): Promise<void>; close?(): Promise<void> };
  proxy?: { handle(req: IncomingMessage, res: ServerResponse): Promise<void>; connect(req: IncomingMessage, socket: Duplex, head: Buffer): void; close?(): Promise<void> };
}

export interface DaemonOptions {
  nodes: string[];
  token?: string;
  dataDir: string;
  host: string;
  port: number;
  uploadHost?: string;
  uploadPort: number;
  advertiseHost?: string;
  uploadLimit?: number;
  downloadLimit?: number;
  cache: { highWatermark: number; lowWatermark: number; ttlMs: number };
  gcIntervalMs: number;
  /** Between host announcements to the supernode (default HOST_HEARTBEAT_MS, core/wire/host-api.ts). */
  announceIntervalMs?: number;
  logger?: LogSink;
  /** Builds the mirror and the proxy over the daemon's fetcher. */
  routes?: (fetcher: P2PFetcher, metrics: DaemonMetrics) => DaemonRoutes;
}

export interface RunningDaemon {
  /** The id this daemon's host is announced under (kept in `<dataDir>/host-id`). */
  hostId: string;
  /** host:port of the mirror/proxy port. */
  address: string;
  uploadAddress: string;
  /** Piece bytes this daemon's uploader has served to other peers. */
  uploadedBytes(): number;
  metrics: DaemonMetrics;
  fetcher: P2PFetcher;
  /** Stops taking requests, lets the ones in flight finish (bounded), leaves the swarms. */
  stop(): Promise<void>;
}

/**
 * One node's agent: the piece uploader every download serves from, the blob cache with its
 * garbage collection, and one HTTP port carrying `/healthy`, `/metrics`, the registry mirror
 * and the proxy. dfget's engine is used as a library: each blob is a `startDownload` with this
 * daemon's shared uploader, so the host-wide upload cap holds across all of them.
 */
export async function startDaemon(o: DaemonOptions): Promise<RunningDaemon> {
  const log = o.logger ?? silentLog;
  await mkdir(o.dataDir, { recursive: true });
  const registry = new TaskRegistry();
  const uploader = await startUploader({ source: registryPieceSource(registry), host: o.uploadHost ?? o.host, port: o.uploadPort, advertiseHost: o.advertiseHost, rateLimit: o.uploadLimit, logger: log });
  const metrics = createDaemonMetrics({ uploadedBytes: () => uploader.bytesServed() });
  // Read (or made) before any download: the daemon's joins carry the id it announces, so the
  // supernode can tell which host a peer of a task runs on.
  const machine = hostname();
  const hostId = await loadHostId(o.dataDir, machine, log);
  const fetcher = createSwarmFetcher({ nodes: o.nodes, token: o.token, dataDir: o.dataDir, hostId, uploader: { uploader, registry }, downloadLimit: o.downloadLimit, cache: o.cache, logger: log, metrics });
  const routes = o.routes?.(fetcher, metrics) ?? {};
  const gc = setInterval(() => void fetcher.collect().catch((err: Error) => log.warn({ err: err.message }, 'garbage collection failed')), o.gcIntervalMs);
  gc.unref();

  const server: Server = createServer((req, res) => void route(req, res));
  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = req.url ?? '';
      if (/^https?:\/\//i.test(url)) {
        if (!routes.proxy) throw new DamselflyError('DF_ERR_NOT_FOUND', 'this daemon runs no HTTP proxy');
        return await routes.proxy.handle(req, res);
      }
      const path = url.split('?', 1)[0]!;
      if (path === '/healthy') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('OK');
      if (path === '/metrics') {
        const body = await metrics.registry.metrics();
        return void res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body);
      }
      if ((path === '/v2' || path.startsWith('/v2/')) && routes.mirror) return await routes.mirror.handle(req, res);
      throw new DamselflyError('DF_ERR_NOT_FOUND', `no route for ${req.method} ${path.slice(0, 200)}`);
    } catch (err) {
      if (res.headersSent) res.destroy(err as Error);
      else sendProblem(res, problemOfError(err));
    }
  }
  server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (routes.proxy) return routes.proxy.connect(req, socket, head);
    socket.end('HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n');
  });
  server.on('clientError', (_err, socket) => socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  // Announces in the background: an unreachable supernode never holds the start up.
  const announcer = startHostAnnouncer({ nodes: o.nodes, token: o.token, hostId, hostname: machine, dataDir: o.dataDir, uploadAddress: uploader.address, proxyPort: port, intervalMs: o.announceIntervalMs, logger: log });
  log.info({ port, upload: uploader.address, hostId }, 'daemon ready');
  let stopping: Promise<void> | undefined;
  return {
    hostId,
    address: `${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`,
    uploadAddress: uploader.address,
    uploadedBytes: () => uploader.bytesServed(),
    metrics,
    fetcher,
    stop: () =>
      (stopping ??= (async () => {
        clearInterval(gc);
        // Leaves the host list first (bounded), alongside the drain: a draining daemon is no target for preheat.
        const leaving = announcer.stop();
        // Drain: no new connections, those in flight get a bounded grace period.
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await Promise.race([closed, new Promise((r) => setTimeout(r, 10_000).unref())]);
        server.closeAllConnections();
        await Promise.allSettled([routes.mirror?.close?.(), routes.proxy?.close?.()]);
        await fetcher.close();
        await uploader.close();
        await leaving;
      })()),
  };
}
