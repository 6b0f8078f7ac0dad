import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isDamselflyError } from '../../../core/errors.ts';
import { CdnStore } from '../../../supernode/cdn/cdn-store.ts';
import { OriginClient } from '../../../supernode/cdn/origin-client.ts';
import { OriginGuard } from '../../../supernode/cdn/origin-guard.ts';
import { seed, type SeedResult } from '../../../supernode/cdn/seeder.ts';
import { TestOrigin, sha256, type OriginBehaviour } from './test-origin.ts';

const TASK = sha256(Buffer.from('seeder-test-task'));
const PIECE = 64 * 1024;
const SIZE = 17 * PIECE + 123; // 18 pieces, the last one short

let dir: string;
let client: OriginClient;
const origins: TestOrigin[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'df-cdn-seed-'));
  client = new OriginClient(new OriginGuard());
});
afterEach(async () => {
  await client.close();
  await Promise.all(origins.splice(0).map((o) => o.stop()));
  await rm(dir, { recursive: true, force: true });
});

async function origin(behaviour: OriginBehaviour = {}, size = SIZE): Promise<TestOrigin> {
  const o = await new TestOrigin(size, behaviour).start();
  origins.push(o);
  return o;
}

interface Seeded extends SeedResult {
  calls: { piece: number; size: number; digest: string }[];
}

async function seedFrom(o: TestOrigin, extra: { headers?: Record<string, string>; onPiece?: (piece: number) => void; etag?: string | null } = {}): Promise<Seeded> {
  const calls: Seeded['calls'] = [];
  const result = await seed(
    { store: new CdnStore(dir), client, backoffMs: 5 },
    {
      taskId: TASK,
      url: o.url(),
      headers: extra.headers ?? {},
      contentLength: o.content.length,
      pieceSize: PIECE,
      validators: { etag: extra.etag === undefined ? (o.behaviour.noEtag ? null : o.etag) : extra.etag, lastModified: o.lastModified },
      onPiece: (piece, size, digest) => {
        calls.push({ piece, size, digest });
        extra.onPiece?.(piece);
      },
      signal: new AbortController().signal,
    },
  );
  return { ...result, calls };
}

/** The pieces on disk, concatenated in order, checked against their announced digests. */
async function storedContent(calls: Seeded['calls']): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (const c of calls) {
    const bytes = await readFile(join(dir, 'cdn', TASK, String(c.piece)));
    expect(sha256(bytes)).toBe(c.digest);
    expect(bytes.length).toBe(c.size);
    parts.push(bytes);
  }
  return Buffer.concat(parts);
}

describe('seed', () => {
  it('fetches the origin once and stores every piece with its digest, announced in order', async () => {
    const o = await origin();
    const s = await seedFrom(o);
    expect(s.calls.map((c) => c.piece)).toEqual([...Array(18).keys()]);
    expect(s.calls.at(-1)!.size).toBe(123);
    expect((await storedContent(s.calls)).equals(o.content)).toBe(true);
    expect(o.bodyBytes).toBe(SIZE);
    expect(s.originBytes).toBe(SIZE);
    expect(o.requests.filter((r) => r.method === 'GET')).toHaveLength(1);
    const files = (await readdir(join(dir, 'cdn', TASK))).filter((f) => f.endsWith('.tmp'));
    expect(files).toEqual([]);
  });

  it('announces the first piece while the origin is still sending', async () => {
    const o = await origin({ chunkDelayMs: 15 });
    let sentAtFirstPiece = -1;
    await seedFrom(o, { onPiece: (p) => p === 0 && (sentAtFirstPiece = o.bodyBytes) });
    expect(sentAtFirstPiece).toBeGreaterThan(0);
    expect(sentAtFirstPiece).toBeLessThan(SIZE / 2);
  });

  it('resumes after a mid-stream failure with Range and If-Range, fetching only the remainder', async () => {
    const o = await origin({ failOnceAfter: 5 * PIECE + 1000 });
    const s = await seedFrom(o);
    expect((await storedContent(s.calls)).equals(o.content)).toBe(true);
    expect(s.calls.map((c) => c.piece)).toEqual([...Array(18).keys()]);
    const gets = o.requests.filter((r) => r.method === 'GET');
    expect(gets).toHaveLength(2);
    expect(gets[1]).toMatchObject({ range: `bytes=${5 * PIECE}-`, ifRange: '"v1"' });
    expect(o.bodyBytes).toBeLessThanOrEqual(SIZE + PIECE);
  });

  it('uses Last-Modified for If-Range when the origin has no ETag', async () => {
    const o = await origin({ noEtag: true, failOnceAfter: 3 * PIECE + 10 });
    const s = await seedFrom(o);
    expect((await storedContent(s.calls)).equals(o.content)).toBe(true);
    expect(o.requests.filter((r) => r.method === 'GET')[1]?.ifRange).toBe(o.lastModified);
  });

  it('fails with DF_ERR_ORIGIN_CHANGED when the version changes mid-seed, never mixing versions', async () => {
    const o = await origin({ failOnceAfter: 4 * PIECE + 10 });
    const v1 = Buffer.from(o.content);
    o.behaviour.onFail = () => o.changeVersion();
    const announced: number[] = [];
    const err = await seedFrom(o, { onPiece: (p) => announced.push(p) }).catch((e: unknown) => e);
    expect(isDamselflyError(err, 'DF_ERR_ORIGIN_CHANGED')).toBe(true);
    expect((err as Error).message).toMatch(/ETag/);
    expect(announced).toEqual([0, 1, 2, 3]);
    // What was stored and recorded is the first version only, and nothing of the second.
    const meta = JSON.parse(await readFile(join(dir, 'cdn', TASK, 'meta.json'), 'utf8')) as { pieces: Record<string, { digest: string }> };
    expect(Object.keys(meta.pieces).map(Number)).toEqual(announced);
    for (const p of announced) {
      expect(meta.pieces[p]!.digest).toBe(sha256(v1.subarray(p * PIECE, (p + 1) * PIECE)));
      expect(sha256(await readFile(join(dir, 'cdn', TASK, String(p))))).toBe(meta.pieces[p]!.digest);
    }
  });

  it('fails with DF_ERR_ORIGIN_CHANGED when the origin now has another length', async () => {
    const o = await origin();
    const err = await seed(
      { store: new CdnStore(dir), client },
      { taskId: TASK, url: o.url(), headers: {}, contentLength: SIZE + 1, pieceSize: PIECE, validators: { etag: null, lastModified: null }, onPiece: () => {}, signal: new AbortController().signal },
    ).catch((e: unknown) => e);
    expect(isDamselflyError(err, 'DF_ERR_ORIGIN_CHANGED')).toBe(true);
  });

  it('re-reads and verifies the stored prefix when the origin ignores the Range but keeps its version', async () => {
    const o = await origin({ ignoreRange: true, failOnceAfter: 2 * PIECE + 10 });
    const s = await seedFrom(o);
    expect((await storedContent(s.calls)).equals(o.content)).toBe(true);
    expect(o.bodyBytes).toBeLessThanOrEqual(2 * SIZE);
  });

  it('reuses the cached pieces when the validators are unchanged: zero origin body bytes', async () => {
    const o = await origin();
    const first = await seedFrom(o);
    const before = o.bodyBytes;
    const second = await seedFrom(o);
    expect(o.bodyBytes - before).toBe(0);
    expect(second.reused).toBe(18);
    expect(second.calls).toEqual(first.calls);
  });

  it('refetches when the validators changed since the cache was filled', async () => {
    const o = await origin();
    await seedFrom(o);
    o.changeVersion();
    const before = o.bodyBytes;
    const s = await seedFrom(o);
    expect(s.reused).toBe(0);
    expect(o.bodyBytes - before).toBe(SIZE);
    expect((await storedContent(s.calls)).equals(o.content)).toBe(true);
  });

  it('refetches only a cached piece whose file went missing, by a bounded Range', async () => {
    const o = await origin();
    await seedFrom(o);
    await rm(join(dir, 'cdn', TASK, '7'));
    const before = o.bodyBytes;
    const s = await seedFrom(o);
    expect(s.reused).toBe(17);
    expect(o.bodyBytes - before).toBe(PIECE);
    expect(o.requests.filter((r) => r.method === 'GET').at(-1)).toMatchObject({ range: `bytes=${7 * PIECE}-${8 * PIECE - 1}`, ifRange: '"v1"' });
    const sorted = [...s.calls].sort((a, b) => a.piece - b.piece);
    expect((await storedContent(sorted)).equals(o.content)).toBe(true);
  });

  it('gives up on an origin that keeps failing, with the origin error', async () => {
    const o = await origin({ echoAuthIn500: true });
    const err = await seedFrom(o).catch((e: unknown) => e);
    expect(isDamselflyError(err, 'DF_ERR_ORIGIN')).toBe(true);
    expect(o.requests.filter((r) => r.method === 'GET')).toHaveLength(6); // first try + 5 retries
  });

  it('stops when aborted', async () => {
    const o = await origin({ chunkDelayMs: 20 });
    const abort = new AbortController();
    const run = seed(
      { store: new CdnStore(dir), client },
      { taskId: TASK, url: o.url(), headers: {}, contentLength: SIZE, pieceSize: PIECE, validators: { etag: o.etag, lastModified: null }, onPiece: (p) => void (p === 1 && abort.abort()), signal: abort.signal },
    );
    await expect(run).rejects.toThrow(/abort/i);
    expect(o.finished).toBe(0);
  });
});
