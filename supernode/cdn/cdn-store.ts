import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat, utimes, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { DamselflyError } from '../../core/errors.ts';
import { isTaskId } from '../../core/ids/index.ts';

/**
 * The CDN's pieces on local disk: `<dataDir>/cdn/<taskId>/<piece>` plus `meta.json`, which
 * records the origin version (validators, length, layout) and the digest of every piece
 * stored. Never the origin headers. Files are written to a temporary name and renamed, so a
 * piece file either is complete or does not exist.
 *
 * Every path is built from a validated task id and an integer piece: nothing a request says
 * reaches the filesystem any other way.
 */
export const CdnMeta = z.object({
  version: z.literal(1),
  taskId: z.string(),
  url: z.string(),
  contentLength: z.number().int().nonnegative(),
  pieceSize: z.number().int().positive(),
  etag: z.string().nullable(),
  lastModified: z.string().nullable(),
  pieces: z.record(z.string(), z.object({ size: z.number().int().nonnegative(), digest: z.string() })),
});
export type CdnMeta = z.infer<typeof CdnMeta>;

export const META_FILE = 'meta.json';
/** LRU bookkeeping touches meta.json's mtime at most this often per task. */
const TOUCH_EVERY_MS = 30_000;
/** Default byte budget of the pieces kept in memory after they were written (see `hot`). */
export const DEFAULT_HOT_BYTES = 64 * 1024 * 1024;

export class CdnStore {
  readonly root: string;
  /**
   * When each task's meta.json was last marked, for TOUCH_EVERY_MS only: an older entry says
   * nothing, so it is dropped at the next touch (entries are in time order, each touch
   * re-inserting its task: the old ones are at the front), and a collected task's at once.
   */
  private readonly touched = new Map<string, number>();
  /**
   * The pieces written last, in memory, keyed `<taskId>/<piece>`. The CDN serves a piece mostly
   * in the seconds after the seed wrote it (first copies go out as pieces land), so serving
   * those from memory saves the open/stat/read/close round trips through libuv's thread pool
   * that each file response costs — measured as a tenth of the supernode's CPU in a 20-peer
   * swarm. Bounded by bytes; a piece larger than the budget is simply not kept. The files stay
   * the truth: everything that removes or replaces a file drops its entry here first.
   */
  private readonly hot: LRUCache<string, Buffer>;

  constructor(dataDir: string, hotBytes = DEFAULT_HOT_BYTES) {
    this.root = join(dataDir, 'cdn');
    this.hot = new LRUCache<string, Buffer>({ maxSize: Math.max(1, hotBytes), sizeCalculation: (b) => Math.max(1, b.length) });
  }

  /** A piece held in memory (written recently), or undefined: then read it with openPiece. */
  hotPiece(taskId: string, piece: number): Buffer | undefined {
    return this.hot.get(`${taskId}/${piece}`);
  }

  /** Forgets the task's pieces held in memory (its files are being removed or replaced). */
  forgetHot(taskId: string): void {
    for (const key of this.hot.keys()) if (key.startsWith(`${taskId}/`)) this.hot.delete(key);
  }

  /** Forgets everything kept in memory for a task whose files were collected. */
  forget(taskId: string): void {
    this.forgetHot(taskId);
    this.touched.delete(taskId);
  }

  /** How many tasks the LRU bookkeeping remembers a recent touch of. */
  get touchedTasks(): number {
    return this.touched.size;
  }

  taskDir(taskId: string): string {
    if (!isTaskId(taskId)) throw new DamselflyError('DF_ERR_VALIDATION', 'a task id is 64 lowercase hex digits');
    return join(this.root, taskId);
  }

  piecePath(taskId: string, piece: number): string {
    if (!Number.isSafeInteger(piece) || piece < 0) throw new DamselflyError('DF_ERR_VALIDATION', 'a piece number is a non-negative integer');
    return join(this.taskDir(taskId), String(piece));
  }

  /** The stored meta, or undefined when there is none or it is unreadable (then the task is refetched). */
  async readMeta(taskId: string): Promise<CdnMeta | undefined> {
    const text = await readFile(join(this.taskDir(taskId), META_FILE), 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (text === undefined) return undefined;
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      // A torn or foreign meta.json means the cache cannot vouch for its pieces: start over.
      return undefined;
    }
    const parsed = CdnMeta.safeParse(raw);
    return parsed.success && parsed.data.taskId === taskId ? parsed.data : undefined;
  }

  async writeMeta(meta: CdnMeta): Promise<void> {
    const dir = this.taskDir(meta.taskId);
    const tmp = join(dir, `.${META_FILE}.${randomBytes(4).toString('hex')}.tmp`);
    await writeFile(tmp, JSON.stringify(meta));
    await rename(tmp, join(dir, META_FILE));
  }

  /** Drops whatever is stored for the task and starts an empty entry described by `meta`. */
  async reset(meta: CdnMeta): Promise<void> {
    const dir = this.taskDir(meta.taskId);
    this.forgetHot(meta.taskId);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    await this.writeMeta(meta);
  }

  /** Writes a whole piece; with `durable`, its bytes are fsync'd before the rename. */
  async writePiece(taskId: string, piece: number, chunks: readonly Buffer[], durable = true): Promise<void> {
    const path = this.piecePath(taskId, piece);
    const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writev(chunks as Buffer[]);
      if (durable) await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    this.hot.set(`${taskId}/${piece}`, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
  }

  /** Deletes a stored piece file, if there is one (its bytes no longer match what the task knows). */
  async removePiece(taskId: string, piece: number): Promise<void> {
    this.hot.delete(`${taskId}/${piece}`);
    await rm(this.piecePath(taskId, piece), { force: true });
  }

  /** Size of the stored piece file, or undefined if it is not there. */
  async storedSize(taskId: string, piece: number): Promise<number | undefined> {
    const s = await stat(this.piecePath(taskId, piece)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    return s?.isFile() ? s.size : undefined;
  }

  /** Opens a stored piece for reading, or undefined if it is not there. */
  async openPiece(taskId: string, piece: number): Promise<{ fh: FileHandle; size: number } | undefined> {
    const fh = await open(this.piecePath(taskId, piece), 'r').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'EISDIR') return undefined;
      throw err;
    });
    if (!fh) return undefined;
    const s = await fh.stat();
    if (!s.isFile()) {
      await fh.close();
      return undefined;
    }
    return { fh, size: s.size };
  }

  /** Marks the task as recently used (for the LRU in gcCdn); cheap when called per request. */
  async touch(taskId: string, now: number): Promise<void> {
    if (now - (this.touched.get(taskId) ?? -Infinity) < TOUCH_EVERY_MS) return;
    for (const [id, at] of this.touched) {
      if (now - at < TOUCH_EVERY_MS) break;
      this.touched.delete(id);
    }
    this.touched.delete(taskId);
    this.touched.set(taskId, now);
    const when = new Date(now);
    await utimes(join(this.taskDir(taskId), META_FILE), when, when).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
      // A task without meta.json (being reset, or collected) has nothing to mark.
    });
  }
}
