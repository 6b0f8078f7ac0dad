import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { TaskRegistry } from '../storage/task-registry.ts';
import { createThrottle } from '../rate/throttle.ts';
import { parsePieceRequest } from './piece-request.ts';

export interface UploaderOptions {
  registry: TaskRegistry;
  host?: string;
  port?: number;
  /** Host-wide upload cap, bytes/s. */
  rateLimit?: number;
  /** Concurrent uploads; over it a request gets 503 with Retry-After. */
  slots?: number;
  /** FOR TESTS ONLY: serve flipped bytes for these pieces (the e2e test of a lying peer). */
  corrupt?: (taskId: string, piece: number) => boolean;
}

export interface Uploader {
  /** host:port to advertise to the supernode. */
  address: string;
  port: number;
  /** Bytes served so far. */
  bytesServed(): number;
  close(): Promise<void>;
}

const CHUNK = 64 * 1024;

/**
 * The piece uploader every peer runs: GET /pieces/:taskId/:piece for verified pieces of tasks
 * in the registry, with Range, a host-wide rate cap and a slot limit. Everything else is a
 * clean 4xx problem+json; no part of the request path ever reaches the filesystem.
 */
export async function startUploader(o: UploaderOptions): Promise<Uploader> {
  const throttle = createThrottle(o.rateLimit);
  const slots = o.slots ?? 16;
  let busy = 0;
  let served = 0;

  const server = createServer((req, res) => {
    void handle(req, res).catch((err: Error) => {
      if (!res.headersSent) problem(res, 500, 'DF_ERR_INTERNAL', 'internal error');
      else res.destroy(err);
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return problem(res, 405, 'DF_ERR_METHOD', 'only GET and HEAD');
    const parsed = parsePieceRequest(req.url ?? '', req.headers.range);
    if ('error' in parsed) return problem(res, parsed.status, parsed.code, parsed.error);
    const task = o.registry.get(parsed.taskId);
    if (!task || !task.file.has(parsed.piece)) return problem(res, 404, 'DF_ERR_NOT_FOUND', 'no such piece here');
    const offset = parsed.piece * task.pieceSize;
    const size = Math.min(task.pieceSize, task.contentLength - offset);
    let start = 0;
    let end = size - 1;
    if (parsed.range) {
      start = parsed.range.start;
      end = Math.min(parsed.range.end ?? end, end);
      if (start > end) return problem(res, 416, 'DF_ERR_RANGE_NOT_SATISFIABLE', `piece has ${size} bytes`);
    }
    if (busy >= slots) {
      res.setHeader('retry-after', '1');
      return problem(res, 503, 'DF_ERR_UNAVAILABLE', 'all upload slots are busy');
    }
    busy++;
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    try {
      const headers = { 'content-type': 'application/octet-stream', 'content-length': end - start + 1, 'accept-ranges': 'bytes' };
      if (parsed.range) res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${end}/${size}` });
      else res.writeHead(200, headers);
      if (req.method === 'HEAD') return void res.end();
      const body = await task.file.read(offset + start, end - start + 1);
      if (o.corrupt?.(parsed.taskId, parsed.piece)) body[0] = body[0]! ^ 0xff;
      for (let at = 0; at < body.length; at += CHUNK) {
        const chunk = body.subarray(at, at + CHUNK);
        await throttle?.take(chunk.length, abort.signal);
        served += chunk.length;
        if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
      }
      res.end();
    } catch (err) {
      // The requester went away (aborted throttle wait or write): nothing more to send.
      if (!abort.signal.aborted) throw err;
      res.destroy();
    } finally {
      busy--;
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    address: `${o.host ?? '127.0.0.1'}:${port}`,
    port,
    bytesServed: () => served,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function problem(res: ServerResponse, status: number, code: string, detail: string): void {
  res.writeHead(status, { 'content-type': 'application/problem+json' });
  res.end(JSON.stringify({ type: `urn:damselfly:error:${code}`, title: detail, status, code, detail }));
}
