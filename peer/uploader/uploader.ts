import { createServer } from 'node:http';
import { networkInterfaces } from 'node:os';
import { createPieceServer, type PieceSource } from '../../edge/pieces/index.ts';
import { createThrottle, CHUNK_BURST_BYTES } from '../../edge/rate/index.ts';
import type { LogSink } from '../../edge/log/log-sink.ts';
import { DEFAULT_POLICY } from '../../core/scheduling/policy.ts';

export interface UploaderOptions {
  /** What this uploader may serve: registryPieceSource(registry) for a peer's verified pieces. */
  source: PieceSource;
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** Default 0: an ephemeral port. */
  port?: number;
  /** Host to advertise to the supernode; default `host`, or this machine's first IPv4 for a wildcard host. */
  advertiseHost?: string;
  /** Host-wide upload cap, bytes/s, shared by every upload of this server. */
  rateLimit?: number;
  /**
   * Concurrent uploads. Default the scheduling policy's peerUploadSlots (4): the host's upload
   * cap is shared by the uploads in flight, and a piece is of use to others only once it is
   * whole, so a few fast uploads spread pieces sooner than many slow ones.
   */
  slots?: number;
  /** Requests that wait for a slot, in turn, when every slot is busy; beyond them 503 with Retry-After. Default 16. */
  queue?: number;
  retryAfterMs?: number;
  logger?: LogSink;
}

export interface Uploader {
  /** host:port to advertise to the supernode (JoinRequest.address). */
  address: string;
  port: number;
  /** Bytes sent so far (piece bodies). */
  bytesServed(): number;
  /** Uploads in progress right now. */
  activeUploads(): number;
  close(): Promise<void>;
}

/**
 * The piece uploader every peer runs: the shared piece server (edge/pieces) on a plain
 * node:http server of its own, with the peer's host-wide upload cap. Anything but a piece
 * request is a 4xx problem+json.
 */
export async function startUploader(o: UploaderOptions): Promise<Uploader> {
  const pieces = createPieceServer({
    source: o.source,
    throttle: createThrottle(o.rateLimit, { burstBytes: CHUNK_BURST_BYTES }),
    slots: o.slots ?? DEFAULT_POLICY.peerUploadSlots,
    queue: o.queue ?? 16,
    retryAfterMs: o.retryAfterMs,
    log: o.logger,
  });
  const server = createServer((req, res) => void pieces.handle(req, res));
  const host = o.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const advertised = o.advertiseHost ?? advertisableHost(host);
  return {
    address: `${advertised.includes(':') ? `[${advertised}]` : advertised}:${port}`,
    port,
    bytesServed: () => pieces.bytesServed(),
    activeUploads: () => pieces.activeUploads(),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A wildcard listen address cannot be handed to other peers: advertise a real interface. */
function advertisableHost(host: string): string {
  if (host !== '0.0.0.0' && host !== '::') return host;
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}
