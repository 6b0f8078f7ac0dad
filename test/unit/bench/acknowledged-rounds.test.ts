import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RoundRequest } from '../../../core/wire/peer-api.ts';
import { download } from '../../../peer/dfget/download.ts';
import { PieceFile } from '../../../peer/storage/piece-file.ts';
import { TaskRegistry } from '../../../peer/storage/task-registry.ts';
import { registryPieceSource, startUploader } from '../../../peer/uploader/index.ts';
import { ackLogWriter, recordAcknowledgedRounds } from '../../../bench/harness/acknowledged-rounds.ts';
import { CDN, FakeSupernode } from '../peer/fake-supernode.ts';

const PIECE = 32 * 1024;
const CONTENT = randomBytes(12 * PIECE);
const URL_ = 'http://origin.test/ack.bin';

let dir: string;
const cleanups: (() => Promise<unknown>)[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'df-ack-log-'));
});
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of cleanups.splice(0).reverse()) await c();
  await rm(dir, { recursive: true, force: true });
});

/**
 * A front for the fake supernode that forwards every call, but answers the first `drop` rounds
 * carrying verified pieces with 503 *after* the supernode processed them: the peer sent the
 * report and never saw it acknowledged. Records the round bodies it did answer 2xx.
 */
async function lossyFront(target: string, drop: number) {
  const acknowledged: RoundRequest[] = [];
  const dropped: RoundRequest[] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      let body = Buffer.concat(chunks).toString();
      const round = req.url?.endsWith('/rounds') ? (JSON.parse(body) as RoundRequest) : undefined;
      const lose = round !== undefined && round.ok.length > 0 && dropped.length < drop;
      // A lost answer must not carry assignments: the fake never expires them, the real one would.
      if (lose) body = JSON.stringify({ ...round, want: 0 });
      const upstream = await request(`http://${target}${req.url}`, { method: req.method as 'POST', headers: { 'content-type': 'application/json' }, body: body || undefined });
      const text = await upstream.body.text();
      if (lose) {
        dropped.push(round);
        res.writeHead(503, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ code: 'DF_ERR_UNAVAILABLE', status: 503, retryAfterMs: 10 }));
        return;
      }
      if (round && upstream.statusCode < 300) acknowledged.push(round);
      res.writeHead(upstream.statusCode, { 'content-type': String(upstream.headers['content-type'] ?? 'application/json') }).end(text);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return { address: `127.0.0.1:${(server.address() as { port: number }).port}`, acknowledged, dropped };
}

describe("the harness peer's --ack-log (recordAcknowledgedRounds, for the chaos suite)", () => {
  it('logs exactly the reports a supernode answered 2xx, each after its answer', async () => {
    const probe = new FakeSupernode({ url: URL_, content: CONTENT, pieceSize: PIECE, sources: new Map(), preference: [CDN] });
    const registry = new TaskRegistry();
    const cdnFile = await PieceFile.create(join(dir, 'cdn'), { contentLength: CONTENT.length, pieceSize: PIECE });
    for (let n = 0; n < 12; n++) await cdnFile.writePiece(n, CONTENT.subarray(n * PIECE, (n + 1) * PIECE));
    registry.add(probe.taskId, cdnFile);
    const uploader = await startUploader({ source: registryPieceSource(registry) });
    cleanups.push(() => uploader.close(), () => cdnFile.abort());
    const sn = new FakeSupernode({ url: URL_, content: CONTENT, pieceSize: PIECE, sources: new Map([[CDN, { address: uploader.address, pieces: new Set(Array.from({ length: 12 }, (_, i) => i)) }]]), preference: [CDN] });
    cleanups.push(() => sn.close());
    const front = await lossyFront(await sn.listen(), 2);

    const log = join(dir, 'acks.jsonl');
    const stop = recordAcknowledgedRounds([front.address], ackLogWriter(log));
    cleanups.push(async () => stop());
    await download({ url: URL_, output: join(dir, 'out.bin'), nodes: [front.address], parallelism: 2 });

    expect(await readFile(join(dir, 'out.bin'))).toEqual(CONTENT);
    const lines = (await readFile(log, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { taskId: string; peerId: string; ok: { piece: number; source: string }[]; failed: unknown[] });
    // The two unacknowledged reports were sent (the supernode even processed them) but not logged.
    expect(front.dropped).toHaveLength(2);
    const expected = front.acknowledged
      .filter((r) => r.ok.length > 0 || r.failed.length > 0)
      .map((r) => ({ ok: r.ok.map(({ piece, source }) => ({ piece, source })), failed: r.failed }));
    expect(lines.map(({ ok, failed }) => ({ ok, failed }))).toEqual(expected);
    expect(new Set(lines.map((l) => l.taskId))).toEqual(new Set([sn.taskId]));
    expect(new Set(lines.map((l) => l.peerId)).size).toBe(1);
    // What was dropped went out again and was acknowledged then: every piece is logged at least once.
    const logged = new Set(lines.flatMap((l) => l.ok.map((e) => e.piece)));
    expect([...logged].sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i));
  });
});
