import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { followRedirects } from '../../../edge/http/follow-redirects.ts';
import type { DaemonMetrics } from '../daemon-metrics.ts';
import type { UpstreamClient, UpstreamResponse } from './upstream-client.ts';

/** The registry let this credential read the blob: what its HEAD said about it. */
export interface AccessAllowed {
  allowed: true;
  /** The blob's size from the HEAD's Content-Length, so a HEAD downloads nothing. */
  contentLength?: number;
}
/** The registry's answer to a refused check (401 with its challenge, 403, 404 …), for the client. */
export interface AccessRefused {
  allowed: false;
  response: UpstreamResponse;
}

export interface BlobAccessQuery {
  registry: URL;
  name: string;
  digest: string;
  /** The client's own Authorization, if it sent one. */
  authorization?: string;
  userAgent?: string;
}

/**
 * Whether a client may read a blob, as the registry decides it: before a layer held in the
 * cache or by peers is served, the registry is asked with a HEAD on that blob in that
 * repository carrying the client's own Authorization (none if it sent none). A swarm-held
 * layer is content-addressed and shared by everyone, so without this a client with no
 * credentials would get any private layer whose digest it knows.
 *
 * Allowed answers are kept `ttlMs`, keyed by the credential's hash with the registry,
 * repository and digest: the check costs one HEAD per credential, repository and blob per TTL.
 * Refusals are never kept (the next request asks again; a client that just fetched a token
 * must not be refused from memory). Concurrent checks of one key share one HEAD. Redirects
 * (registries send blobs to storage) are followed under edge/http/follow-redirects.ts: the
 * Authorization never goes to another origin.
 */
export class BlobAccess {
  private readonly allowed: LRUCache<string, AccessAllowed>;
  private readonly inFlight = new Map<string, Promise<AccessAllowed | AccessRefused>>();

  constructor(
    private readonly upstream: UpstreamClient,
    o: { ttlMs: number; maxEntries?: number },
    private readonly metrics?: DaemonMetrics,
  ) {
    this.allowed = new LRUCache({ max: o.maxEntries ?? 10_000, ttl: o.ttlMs });
  }

  async check(q: BlobAccessQuery): Promise<AccessAllowed | AccessRefused> {
    const key = keyOf(q);
    const kept = this.allowed.get(key);
    if (kept) {
      this.metrics?.accessChecks.inc({ result: 'cached_allowed' });
      return kept;
    }
    const running = this.inFlight.get(key);
    // A refusal is a response body only one waiter can read: joiners get the verdict's allowance only.
    if (running) {
      const shared = await running;
      if (shared.allowed) return shared;
    }
    const asking = this.ask(q).then((answer) => {
      this.metrics?.accessChecks.inc({ result: answer.allowed ? 'allowed' : 'refused' });
      if (answer.allowed) this.allowed.set(key, answer);
      return answer;
    });
    this.inFlight.set(key, asking);
    try {
      return await asking;
    } finally {
      if (this.inFlight.get(key) === asking) this.inFlight.delete(key);
    }
  }

  private async ask(q: BlobAccessQuery): Promise<AccessAllowed | AccessRefused> {
    const headers: Record<string, string> = {};
    if (q.authorization !== undefined) headers['authorization'] = q.authorization;
    if (q.userAgent !== undefined) headers['user-agent'] = q.userAgent;
    const url = new URL(`/v2/${q.name}/blobs/${q.digest}`, q.registry);
    const res = await followRedirects(url, { method: 'HEAD', headers }, (u, method, h) => this.upstream.send(u, method as 'HEAD', h));
    if (res.statusCode < 200 || res.statusCode > 299) return { allowed: false, response: res };
    await res.body.dump();
    const header = res.headers['content-length'];
    const length = typeof header === 'string' && /^\d+$/.test(header) ? Number(header) : undefined;
    return { allowed: true, contentLength: length !== undefined && Number.isSafeInteger(length) ? length : undefined };
  }
}

function keyOf(q: BlobAccessQuery): string {
  // Only a hash of the credential is held, and "none" cannot collide with any credential's hash.
  const credential = q.authorization === undefined ? 'none' : createHash('sha256').update(q.authorization).digest('hex');
  return `${credential}\0${q.registry.origin}\0${q.name}\0${q.digest}`;
}
