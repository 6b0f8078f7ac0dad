import { setTimeout as sleep } from 'node:timers/promises';
import { bySource, CDN_SOURCE } from '../../core/events/index.ts';
import { DamselflyError } from '../../core/errors.ts';
import { DEFAULT_POLICY } from '../../core/scheduling/policy.ts';
import { MAX_ROUND_REPORTS, type Parent, type SyncResponse, type TaskView } from '../../core/wire/peer-api.ts';
import type { FailureReason } from '../../core/events/index.ts';
import { hasPiece, type Holdings, type PieceAt, type PieceOutcome, type WatchOutcome } from '../../edge/pieces/index.ts';
import { PieceFile, type PieceLayout } from '../storage/piece-file.ts';
import { SupernodeRejected, SupernodesUnreachable } from './supernode-client.ts';
import { MissingPieces } from './missing-pieces.ts';
import { PieceReports } from './piece-reports.ts';
import { MAX_REJOINS, REJOIN_CODES, type SwarmSessionOptions } from './swarm-session.ts';
import { SwarmCounters } from './swarm-counters.ts';
import { doneFile, ensureSessionFile } from './session-file.ts';

/** What a sync session needs: a round session's options, with the fetch of any piece and a parent's holdings. */
export interface SyncSessionOptions extends Omit<SwarmSessionOptions, 'fetch'> {
  fetch: (a: PieceAt) => Promise<PieceOutcome>;
  /** Watches a parent's holdings (GET /pieces/<task>?watch on its uploader) until it holds every piece or the watch fails. */
  watch: (address: string, pieceCount: number, signal: AbortSignal, onHoldings: (h: Holdings) => void) => Promise<WatchOutcome>;
  /** Randomness for the piece choice (tests pass a seeded one). */
  random?: () => number;
}

/** After a supernode error, wait at least this long before the next sync. */
const RETRY_MS = 250;
/** A sync that knows every seeded digest lets the supernode hold it this long for the next one. */
const DIGEST_HOLD_MS = 2_000;
/** A parent whose holdings could not be watched is asked again after this long. */
const HOLDINGS_RETRY_MS = 1_000;
/**
 * Downloads a peer keeps at the CDN for pieces its peer sources could send too. Without them
 * the CDN sat idle once every piece had a first copy in the swarm, and its upload is part of
 * the swarm's (measured, bench swarm 20 peers: the CDN sent 2 of its 4 MiB/s; with one download
 * each kept there, 4 of 4, and the ratio to the bound went from 1.41–1.48 to 1.36–1.39).
 */
const CDN_SHARE = 1;
/** A source that answered 503 (every upload slot busy) is left alone this long. */
const BUSY_BACKOFF_MS = 250;
/** A parent that had nothing this peer lacks for this long is named for replacement. */
const STARVED_MS = 500;
/** An idle peer with only useless parents asks for new ones at most this often (between its syncs). */
const ASK_AGAIN_MS = 3_000;
/** How many of its missing pieces a peer looks at per source and try. */
const FIND_WALK = 64;

/** One source as this peer sees it: the CDN (holds every piece whose digest is known) or a peer (its bitfield, long-polled). */
interface Source {
  readonly peerId: string;
  readonly address: string;
  /** A peer's bitfield as last read; null for the CDN, and for a peer until its first answer. */
  bitfield: Uint8Array | null;
  /** Pieces in `bitfield`; -1 until a peer's first answer (it may hold anything: the CDN waits for it). */
  count: number;
  /** Downloads from it in flight. */
  inflight: number;
  /** Not asked again before this time (it refused, or failed). */
  quietUntil: number;
  /** When it last had something this peer lacked (or was named). */
  usefulAt: number;
  /** Stops its holdings poll. */
  readonly stop: AbortController;
}

/**
 * One peer's part in one task's swarm on the sync protocol (docs/decisions.md, "Parents, not
 * pieces"): the supernode says whom to fetch from, this peer chooses which pieces. It learns
 * what each parent holds from the parent (a long-polled bitfield), fetches up to `parallelism`
 * pieces at once — a piece it lacks, whose digest it knows, from a source that holds it; the
 * CDN only for pieces no peer source holds — and reports what it verified in one batch per
 * sync: when the supernode says, at once when it holds every piece (that sync makes it
 * succeeded), and early when it has nothing left to fetch (it needs digests, or other parents).
 *
 * Pieces are verified (fetch) before they are written, and added to the file only once
 * written, so the uploader never serves an unverified byte. Supernode trouble is survived as
 * on the round protocol: the client moves along its node list, the peer registers and joins
 * again and reports all it holds; the data plane goes on meanwhile.
 */
export class SyncSession {
  readonly counters = new SwarmCounters();
  file: PieceFile | undefined;
  private readonly reports = new PieceReports();
  private readonly inflight = new Map<number, Promise<void>>();
  private readonly sources = new Map<string, Source>();
  private digests: string[] = [];
  /** The pieces a peer of the task holds on average, as of the last sync. */
  private swarmAverage = 0;
  /** Pieces this peer lacks, those whose digest it knows apart. */
  private missing = new MissingPieces(0);
  private fatal: unknown;
  private unreachableSince: number | undefined;
  private rejoins = 0;
  private askedAt = -Infinity;
  /** When the next sync is due (an earlier one is made early, see dueEarly). */
  private dueAt = 0;
  /** Resolves the wait for the next sync early. */
  private wake: (() => void) | undefined;
  private readonly random: () => number;
  private readonly stopped = new AbortController();
  private quietTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: SyncSessionOptions) {
    this.random = o.random ?? Math.random;
  }

  /** Runs until the supernode says done; returns the complete (not yet committed) file. */
  async run(firstView: TaskView): Promise<PieceFile> {
    if (firstView.contentLength !== null && firstView.pieceSize !== null) await this.ensureFile({ contentLength: firstView.contentLength, pieceSize: firstView.pieceSize });
    let join = true;
    let register = false;
    try {
      for (;;) {
        this.o.signal?.throwIfAborted();
        if (this.fatal) throw this.fatal;
        try {
          if (register) await this.registerAgain();
          register = false;
          const resp = await this.sync(join);
          join = false;
          this.unreachableSince = undefined;
          this.rejoins = 0;
          if (resp.action === 'done') return await this.finish();
          if (resp.action === 'failed') throw new DamselflyError('DF_ERR_TASK_FAILED', `the supernode failed the task: ${resp.reason}`);
          if (resp.action === 'wait') {
            await this.nextSync(resp.retryAfterMs);
            continue;
          }
          await this.apply(resp);
          await this.nextSync(this.syncSoon() ? 0 : resp.syncAfterMs);
        } catch (err) {
          if (await this.recover(err)) {
            register = true;
            join = true;
          }
        }
      }
    } finally {
      this.stopped.abort();
      clearTimeout(this.quietTimer);
    }
  }

  /** Waits for the pieces in flight to settle (after a failure, before the file is removed). */
  async settle(): Promise<void> {
    this.stopped.abort();
    clearTimeout(this.quietTimer);
    await Promise.allSettled(this.inflight.values());
  }

  private async registerAgain(): Promise<void> {
    const view = await this.o.client.registerTask(this.o.register);
    if (view.taskId !== this.o.taskId) throw new DamselflyError('DF_ERR_TASK_ID_MISMATCH', `the supernode computed task ${view.taskId}, expected ${this.o.taskId}`);
  }

  private async sync(join: boolean): Promise<SyncResponse> {
    // A (re-)joining peer may be unknown to this supernode: it reports everything it holds.
    if (join) this.reports.reReportAll();
    // Held by the supernode until it has news: a peer that needs digests to go on, or a layout.
    const needDigests = !this.file || (this.digests.length < this.file.pieceCount && this.inflight.size === 0 && this.nothingToFetch());
    // A sync made early for digests carries no reports: they wait for the sync that is due (or
    // the one that completes the peer). Otherwise a peer that keeps up with a slow seed reports
    // at every new digest, a piece or two at a time.
    const early = !join && needDigests && performance.now() < this.dueAt;
    const report = early ? { ok: [], failed: [] } : this.reports.take();
    try {
      this.counters.rounds++;
      return await this.o.client.sync(this.o.taskId, this.o.join.peerId, {
        ok: bySource(report.ok),
        failed: report.failed,
        replace: this.starved(),
        knownDigests: this.digests.length,
        holdMs: needDigests && report.ok.length === 0 ? DIGEST_HOLD_MS : 0,
        ...(join ? { join: { hostId: this.o.join.hostId, address: this.o.join.address } } : {}),
      });
    } catch (err) {
      // Nothing reported is lost: it goes out again with the next sync (the supernode drops repeats).
      this.reports.putBack(report);
      throw err;
    }
  }

  /** Whether to sync again at once: more reports than one sync carries. */
  private syncSoon(): boolean {
    return this.reports.pending >= MAX_ROUND_REPORTS;
  }

  private async apply(resp: Extract<SyncResponse, { action: 'sync' }>): Promise<void> {
    const file = await this.ensureFile({ contentLength: resp.contentLength, pieceSize: resp.pieceSize });
    this.digests.push(...resp.digests);
    this.missing.learnDigests(this.digests.length);
    this.swarmAverage = resp.swarmAverage;
    this.setSources(resp.parents, file.pieceCount);
    this.pump();
  }

  /** Until the next sync is due: after `ms`, or as soon as it is due early (dueEarly). */
  private async nextSync(ms: number): Promise<void> {
    this.dueAt = performance.now() + ms;
    if (ms <= 0 || this.dueEarly()) return;
    await new Promise<void>((resolve) => {
      const signal = this.o.signal;
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      this.wake = done;
    });
  }

  /**
   * A sync is due before its time when this peer holds every piece (that sync makes it
   * succeeded), or has nothing in flight and nothing to fetch from anyone it knows: it needs
   * digests (the supernode holds that sync until there are new ones), or other parents (asked
   * at most every ASK_AGAIN_MS).
   */
  private dueEarly(): boolean {
    const file = this.file;
    if (!file) return false;
    if (file.isComplete) return true;
    if (this.inflight.size > 0 || !this.nothingToFetch()) return false;
    if (this.digests.length < file.pieceCount) return true;
    const now = performance.now();
    if (now - this.askedAt < ASK_AGAIN_MS) return false;
    this.askedAt = now;
    return true;
  }

  /** Decides whether a failed call is survivable (true: register and join again), or rethrows. */
  private async recover(err: unknown): Promise<boolean> {
    const log = this.o.logger;
    if (err instanceof SupernodesUnreachable) {
      const now = performance.now();
      this.unreachableSince ??= now;
      if (now - this.unreachableSince > this.o.giveUpAfterMs) throw err;
      log.warn({ err: err.detail, node: this.o.client.node }, 'supernodes unreachable; retrying');
      await this.nextSync(Math.max(RETRY_MS, err.retryAfterMs ?? 0));
      return true;
    }
    if (err instanceof SupernodeRejected && REJOIN_CODES.has(err.problemCode) && ++this.rejoins <= MAX_REJOINS) {
      log.warn({ code: err.problemCode, node: this.o.client.node }, 'the supernode does not know this peer; joining again');
      return true;
    }
    if (err instanceof SupernodeRejected && err.remoteRetryable) {
      await this.nextSync(Math.max(RETRY_MS, err.retryAfterMs ?? 0));
      return false;
    }
    throw err;
  }

  private async ensureFile(layout: PieceLayout): Promise<PieceFile> {
    if (this.file) return ensureSessionFile(this.file, layout, this.o, this.counters);
    this.file = await ensureSessionFile(undefined, layout, this.o, this.counters);
    this.missing = new MissingPieces(this.file.pieceCount);
    this.missing.learnDigests(this.digests.length);
    return this.file;
  }


  /** The sources the supernode named: new ones have their holdings watched, dropped ones stop. */
  private setSources(parents: readonly Parent[], pieceCount: number): void {
    const named = new Set(parents.map((p) => p.peerId));
    for (const [id, s] of this.sources) {
      if (named.has(id)) continue;
      s.stop.abort();
      this.sources.delete(id);
    }
    const now = performance.now();
    for (const p of parents) {
      const known = this.sources.get(p.peerId);
      if (known && known.address === p.address) continue;
      known?.stop.abort();
      const s: Source = { peerId: p.peerId, address: p.address, bitfield: null, count: p.peerId === CDN_SOURCE ? 0 : -1, inflight: 0, quietUntil: 0, usefulAt: now, stop: new AbortController() };
      this.sources.set(p.peerId, s);
      if (p.peerId !== CDN_SOURCE) void this.watchHoldings(s, pieceCount);
    }
  }

  /** Keeps a peer source's bitfield current: a watch of its holdings, opened again after a failure. */
  private async watchHoldings(s: Source, pieceCount: number): Promise<void> {
    const signal = AbortSignal.any([s.stop.signal, this.stopped.signal]);
    while (!signal.aborted) {
      let outcome: WatchOutcome;
      try {
        outcome = await this.o.watch(s.address, pieceCount, signal, (h) => {
          s.bitfield = h.bitfield;
          s.count = h.count;
          this.pump();
        });
      } catch {
        return; // aborted: the source was dropped or the download is over
      }
      if ('complete' in outcome) return;
      // Not serving the task yet (a child that has not started), gone, or unreachable: it holds
      // nothing as far as this peer can tell (the CDN no longer waits for it); watch again later.
      if (s.count < 0) {
        s.count = 0;
        s.bitfield = new Uint8Array(0);
        this.pump();
      }
      await sleep(HOLDINGS_RETRY_MS, undefined, { signal }).catch(() => undefined); // an abort ends the loop
    }
  }

  /** Starts as many downloads as there are free slots and pieces to fetch; wakes the sync loop when a sync is due early. */
  private pump(): void {
    const file = this.file;
    if (!file || this.fatal || this.stopped.signal.aborted) return;
    const limit = this.limit(file);
    while (this.inflight.size < limit) {
      const choice = this.pick();
      if (!choice) break;
      this.start(file, ...choice);
    }
    if (this.inflight.size < limit) this.retryQuiet();
    if (this.wake && this.dueEarly()) this.wake();
  }

  /**
   * Downloads at once: a peer ahead of the swarm's average takes no more than a peer uploads,
   * leaving its sources' other slots to the peers behind (without it the last peers to finish
   * were those that lost the race for slots early; docs/decisions.md).
   */
  private limit(file: PieceFile): number {
    return file.storedCount > this.swarmAverage ? Math.min(this.o.parallelism, DEFAULT_POLICY.peerUploadSlots) : this.o.parallelism;
  }

  /** Pumps again when the first source left alone after a 503 may be asked again. */
  private retryQuiet(): void {
    if (this.quietTimer) return;
    const now = performance.now();
    let at = Infinity;
    for (const s of this.sources.values()) if (s.quietUntil > now) at = Math.min(at, s.quietUntil);
    if (at === Infinity) return;
    this.quietTimer = setTimeout(() => {
      this.quietTimer = undefined;
      this.pump();
    }, at - now);
  }

  /** No source has a piece for this peer now (a peer whose holdings are not known yet may have). */
  private nothingToFetch(): boolean {
    for (const s of this.sources.values()) if (s.count < 0 || this.findPiece(s) !== undefined) return false;
    return true;
  }

  /**
   * A source with room and a piece from it: first the CDN for a piece no peer source holds
   * (only it can send that piece's first copy), or for the rarest piece while this peer has
   * fewer than CDN_SHARE downloads there; then the peer sources in a random rotation.
   * A peer source has room for its share of this peer's slots: its upload slots are shared by
   * all who ask it, so downloads spread over many sources (measured, 10 peers: 2.29 → 1.68 of
   * the link bound with one download per peer source instead of up to six).
   */
  private pick(): [number, Source] | undefined {
    const now = performance.now();
    const cdn = this.sources.get(CDN_SOURCE);
    if (cdn && cdn.quietUntil <= now) {
      const p = this.findPiece(cdn, cdn.inflight < CDN_SHARE);
      if (p !== undefined) return [p, cdn];
    }
    const peers = [...this.sources.values()].filter((s) => s.peerId !== CDN_SOURCE);
    const perPeer = Math.max(1, Math.ceil(this.o.parallelism / Math.max(1, peers.length)));
    const first = Math.floor(this.random() * peers.length);
    for (let i = 0; i < peers.length; i++) {
      const s = peers[(first + i) % peers.length]!;
      if (s.quietUntil > now || s.inflight >= perPeer) continue;
      const p = this.findPiece(s);
      if (p !== undefined) return [p, s];
    }
    return undefined;
  }

  /**
   * A piece this peer lacks, does not fetch yet, knows the digest of and `source` holds: the
   * first of at most FIND_WALK looked at, from a random place among those (a later look
   * tries other places; near the end the list is short and is walked whole). From a peer, the
   * rarest of them among this peer's sources; from the CDN (which holds every piece whose digest
   * is known) one no peer source holds (what a peer holds is passed on among the peers), or with
   * `any` the rarest.
   */
  private findPiece(s: Source, any = false): number | undefined {
    const n = this.missing.fetchable;
    if (n === 0 || (s.bitfield === null && s.peerId !== CDN_SOURCE) || (s.bitfield !== null && s.count === 0)) return undefined;
    const start = Math.floor(this.random() * n);
    let best: number | undefined;
    let bestHolders = Infinity;
    for (let i = 0; i < Math.min(n, FIND_WALK); i++) {
      const p = this.missing.known((start + i) % n);
      if (this.inflight.has(p)) continue;
      if (!s.bitfield) {
        if (!this.peerSourceHolds(p)) return p;
        if (!any) continue;
      } else if (!hasPiece(s.bitfield, p)) continue;
      // Rarest first among the candidates: the piece fewest of this peer's sources hold.
      const holders = this.holders(p);
      if (holders < bestHolders) [best, bestHolders] = [p, holders];
      if (holders <= 1) break;
    }
    return best;
  }

  private holders(p: number): number {
    let n = 0;
    for (const s of this.sources.values()) if (s.bitfield && hasPiece(s.bitfield, p)) n++;
    return n;
  }

  /** Whether a peer source holds `p`, or may (its holdings not known yet: its first answer comes at once). */
  private peerSourceHolds(p: number): boolean {
    for (const s of this.sources.values()) {
      if (s.peerId === CDN_SOURCE) continue;
      if (s.count < 0 || (s.bitfield && hasPiece(s.bitfield, p))) return true;
    }
    return false;
  }

  /** Sources named at this sync for replacement: peers that have had nothing this peer lacks for STARVED_MS. */
  private starved(): string[] {
    const now = performance.now();
    const out: string[] = [];
    for (const s of this.sources.values()) {
      if (s.peerId === CDN_SOURCE) continue;
      if (this.findPiece(s) !== undefined) s.usefulAt = now;
      else if (now - s.usefulAt > STARVED_MS) out.push(s.peerId);
    }
    return out;
  }

  private start(file: PieceFile, piece: number, s: Source): void {
    s.inflight++;
    s.usefulAt = performance.now();
    const job = (async () => {
      const outcome = await this.o.fetch({ address: s.address, source: s.peerId, piece, size: file.range(piece).length, digest: this.digests[piece]! });
      if (!outcome.ok) return this.failed(piece, s, outcome.reason, outcome.detail);
      try {
        await file.writePiece(piece, outcome.bytes);
      } catch (err) {
        // Our own disk failed: not the source's fault ('io' blames nobody), and nothing to go on with.
        this.reports.failedFetch({ piece, source: s.peerId, reason: 'io' });
        this.fatal ??= err;
        return;
      }
      this.missing.remove(piece);
      this.reports.stored({ piece, source: s.peerId, ms: outcome.ms });
      this.counters.stored(s.peerId === CDN_SOURCE, outcome.bytes.length);
      this.o.onProgress?.(this.counters);
    })()
      .catch((err: unknown) => {
        // fetch throws only when the download is aborted: the loop sees the signal.
        this.fatal ??= err;
      })
      .finally(() => {
        s.inflight--;
        this.inflight.delete(piece);
        this.pump();
      });
    this.inflight.set(piece, job);
  }

  /**
   * A fetch that failed. A busy source (503) is left alone for a moment, not reported. Any
   * other failure is reported (the supernode drops that link and may blame the source) and the
   * source is not asked again until a sync names it anew.
   */
  private failed(piece: number, s: Source, reason: FailureReason, detail: string): void {
    if (reason === 'refused') {
      s.quietUntil = performance.now() + BUSY_BACKOFF_MS;
      return;
    }
    this.counters.failed(reason);
    this.o.logger.warn({ piece, source: s.peerId, reason, detail }, 'piece fetch failed');
    this.reports.failedFetch({ piece, source: s.peerId, reason });
    s.stop.abort();
    this.sources.delete(s.peerId);
  }

  private async finish(): Promise<PieceFile> {
    await this.settle();
    this.file = await doneFile(this.file, this.o, this.counters);
    return this.file;
  }
}
