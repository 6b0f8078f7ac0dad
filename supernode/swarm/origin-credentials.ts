import { LRUCache } from 'lru-cache';
import { DamselflyError } from '../../core/errors.ts';
import { redactUrl, urlCarriesCredentials } from '../../core/ids/redact-url.ts';

/**
 * What the CDN needs to fetch a task's origin and no event may hold: the headers peers gave
 * when they registered it (Authorization, cookies, …) and the URL as they gave it, with its
 * userinfo and query tokens (the task's events carry it redacted, core/ids/redact-url.ts).
 * They live only here, in this replica's memory: never in an event, a snapshot, Kafka or a log.
 *
 * Bounded, because any API client can register tasks: at most `maxTaskBytes` per task (a
 * larger set is refused, naming the field), at most `maxTotalBytes` across tasks (the least
 * recently used task's credentials are dropped first), released when the task no longer needs
 * its origin (seeded with nothing left to refill, failed, evicted) and dropped after `idleMs`
 * without use. A task whose credentials are gone — taken over from another replica, evicted
 * from here — learns them again from the next peer that registers it; until then its seeding
 * waits (originFor refuses with a retryable DF_ERR_UNAVAILABLE) rather than ask the origin
 * without them.
 */
export interface OriginCredentialsOptions {
  /** Bytes kept per task: header names and values plus the URL (default 64 KiB). */
  maxTaskBytes?: number;
  /** Bytes kept across all tasks (default 64 MiB). */
  maxTotalBytes?: number;
  /** Dropped after this long without a registration or a fetch (default 1 h). */
  idleMs?: number;
  clock?: () => number;
}

export interface OriginAccess {
  url: string;
  headers: Record<string, string>;
}

interface Entry extends OriginAccess {
  bytes: number;
  usedAt: number;
}

const ORIGIN_CREDENTIAL_DEFAULTS = Object.freeze({ maxTaskBytes: 64 * 1024, maxTotalBytes: 64 * 1024 * 1024, idleMs: 60 * 60 * 1000 });

export class OriginCredentials {
  private readonly byTask: LRUCache<string, Entry>;
  private readonly maxTaskBytes: number;
  private readonly idleMs: number;
  private readonly clock: () => number;

  constructor(o: OriginCredentialsOptions = {}) {
    this.maxTaskBytes = o.maxTaskBytes ?? ORIGIN_CREDENTIAL_DEFAULTS.maxTaskBytes;
    this.idleMs = o.idleMs ?? ORIGIN_CREDENTIAL_DEFAULTS.idleMs;
    this.clock = o.clock ?? Date.now;
    this.byTask = new LRUCache<string, Entry>({ maxSize: o.maxTotalBytes ?? ORIGIN_CREDENTIAL_DEFAULTS.maxTotalBytes, sizeCalculation: (e) => e.bytes });
  }

  /**
   * Keeps what a registration brought, if it brought anything secret (headers, or credentials
   * in the URL); a registration without replaces nothing. `url` is the URL as registered.
   */
  remember(taskId: string, headers: Record<string, string>, url?: string): void {
    this.dropIdle();
    const secretUrl = url !== undefined && urlCarriesCredentials(url);
    if (Object.keys(headers).length === 0 && !secretUrl) return;
    const bytes = Object.entries(headers).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), Buffer.byteLength(url ?? ''));
    if (bytes > this.maxTaskBytes) {
      throw new DamselflyError('DF_ERR_VALIDATION', `headers: the origin headers and URL take ${bytes} bytes, more than the ${this.maxTaskBytes} kept per task`);
    }
    const previous = this.byTask.get(taskId);
    this.byTask.set(taskId, { url: url ?? previous?.url ?? '', headers: { ...headers }, bytes, usedAt: this.clock() });
  }

  /**
   * How to reach the task's origin: the URL as registered with its headers, when known here;
   * else the stored URL without headers — unless the stored URL is a redacted one, which only
   * the real URL can replace.
   */
  originFor(taskId: string, storedUrl: string): OriginAccess {
    this.dropIdle();
    const entry = this.byTask.get(taskId);
    if (entry) {
      entry.usedAt = this.clock();
      return { url: entry.url !== '' ? entry.url : storedUrl, headers: entry.headers };
    }
    if (urlCarriesCredentials(storedUrl) && redactUrl(storedUrl) === storedUrl) {
      throw new DamselflyError('DF_ERR_UNAVAILABLE', `task ${taskId}: the credentials of its URL are not known on this replica yet; the next peer that registers it brings them`);
    }
    return { url: storedUrl, headers: {} };
  }

  /** The task no longer needs its origin (or the replica no longer owns it). */
  release(taskId: string): void {
    this.byTask.delete(taskId);
  }

  /** Bytes held across tasks (for tests and metrics). */
  get retainedBytes(): number {
    return this.byTask.calculatedSize;
  }

  get size(): number {
    return this.byTask.size;
  }

  /** Least recently used first: stop at the first entry still in use. */
  private dropIdle(): void {
    const horizon = this.clock() - this.idleMs;
    const idle: string[] = [];
    for (const taskId of this.byTask.rkeys()) {
      if ((this.byTask.peek(taskId)?.usedAt ?? -Infinity) > horizon) break;
      idle.push(taskId);
    }
    for (const taskId of idle) this.byTask.delete(taskId);
  }
}
