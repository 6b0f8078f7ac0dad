import type { SeedingRuntime } from './seeding.ts';

export interface SeededPiece {
  piece: number;
  size: number;
  digest: string;
}

/**
 * Records a seed's stored pieces as RecordSeededPieces commands, several to a command: the
 * first piece stored opens a window of `windowMs`, and every piece stored within it goes into
 * the same command (one append). A fast origin stores a piece every few milliseconds while an
 * append takes about as long, so a command a piece made the seed's records half of a fast
 * download's appends (issue 13: 256 of 681 for a 512 MiB pull); and a peer waiting for pieces
 * gets several at once from one round instead of a round per piece. The window is the most a
 * piece's announcement waits, small against any piece's transfer. Records are not
 * acknowledged to anyone: a crash inside the window loses only what the CDN's own meta.json
 * still vouches for at the takeover (OwnershipAcquired.cdnPieces).
 */
export class SeedRecorder {
  private pending: SeededPiece[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly recorded: Promise<unknown>[] = [];

  constructor(
    private readonly o: { runtime: SeedingRuntime; taskId: string; clock: () => number; windowMs: number },
  ) {}

  add(piece: SeededPiece): void {
    this.pending.push(piece);
    if (this.o.windowMs <= 0) return this.flush();
    this.timer ??= setTimeout(() => this.flush(), this.o.windowMs);
  }

  /** Records what is pending now. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const pieces = this.pending;
    this.pending = [];
    const done = this.o.runtime.execute(this.o.taskId, { type: 'RecordSeededPieces', at: this.o.clock(), pieces });
    done.catch(() => {
      // Surfaced by settle(), or moot if the seed itself failed first.
    });
    this.recorded.push(done);
  }

  /** Records what is pending and waits for every record; rejects with the first that failed. */
  async settle(): Promise<void> {
    this.flush();
    await Promise.all(this.recorded);
  }

  /** Drops what is pending (the seed was aborted: this replica no longer seeds the task). */
  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = [];
  }
}
