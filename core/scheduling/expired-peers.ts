import type { TaskState } from '../task/task-state.ts';
import type { SchedulingPolicy } from './policy.ts';

/**
 * Active peers not heard from for peerExpiryMs or more (lastSeenAt + peerExpiryMs <= now), in
 * id order. The boundary matches SourcePool, which stops offering such a peer as a source at the
 * same moment. Succeeded peers make no round trips, so silence says nothing about them: they
 * are never expired here (a dead one is found through its requesters' failures).
 */
export function expiredPeers(state: TaskState, now: number, policy: SchedulingPolicy): string[] {
  const out: string[] = [];
  for (const peerId of [...state.peers.keys()].sort()) {
    const peer = state.peers.get(peerId)!;
    if (peer.status === 'active' && now - peer.lastSeenAt >= policy.peerExpiryMs) out.push(peerId);
  }
  return out;
}
