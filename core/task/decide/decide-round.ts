import { bySource, CDN_SOURCE, type EventOf, type TaskEvent, type VerifiedFrom } from '../../events/index.ts';
import { DamselflyError } from '../../errors.ts';
import type { PieceChoice } from '../../scheduling/assign-pieces.ts';
import type { SchedulingPolicy } from '../../scheduling/policy.ts';
import { applyTaskEvent } from '../apply-task-event.ts';
import { wasAssignedFrom, type PeerState, type TaskState } from '../task-state.ts';
import type { Round } from '../task-commands.ts';
import { requirePeer, requirePiece, requireStatus } from './guards.ts';

export type AssignFn = (state: TaskState, peerId: string, want: number, policy: SchedulingPolicy, now: number) => PieceChoice[];

/**
 * A peer's round trip: its report (PiecesReported), then new assignments (PiecesAssigned)
 * chosen on the state *after* the report, so the pieces it just got count as held and the
 * slots it just freed as free.
 *
 * The report is reconciled, not trusted blindly, and retrying a round is harmless:
 * - an ok piece is believed only if the protocol could have given it: the piece was assigned to
 *   this peer id from that source, now or earlier (assignedFrom: an assignment that expired or
 *   was replaced, one made before a re-join; after a failover the replayed state holds every
 *   assignment ever answered, since a round is answered only once its events are committed).
 *   Any other is refused: not recorded, so the peer is never offered as its source
 *   (refusedReports; the supernode counts them). One the peer already has is dropped as a repeat;
 * - a failure counts only against the in-flight assignment it names (same piece and source);
 *   otherwise it is stale (already reported, expired) and dropped, so a source is never
 *   blamed twice for one failure.
 * A round with nothing to record still refreshes the peer's lastSeenAt (an empty report) once
 * a quarter of peerExpiryMs has passed, so a peer that waits for pieces does not expire.
 */
export function decideRound(cmd: Round, state: TaskState, policy: SchedulingPolicy, assign: AssignFn): TaskEvent[] {
  requireStatus(state);
  const peer = requirePeer(state, cmd.peerId);
  if (peer.status === 'left' || peer.status === 'failed') {
    throw new DamselflyError('DF_ERR_PEER_GONE', `peer ${cmd.peerId} has ${peer.status === 'left' ? 'left' : 'failed'}; join again`);
  }
  if (peer.status === 'succeeded') return [];
  if (!Number.isInteger(cmd.want) || cmd.want < 0) throw new DamselflyError('DF_ERR_VALIDATION', `invalid want ${cmd.want}`);

  const events: TaskEvent[] = [];
  let after = state;
  const report = reconcileReport({ peerId: cmd.peerId, ok: bySource(cmd.ok), failed: cmd.failed }, state, peer, {
    believes: (source) => (piece) => !refusal(peer, piece, source),
    counts: (piece, source) => peer.inflight[piece]?.source === source,
  });
  if (report.ok.length > 0 || report.failed.length > 0) {
    const reported: EventOf<'PiecesReported'> = { type: 'PiecesReported', data: { peerId: cmd.peerId, ...report, at: cmd.at } };
    events.push(reported);
    after = applyTaskEvent(state, reported);
  }
  for (const e of expireUnreachableSources(report.failed, after, cmd.at)) {
    events.push(e);
    after = applyTaskEvent(after, e);
  }
  const want = Math.min(cmd.want, policy.maxAssignmentsPerRound);
  if (want > 0 && (state.status === 'seeding' || state.status === 'seeded')) {
    const choices = assign(after, cmd.peerId, want, policy, cmd.at);
    if (choices.length > 0) {
      const assignments = choices.map(({ piece, source, deadline }) => ({ piece, source, deadline }));
      events.push({ type: 'PiecesAssigned', data: { peerId: cmd.peerId, assignments, at: cmd.at } });
    }
  }
  if (events.length === 0 && cmd.at - peer.lastSeenAt >= policy.peerExpiryMs / 4) {
    events.push({ type: 'PiecesReported', data: { peerId: cmd.peerId, ok: [], failed: [], at: cmd.at } });
  }
  return events;
}

/**
 * A source that a requester could not even connect to is most likely gone (killed, partitioned).
 * Its own downloads are then dead too, but they would hold their pieces "in flight" — and the
 * CDN sends no second copy of a piece while a first is on its way — until their deadlines
 * (pieceTimeoutMs) pass, stalling every peer that waits for those pieces. So its in-flight
 * assignments expire now. If it was only a glitch, the source's later report of those pieces is
 * still accepted (it was assigned from that source: assignedFrom keeps it).
 */
function expireUnreachableSources(failed: Round['failed'], state: TaskState, at: number): EventOf<'AssignmentsExpired'>[] {
  const out: EventOf<'AssignmentsExpired'>[] = [];
  const done = new Set<string>();
  for (const { source, reason } of failed) {
    if (reason !== 'unreachable' || source === CDN_SOURCE || done.has(source)) continue;
    done.add(source);
    const peer = state.peers.get(source);
    if (!peer || peer.status !== 'active') continue;
    const pieces = Object.keys(peer.inflight).map(Number).sort((a, b) => a - b);
    if (pieces.length > 0) out.push({ type: 'AssignmentsExpired', data: { peerId: source, pieces, at } });
  }
  return out;
}

/** Why an ok entry is refused: its piece was never assigned to the peer, or only from other sources. */
export type RefusedReason = 'unassigned' | 'wrong_source';

/**
 * The ok entries of a round that decideRound refuses on `state`, with why: the supernode counts
 * these (decideRound itself returns only events, and a refusal changes nothing). A round that
 * decideRound rejects outright (a piece out of range, an unknown source) is not counted here.
 */
export function refusedReports(state: TaskState, peerId: string, ok: Round['ok']): { piece: number; source: string; reason: RefusedReason }[] {
  const peer = state.peers.get(peerId);
  if (!peer || peer.status !== 'active') return [];
  const seen = new Set<number>();
  const out: { piece: number; source: string; reason: RefusedReason }[] = [];
  for (const { piece, source } of ok) {
    if (seen.has(piece) || peer.have[piece] || piece >= peer.assignedFrom.length) continue;
    const reason = refusal(peer, piece, source);
    if (reason) out.push({ piece, source, reason });
    else seen.add(piece);
  }
  return out;
}

function refusal(peer: PeerState, piece: number, source: string): RefusedReason | undefined {
  if (wasAssignedFrom(peer, piece, source)) return undefined;
  return peer.assignedFrom[piece] == null ? 'unassigned' : 'wrong_source';
}

/**
 * Which entries of a report are recorded: `believes(source)` says which of the pieces verified
 * from `source` are (asked once per source: the sync protocol's rule is per source), `counts`
 * which failures are.
 */
export interface ReportRules {
  believes: (source: string) => (piece: number) => boolean;
  counts: (piece: number, source: string) => boolean;
}

/**
 * The entries of a report (a round's or a sync's) that are recorded: every entry is checked
 * (piece in range, a known source that is not the peer itself; else the whole report is
 * refused), then a verified piece the peer does not hold yet is kept if believed, a failure
 * if it `counts`; one entry per piece, verified ones first.
 */
export function reconcileReport(cmd: { peerId: string; ok: readonly VerifiedFrom[]; failed: Round['failed'] }, state: TaskState, peer: PeerState, rules: ReportRules) {
  const seen = new Set<number>();
  const ok: VerifiedFrom[] = [];
  for (const group of cmd.ok) {
    checkSource(state, cmd.peerId, group.source);
    const believed = rules.believes(group.source);
    const kept: VerifiedFrom = { source: group.source, pieces: [], ms: [] };
    for (let i = 0; i < group.pieces.length; i++) {
      const piece = group.pieces[i]!;
      requirePiece(state, piece);
      if (peer.have[piece] || seen.has(piece) || !believed(piece)) continue;
      seen.add(piece);
      kept.pieces.push(piece);
      kept.ms.push(group.ms[i]!);
    }
    if (kept.pieces.length > 0) ok.push(kept);
  }
  const failed: Round['failed'] = [];
  for (const entry of cmd.failed) {
    requirePiece(state, entry.piece);
    checkSource(state, cmd.peerId, entry.source);
    if (seen.has(entry.piece) || !rules.counts(entry.piece, entry.source)) continue;
    seen.add(entry.piece);
    failed.push({ piece: entry.piece, source: entry.source, reason: entry.reason });
  }
  return { ok, failed };
}

/** The number of verified pieces in a grouped report. */
export function verifiedCount(ok: readonly VerifiedFrom[]): number {
  let n = 0;
  for (const group of ok) n += group.pieces.length;
  return n;
}

function checkSource(state: TaskState, peerId: string, source: string): void {
  if (source === peerId) throw new DamselflyError('DF_ERR_VALIDATION', `peer ${peerId} cannot be its own source`);
  if (source !== CDN_SOURCE && !state.peers.has(source)) {
    throw new DamselflyError('DF_ERR_UNKNOWN_SOURCE', `source ${source} is not part of task ${state.taskId}`);
  }
}
