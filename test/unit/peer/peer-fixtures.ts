import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { PieceFile } from '../../../peer/storage/piece-file.ts';
import { TaskRegistry } from '../../../peer/storage/task-registry.ts';

export const sha256Hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A task held by a peer: random content, the pieces listed stored in a PieceFile in `dir`. */
export async function heldTask(o: { dir: string; name: string; contentLength: number; pieceSize: number; stored?: number[]; registry?: TaskRegistry }) {
  const content = randomBytes(o.contentLength);
  const taskId = sha256Hex(Buffer.from(o.name));
  const file = await PieceFile.create(`${o.dir}/${o.name}`, { contentLength: o.contentLength, pieceSize: o.pieceSize });
  const piece = (n: number) => content.subarray(n * o.pieceSize, Math.min(o.contentLength, (n + 1) * o.pieceSize));
  for (const n of o.stored ?? Array.from({ length: file.pieceCount }, (_, i) => i)) await file.writePiece(n, piece(n));
  const registry = o.registry ?? new TaskRegistry();
  registry.add(taskId, file);
  return { content, taskId, file, registry, piece };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A request with the path sent exactly as given (no client-side normalisation of dots or escapes). */
export function rawRequest(port: number, path: string, o: { method?: string; headers?: Record<string, string> } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: o.method ?? 'GET', headers: o.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** An origin on loopback serving `content` at /file.bin, recording each request's headers. */
export async function startTestOrigin(content: Buffer) {
  const { createServer } = await import('node:http');
  const requests: Record<string, string | string[] | undefined>[] = [];
  const server = createServer((req, res) => {
    requests.push(req.headers);
    if (req.url !== '/file.bin') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-length': content.length }).end(content);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/file.bin`, requests, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** A loopback port with nothing listening (bound, then released). */
export async function deadAddress(): Promise<string> {
  const { createServer } = await import('node:net');
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise((resolve) => srv.close(resolve));
  return `127.0.0.1:${port}`;
}

/** A logger that keeps every line, to check what would have been written. */
export function recordingLogger() {
  const lines: string[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void lines.push(`${level} ${msg ?? ''} ${JSON.stringify(obj)}`);
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}
