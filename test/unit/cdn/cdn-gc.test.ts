import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Cdn } from '../../../supernode/cdn/cdn.ts';
import { gcCdn } from '../../../supernode/cdn/cdn-gc.ts';
import { CdnStore, type CdnMeta } from '../../../supernode/cdn/cdn-store.ts';
import { sha256 } from './test-origin.ts';

const NOW = Date.UTC(2025, 0, 10);
const HOUR = 3_600_000;
const [A, B, C] = ['a', 'b', 'c'].map((s) => sha256(Buffer.from(s))) as [string, string, string];

let dir: string;
let store: CdnStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'df-cdn-gc-'));
  store = new CdnStore(dir);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A stored task of `bytes` bytes last used `ageHours` ago. */
async function task(taskId: string, bytes: number, ageHours: number): Promise<void> {
  const meta: CdnMeta = { version: 1, taskId, url: 'http://o/f', contentLength: bytes, pieceSize: bytes, etag: '"e"', lastModified: null, pieces: {} };
  await store.reset(meta);
  await store.writePiece(taskId, 0, [Buffer.alloc(bytes)], false);
  const when = new Date(NOW - ageHours * HOUR);
  await utimes(join(store.taskDir(taskId), 'meta.json'), when, when);
}

const remaining = async () => (await readdir(join(dir, 'cdn'))).sort();

describe('gcCdn', () => {
  it('removes the least recently used tasks until the store fits its quota', async () => {
    await task(A, 10_000, 3);
    await task(B, 10_000, 1);
    await task(C, 10_000, 2);
    const r = await gcCdn({ dataDir: dir, maxBytes: 15_000, now: NOW, inUse: () => false });
    expect(r.removed).toEqual([A, C]);
    expect(await remaining()).toEqual([B]);
    expect(r.keptBytes).toBeLessThanOrEqual(15_000);
    expect(r.freedBytes).toBeGreaterThanOrEqual(20_000);
  });

  it('removes tasks older than maxAgeMs whatever the space', async () => {
    await task(A, 100, 30);
    await task(B, 100, 1);
    const r = await gcCdn({ dataDir: dir, maxAgeMs: 24 * HOUR, now: NOW, inUse: () => false });
    expect(r.removed).toEqual([A]);
  });

  it('never removes a task in use, even over quota, and leaves foreign entries alone', async () => {
    await task(A, 10_000, 5);
    await task(B, 10_000, 1);
    await mkdir(join(dir, 'cdn', 'not-a-task'));
    await writeFile(join(dir, 'cdn', 'README'), 'x');
    const r = await gcCdn({ dataDir: dir, maxBytes: 1, maxAgeMs: 1, now: NOW, inUse: (t) => t === A });
    expect(r.removed).toEqual([B]);
    expect(await remaining()).toEqual(['README', A, 'not-a-task'].sort());
  });

  it('counts a task touched by serving as recently used', async () => {
    await task(A, 10_000, 5);
    await task(B, 10_000, 1);
    await store.touch(A, NOW);
    const r = await gcCdn({ dataDir: dir, maxBytes: 15_000, now: NOW, inUse: () => false });
    expect(r.removed).toEqual([B]);
  });

  it('is a no-op on a data dir without a CDN', async () => {
    expect(await gcCdn({ dataDir: join(dir, 'nothing'), maxBytes: 0, now: NOW, inUse: () => false })).toEqual({ removed: [], freedBytes: 0, keptBytes: 0 });
  });
});

describe('CdnStore pieces held in memory', () => {
  it('keeps a written piece, and drops it whenever its file goes: removed, task reset, or collected', async () => {
    await task(A, 1_000, 0);
    await task(B, 1_000, 0);
    expect(store.hotPiece(A, 0)?.equals(Buffer.alloc(1_000))).toBe(true);
    await store.removePiece(A, 0);
    expect(store.hotPiece(A, 0)).toBeUndefined();

    await store.writePiece(A, 1, [Buffer.alloc(10, 1)], false);
    await task(A, 1_000, 0); // reset: a new version of the task starts empty
    expect(store.hotPiece(A, 1)).toBeUndefined();

    const cdn = new Cdn({ dataDir: dir });
    await cdn.store.writePiece(B, 0, [Buffer.alloc(1_000)], false);
    expect(cdn.store.hotPiece(B, 0)).toBeDefined();
    await cdn.gc({ maxAgeMs: 0, now: NOW + HOUR, inUse: () => false });
    expect(cdn.store.hotPiece(B, 0)).toBeUndefined();
    await cdn.close();
  });

  it('keeps no piece larger than its byte budget', async () => {
    const small = new CdnStore(dir, 100);
    await small.reset({ version: 1, taskId: C, url: 'http://o/f', contentLength: 300, pieceSize: 150, etag: null, lastModified: null, pieces: {} });
    await small.writePiece(C, 0, [Buffer.alloc(150)], false);
    await small.writePiece(C, 1, [Buffer.alloc(50), Buffer.alloc(30)], false);
    expect(small.hotPiece(C, 0)).toBeUndefined();
    expect(small.hotPiece(C, 1)?.length).toBe(80);
  });
});
