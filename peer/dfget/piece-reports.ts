import type { RoundRequest } from '../../core/wire/peer-api.ts';

type Ok = RoundRequest['ok'][number];
type Failed = RoundRequest['failed'][number];

/**
 * What this peer has to tell the supernode: results accumulate here while a round is in
 * flight and all go out with the next one (one round trip reports everything that finished),
 * and what it holds, so that after a failover or a re-join it can report those pieces again
 * (the supernode drops reports of pieces it already knows a peer has).
 */
export class PieceReports {
  private ok: Ok[] = [];
  private failed: Failed[] = [];
  private readonly held = new Map<number, Ok>();

  get isEmpty(): boolean {
    return this.ok.length === 0 && this.failed.length === 0;
  }

  holds(piece: number): boolean {
    return this.held.has(piece);
  }

  stored(entry: Ok): void {
    this.held.set(entry.piece, entry);
    this.ok.push(entry);
  }

  failedFetch(entry: Failed): void {
    this.failed.push(entry);
  }

  /** A piece held here was assigned again: the supernode does not know we have it; say so. */
  reReport(piece: number): void {
    const entry = this.held.get(piece);
    if (entry && !this.ok.some((e) => e.piece === piece)) this.ok.push(entry);
  }

  /** After (re-)joining, a supernode may know nothing of what we hold: report all of it. */
  reReportAll(): void {
    for (const piece of this.held.keys()) this.reReport(piece);
  }

  /** Everything pending, for one round; `putBack` it if the round did not go through. */
  take(): Pick<RoundRequest, 'ok' | 'failed'> {
    const report = { ok: this.ok, failed: this.failed };
    this.ok = [];
    this.failed = [];
    return report;
  }

  putBack(report: Pick<RoundRequest, 'ok' | 'failed'>): void {
    this.ok = [...report.ok, ...this.ok.filter((e) => !report.ok.some((r) => r.piece === e.piece))];
    this.failed = [...report.failed, ...this.failed];
  }
}
