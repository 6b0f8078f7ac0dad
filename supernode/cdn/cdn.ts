import { createHash } from 'node:crypto';
import { Agent } from 'undici';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { CdnStore } from './cdn-store.ts';
import { gcCdn, type GcResult } from './cdn-gc.ts';
import { heldPieces, type HeldPiecesQuery } from './held-pieces.ts';
import { OriginClient } from './origin-client.ts';
import { OriginGuard, type OriginPolicy } from './origin-guard.ts';
import { probeOrigin, type OriginProbe } from './origin-probe.ts';
import { pieceRoute } from './piece-route.ts';
import { seed, type SeedRequest, type SeedResult } from './seeder.ts';
import { createThrottle, type Throttle } from '../../edge/rate/index.ts';
import { DamselflyError } from '../../core/errors.ts';

export interface CdnOptions extends OriginPolicy {
  dataDir: string;
  logger?: Logger;
  /** Cap on everything the CDN uploads to peers, bytes/s (config.cdnUploadRate). */
  uploadRate?: number;
  /**
   * Also draw the origin fetch from the same budget: the benchmark's "server" is the origin
   * and the CDN together, so with an uncapped origin this keeps the server at one rate.
   */
  originSharesUploadBudget?: boolean;
  /** Concurrent piece responses (≥ the scheduler's cdnUploadSlots, or peers see 503s). */
  uploadSlots?: number;
  onOriginBytes?: (bytes: number) => void;
  /** Replaces DNS for the guard (tests). */
  resolve?: ConstructorParameters<typeof OriginGuard>[1];
  retries?: number;
  backoffMs?: number;
}

/**
 * The supernode's CDN: the origin guard and client, the piece store, the seeder and the piece
 * route behind one object. `probe` and `seed` are the shape supernode/swarm/seeding.ts's
 * CdnPort expects; `registerRoutes` mounts GET /pieces/:taskId/:piece.
 */
export class Cdn {
  readonly store: CdnStore;
  readonly guard: OriginGuard;
  readonly client: OriginClient;
  readonly throttle: Throttle;
  /** Other replicas' CDNs, for refills (replica-refill.ts): cluster-internal, so plain keep-alive. */
  private readonly replicas = new Agent({ connections: 4, keepAliveTimeout: 10_000, connect: { timeout: 2_000 } });

  constructor(private readonly o: CdnOptions) {
    this.store = new CdnStore(o.dataDir);
    this.guard = new OriginGuard({ allowPrivateOrigins: o.allowPrivateOrigins, allowList: o.allowList }, o.resolve);
    this.client = new OriginClient(this.guard);
    this.throttle = createThrottle(o.uploadRate);
  }

  probe(url: string, headers: Record<string, string>, signal?: AbortSignal): Promise<OriginProbe> {
    return probeOrigin(this.client, url, headers, signal);
  }

  seed(req: SeedRequest): Promise<SeedResult> {
    return seed(
      {
        store: this.store,
        client: this.client,
        logger: this.o.logger,
        throttle: this.o.originSharesUploadBudget ? this.throttle : undefined,
        onOriginBytes: this.o.onOriginBytes,
        retries: this.o.retries,
        backoffMs: this.o.backoffMs,
        replicaDispatcher: this.replicas,
      },
      req,
    );
  }

  /**
   * sha256 (hex) of the whole file as the CDN holds it: its pieces in order. Used to check a
   * task's expected digest (`--digest`) once the seed is complete, so that a wrong digest fails
   * the task for every peer instead of each peer finding out after downloading everything.
   */
  async fileDigest(taskId: string, pieceCount: number): Promise<string> {
    const hash = createHash('sha256');
    for (let piece = 0; piece < pieceCount; piece++) {
      const opened = await this.store.openPiece(taskId, piece);
      if (!opened) throw new DamselflyError('DF_ERR_INTERNAL', `piece ${piece} of task ${taskId} is missing from the CDN`);
      try {
        hash.update(await opened.fh.readFile());
      } finally {
        await opened.fh.close();
      }
    }
    return hash.digest('hex');
  }

  /**
   * The pieces of the task this CDN holds on its disk with the digests the task knows (see
   * held-pieces.ts), ascending: what AcquireOwnership.cdnPieces should say when this replica
   * takes the task over. Pass the task's state.
   */
  heldPieces(taskId: string, task: HeldPiecesQuery): Promise<number[]> {
    return heldPieces(this.store, taskId, task);
  }

  async gc(o: { maxAgeMs?: number; maxBytes?: number; now: number; inUse: (taskId: string) => boolean }): Promise<GcResult> {
    const result = await gcCdn({ dataDir: this.o.dataDir, ...o });
    for (const taskId of result.removed) this.store.forget(taskId);
    return result;
  }

  /** Registers the piece route; like any plugin it loads when the app becomes ready. */
  registerRoutes(app: FastifyInstance): void {
    void app.register(pieceRoute, { store: this.store, throttle: this.throttle, slots: this.o.uploadSlots });
  }

  async close(): Promise<void> {
    await Promise.all([this.client.close(), this.replicas.close()]);
  }
}
