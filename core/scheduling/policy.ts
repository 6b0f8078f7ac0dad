/**
 * Parameters of the scheduling policy (see docs/scheduling.md). Parsed once from the
 * supernode's configuration; core/ only reads them.
 */
export interface SchedulingPolicy {
  /** Upper bound on assignments handed out in one round trip (the peer also says how many it wants). */
  maxAssignmentsPerRound: number;
  /** Concurrent uploads a peer serves before it stops being offered as a source. */
  peerUploadSlots: number;
  /** Concurrent uploads the CDN serves (the CDN is the fallback source). */
  cdnUploadSlots: number;
  /** How long an assignment may stay unreported before it expires and is reassigned. */
  pieceTimeoutMs: number;
  /**
   * A source that caused this many failures (any requester) is quarantined; a requester that
   * saw this many failures from the CDN is no longer sent to it (one failed peer source is
   * enough to drop that source for the requester it failed).
   */
  quarantineAfterFailures: number;
  /** A peer not heard from for this long is considered gone. */
  peerExpiryMs: number;
  /** Retry hint for a peer that has nothing to fetch right now. */
  waitRetryMs: number;
  /** Sync protocol: the peer parents each peer is given (the CDN comes on top, see cdnChildren). */
  parentsPerPeer: number;
  /** Sync protocol: a peer is a parent of at most this many peers at once. */
  maxChildren: number;
  /** Sync protocol: the CDN is a parent of at most this many peers at once. */
  cdnChildren: number;
  /** Sync protocol: how often a peer reports at most (the supernode says when in every answer). */
  syncIntervalMs: number;
  /**
   * Sync protocol: the syncs per second one task's peers make together at most. A peer's
   * interval grows with the swarm (peers / this), so one task's sync load on its owner stays
   * bounded however many peers it has; a peer still syncs at once when it finished or has no
   * one left to fetch from.
   */
  syncsPerSecond: number;
}

export const DEFAULT_POLICY: SchedulingPolicy = Object.freeze({
  maxAssignmentsPerRound: 8,
  peerUploadSlots: 4,
  cdnUploadSlots: 8,
  pieceTimeoutMs: 30_000,
  quarantineAfterFailures: 3,
  peerExpiryMs: 60_000,
  waitRetryMs: 200,
  parentsPerPeer: 8,
  maxChildren: 16,
  cdnChildren: 16,
  syncIntervalMs: 10_000,
  syncsPerSecond: 100,
});
