import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { networkInterfaces } from 'node:os';
import type { TaskRegistry } from '../storage/task-registry.ts';
import { createThrottle } from '../rate/throttle.ts';
import { silentLogger, type PeerLogger } from '../log/peer-logger.ts';
import { parseByteRange, parsePiecePath } from './piece-request.ts';
import { sendProblem } from './problem-response.ts';

export interface UploaderOptions {
  registry: TaskRegistry;
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** Default 0: an ephemeral port. */
  port?: number;
  /** Host to advertise to the supernode; default `host`, or this machine's first IPv4 for a wildcard host. */
  advertiseHost?: string;
  /** Host-wide upload cap, bytes/s, shared by every upload of this server. */
  rateLimit?: number;
  /** Concurrent uploads; a request over it gets 503 with Retry-After. Default 16. */
  slots?: number;
  retryAfterSeconds?: number;
  logger?: PeerLogger;
  /**
   * FOR TESTS ONLY: make this uploader lie. For the pieces the predicate selects, the first byte
   * served is flipped, so the requester's digest check fails (the lying-peer tests, unit and
   * e2e via dfget's hidden --test-corrupt-uploads). Never set in production.
   */
  corrupt?: (taskId: string, piece: number) => boolean;
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

const CHUNK = 64 * 1024;

/**
 * The piece uploader every peer runs: GET (or HEAD) /pieces/:taskId/:piece for verified pieces
 * of tasks in the registry, with single byte ranges within the piece, a host-wide rate cap and
 * a slot limit. Everything else is a clean 4xx problem+json; the request path is parsed into two
 * numbers before anything is looked up, so no part of it ever reaches the filesystem.
 */
export async function startUploader(o: UploaderOptions): Promise<Uploader> {
  const throttle = createThrottle(o.rateLimit);
  const logger = o.logger ?? silentLogger;
  const slots = o.slots ?? 16;
  let busy = 0;
  let served = 0;

  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      logger.error({ err: err.message, url: req.url }, 'piece upload failed');
      if (!res.headersSent) sendProblem(res, 'DF_ERR_INTERNAL', 'internal error');
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = parsePiecePath(req.url ?? '');
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendProblem(res, 'DF_ERR_METHOD_NOT_ALLOWED', `${req.method} is not supported`, { allow: 'GET, HEAD' });
    if ('code' in path) return sendProblem(res, path.code, path.detail);
    const file = o.registry.get(path.taskId);
    if (!file || !file.has(path.piece)) return sendProblem(res, 'DF_ERR_NOT_FOUND', `no verified piece ${path.piece} of task ${path.taskId} here`);
    const size = file.range(path.piece).length;
    const range = parseByteRange(req.headers.range, size);
    if (range === 'unsatisfiable') return sendProblem(res, 'DF_ERR_RANGE_NOT_SATISFIABLE', `the piece has ${size} bytes`, { 'content-range': `bytes */${size}` });
    if (busy >= slots) {
      const retryAfter = String(o.retryAfterSeconds ?? 1);
      return sendProblem(res, 'DF_ERR_UNAVAILABLE', `all ${slots} upload slots are busy`, { 'retry-after': retryAfter });
    }
    const { start, end } = range ?? { start: 0, end: size - 1 };
    busy++;
    const gone = new AbortController();
    res.once('close', () => gone.abort());
    try {
      const headers = { 'content-type': 'application/octet-stream', 'content-length': String(end - start + 1), 'accept-ranges': 'bytes' };
      if (range) res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${end}/${size}` });
      else res.writeHead(200, headers);
      if (req.method === 'HEAD') return void res.end();
      const lie = o.corrupt?.(path.taskId, path.piece) ?? false;
      for (let at = start; at <= end; at += CHUNK) {
        let chunk = await file.readPiece(path.piece, at, Math.min(CHUNK, end - at + 1));
        if (lie && at === start) {
          chunk = Buffer.from(chunk); // a copy: the piece's own bytes (kept for other uploads) stay true
          chunk[0] = chunk[0]! ^ 0xff;
        }
        await throttle?.take(chunk.length, gone.signal);
        served += chunk.length;
        if (!res.write(chunk)) await drained(res);
        if (gone.signal.aborted) return;
      }
      res.end();
    } catch (err) {
      // The requester went away during a throttle wait: nothing more to send.
      if (!gone.signal.aborted) throw err;
      res.destroy();
    } finally {
      busy--;
    }
  }

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
    bytesServed: () => served,
    activeUploads: () => busy,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Resolves when the response can take more bytes, or is gone. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done).off('close', done);
      resolve();
    };
    res.on('drain', done).on('close', done);
  });
}

/** A wildcard listen address cannot be handed to other peers: advertise a real interface. */
function advertisableHost(host: string): string {
  if (host !== '0.0.0.0' && host !== '::') return host;
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}
