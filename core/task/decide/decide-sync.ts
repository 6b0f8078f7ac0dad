import type { EventOf, TaskEvent } from '../../events/index.ts';
import { DamselflyError } from '../../errors.ts';
import { chooseParents } from '../../scheduling/choose-parents.ts';
import type { SchedulingPolicy } from '../../scheduling/policy.ts';
import { countsAgainstSource } from '../apply/apply-piece-events.ts';
import { joinedPeer } from '../apply/apply-peer-events.ts';
import { decideJoin } from './decide-peer-commands.ts';
import { wasLinked, type PeerState, type TaskState } from '../task-state.ts';
import type { Sync } from '../task-commands.ts';
import { reconcileReport, verifiedCount } from './decide-round.ts';
import { requirePeer, requireStatus } from './guards.ts';

/**
 * A peer's sync (docs/decisions.md, "Parents, not pieces"): its batch of verified and failed
 * pieces (PiecesReported), then its parents for the time until the next sync
 * (ParentsAssigned, only when they change), chosen on the state after the report.
 *
 * The report is reconciled as a round's is, with the sync protocol's rule of trust:
 * - a verified piece is believed only from a source this peer id was ever linked to, one the
 *   other's parent (wasLinked: a piece fetched before a re-parenting, a re-join or a failover
 *   is still believed). Any other is refused: not recorded, so the peer does not count as its
 *   holder (refusedSyncReports names them for the metric);
 * - a failure counts only against a current link (parent or child). It makes that source
 *   ineligible for this peer (failedSources): a parent is replaced in the same decision, a
 *   child is no longer named as a source, and a later report against it is stale.
 * A sync that carries `join` joins the peer first (one request and one decision for a peer's
 * first sync instead of two). A sync whose report completes the peer makes it succeeded
 * (PeerSucceeded: it keeps serving, and needs no leave). A sync with nothing to record still
 * refreshes lastSeenAt once a quarter of peerExpiryMs has passed, as a round does.
 */
export function decideSync(cmd: Sync, state: TaskState, policy: SchedulingPolicy): TaskEvent[] {
  requireStatus(state);
  let joined: TaskEvent[] = [];
  let peer: PeerState;
  if (cmd.join) {
    // A first sync joins too, as the Join command decides it (idempotent; another address
    // under an active id is refused). The peer that joins is built as evolve will build it,
    // not by evolving the state: that would copy the peers map per joining peer.
    joined = decideJoin({ type: 'Join', at: cmd.at, peerId: cmd.peerId, ...cmd.join }, state);
    const event = joined[0];
    peer = event?.type === 'PeerJoined' ? joinedPeer(event.data, state.peers.get(cmd.peerId), state.pieceCount ?? 0) : requirePeer(state, cmd.peerId);
  } else peer = requirePeer(state, cmd.peerId);
  if (peer.status === 'left' || peer.status === 'failed') {
    throw new DamselflyError('DF_ERR_PEER_GONE', `peer ${cmd.peerId} has ${peer.status === 'left' ? 'left' : 'failed'}; join again`);
  }
  if (peer.status === 'succeeded') return [];

  const events: TaskEvent[] = [...joined];
  const report = reconcileReport(cmd, state, peer, {
    believes: (source) => {
      const linked = wasLinked(peer, source, state.peers.get(source));
      return () => linked;
    },
    counts: (_piece, source) => peer.parents.includes(source) || peer.children.includes(source),
  });
  if (report.ok.length > 0 || report.failed.length > 0) {
    const reported: EventOf<'PiecesReported'> = { type: 'PiecesReported', data: { peerId: cmd.peerId, ...report, at: cmd.at } };
    events.push(reported);
  }
  const requester = afterReport(peer, report);
  const complete = state.pieceCount !== null && requester.haveCount === state.pieceCount;
  if (complete) {
    // Every piece verified: the peer has succeeded, as a round-protocol peer says with a
    // leave. It keeps serving; its parents are let go (applyPeerOutcome).
    events.push({ type: 'PeerSucceeded', data: { peerId: cmd.peerId, at: cmd.at } });
    return events;
  }
  if (state.status === 'seeding' || state.status === 'seeded') {
    const parents = chooseParents(state, requester, cmd.replace, policy, cmd.at);
    if (!sameMembers(parents, requester.parents)) events.push({ type: 'ParentsAssigned', data: { peerId: cmd.peerId, parents, at: cmd.at } });
  }
  if (events.length === 0 && cmd.at - peer.lastSeenAt >= policy.peerExpiryMs / 4) {
    events.push({ type: 'PiecesReported', data: { peerId: cmd.peerId, ok: [], failed: [], at: cmd.at } });
  }
  return events;
}

/** The ok entries of a sync that decideSync refuses on `state` (never linked to their source): the supernode counts them. */
export function refusedSyncReports(state: TaskState, peerId: string, ok: Sync['ok']): { piece: number; source: string; reason: 'not_parent' }[] {
  const peer = state.peers.get(peerId);
  if (!peer || peer.status !== 'active') return [];
  return ok
    .filter(({ source }) => !wasLinked(peer, source, state.peers.get(source)))
    .flatMap(({ source, pieces }) => pieces.filter((piece) => !peer.have[piece]).map((piece) => ({ piece, source, reason: 'not_parent' as const })));
}

/**
 * The requester as the report leaves it, as far as choosing its parents looks: how many pieces
 * it holds and which sources failed it. Only the requester: the task state is not evolved
 * here, which would copy its peers map per sync (the supernode folds the events once per batch).
 */
function afterReport(peer: PeerState, report: { ok: Sync['ok']; failed: Sync['failed'] }): PeerState {
  if (report.ok.length === 0 && report.failed.length === 0) return peer;
  const failedSources = { ...peer.failedSources };
  for (const { source, reason } of report.failed) if (countsAgainstSource(source, reason)) failedSources[source] = (failedSources[source] ?? 0) + 1;
  return { ...peer, haveCount: peer.haveCount + verifiedCount(report.ok), failedSources };
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id) => b.includes(id));
}
