import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { piecePath } from '../../../core/wire/peer-api.ts';
import { registryPieceSource, startUploader, type Uploader, type UploaderOptions } from '../../../peer/uploader/index.ts';
import { lyingSource } from '../../../bench/harness/lying-source.ts';
import { heldTask, rawRequest, sha256Hex } from './peer-fixtures.ts';

const PIECE = 64 * 1024;
let dir: string;
let uploader: Uploader | undefined;
let held: { close(): Promise<void> } | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'df-uploader-'));
});
afterEach(async () => {
  await uploader?.close();
  uploader = undefined;
  await held?.close();
  await rm(dir, { recursive: true, force: true });
});

async function serve(o: Partial<UploaderOptions> & { stored?: number[]; contentLength?: number; pieceSize?: number; lies?: (taskId: string, piece: number) => boolean } = {}) {
  const task = await heldTask({ dir, name: 'held.bin', contentLength: o.contentLength ?? 3 * PIECE + 100, pieceSize: o.pieceSize ?? PIECE, stored: o.stored });
  held = task.file;
  const { lies, ...options } = o;
  const honest = registryPieceSource(task.registry);
  uploader = await startUploader({ ...options, source: lies ? lyingSource(honest, lies) : honest });
  return { ...task, port: uploader.port };
}

describe('the piece uploader', () => {
  it('serves stored pieces whole, on the path every source uses, and advertises host:port', async () => {
    const { taskId, piece, port } = await serve();
    expect(uploader!.address).toBe(`127.0.0.1:${port}`);
    for (const n of [0, 3]) {
      const res = await rawRequest(port, piecePath(taskId, n));
      expect(res.status).toBe(200);
      expect(res.headers['content-length']).toBe(String(piece(n).length));
      expect(sha256Hex(res.body)).toBe(sha256Hex(piece(n)));
    }
    expect(uploader!.bytesServed()).toBe(PIECE + 100);
    const head = await rawRequest(port, piecePath(taskId, 1), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(PIECE));
  });

  it('serves only verified pieces of known tasks: 404 otherwise', async () => {
    const { taskId, port } = await serve({ stored: [0, 2] });
    const missing = await rawRequest(port, piecePath(taskId, 1));
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(missing.body.toString())).toMatchObject({ status: 404, code: 'DF_ERR_NOT_FOUND' });
    expect((await rawRequest(port, piecePath(taskId, 99))).status).toBe(404);
    expect((await rawRequest(port, piecePath('a'.repeat(64), 0))).status).toBe(404);
    expect((await rawRequest(port, '/healthy')).status).toBe(404);
  });

  it('answers every malformed or hostile path with a clean 4xx problem, never a file', async () => {
    const { taskId, port } = await serve();
    const hostile = [
      '/pieces/..%2f..%2fetc/passwd',
      '/pieces/../../etc/passwd',
      `/pieces/${taskId}/..%2f..%2fetc%2fpasswd`,
      `/pieces/${taskId}/../../../etc/passwd`,
      `/pieces/${taskId.toUpperCase()}/0`,
      `/pieces/${taskId}/-1`,
      `/pieces/${taskId}/1.5`,
      `/pieces/${taskId}/01`,
      `/pieces/${taskId}/99999999999`,
      `/pieces/${taskId}/0/extra`,
      '/pieces/',
      `/pieces/${taskId.slice(1)}/0`,
    ];
    for (const path of hostile) {
      const res = await rawRequest(port, path);
      expect(res.status, path).toBeGreaterThanOrEqual(400);
      expect(res.status, path).toBeLessThan(500);
      const problem = JSON.parse(res.body.toString());
      expect(problem, path).toMatchObject({ status: res.status, code: expect.stringMatching(/^DF_ERR_/), type: expect.any(String), title: expect.any(String) });
      expect(res.body.toString()).not.toContain('root:');
    }
    const post = await rawRequest(port, piecePath(taskId, 0), { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });

  it('serves byte ranges within the piece and 416 outside it', async () => {
    const { taskId, piece, port } = await serve();
    const mid = await rawRequest(port, piecePath(taskId, 1), { headers: { range: 'bytes=100-199' } });
    expect(mid.status).toBe(206);
    expect(mid.headers['content-range']).toBe(`bytes 100-199/${PIECE}`);
    expect(mid.body).toEqual(piece(1).subarray(100, 200));
    const open = await rawRequest(port, piecePath(taskId, 3), { headers: { range: 'bytes=90-' } });
    expect(open.body).toEqual(piece(3).subarray(90));
    const suffix = await rawRequest(port, piecePath(taskId, 0), { headers: { range: 'bytes=-10' } });
    expect(suffix.body).toEqual(piece(0).subarray(PIECE - 10));
    const clipped = await rawRequest(port, piecePath(taskId, 3), { headers: { range: 'bytes=50-100000' } });
    expect(clipped.headers['content-range']).toBe('bytes 50-99/100');
    const outside = await rawRequest(port, piecePath(taskId, 3), { headers: { range: 'bytes=100-' } });
    expect(outside.status).toBe(416);
    expect(outside.headers['content-range']).toBe('bytes */100');
    expect(JSON.parse(outside.body.toString()).code).toBe('DF_ERR_RANGE_NOT_SATISFIABLE');
  });

  it('queues a request while every slot is busy and gives it the next free slot, in turn', async () => {
    // Slow uploads (40 KiB/s) keep the one slot busy while the second request arrives.
    const { taskId, port } = await serve({ slots: 1, queue: 1, rateLimit: 40 * 1024, retryAfterMs: 2000, pieceSize: 256 * 1024, contentLength: 512 * 1024 });
    const first = await new Promise<IncomingMessage>((resolve, reject) => {
      httpRequest({ host: '127.0.0.1', port, path: piecePath(taskId, 0) }, resolve).on('error', reject).end();
    });
    expect(first.statusCode).toBe(200);
    let queuedAnswered = false;
    const queued = rawRequest(port, piecePath(taskId, 1), { headers: { range: 'bytes=0-9' } }).then((r) => ((queuedAnswered = true), r));
    await expect.poll(() => uploader!.activeUploads()).toBe(1);
    // The queue holds one: a third request is refused at once.
    const third = await rawRequest(port, piecePath(taskId, 1));
    expect(third.status).toBe(503);
    expect(queuedAnswered).toBe(false);
    first.destroy();
    expect((await queued).status).toBe(206);
  });

  it('answers 503 with Retry-After when every upload slot is busy and nothing may queue', async () => {
    // Slow uploads (40 KiB/s) keep the one slot busy while the second request arrives.
    const { taskId, port } = await serve({ slots: 1, queue: 0, rateLimit: 40 * 1024, retryAfterMs: 2000, pieceSize: 256 * 1024, contentLength: 512 * 1024 });
    const first = await new Promise<IncomingMessage>((resolve, reject) => {
      httpRequest({ host: '127.0.0.1', port, path: piecePath(taskId, 0) }, resolve).on('error', reject).end();
    });
    expect(first.statusCode).toBe(200);
    const second = await rawRequest(port, piecePath(taskId, 1));
    expect(second.status).toBe(503);
    expect(second.headers['retry-after']).toBe('2');
    expect(JSON.parse(second.body.toString()).code).toBe('DF_ERR_UNAVAILABLE');
    first.destroy();
    // The slot comes back once the requester is gone.
    await expect.poll(() => uploader!.activeUploads()).toBe(0);
    const third = await rawRequest(port, piecePath(taskId, 1), { headers: { range: 'bytes=0-9' } });
    expect(third.status).toBe(206);
  });

  it('holds uploads together under the host-wide rate (measured loosely)', async () => {
    const rate = 1024 * 1024;
    const { taskId, port, content } = await serve({ rateLimit: rate, pieceSize: 600 * 1024, contentLength: 1200 * 1024 });
    const started = performance.now();
    const bodies = await Promise.all([0, 1].map((n) => rawRequest(port, piecePath(taskId, n))));
    const seconds = (performance.now() - started) / 1000;
    expect(sha256Hex(Buffer.concat(bodies.map((b) => b.body)))).toBe(sha256Hex(content));
    // 1200 KiB at 1 MiB/s after a 64 KiB burst is ≥ 1.1 s; allow generous slack, lower bound only.
    expect(seconds).toBeGreaterThan(0.7);
  });

  it('lies when its piece source is wrapped to (the harness peer\'s --lie): the bytes served no longer match the digest', async () => {
    const { taskId, piece, port } = await serve({ lies: (_t, n) => n === 1 });
    const honest = await rawRequest(port, piecePath(taskId, 0));
    const lie = await rawRequest(port, piecePath(taskId, 1));
    expect(sha256Hex(honest.body)).toBe(sha256Hex(piece(0)));
    expect(lie.body.length).toBe(PIECE);
    expect(sha256Hex(lie.body)).not.toBe(sha256Hex(piece(1)));
  });
});
