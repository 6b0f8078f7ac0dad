import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { piecePath } from '../../../core/wire/peer-api.ts';
import { createPieceServer, hasPiece, holdingsPath, watchHoldings, WATCH_MARK, type Holdings, type PieceHoldings, type PieceSource } from '../../../edge/pieces/index.ts';
import { registryPieceSource, startUploader, type Uploader } from '../../../peer/uploader/index.ts';
import { deadAddress, heldTask, rawRequest } from './peer-fixtures.ts';

const PIECE = 64 * 1024;
let dir: string;
let uploader: Uploader | undefined;
let held: { close(): Promise<void> } | undefined;
let dispatcher: Agent;
let other: Server | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'df-holdings-'));
  dispatcher = new Agent();
});
afterEach(async () => {
  await uploader?.close();
  uploader = undefined;
  await held?.close();
  await dispatcher.close();
  other?.closeAllConnections();
  if (other) await new Promise((resolve) => other!.close(resolve));
  other = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** Four pieces (the last short), 0 and 2 stored: bitfield 1010 0000, count 2. */
async function serve(o: { slots?: number; rateLimit?: number; wrap?: (s: PieceSource) => PieceSource } = {}) {
  const task = await heldTask({ dir, name: 'held.bin', contentLength: 3 * PIECE + 100, pieceSize: PIECE, stored: [0, 2] });
  held = task.file;
  const source = registryPieceSource(task.registry);
  uploader = await startUploader({ source: o.wrap ? o.wrap(source) : source, slots: o.slots, rateLimit: o.rateLimit });
  return { ...task, port: uploader.port };
}

/** A watch left open: the 4-byte records read so far, and whether the stream ended. */
function watching(port: number, path: string) {
  const records: number[] = [];
  let ended = false;
  let status = 0;
  let carry = Buffer.alloc(0);
  const req = httpRequest({ host: '127.0.0.1', port, path });
  const done = new Promise<void>((resolve, reject) => {
    req.on('response', (res) => {
      status = res.statusCode!;
      res.on('data', (c: Buffer) => {
        const b = Buffer.concat([carry, c]);
        const whole = b.length - (b.length % 4);
        for (let at = 0; at < whole; at += 4) records.push(b.readUInt32BE(at));
        carry = b.subarray(whole);
      }).on('end', () => {
        ended = true;
        resolve();
      });
    });
    req.on('error', reject);
  });
  req.end();
  return { records, done, status: () => status, ended: () => ended, destroy: () => req.destroy() };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('GET /pieces/<task>: what a holder has', () => {
  it('answers the bitfield and its count; HEAD has the headers and no body', async () => {
    const { taskId, port } = await serve();
    const res = await rawRequest(port, holdingsPath(taskId));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    expect(res.headers['x-damselfly-piece-count']).toBe('2');
    expect(res.headers['content-length']).toBe('1');
    expect([...res.body]).toEqual([0b1010_0000]);
    const head = await rawRequest(port, holdingsPath(taskId), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers['x-damselfly-piece-count']).toBe('2');
    expect(head.headers['content-length']).toBe('1');
    expect(head.body.length).toBe(0);
    expect(uploader!.bytesServed()).toBe(0);
  });

  it('with ?watch streams the pieces held, a mark, then each piece as it lands, and ends when all are held', async () => {
    const { taskId, file, piece, port } = await serve();
    const w = watching(port, holdingsPath(taskId, { watch: true }));
    await expect.poll(() => w.records.length).toBe(3);
    expect(w.status()).toBe(200);
    expect(w.records).toEqual([0, 2, WATCH_MARK]);
    await file.writePiece(3, piece(3));
    await expect.poll(() => w.records.length).toBe(4);
    expect(w.records[3]).toBe(3);
    expect(w.ended()).toBe(false);
    await file.writePiece(1, piece(1));
    await w.done;
    expect(w.records).toEqual([0, 2, WATCH_MARK, 3, 1]);
    // A holder that already holds everything sends it all and ends at once.
    const again = watching(port, holdingsPath(taskId, { watch: true }));
    await again.done;
    expect(again.records).toEqual([0, 1, 2, 3, WATCH_MARK]);
    const head = await rawRequest(port, holdingsPath(taskId, { watch: true }), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
  });

  it('404 problem for an unknown task and a source that tells no holdings; a watch ends when the task is given up', async () => {
    const { taskId, port, registry, file } = await serve();
    const unknown = await rawRequest(port, holdingsPath('c'.repeat(64), { watch: true }));
    expect(unknown.status).toBe(404);
    expect(unknown.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(unknown.body.toString())).toMatchObject({ status: 404, code: 'DF_ERR_NOT_FOUND' });

    const w = watching(port, holdingsPath(taskId, { watch: true }));
    await expect.poll(() => w.records.length).toBe(3);
    registry.remove(taskId, file);
    await file.abort();
    await w.done;
    expect(w.records).toEqual([0, 2, WATCH_MARK]);

    await uploader!.close();
    const blind = await heldTask({ dir, name: 'blind.bin', contentLength: PIECE, pieceSize: PIECE });
    const source = registryPieceSource(blind.registry);
    uploader = await startUploader({ source: { open: (t, n) => source.open(t, n) } });
    const res2 = await rawRequest(uploader.port, holdingsPath(blind.taskId));
    expect(res2.status).toBe(404);
    expect(JSON.parse(res2.body.toString()).code).toBe('DF_ERR_NOT_FOUND');
    expect((await rawRequest(uploader.port, piecePath(blind.taskId, 0))).status).toBe(200);
    await blind.file.close();
  });

  it('400 problem for a query it does not understand', async () => {
    const { taskId, port } = await serve();
    for (const q of ['after=1', 'watch=1', 'tail=1']) {
      const res = await rawRequest(port, `/pieces/${taskId}?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.headers['content-type'], q).toBe('application/problem+json');
      expect(JSON.parse(res.body.toString()), q).toMatchObject({ status: 400, code: 'DF_ERR_VALIDATION' });
    }
  });

  it('takes no upload slot: with one slot a piece is served while a watch is open', async () => {
    const { taskId, piece, port, file } = await serve({ slots: 1 });
    const w = watching(port, holdingsPath(taskId, { watch: true }));
    await expect.poll(() => w.records.length).toBe(3);
    expect(uploader!.activeUploads()).toBe(0);
    const res = await rawRequest(port, piecePath(taskId, 0));
    expect(res.status).toBe(200);
    expect(res.body).toEqual(piece(0));
    await file.writePiece(1, piece(1));
    await expect.poll(() => w.records).toEqual([0, 2, WATCH_MARK, 1]);
    w.destroy();
  });

  it('refuses a watch beyond its cap with a 503 problem and Retry-After; a closed watch frees its place', async () => {
    const task = await heldTask({ dir, name: 'held.bin', contentLength: 3 * PIECE + 100, pieceSize: PIECE, stored: [0, 2] });
    held = task.file;
    const pieces = createPieceServer({ source: registryPieceSource(task.registry), watches: 1, retryAfterMs: 2000 });
    other = createServer((req, res) => void pieces.handle(req, res));
    await new Promise<void>((resolve) => other!.listen(0, '127.0.0.1', resolve));
    const port = (other.address() as AddressInfo).port;
    const first = watching(port, holdingsPath(task.taskId, { watch: true }));
    await expect.poll(() => first.records.length).toBe(3);
    expect(pieces.openWatches()).toBe(1);
    const refused = await rawRequest(port, holdingsPath(task.taskId, { watch: true }));
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('2');
    expect(JSON.parse(refused.body.toString())).toMatchObject({ status: 503, code: 'DF_ERR_UNAVAILABLE' });
    // The plain bitfield is not a watch: it is still answered.
    expect((await rawRequest(port, holdingsPath(task.taskId))).status).toBe(200);
    first.done.catch(() => {
      // destroyed on purpose
    });
    first.destroy();
    await expect.poll(() => pieces.openWatches()).toBe(0);
    const again = watching(port, holdingsPath(task.taskId, { watch: true }));
    await expect.poll(() => again.records).toEqual([0, 2, WATCH_MARK]);
    again.destroy();
  });

  it('sends the mark again when nothing landed in a heartbeat, and lets go of the wait when the requester goes away', async () => {
    let waitSignal: AbortSignal | undefined;
    const { taskId, port } = await serve({
      wrap: (s) => ({
        open: (t, n) => s.open(t, n),
        holdings(t) {
          const h = s.holdings!(t);
          if (!h) return undefined;
          const spy: PieceHoldings = {
            get count() {
              return h.count;
            },
            total: h.total,
            bitfield: () => h.bitfield(),
            // The first wait is a heartbeat passing at once; the next one waits for real.
            changed: (since, ms, signal) => (waitSignal ? h.changed(since, ms, signal) : ((waitSignal = signal!), sleep(10).then(() => true))),
          };
          return spy;
        },
      }),
    });
    const w = watching(port, holdingsPath(taskId, { watch: true }));
    await expect.poll(() => w.records).toEqual([0, 2, WATCH_MARK, WATCH_MARK]);
    w.done.catch(() => {
      // destroyed on purpose below
    });
    expect(waitSignal!.aborted).toBe(false);
    w.destroy();
    await expect.poll(() => waitSignal!.aborted).toBe(true);
    const res = await rawRequest(port, holdingsPath(taskId));
    expect(res.headers['x-damselfly-piece-count']).toBe('2');
  });
});

describe('watchHoldings', () => {
  const options = { pieceCount: 4, timeoutMs: 2000 };
  const seen = () => {
    const calls: Holdings[] = [];
    return { calls, onHoldings: (h: Holdings) => calls.push({ count: h.count, bitfield: h.bitfield.slice() }) };
  };

  it('tells what a parent holds once known and whenever it grows, and resolves complete when it holds all', async () => {
    const { taskId, file, piece } = await serve();
    const s = seen();
    const watch = watchHoldings(taskId, uploader!.address, { ...options, dispatcher, onHoldings: s.onHoldings });
    await expect.poll(() => s.calls.length).toBe(1);
    expect(s.calls[0]).toEqual({ count: 2, bitfield: new Uint8Array([0b1010_0000]) });
    await file.writePiece(1, piece(1));
    await expect.poll(() => s.calls.length).toBe(2);
    expect(s.calls[1]).toEqual({ count: 3, bitfield: new Uint8Array([0b1110_0000]) });
    expect([0, 1, 2, 3, 8, -1].map((n) => hasPiece(s.calls[1]!.bitfield, n))).toEqual([true, true, true, false, false, false]);
    await file.writePiece(3, piece(3));
    expect(await watch).toEqual({ complete: true });
    expect(s.calls.at(-1)!.count).toBe(4);
  });

  it('fails \'http\' with the status on a 404, \'unreachable\' on a dead address and on a watch that ends early', async () => {
    const { taskId, registry, file } = await serve();
    const s = seen();
    expect(await watchHoldings('d'.repeat(64), uploader!.address, { ...options, dispatcher, onHoldings: s.onHoldings })).toMatchObject({ failed: 'http', status: 404 });
    expect(await watchHoldings('d'.repeat(64), await deadAddress(), { ...options, dispatcher, onHoldings: s.onHoldings })).toMatchObject({ failed: 'unreachable' });
    const watch = watchHoldings(taskId, uploader!.address, { ...options, dispatcher, onHoldings: s.onHoldings });
    await expect.poll(() => s.calls.length).toBe(1);
    registry.remove(taskId, file);
    await file.abort();
    expect(await watch).toMatchObject({ failed: 'unreachable', detail: expect.stringContaining('holding 2 of 4') });
  });

  it('reads records split across chunks; fails \'http\' on a piece beyond the task, \'timeout\' on a parent that never answers', async () => {
    const stream = Buffer.alloc(16);
    [3, 0, WATCH_MARK, 1].forEach((n, i) => stream.writeUInt32BE(n, i * 4));
    other = createServer((req, res) => {
      if (req.url!.includes('never')) return;
      res.writeHead(200);
      if (req.url!.startsWith(`/pieces/${'b'.repeat(64)}`)) return void res.end(Buffer.from([0, 0, 0, 9, 0xff, 0xff, 0xff, 0xff]));
      // One byte at a time, then the last piece: the watch completes.
      void (async () => {
        for (const byte of stream) {
          res.write(Buffer.from([byte]));
          await sleep(1);
        }
        res.end(Buffer.from([0, 0, 0, 2]));
      })();
    });
    await new Promise<void>((resolve) => other!.listen(0, '127.0.0.1', resolve));
    const address = `127.0.0.1:${(other.address() as { port: number }).port}`;
    const s = seen();
    expect(await watchHoldings('a'.repeat(64), address, { ...options, dispatcher, onHoldings: s.onHoldings })).toEqual({ complete: true });
    expect(s.calls.map((c) => c.count)).toEqual([2, 3, 4]);
    expect(await watchHoldings('b'.repeat(64), address, { ...options, dispatcher, onHoldings: s.onHoldings })).toMatchObject({ failed: 'http', status: 200, detail: expect.stringContaining('piece 9') });
    expect(await watchHoldings('never', address, { ...options, timeoutMs: 100, dispatcher, onHoldings: s.onHoldings })).toMatchObject({ failed: 'timeout' });
  });

  it('rethrows when its signal aborts', async () => {
    const { taskId } = await serve();
    const stop = new AbortController();
    const watch = watchHoldings(taskId, uploader!.address, { ...options, dispatcher, signal: stop.signal, onHoldings: () => {} });
    await sleep(50);
    stop.abort();
    await expect(watch).rejects.toThrow();
  });
});
