import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Cdn } from '../../../supernode/cdn/cdn.ts';
import type { CdnMeta } from '../../../supernode/cdn/cdn-store.ts';
import { sha256 } from './test-origin.ts';

/** The CDN's LRU bookkeeping keeps a task only while its last touch matters, and never after gc removed it. */
const NOW = Date.UTC(2025, 0, 10);
const id = (i: number) => sha256(Buffer.from(`task-${i}`));

let dir: string;
let cdn: Cdn;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'df-cdn-store-memory-'));
  cdn = new Cdn({ dataDir: dir });
});
afterEach(async () => {
  await cdn.close();
  await rm(dir, { recursive: true, force: true });
});

async function stored(taskId: string): Promise<void> {
  const meta: CdnMeta = { version: 1, taskId, url: 'http://o/f', contentLength: 10, pieceSize: 10, etag: '"e"', lastModified: null, pieces: {} };
  await cdn.store.reset(meta);
  await cdn.store.writePiece(taskId, 0, [Buffer.alloc(10)], false);
}

describe('CdnStore touch bookkeeping', () => {
  it('forgets the tasks garbage collection removed', async () => {
    for (let i = 0; i < 20; i++) await stored(id(i));
    for (let i = 0; i < 20; i++) await cdn.store.touch(id(i), NOW);
    expect(cdn.store.touchedTasks).toBe(20);
    const r = await cdn.gc({ maxAgeMs: 1, now: NOW + 10, inUse: (t) => t === id(0) });
    expect(r.removed).toHaveLength(19);
    expect(cdn.store.touchedTasks).toBe(1);
  });

  it('keeps only the touches of the last 30 s, and still marks meta.json at most that often', async () => {
    for (let i = 0; i < 2_000; i++) await cdn.store.touch(id(i), NOW + i); // tasks without files: nothing to mark
    expect(cdn.store.touchedTasks).toBe(2_000);
    await stored(id(5_000));
    await cdn.store.touch(id(5_000), NOW + 40_000);
    expect(cdn.store.touchedTasks).toBe(1);
    const meta = join(cdn.store.taskDir(id(5_000)), 'meta.json');
    expect((await stat(meta)).mtimeMs).toBe(NOW + 40_000);
    await cdn.store.touch(id(5_000), NOW + 50_000); // within 30 s: not marked again
    expect((await stat(meta)).mtimeMs).toBe(NOW + 40_000);
    await cdn.store.touch(id(5_000), NOW + 71_000);
    expect((await stat(meta)).mtimeMs).toBe(NOW + 71_000);
  });
});
