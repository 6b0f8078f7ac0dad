import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { createThrottle, CHUNK_BURST_BYTES } from '../../edge/rate/throttle.ts';
import { bufferContent, type OriginContent } from './origin-content.ts';

export interface Origin {
  url: string;
  /** Body bytes sent so far (every response, every client). */
  bytesServed(): number;
  close(): Promise<void>;
}

/**
 * A plain HTTP origin for the demo and the benchmarks: one file, with HEAD, Range, ETag and
 * Last-Modified like a real web server or object store, and one upload cap shared by all
 * clients (the origin's uplink). It counts the bytes it sends, which is how "the origin sent
 * the file once" is measured.
 */
export async function startOrigin(o: { content: Buffer | OriginContent; rate?: number; path?: string }): Promise<Origin> {
  // A buffer's ETag is its hash; generated content is new each run, so a random one will do.
  const etag = `"${Buffer.isBuffer(o.content) ? createHash('sha256').update(o.content).digest('hex').slice(0, 16) : randomUUID()}"`;
  const content = Buffer.isBuffer(o.content) ? bufferContent(o.content) : o.content;
  const lastModified = new Date(0).toUTCString();
  const throttle = createThrottle(o.rate, { burstBytes: CHUNK_BURST_BYTES });
  const path = o.path ?? '/file.bin';
  let served = 0;
  const chunk = 64 * 1024;
  const server: Server = createServer((req, res) => {
    if (req.url?.split('?')[0] !== path) {
      res.writeHead(404).end();
      return;
    }
    let start = 0;
    let end = content.length - 1;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const headers: Record<string, string | number> = { 'accept-ranges': 'bytes', etag, 'last-modified': lastModified, 'content-type': 'application/octet-stream' };
    if (range) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), end) : end;
      if (start > end) {
        res.writeHead(416, { 'content-range': `bytes */${content.length}` }).end();
        return;
      }
      res.writeHead(206, { ...headers, 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${content.length}` });
    } else {
      res.writeHead(200, { ...headers, 'content-length': content.length });
    }
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    void (async () => {
      try {
        for (let at = start; at <= end; at += chunk) {
          const piece = content.slice(at, Math.min(end + 1, at + chunk));
          await throttle.take(piece.length, abort.signal);
          served += piece.length;
          if (!res.write(piece)) await new Promise((r) => res.once('drain', r));
        }
        res.end();
      } catch {
        // The client went away mid-body (aborted throttle wait): nothing left to send.
        res.destroy();
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}${path}`,
    bytesServed: () => served,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
