import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { piecePath } from '../../../core/wire/peer-api.ts';
import { fetchHoldings, hasPiece, holdingsPath, type PieceHoldings, type PieceSource } from '../../../edge/pieces/index.ts';
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

/** A request left open, to check what the server does while it is pending. */
function pending(port: number, path: string) {
  let settled = false;
  const req = httpRequest({ host: '127.0.0.1', port, path });
  const answer = new Promise<{ res: IncomingMessage; body: Buffer }>((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
        settled = true;
        resolve({ res, body: Buffer.concat(chunks) });
      });
    });
    req.on('error', reject);
  });
  req.end();
  return { answer, settled: () => settled, destroy: () => req.destroy() };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('GET /pieces/<task>: what a holder has', () => {
  it('answers the bitfield and its count at once without `after`; HEAD has the headers and no body', async () => {
    const { taskId, port } = await serve();
    const res = await rawRequest(port, holdingsPath(taskId));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    expect(res.headers['x-damselfly-piece-count']).toBe('2');
    expect(res.headers['content-length']).toBe('1');
    expect([...res.body]).toEqual([0b1010_0000]);
    const head = await rawRequest(port, holdingsPath(taskId, { after: 0 }), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers['x-damselfly-piece-count']).toBe('2');
    expect(head.headers['content-length']).toBe('1');
    expect(head.body.length).toBe(0);
    expect(uploader!.bytesServed()).toBe(0);
  });

  it('holds the answer while the count is not above `after`, and answers when a piece lands', async () => {
    const { taskId, file, piece, port } = await serve();
    const poll = pending(port, holdingsPath(taskId, { after: 2, waitMs: 2000 }));
    await sleep(150);
    expect(poll.settled()).toBe(false);
    const wrote = performance.now();
    await file.writePiece(3, piece(3));
    const { res, body } = await poll.answer;
    expect(performance.now() - wrote).toBeLessThan(1000);
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-damselfly-piece-count']).toBe('3');
    expect([...body]).toEqual([0b1011_0000]);
  });

  it('answers with the same count once `waitMs` is over and nothing landed', async () => {
    const { taskId, port } = await serve();
    const started = performance.now();
    const res = await rawRequest(port, holdingsPath(taskId, { after: 2, waitMs: 120 }));
    expect(performance.now() - started).toBeGreaterThanOrEqual(110);
    expect(res.status).toBe(200);
    expect(res.headers['x-damselfly-piece-count']).toBe('2');
    expect([...res.body]).toEqual([0b1010_0000]);
  });

  it('404 problem for an unknown task, a task given up during the wait, and a source that tells no holdings', async () => {
    const { taskId, port, registry, file } = await serve();
    const unknown = await rawRequest(port, holdingsPath('c'.repeat(64)));
    expect(unknown.status).toBe(404);
    expect(unknown.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(unknown.body.toString())).toMatchObject({ status: 404, code: 'DF_ERR_NOT_FOUND' });

    const poll = pending(port, holdingsPath(taskId, { after: 2, waitMs: 5000 }));
    await sleep(100);
    registry.remove(taskId, file);
    await file.abort();
    const { res, body } = await poll.answer;
    expect(res.statusCode).toBe(404);
    expect(JSON.parse(body.toString()).code).toBe('DF_ERR_NOT_FOUND');

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
    for (const q of ['after=-1', 'waitMs=soon', 'after=1&after=2', 'tail=1', 'after=01']) {
      const res = await rawRequest(port, `/pieces/${taskId}?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.headers['content-type'], q).toBe('application/problem+json');
      expect(JSON.parse(res.body.toString()), q).toMatchObject({ status: 400, code: 'DF_ERR_VALIDATION' });
    }
  });

  it('takes no upload slot: with one slot a piece is served while a long poll is pending', async () => {
    const { taskId, piece, port, file } = await serve({ slots: 1 });
    const poll = pending(port, holdingsPath(taskId, { after: 2, waitMs: 5000 }));
    await sleep(100);
    expect(uploader!.activeUploads()).toBe(0);
    const res = await rawRequest(port, piecePath(taskId, 0));
    expect(res.status).toBe(200);
    expect(res.body).toEqual(piece(0));
    await file.writePiece(1, piece(1));
    expect((await poll.answer).res.headers['x-damselfly-piece-count']).toBe('3');
  });

  it('lets go of the wait when the requester goes away, and goes on serving', async () => {
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
            bitfield: () => h.bitfield(),
            changed: (since, ms, signal) => ((waitSignal = signal), h.changed(since, ms, signal)),
          };
          return spy;
        },
      }),
    });
    const poll = pending(port, holdingsPath(taskId, { after: 2, waitMs: 10_000 }));
    poll.answer.catch(() => {
      // destroyed on purpose below
    });
    await expect.poll(() => waitSignal).toBeDefined();
    expect(waitSignal!.aborted).toBe(false);
    poll.destroy();
    await expect.poll(() => waitSignal!.aborted).toBe(true);
    const res = await rawRequest(port, holdingsPath(taskId));
    expect(res.headers['x-damselfly-piece-count']).toBe('2');
  });
});

describe('fetchHoldings', () => {
  const options = { after: -1, waitMs: 0, timeoutMs: 2000 };

  it('reads a parent\'s bitfield and count, and waits for more past `after`', async () => {
    const { taskId, file, piece } = await serve();
    const now = await fetchHoldings(taskId, uploader!.address, { ...options, dispatcher });
    expect(now).toEqual({ count: 2, bitfield: new Uint8Array([0b1010_0000]) });
    const later = fetchHoldings(taskId, uploader!.address, { ...options, after: 2, waitMs: 2000, dispatcher });
    await sleep(100);
    await file.writePiece(1, piece(1));
    const got = await later;
    expect(got).toEqual({ count: 3, bitfield: new Uint8Array([0b1110_0000]) });
    expect([0, 1, 2, 3, 8, -1].map((n) => hasPiece((got as { bitfield: Uint8Array }).bitfield, n))).toEqual([true, true, true, false, false, false]);
  });

  it('fails \'http\' with the status on a 404, \'unreachable\' on a dead address', async () => {
    await serve();
    expect(await fetchHoldings('d'.repeat(64), uploader!.address, { ...options, dispatcher })).toMatchObject({ failed: 'http', status: 404 });
    expect(await fetchHoldings('d'.repeat(64), await deadAddress(), { ...options, dispatcher })).toMatchObject({ failed: 'unreachable' });
  });

  it('fails \'http\' on an answer that is not a bitfield of its count, \'timeout\' on a parent that never answers', async () => {
    const answers: [string | undefined, Buffer][] = [
      ['9', Buffer.from([0xff])],
      ['-1', Buffer.from([0])],
      [undefined, Buffer.from([0])],
      ['1', Buffer.alloc(8193)],
    ];
    let next = 0;
    other = createServer((req, res) => {
      if (req.url!.includes('never')) return;
      const [count, body] = answers[next++]!;
      res.writeHead(200, count === undefined ? {} : { 'x-damselfly-piece-count': count }).end(body);
    });
    await new Promise<void>((resolve) => other!.listen(0, '127.0.0.1', resolve));
    const address = `127.0.0.1:${(other.address() as { port: number }).port}`;
    for (const [count] of answers) {
      expect(await fetchHoldings('e'.repeat(64), address, { ...options, dispatcher }), String(count)).toMatchObject({ failed: 'http', status: 200 });
    }
    const silent = await fetchHoldings('never', address, { ...options, timeoutMs: 100, dispatcher });
    expect(silent).toMatchObject({ failed: 'timeout' });
  });

  it('rethrows when its signal aborts', async () => {
    const { taskId } = await serve();
    const stop = new AbortController();
    const poll = fetchHoldings(taskId, uploader!.address, { ...options, after: 2, waitMs: 5000, dispatcher, signal: stop.signal });
    await sleep(50);
    stop.abort();
    await expect(poll).rejects.toThrow();
  });
});
