/**
 * The state of one download task: the fold of its events (core/events) over initialTaskState().
 * Plain JSON-serialisable data, so snapshots and the state hash are a canonical JSON of it.
 *
 * Per-piece data lives in arrays indexed by piece number; per-peer data in records keyed by
 * peer id. Updates copy only what changes (a peer's `have` array, not the whole task), so an
 * event costs O(pieces touched + one peer), never a deep copy.
 */
export type TaskStatus = 'absent' | 'created' | 'seeding' | 'seeded' | 'failed' | 'evicted';
export type PeerStatus = 'active' | 'succeeded' | 'failed' | 'left';

export interface PieceInfo {
  size: number;
  digest: string;
}

export interface Inflight {
  source: string;
  deadline: number;
}

export interface PeerState {
  peerId: string;
  hostId: string;
  /** host:port of the peer's piece uploader. */
  address: string;
  status: PeerStatus;
  joinedAt: number;
  lastSeenAt: number;
  /** have[p] is true once the peer reported piece p verified and stored. */
  have: boolean[];
  haveCount: number;
  /** Pieces assigned to this peer and not yet reported, by piece number. */
  inflight: Record<number, Inflight>;
  /**
   * assignedFrom[p]: every source piece p was ever assigned to this peer id from (one id, or
   * several after a re-assignment), kept across expiry and re-joins: the only reports of p the
   * protocol could have produced, so the only ones believed (decide-round.ts). Null: never
   * assigned. One array slot per piece holding the source id itself, as cheap as `have`.
   */
  assignedFrom: (string | string[] | null)[];
  /** How many in-flight assignments name this peer as their source (its upload slots in use). */
  uploading: number;
  /** Failures this peer saw, by source id: a source that failed a peer is not offered to it again. */
  failedSources: Record<string, number>;
  /** Failures attributed to this peer as a source, across all requesters (quarantine counter). */
  failuresCaused: number;
  /** Pieces this peer served that were verified by their receiver. */
  served: number;
  /**
   * The sync protocol (docs/decisions.md, "Parents, not pieces"): the peers (and CDN_SOURCE)
   * this peer fetches from now, choosing the pieces itself. Empty for a peer on rounds.
   */
  parents: string[];
  /**
   * Every parent this peer id was ever given, kept across re-parenting and re-joins: a sync's
   * report of a piece is believed only from a peer linked to it either way (wasLinked), as a
   * round's only from an assignment.
   */
  parentsEver: string[];
  /**
   * The active peers that have this one among their parents now. The link works both ways: a
   * peer fetches from its parents and from its children (syncResponse), so a peer that joined
   * early is not cut off from the pieces of those that joined after it.
   */
  children: string[];
}

export interface TaskState {
  status: TaskStatus;
  taskId: string;
  url: string;
  digest: string | null;
  identifier: string | null;
  range: string | null;
  filter: string[];
  createdAt: number;
  contentLength: number | null;
  pieceSize: number | null;
  pieceCount: number | null;
  acceptRanges: boolean;
  etag: string | null;
  lastModified: string | null;
  /**
   * pieces[p] is set once the CDN has first stored piece p: its size and sha256 are known from
   * then on, for good. Whether the CDN can serve it *now* is cdnHeld[p].
   */
  pieces: (PieceInfo | null)[];
  seededCount: number;
  /**
   * cdnHeld[p]: the owner's CDN holds piece p on its disk, so it is a source for it. Set by
   * PiecesSeeded; replaced by OwnershipAcquired.cdnPieces, since the CDN's pieces live on the
   * owner's local disk and a new owner usually lacks the old one's. Implies pieces[p] !== null.
   */
  cdnHeld: boolean[];
  cdnHeldCount: number;
  /**
   * availability[p]: how many serving peers (status active or succeeded) hold piece p; a peer
   * that left or failed cannot serve, so its pieces stop counting (rarest-first reads this).
   */
  availability: number[];
  /** inflightCount[p]: how many peers are currently fetching piece p. */
  inflightCount: number[];
  /** How many in-flight assignments name the CDN as their source. */
  cdnUploading: number;
  /** Pieces served by the CDN and verified by peers. */
  cdnServed: number;
  /** How many active peers have the CDN among their parents now. */
  cdnChildren: number;
  /**
   * Every peer that ever joined, by id. A Map, not a record: the state is copy-on-write and an
   * event that touches a peer copies this container, which for a plain object of hundreds of
   * ids (V8 dictionary mode) cost 76 µs at 200 peers and 730 µs at 1,000, against 13 and 54 µs
   * for a Map (docs/benchmarks.md, "The supernode under hundreds of peers"). Stored and hashed
   * as an object with sorted keys (storedTaskState, canonical.ts).
   */
  peers: Map<string, PeerState>;
  /**
   * Every peer id in the order it first joined: the peers by position, so that choosing
   * parents can look at a bounded window of them instead of all (chooseParents).
   */
  peerOrder: string[];
  owner: { replicaId: string; epoch: number } | null;
  failure: string | null;
  lastEventAt: number;
  /** How many events have been folded in (equals the stream version). */
  version: number;
}

/** Whether `piece` was ever assigned to `peer` from `source` (PeerState.assignedFrom). */
export function wasAssignedFrom(peer: PeerState, piece: number, source: string): boolean {
  const from = peer.assignedFrom[piece];
  return from === source || (Array.isArray(from) && from.includes(source));
}

/**
 * Whether a sync's report of a piece from `source` is believed: the two were ever linked, one
 * a parent of the other (`sourcePeer` is the source's state; none for the CDN).
 */
export function wasLinked(peer: PeerState, source: string, sourcePeer: PeerState | undefined): boolean {
  return peer.parentsEver.includes(source) || (sourcePeer !== undefined && sourcePeer.parentsEver.includes(peer.peerId));
}

/** The state of a task stream before its first event (status 'absent'). */
export function initialTaskState(taskId: string): TaskState {
  return {
    status: 'absent',
    taskId,
    url: '',
    digest: null,
    identifier: null,
    range: null,
    filter: [],
    createdAt: 0,
    contentLength: null,
    pieceSize: null,
    pieceCount: null,
    acceptRanges: false,
    etag: null,
    lastModified: null,
    pieces: [],
    seededCount: 0,
    cdnHeld: [],
    cdnHeldCount: 0,
    availability: [],
    inflightCount: [],
    cdnUploading: 0,
    cdnServed: 0,
    cdnChildren: 0,
    peers: new Map(),
    peerOrder: [],
    owner: null,
    failure: null,
    lastEventAt: 0,
    version: 0,
  };
}
