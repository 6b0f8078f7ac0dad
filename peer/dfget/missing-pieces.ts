/**
 * The pieces a peer lacks, split by whether it knows their digest yet: the known ones first,
 * then the rest, each part unordered (a piece that lands is swap-removed in O(1)).
 *
 * A sync peer may only fetch a piece whose digest it knows, and while the CDN seeds it knows a
 * prefix of them. A single unordered list made its random walks land mostly on pieces it could
 * not fetch yet: measured, a peer pulling a 512 MiB file alone sat idle for the whole seed and
 * began when the last digest came in. Walking the known part alone cannot miss.
 */
export class MissingPieces {
  private readonly list: Int32Array;
  /** Where each piece is in `list`; -1 once it landed. */
  private readonly at: Int32Array;
  private count: number;
  private knownCount = 0;
  /** Pieces below this have a known digest (digests arrive as a prefix). */
  private knownUpTo = 0;

  constructor(pieceCount: number) {
    this.list = Int32Array.from({ length: pieceCount }, (_, p) => p);
    this.at = Int32Array.from({ length: pieceCount }, (_, p) => p);
    this.count = pieceCount;
  }

  /** Pieces still missing. */
  get size(): number {
    return this.count;
  }

  /** Missing pieces whose digest is known: `known(0)` … `known(fetchable - 1)`. */
  get fetchable(): number {
    return this.knownCount;
  }

  /** The i-th missing piece with a known digest, 0 ≤ i < fetchable. */
  known(i: number): number {
    return this.list[i]!;
  }

  /** The digests of every piece below `upTo` are known now. */
  learnDigests(upTo: number): void {
    const end = Math.min(upTo, this.at.length);
    for (let p = this.knownUpTo; p < end; p++) {
      const i = this.at[p]!;
      if (i >= 0) this.swap(i, this.knownCount++);
    }
    this.knownUpTo = Math.max(this.knownUpTo, end);
  }

  /** Piece `p` landed. */
  remove(p: number): void {
    let i = this.at[p]!;
    if (i < 0) return;
    if (i < this.knownCount) {
      // Keep the known part contiguous: move p to its end first, then out of the list.
      this.swap(i, --this.knownCount);
      i = this.knownCount;
    }
    this.swap(i, --this.count);
    this.at[p] = -1;
  }

  private swap(i: number, j: number): void {
    const a = this.list[i]!;
    const b = this.list[j]!;
    this.list[i] = b;
    this.list[j] = a;
    this.at[b] = i;
    this.at[a] = j;
  }
}
