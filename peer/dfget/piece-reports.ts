import { MAX_ROUND_REPORTS, type RoundRequest } from '../../core/wire/peer-api.ts';

type Ok = RoundRequest['ok'][number];
type Failed = RoundRequest['failed'][number];

/**
 * What this peer has to tell the supernode: results accumulate here while a round is in
 * flight and go out with the next one (one round trip reports everything that finished, up to
 * MAX_ROUND_REPORTS of each kind: the rest with the rounds right after), and what it holds, so
 * that after a failover or a re-join it can report those pieces again (the supernode drops
 * reports of pieces it already knows a peer has). Nothing is lost on the way: a report leaves
 * here only in a round, and comes back (`putBack`) unless the supernode answered that round,
 * which it does only once the round's events are committed.
 */
export class PieceReports {
  private ok: Ok[] = [];
  /** The pieces in `ok`: a re-join re-reports thousands, each checked in O(1). */
  private readonly pendingOk = new Set<number>();
  private failed: Failed[] = [];
  private readonly held = new Map<number, Ok>();

  get isEmpty(): boolean {
    return this.ok.length === 0 && this.failed.length === 0;
  }

  /** Reports waiting to go out. */
  get pending(): number {
    return this.ok.length + this.failed.length;
  }

  holds(piece: number): boolean {
    return this.held.has(piece);
  }

  stored(entry: Ok): void {
    this.held.set(entry.piece, entry);
    this.queue(entry);
  }

  failedFetch(entry: Failed): void {
    this.failed.push(entry);
  }

  /** A piece held here was assigned again: the supernode does not know we have it; say so. */
  reReport(piece: number): void {
    const entry = this.held.get(piece);
    if (entry) this.queue(entry);
  }

  /** After (re-)joining, a supernode may know nothing of what we hold: report all of it. */
  reReportAll(): void {
    for (const entry of this.held.values()) this.queue(entry);
  }

  /** What is pending for one round, at most `max` of each kind, oldest first; `putBack` it if the round did not go through. */
  take(max = MAX_ROUND_REPORTS): Pick<RoundRequest, 'ok' | 'failed'> {
    const ok = this.ok.splice(0, max);
    for (const e of ok) this.pendingOk.delete(e.piece);
    return { ok, failed: this.failed.splice(0, max) };
  }

  /** A report whose round failed goes out again first. */
  putBack(report: Pick<RoundRequest, 'ok' | 'failed'>): void {
    const again = report.ok.filter((e) => !this.pendingOk.has(e.piece));
    for (const e of again) this.pendingOk.add(e.piece);
    this.ok = [...again, ...this.ok];
    this.failed = [...report.failed, ...this.failed];
  }

  private queue(entry: Ok): void {
    if (this.pendingOk.has(entry.piece)) return;
    this.pendingOk.add(entry.piece);
    this.ok.push(entry);
  }
}
