import { CDN_SOURCE } from '../../core/events/task-events.ts';
import type { SyncRequest } from '../../core/wire/peer-api.ts';

/** A clock and timers: real ones for `bench control-plane`, virtual ones for `bench simulate`. */
export interface SimClock {
  now(): number;
  after(ms: number, fn: () => void): void;
}

/** What a simulated peer holds and how many uploads it serves now. */
export class SimulatedHolder {
  readonly have: Uint8Array;
  haveCount = 0;
  uploading = 0;
  /**
   * Peers that found every slot of this one taken, in the order they came: a freed slot goes to
   * them first, as an uploader that queues requests (rather than refusing them) would do.
   * Without it the peer whose download just ended took the slot again at once, and a peer that
   * looked a moment later waited for seconds.
   */
  readonly waiting = new Set<{ wokenBy(source: SimulatedHolder): void }>();
  constructor(
    readonly id: string,
    /** Its place in the swarm's list: what a peer's pending reports keep instead of the id. */
    readonly index: number,
    pieceCount: number,
    readonly uploadSlots: number,
  ) {
    this.have = new Uint8Array(pieceCount);
  }
}

/**
 * The peers of one task as their uploaders would see each other: who holds which piece, and
 * who has an upload slot free. A peer on the sync protocol learns its parents' pieces from the
 * parents themselves (their bitmaps), not from the supernode; in a simulation every peer is in
 * one process, so it reads them here, at once.
 *
 * The CDN holds every piece whose digest the asking peer knows (the supernode hands out digests
 * of seeded pieces only), but offers each one once at first (super-seeding, BitTorrent's BEP
 * 16): a piece it sent is passed on by the peers, so its uplink carries first copies while
 * some piece has had none, and relieves busy peers once every piece has had one.
 */
export class SimulatedSwarm {
  private readonly holders = new Map<string, SimulatedHolder>();
  /** Every holder by its index; the CDN is 0. */
  private readonly list: SimulatedHolder[] = [];
  readonly cdn: SimulatedHolder;
  private readonly cdnSent: Uint8Array;
  private cdnSentCount = 0;
  /**
   * Every transfer's duration as the clock measured it, summed. With real timers a busy bench
   * process fires them late, so transfers take longer than pieceMs: the link bound assumes they
   * do not, and this says by how much the bench itself slowed the swarm.
   */
  transferMsTotal = 0;

  constructor(
    readonly pieceCount: number,
    private readonly peerUploadSlots: number,
    cdnUploadSlots: number,
  ) {
    this.cdn = new SimulatedHolder(CDN_SOURCE, 0, pieceCount, cdnUploadSlots);
    this.list.push(this.cdn);
    this.cdnSent = new Uint8Array(pieceCount);
  }

  /** Whether the CDN offers piece `p` now (to a peer that knows its digest). */
  cdnOffers(p: number): boolean {
    return this.cdnSent[p] === 0 || this.cdnSentCount === this.pieceCount;
  }

  /** The CDN starts sending piece `p`. */
  cdnSends(p: number): void {
    if (this.cdnSent[p]) return;
    this.cdnSent[p] = 1;
    this.cdnSentCount++;
  }

  add(id: string): SimulatedHolder {
    const holder = new SimulatedHolder(id, this.list.length, this.pieceCount, this.peerUploadSlots);
    this.holders.set(id, holder);
    this.list.push(holder);
    return holder;
  }

  get(id: string): SimulatedHolder | undefined {
    return id === CDN_SOURCE ? this.cdn : this.holders.get(id);
  }

  at(index: number): SimulatedHolder {
    return this.list[index]!;
  }
}

/** A peer that found nothing to fetch looks again this often even if no one woke it (its waits are events; this is the safety net). */
const LOOK_AGAIN_MS = 1_000;
/** A parent that had nothing this peer lacks for this long is named for replacement at the next sync. */
const STARVED_MS = 500;
/** An idle peer with useless parents asks for new ones at most this often (between its syncs). */
const ASK_AGAIN_MS = 3_000;
/** How many of its missing pieces a peer looks at per source and try. */
const FIND_WALK = 64;

/**
 * The data plane of one simulated peer on the sync protocol: it fetches on its own — a piece it
 * lacks, whose digest it knows, from a parent (or child: the supernode names both) that holds
 * it and has an upload slot free, each "arriving" `pieceMs` later — and keeps what it verified
 * for its next sync. Between syncs nothing here talks to the supernode.
 *
 * - The CDN is asked only for pieces no peer it knows holds, and offers each piece once while
 *   some piece has had no copy (SimulatedSwarm.cdnOffers).
 * - A peer that finds a source's slots all taken, or nothing it lacks there, waits at that
 *   source: it is woken when a slot frees or the source gets a piece, before the peer whose
 *   download just ended takes the slot again (SimulatedHolder.waiting).
 * - A peer ahead of the swarm's average progress takes no more downloads at once than a peer
 *   uploads, leaving its sources' other slots to the peers behind. Without these two, the last
 *   peers to finish were those that lost the race for slots early, and the swarm waited for them.
 */
export class SwarmMember {
  readonly holder: SimulatedHolder;
  private sources: SimulatedHolder[] = [];
  private known = 0;
  private readonly fetching: Uint8Array;
  private readonly startedAt: Float64Array;
  /** The pieces this peer lacks, in no order (swap-removed as they land), and where each sits in it. */
  private readonly missing: Int32Array;
  private missingCount: number;
  private readonly missingAt: Int32Array;
  private inflight = 0;
  /**
   * The verified pieces not reported yet (the first `landedCount`) and the index of the holder
   * each came from: numbers in two arrays of the piece count (a piece lands once), not a report
   * object each. With 100,000 peers whose syncs are minutes apart, 25.6 M report objects lived
   * until the end and the heap's collections crawled.
   */
  private readonly landedPieces: Int32Array;
  private readonly landedFrom: Int32Array;
  private landedCount = 0;
  private readonly usefulAt = new Map<string, number>();
  private lookingAgain = false;
  private askedAt = -Infinity;
  /** The pieces a peer holds on average, as of the last sync. */
  private swarmAverage = 0;
  transfers = 0;

  constructor(
    private readonly swarm: SimulatedSwarm,
    id: string,
    private readonly o: { parallelism: number; pieceMs: number; clock: SimClock; random: () => number; onComplete: () => void; onStarved: () => void },
  ) {
    this.holder = swarm.add(id);
    const n = swarm.pieceCount;
    this.fetching = new Uint8Array(n);
    this.startedAt = new Float64Array(n);
    this.missing = Int32Array.from({ length: n }, (_, p) => p);
    this.missingAt = Int32Array.from({ length: n }, (_, p) => p);
    this.missingCount = n;
    this.landedPieces = new Int32Array(n);
    this.landedFrom = new Int32Array(n);
  }

  get complete(): boolean {
    return this.holder.haveCount === this.swarm.pieceCount;
  }

  get knownDigests(): number {
    return this.known;
  }

  /** What the supernode's last sync answer said: whom to fetch from, and how many more digests are known. */
  update(sourceIds: readonly string[], newDigests: number, swarmAverage: number): void {
    this.known += newDigests;
    this.swarmAverage = swarmAverage;
    const now = this.o.clock.now();
    this.sources = sourceIds.map((id) => this.swarm.get(id)).filter((x): x is SimulatedHolder => x !== undefined);
    for (const source of this.sources) if (!this.usefulAt.has(source.id)) this.usefulAt.set(source.id, now);
    this.pump();
  }

  /** The verified pieces since the last call, grouped by source (the next sync's report). */
  takeReports(): SyncRequest['ok'] {
    const groups = new Map<number, SyncRequest['ok'][number]>();
    for (let i = 0; i < this.landedCount; i++) {
      const from = this.landedFrom[i]!;
      let group = groups.get(from);
      if (!group) groups.set(from, (group = { source: this.swarm.at(from).id, pieces: [], ms: [] }));
      group.pieces.push(this.landedPieces[i]!);
      group.ms.push(this.o.pieceMs);
    }
    this.landedCount = 0;
    return [...groups.values()];
  }

  /** Reports that a failed sync did not deliver: sent again, first, with the next one. */
  putBack(reports: SyncRequest['ok']): void {
    let k = 0;
    for (const r of reports) k += r.pieces.length;
    this.landedPieces.copyWithin(k, 0, this.landedCount);
    this.landedFrom.copyWithin(k, 0, this.landedCount);
    let i = 0;
    for (const r of reports) {
      const from = this.swarm.get(r.source)!.index;
      for (const piece of r.pieces) {
        this.landedPieces[i] = piece;
        this.landedFrom[i++] = from;
      }
    }
    this.landedCount += k;
  }

  /** Sources that have had nothing this peer lacks for STARVED_MS. */
  starved(): string[] {
    const now = this.o.clock.now();
    return this.sources.filter((s) => now - (this.usefulAt.get(s.id) ?? now) > STARVED_MS && this.findPiece(s) === undefined).map((s) => s.id);
  }

  /** Downloads at once: a peer ahead of the swarm's average takes no more than a peer uploads. */
  private limit(): number {
    return this.holder.haveCount > this.swarmAverage ? Math.min(this.o.parallelism, this.holder.uploadSlots) : this.o.parallelism;
  }

  /**
   * Woken by `source` (a slot freed there, or it got a piece): tries that source alone. The peer
   * waits at every source it could not use, and each of them wakes it when it changes, so they
   * need no second look now. (A whole pump per wake-up looked at all ~24 sources of every
   * waiting peer: most of the simulation's CPU, which made a live run's timers fire late.)
   */
  wokenBy(source: SimulatedHolder): void {
    if (this.complete || !this.sources.includes(source)) return;
    const limit = this.limit();
    while (this.inflight < limit && source.uploading < source.uploadSlots) {
      const p = this.findPiece(source);
      if (p === undefined) break;
      this.start(p, source);
    }
    if (this.inflight < limit) source.waiting.add(this);
  }

  /** Starts as many downloads as it may, then waits (at the sources) for a slot or a piece. */
  pump(): void {
    if (this.complete) return;
    const limit = this.limit();
    while (this.inflight < limit) {
      const choice = this.pick();
      if (!choice) break;
      this.start(...choice);
    }
    if (this.complete || this.inflight >= limit) return;
    const now = this.o.clock.now();
    if (this.inflight === 0 && now - this.askedAt >= ASK_AGAIN_MS && this.starved().length > 0) {
      // Nothing to fetch from anyone it knows: ask for other parents now, not at the next sync.
      this.askedAt = now;
      this.o.onStarved();
    }
    if (!this.lookingAgain) {
      this.lookingAgain = true;
      this.o.clock.after(LOOK_AGAIN_MS, () => {
        this.lookingAgain = false;
        this.pump();
      });
    }
  }

  /** A source with a free slot and a piece from it (sources in a random rotation); waits at every source that had neither. */
  private pick(): [number, SimulatedHolder] | undefined {
    const k = this.sources.length;
    const first = Math.floor(this.o.random() * k);
    for (let i = 0; i < k; i++) {
      const source = this.sources[(first + i) % k]!;
      if (source.uploading >= source.uploadSlots) {
        source.waiting.add(this);
        continue;
      }
      const p = this.findPiece(source);
      if (p !== undefined) return [p, source];
      source.waiting.add(this);
    }
    return undefined;
  }

  /**
   * A piece this peer lacks, does not fetch yet, knows the digest of and `source` offers: the
   * first of at most FIND_WALK looked at, from a random place in the missing list (a later look
   * tries other places; near the end the list is short and is walked whole).
   */
  private findPiece(source: SimulatedHolder): number | undefined {
    const n = this.missingCount;
    if (n === 0 || (source.haveCount === 0 && source.id !== CDN_SOURCE)) return undefined;
    const start = Math.floor(this.o.random() * n);
    for (let i = 0; i < Math.min(n, FIND_WALK); i++) {
      const p = this.missing[(start + i) % n]!;
      if (this.fetching[p] || p >= this.known) continue;
      if (source.id === CDN_SOURCE ? this.swarm.cdnOffers(p) && !this.peerSourceHolds(p) : source.have[p] === 1) return p;
    }
    return undefined;
  }

  private peerSourceHolds(p: number): boolean {
    for (const s of this.sources) if (s.id !== CDN_SOURCE && s.have[p]) return true;
    return false;
  }

  private start(p: number, source: SimulatedHolder): void {
    this.fetching[p] = 1;
    this.inflight++;
    source.uploading++;
    if (source.id === CDN_SOURCE) this.swarm.cdnSends(p);
    this.startedAt[p] = this.o.clock.now();
    this.usefulAt.set(source.id, this.startedAt[p]!);
    this.o.clock.after(this.o.pieceMs, () => this.land(p, source));
  }

  private land(p: number, source: SimulatedHolder): void {
    source.uploading--;
    this.inflight--;
    this.fetching[p] = 0;
    this.holder.have[p] = 1;
    this.holder.haveCount++;
    this.transfers++;
    this.swarm.transferMsTotal += this.o.clock.now() - this.startedAt[p]!;
    const at = this.missingAt[p]!;
    const last = this.missing[--this.missingCount]!;
    this.missing[at] = last;
    this.missingAt[last] = at;
    this.landedPieces[this.landedCount] = p;
    this.landedFrom[this.landedCount++] = source.index;
    // The freed slot goes to the peers waiting at the source first; this holder's new piece may
    // be what the peers waiting here lacked.
    wake(source);
    if (this.holder.uploading < this.holder.uploadSlots) wake(this.holder);
    if (this.complete) this.o.onComplete();
    else this.pump();
  }
}

function wake(holder: SimulatedHolder): void {
  if (holder.waiting.size === 0) return;
  const waiting = [...holder.waiting];
  holder.waiting.clear();
  for (const peer of waiting) {
    if (holder.uploading >= holder.uploadSlots) {
      holder.waiting.add(peer); // still waiting, in its place
      continue;
    }
    peer.wokenBy(holder);
  }
}
