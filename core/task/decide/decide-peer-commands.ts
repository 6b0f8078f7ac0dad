import type { TaskEvent } from '../../events/index.ts';
import { DamselflyError } from '../../errors.ts';
import { expiredAssignments, expiredPeers, type SchedulingPolicy } from '../../scheduling/index.ts';
import type { TaskState } from '../task-state.ts';
import type { ExpireAssignments, Join, Leave } from '../task-commands.ts';
import { boundedReason, requirePeer, requireStatus } from './guards.ts';

/**
 * Joining again with the same id and address is a no-op (a retried request). A peer that left,
 * expired, failed or finished may join again with its id: it starts over and reports what it
 * holds. Another address under an active id is a different peer claiming the id: refused.
 */
export function decideJoin(cmd: Join, state: TaskState): TaskEvent[] {
  requireStatus(state);
  const existing = state.peers.get(cmd.peerId);
  if (existing?.status === 'active') {
    if (existing.address === cmd.address && existing.hostId === cmd.hostId) return [];
    throw new DamselflyError('DF_ERR_PEER_EXISTS', `peer ${cmd.peerId} is active at ${existing.address}`);
  }
  const { peerId, hostId, address, at } = cmd;
  return [{ type: 'PeerJoined', data: { peerId, hostId, address, at } }];
}

/** Idempotent: leaving a second time changes nothing. A finished peer may still leave (stop serving). */
export function decideLeave(cmd: Leave, state: TaskState): TaskEvent[] {
  requireStatus(state, ['created', 'seeding', 'seeded', 'failed']);
  const peer = requirePeer(state, cmd.peerId);
  const { peerId, at } = cmd;
  if (peer.status === 'left' || peer.status === 'failed') return [];
  if (peer.status === 'succeeded' && cmd.outcome !== 'left') return [];
  switch (cmd.outcome) {
    case 'succeeded':
      return [{ type: 'PeerSucceeded', data: { peerId, at } }];
    case 'failed':
      return [{ type: 'PeerFailed', data: { peerId, reason: boundedReason(cmd.reason, 'failed'), at } }];
    case 'left':
      return [{ type: 'PeerLeft', data: { peerId, reason: 'left', at } }];
  }
}

/**
 * The timer tick. A peer not heard from for `peerExpiryMs` is gone (PeerLeft 'expired', which
 * also ends its assignments); every other assignment past its deadline expires, so the piece
 * can be given to someone else. Which ones is the scheduling policy's call (core/scheduling),
 * in peer id order, so the events do not depend on the order of the peers map.
 */
export function decideExpireAssignments(cmd: ExpireAssignments, state: TaskState, policy: SchedulingPolicy): TaskEvent[] {
  if (state.status === 'absent' || state.status === 'evicted') return [];
  const now = cmd.at;
  const gone = expiredPeers(state, now, policy);
  const events: TaskEvent[] = gone.map((peerId) => ({ type: 'PeerLeft', data: { peerId, reason: 'expired', at: now } }));
  for (const { peerId, pieces } of expiredAssignments(state, now)) {
    if (!gone.includes(peerId)) events.push({ type: 'AssignmentsExpired', data: { peerId, pieces, at: now } });
  }
  return events;
}

/**
 * When the next ExpireAssignments can have an effect (ms), or null if nothing is pending:
 * the supernode arms one timer for this instead of one per assignment.
 */
export function nextExpiryAt(state: TaskState, policy: SchedulingPolicy): number | null {
  if (state.status === 'absent' || state.status === 'evicted') return null;
  let next = Infinity;
  for (const peer of state.peers.values()) {
    if (peer.status !== 'active') continue;
    next = Math.min(next, peer.lastSeenAt + policy.peerExpiryMs);
    for (const entry of Object.values(peer.inflight)) next = Math.min(next, entry.deadline);
  }
  return next === Infinity ? null : next;
}
