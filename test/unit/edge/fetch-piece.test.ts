import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fetchPiece, type PieceAt } from '../../../edge/pieces/fetch-piece.ts';
import type { Throttle } from '../../../edge/rate/throttle.ts';
import { deadAddress } from '../peer/peer-fixtures.ts';

const TASK = 'a'.repeat(64);
const PIECE = randomBytes(300 * 1024 + 7);
const DIGEST = createHash('sha256').update(PIECE).digest('hex');

let server: Server | undefined;
let dispatcher: Agent;
let connections = 0;

beforeEach(() => {
  dispatcher = new Agent();
  connections = 0;
});
afterEach(async () => {
  await dispatcher.close();
  server?.closeAllConnections();
  if (server) await new Promise((resolve) => server!.close(resolve));
  server = undefined;
});

/** A piece server whose answer the test writes; the address to fetch from. */
async function serve(answer: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  server = createServer(answer);
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Writes `bytes` in chunks of 64 KiB, as a piece server does. */
function sendBytes(res: ServerResponse, bytes: Buffer, length = bytes.length) {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(length) });
  for (let at = 0; at < bytes.length; at += 65536) res.write(bytes.subarray(at, at + 65536));
  res.end();
}

const at = (address: string, o: Partial<PieceAt> = {}): PieceAt => ({ address, source: 'peer-x', piece: 3, size: PIECE.length, digest: DIGEST, ...o });
const options = (o: { throttle?: Throttle; signal?: AbortSignal; timeoutMs?: number } = {}) => ({ dispatcher, timeoutMs: 2000, now: () => performance.now(), ...o });

describe('fetchPiece', () => {
  it('returns the piece when its bytes have the digest, from GET /pieces/<task>/<n>', async () => {
    let path = '';
    const address = await serve((req, res) => {
      path = req.url!;
      sendBytes(res, PIECE);
    });
    const out = await fetchPiece(TASK, at(address), options());
    expect(path).toBe(`/pieces/${TASK}/3`);
    expect(out.ok).toBe(true);
    if (out.ok) expect(out.bytes.equals(PIECE)).toBe(true);
  });

  it("fails 'digest' on a flipped byte, a short body and a body longer than the piece", async () => {
    const flipped = Buffer.from(PIECE);
    flipped[1000] = flipped[1000]! ^ 1;
    let answer = flipped;
    const address = await serve((_req, res) => sendBytes(res, answer));
    expect(await fetchPiece(TASK, at(address), options())).toMatchObject({ ok: false, reason: 'digest', detail: 'piece 3 from peer-x failed verification' });
    answer = PIECE.subarray(0, PIECE.length - 1);
    expect(await fetchPiece(TASK, at(address), options())).toMatchObject({ ok: false, reason: 'digest' });
    answer = Buffer.concat([PIECE, Buffer.from('x')]);
    expect(await fetchPiece(TASK, at(address), options())).toMatchObject({ ok: false, reason: 'digest', detail: 'peer-x sent more than the 307207 bytes of piece 3' });
  });

  it("fails 'refused' on a 503 and 'http' on other statuses, and reads their bodies so the connection is kept", async () => {
    let status = 503;
    const address = await serve((_req, res) => {
      res.writeHead(status, { 'content-type': 'application/problem+json' });
      res.end(JSON.stringify({ status, detail: 'x'.repeat(2000) }));
    });
    expect(await fetchPiece(TASK, at(address), options())).toEqual({ ok: false, reason: 'refused', detail: 'peer-x answered 503' });
    status = 404;
    expect(await fetchPiece(TASK, at(address), options())).toEqual({ ok: false, reason: 'http', detail: 'peer-x answered 404' });
    expect(await fetchPiece(TASK, at(address), options())).toMatchObject({ ok: false, reason: 'http' });
    // A connection closed after each refusal would make three.
    expect(connections).toBeLessThan(3);
  });

  it("fails 'unreachable' on a dead address and on a holder that dies mid-body, 'timeout' on one that never answers", async () => {
    expect(await fetchPiece(TASK, at(await deadAddress()), options())).toMatchObject({ ok: false, reason: 'unreachable' });
    let die = true;
    const address = await serve((_req, res) => {
      if (!die) return; // never answers
      res.writeHead(200, { 'content-length': String(PIECE.length) });
      res.write(PIECE.subarray(0, 1000), () => res.destroy());
    });
    expect(await fetchPiece(TASK, at(address), options())).toMatchObject({ ok: false, reason: 'unreachable' });
    die = false;
    expect(await fetchPiece(TASK, at(address), options({ timeoutMs: 200 }))).toMatchObject({ ok: false, reason: 'timeout' });
  });

  it('takes every byte from the throttle, the body paused while it waits', async () => {
    const address = await serve((_req, res) => sendBytes(res, PIECE));
    let taken = 0;
    let waits = 0;
    const slow: Throttle = {
      take: async (bytes) => {
        taken += bytes;
        waits++;
        await new Promise((resolve) => setTimeout(resolve, 2));
      },
    };
    const out = await fetchPiece(TASK, at(address), options({ throttle: slow }));
    expect(out.ok).toBe(true);
    expect(taken).toBe(PIECE.length);
    expect(waits).toBeGreaterThan(1);
  });

  it('rejects when its signal aborts: before the request, while the body streams, and while the throttle waits', async () => {
    const address = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': String(PIECE.length) });
      res.write(PIECE.subarray(0, 1000)); // and nothing more
    });
    const before = new AbortController();
    before.abort(new Error('stopped before'));
    await expect(fetchPiece(TASK, at(address), options({ signal: before.signal }))).rejects.toThrow('stopped before');
    const during = new AbortController();
    setTimeout(() => during.abort(new Error('stopped during')), 50);
    await expect(fetchPiece(TASK, at(address), options({ signal: during.signal }))).rejects.toThrow('stopped during');
    const waiting = new AbortController();
    const never: Throttle = {
      take: (_bytes, signal) => new Promise((_resolve, reject) => signal!.addEventListener('abort', () => reject(signal!.reason as Error))),
    };
    setTimeout(() => waiting.abort(new Error('stopped in the throttle')), 50);
    await expect(fetchPiece(TASK, at(address), options({ signal: waiting.signal, throttle: never }))).rejects.toThrow('stopped in the throttle');
  });
});
