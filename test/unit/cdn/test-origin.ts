import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A real HTTP origin on loopback for the CDN tests: serves one generated file with ETag,
 * Last-Modified, Accept-Ranges and Range/If-Range, and can misbehave on demand (cut a body
 * once, change its version, refuse HEAD, ignore Range, require a credential, redirect).
 * It counts the body bytes it sends, which is what "fetched once" is measured by.
 */
export interface OriginBehaviour {
  /** Cut the connection once after this many body bytes of a GET. */
  failOnceAfter?: number;
  /** Called when the cut happens (e.g. to change the version before the resume). */
  onFail?: () => void;
  refuseHead?: boolean;
  /** Omit Accept-Ranges from HEAD answers. */
  hideAcceptRanges?: boolean;
  ignoreRange?: boolean;
  noEtag?: boolean;
  /** Answer 401 unless Authorization equals this. */
  requireAuth?: string;
  /** Answer every GET 500 with the request's Authorization echoed in the body. */
  echoAuthIn500?: boolean;
  /** Pause between 16 KiB chunks. */
  chunkDelayMs?: number;
}

export interface RequestRecord {
  method: string;
  path: string;
  range?: string;
  ifRange?: string;
  authorization?: string;
}

export function generatedContent(size: number, seed = 1): Buffer {
  const out = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export class TestOrigin {
  content: Buffer;
  etag = '"v1"';
  lastModified = new Date(Date.UTC(2024, 0, 1)).toUTCString();
  bodyBytes = 0;
  finished = 0;
  requests: RequestRecord[] = [];
  private server!: Server;
  private failed = false;

  constructor(size: number, public behaviour: OriginBehaviour = {}) {
    this.content = generatedContent(size);
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  url(path = '/file.bin'): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** A new version of the file: other bytes, other validators. */
  changeVersion(): void {
    this.content = generatedContent(this.content.length, 99);
    this.etag = '"v2"';
    this.lastModified = new Date(Date.UTC(2024, 5, 1)).toUTCString();
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const b = this.behaviour;
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push({ method: req.method ?? '', path: url.pathname, range: req.headers.range, ifRange: req.headers['if-range'] as string | undefined, authorization: req.headers.authorization });
    if (url.pathname === '/redirect') {
      res.writeHead(302, { location: url.searchParams.get('to') ?? '/' }).end();
      return;
    }
    if (url.pathname === '/loop') {
      res.writeHead(302, { location: '/loop' }).end();
      return;
    }
    if (url.pathname === '/echo-auth') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end(req.headers.authorization ?? '');
      return;
    }
    if (b.requireAuth !== undefined && req.headers.authorization !== b.requireAuth) {
      res.writeHead(401, { 'content-type': 'text/plain' }).end('unauthorized');
      return;
    }
    if (req.method === 'HEAD' && b.refuseHead) {
      res.writeHead(405).end();
      return;
    }
    if (req.method === 'GET' && b.echoAuthIn500) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`internal error handling request with authorization=${req.headers.authorization}`);
      return;
    }
    const validators: Record<string, string> = { 'last-modified': this.lastModified, ...(b.noEtag ? {} : { etag: this.etag }) };
    const size = this.content.length;
    let start = 0;
    let end = size - 1;
    let status = 200;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const ifRange = req.headers['if-range'] as string | undefined;
    const rangeStillValid = ifRange === undefined || ifRange === (b.noEtag ? this.lastModified : this.etag) || ifRange === this.lastModified;
    if (range && !b.ignoreRange && rangeStillValid) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      if (start >= size) {
        res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
        return;
      }
      status = 206;
    }
    const headers: Record<string, string> = { ...validators, 'content-length': String(end - start + 1), 'content-type': 'application/octet-stream' };
    if (!(req.method === 'HEAD' && b.hideAcceptRanges)) headers['accept-ranges'] = b.ignoreRange ? 'none' : 'bytes';
    if (status === 206) headers['content-range'] = `bytes ${start}-${end}/${size}`;
    res.writeHead(status, headers);
    if (req.method === 'HEAD') return void res.end();
    await this.sendBody(res, this.content.subarray(start, end + 1));
  }

  private async sendBody(res: ServerResponse, body: Buffer): Promise<void> {
    const b = this.behaviour;
    const CHUNK = 16 * 1024;
    let sentHere = 0;
    for (let at = 0; at < body.length; at += CHUNK) {
      let chunk = body.subarray(at, at + CHUNK);
      const cutAt = !this.failed && b.failOnceAfter !== undefined ? b.failOnceAfter - sentHere : Infinity;
      if (cutAt < chunk.length) {
        chunk = chunk.subarray(0, Math.max(0, cutAt));
        this.failed = true;
        this.bodyBytes += chunk.length;
        await new Promise<void>((resolve) => res.write(chunk, () => resolve()));
        // The connection stalls, then drops: the client has consumed what was sent (a reset
        // right away could make its HTTP stack discard buffered bytes, blurring the count).
        await sleep(100);
        b.onFail?.();
        res.socket?.destroy();
        return;
      }
      this.bodyBytes += chunk.length;
      sentHere += chunk.length;
      const ok = res.write(chunk);
      if (!ok) await new Promise((resolve) => res.once('drain', resolve));
      if (res.destroyed) return;
      if (b.chunkDelayMs) await sleep(b.chunkDelayMs);
    }
    res.end();
    this.finished += 1;
  }
}
