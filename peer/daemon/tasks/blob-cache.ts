import { statfs } from 'node:fs/promises';

export interface CachedBlob {
  key: string;
  bytes: number;
  lastUsed: number;
  /** Streams reading it now: never evicted while any is. */
  readers: number;
  /** Stops serving it to the swarm and removes its file. */
  release(): Promise<void>;
}

export interface BlobCacheOptions {
  dataDir: string;
  /** Collect when the data dir's disk is fuller than this fraction … */
  highWatermark: number;
  /** … down to this fraction. */
  lowWatermark: number;
  /** Blobs unused this long are removed. */
  ttlMs: number;
  now?: () => number;
  onEvict?: (reason: 'disk' | 'ttl', blob: CachedBlob) => void;
}

/**
 * The daemon's completed blobs in the data dir, kept (and served to the swarm) until garbage
 * collection: least recently used first while the disk is above the high watermark, down to
 * the low one, and any blob idle longer than the TTL. A blob being streamed is never evicted.
 */
export class BlobCache {
  private readonly blobs = new Map<string, CachedBlob>();
  private readonly now: () => number;

  constructor(private readonly o: BlobCacheOptions) {
    this.now = o.now ?? Date.now;
  }

  get(key: string): CachedBlob | undefined {
    const b = this.blobs.get(key);
    if (b) b.lastUsed = this.now();
    return b;
  }

  add(blob: CachedBlob): void {
    this.blobs.set(blob.key, blob);
  }

  get totalBytes(): number {
    let n = 0;
    for (const b of this.blobs.values()) n += b.bytes;
    return n;
  }

  /** One collection pass; returns what it removed. */
  async collect(): Promise<CachedBlob[]> {
    const removed: CachedBlob[] = [];
    const idle = [...this.blobs.values()].filter((b) => b.readers === 0).sort((a, b) => a.lastUsed - b.lastUsed);
    for (const b of idle) {
      if (this.now() - b.lastUsed <= this.o.ttlMs) continue;
      await this.evict(b, 'ttl');
      removed.push(b);
    }
    let used = await this.diskUsed();
    if (used <= this.o.highWatermark) return removed;
    for (const b of idle) {
      if (removed.includes(b)) continue;
      if (used <= this.o.lowWatermark) break;
      await this.evict(b, 'disk');
      removed.push(b);
      used = await this.diskUsed();
    }
    return removed;
  }

  async releaseAll(): Promise<void> {
    await Promise.all([...this.blobs.values()].map((b) => b.release()));
    this.blobs.clear();
  }

  private async evict(b: CachedBlob, reason: 'disk' | 'ttl'): Promise<void> {
    this.blobs.delete(b.key);
    await b.release();
    this.o.onEvict?.(reason, b);
  }

  private async diskUsed(): Promise<number> {
    const s = await statfs(this.o.dataDir);
    return s.blocks === 0 ? 0 : 1 - s.bavail / s.blocks;
  }
}
