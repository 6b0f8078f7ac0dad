import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isTaskId } from '../../core/ids/index.ts';
import { META_FILE } from './cdn-store.ts';

export interface GcOptions {
  dataDir: string;
  /** Tasks unused for longer than this go, whatever the space. */
  maxAgeMs?: number;
  /** Beyond this many bytes, the least recently used tasks go until the rest fits. */
  maxBytes?: number;
  now: number;
  /** A task being seeded or known live to the swarm is never collected. */
  inUse: (taskId: string) => boolean;
}

export interface GcResult {
  removed: string[];
  freedBytes: number;
  keptBytes: number;
}

interface Entry {
  taskId: string;
  lastUsed: number;
  bytes: number;
}

/**
 * Frees CDN disk: least recently used first (last use = meta.json's mtime, which seeding and
 * CdnStore.touch move forward; a directory without meta.json, left by a crash, counts from its
 * own mtime). Only directories named like task ids are considered: nothing else under the
 * data dir is ours to delete. In-use tasks stay even if that leaves the store over quota.
 */
export async function gcCdn(o: GcOptions): Promise<GcResult> {
  const root = join(o.dataDir, 'cdn');
  const names = await readdir(root).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw err;
  });
  const entries: Entry[] = [];
  for (const taskId of names.filter(isTaskId)) {
    const entry = await describe(join(root, taskId), taskId);
    if (entry) entries.push(entry);
  }
  entries.sort((a, b) => a.lastUsed - b.lastUsed);
  let total = entries.reduce((sum, e) => sum + e.bytes, 0);
  const result: GcResult = { removed: [], freedBytes: 0, keptBytes: 0 };
  for (const e of entries) {
    const expired = o.maxAgeMs !== undefined && o.now - e.lastUsed > o.maxAgeMs;
    const over = o.maxBytes !== undefined && total > o.maxBytes;
    if ((expired || over) && !o.inUse(e.taskId)) {
      await rm(join(root, e.taskId), { recursive: true, force: true });
      total -= e.bytes;
      result.removed.push(e.taskId);
      result.freedBytes += e.bytes;
    }
  }
  result.keptBytes = total;
  return result;
}

async function describe(dir: string, taskId: string): Promise<Entry | undefined> {
  const dirStat = await stat(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined; // collected concurrently
    throw err;
  });
  if (!dirStat?.isDirectory()) return undefined;
  let lastUsed = dirStat.mtimeMs;
  let bytes = 0;
  for (const name of await readdir(dir)) {
    const s = await stat(join(dir, name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined; // renamed or removed meanwhile by a seed
      throw err;
    });
    if (!s) continue;
    bytes += s.size;
    if (name === META_FILE) lastUsed = s.mtimeMs;
  }
  return { taskId, lastUsed, bytes };
}
