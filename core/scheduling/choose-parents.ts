import { CDN_SOURCE } from '../events/task-events.ts';
import type { PeerState, TaskState } from '../task/task-state.ts';
import type { SchedulingPolicy } from './policy.ts';
import { mayServe } from './source-pool.ts';
import { fnv1a, mix32 } from './spread-hash.ts';

/**
 * The parents a peer keeps and gets in a sync (the sync protocol, docs/decisions.md "Parents,
 * not pieces"): the supernode decides who a peer fetches from, the peer decides which pieces.
 *
 * - A current parent is kept while it may still serve the requester: serving (active or
 *   succeeded), not quarantined, never failed this requester, heard from within peerExpiryMs
 *   if active (SourcePool's mayServe), and not named in `replace` (the peer found it had
 *   nothing it lacks). The CDN is kept until the requester saw quarantineAfterFailures failures
 *   from it.
 * - The set is filled up to parentsPerPeer peers with eligible peers that have a free child
 *   place (children < maxChildren), taken from a window of PARENT_WINDOW peers (by join order,
 *   state.peerOrder, from a place that the requester and the state's version pick): first those
 *   ahead of the requester (finished, or holding more pieces), then the rest, each group in an
 *   order fixed by mix32(fnv1a(requester) ^ fnv1a(candidate)) — a random graph. If the window
 *   holds too few, the peer gets fewer parents and more at a later sync.
 * - The CDN comes on top while it has fewer than cdnChildren children: it is the root of
 *   every piece, and the swarm needs only a few peers pulling first copies from it.
 *
 * Pure, and O(PARENT_WINDOW × parentsPerPeer) whatever the swarm's size; it runs when a peer
 * joins or loses a parent, not per piece. Both keep the supernode's cost per piece flat.
 */
export function chooseParents(state: TaskState, requester: PeerState, replace: readonly string[], policy: SchedulingPolicy, now: number): string[] {
  const keep = requester.parents.filter((id) => !replace.includes(id) && stillParent(state, requester, id, policy, now));
  const peerParents = keep.filter((id) => id !== CDN_SOURCE).length;
  const picked = pickPeers(state, requester, new Set([...keep, ...replace]), policy.parentsPerPeer - peerParents, policy, now);
  const out = [...keep, ...picked];
  if (!out.includes(CDN_SOURCE) && !replace.includes(CDN_SOURCE) && cdnMayServe(requester, policy) && state.cdnChildren < policy.cdnChildren) out.push(CDN_SOURCE);
  return out;
}

function stillParent(state: TaskState, requester: PeerState, id: string, policy: SchedulingPolicy, now: number): boolean {
  if (id === CDN_SOURCE) return cdnMayServe(requester, policy);
  const peer = state.peers.get(id);
  return peer !== undefined && serving(peer) && mayServe(requester, peer, policy, now);
}

function cdnMayServe(requester: PeerState, policy: SchedulingPolicy): boolean {
  return (requester.failedSources[CDN_SOURCE] ?? 0) < policy.quarantineAfterFailures;
}

function serving(peer: PeerState): boolean {
  return peer.status === 'active' || peer.status === 'succeeded';
}

/**
 * How many peers one choice looks at: enough that a window holds several peers ahead of the
 * requester and with room (about half of all have room: maxChildren is twice parentsPerPeer),
 * few enough to cost microseconds.
 */
export const PARENT_WINDOW = 256;

/** The `want` best candidates by (ahead first, then hash order) in the requester's window, without sorting them all. */
function pickPeers(state: TaskState, requester: PeerState, skip: Set<string>, want: number, policy: SchedulingPolicy, now: number): string[] {
  if (want <= 0) return [];
  const seed = fnv1a(requester.peerId);
  const order = state.peerOrder;
  const n = order.length;
  const start = n === 0 ? 0 : mix32(seed ^ state.version) % n;
  const best: { id: string; rank: number }[] = [];
  for (let k = 0; k < Math.min(n, PARENT_WINDOW); k++) {
    const peer = state.peers.get(order[(start + k) % n]!);
    if (!peer || peer.peerId === requester.peerId || skip.has(peer.peerId) || peer.children.length >= policy.maxChildren) continue;
    if (!serving(peer) || !mayServe(requester, peer, policy, now)) continue;
    const ahead = peer.status === 'succeeded' || peer.haveCount > requester.haveCount;
    // One double, exactly representable: "ahead" above every hash. Not by fewest children:
    // with peers joining one after another that made every peer's parents the few that joined
    // just before it, a band pieces crept along (docs/decisions.md, "Parents, not pieces").
    const rank = (ahead ? 0 : 2 ** 32) + mix32(seed ^ fnv1a(peer.peerId));
    // Most of a window ranks below the `want` best so far: dropped before any allocation.
    const worst = best.length === want ? best[want - 1]! : undefined;
    if (worst && (rank > worst.rank || (rank === worst.rank && peer.peerId >= worst.id))) continue;
    const candidate = { id: peer.peerId, rank };
    let i = best.length === want ? want - 1 : best.length;
    best[i] = candidate;
    while (i > 0 && before(candidate, best[i - 1]!)) {
      [best[i - 1], best[i]] = [best[i]!, best[i - 1]!];
      i--;
    }
  }
  return best.map((b) => b.id);
}

function before(a: { id: string; rank: number }, b: { id: string; rank: number }): boolean {
  return a.rank < b.rank || (a.rank === b.rank && a.id < b.id);
}
