import { CDN_SOURCE } from '../../../core/events/task-events.ts';
import type { PeerState, PeerStatus, TaskState } from '../../../core/task/task-state.ts';
import { initialTaskState } from '../../../core/task/task-state.ts';

/**
 * A TaskState builder for the scheduler's tests, independent of the task reducer: it derives
 * every counter the reducer maintains (availability, inflightCount, uploading, cdnUploading,
 * haveCount, seededCount, cdnHeldCount) from what the peers hold and fetch, so the states obey the
 * invariants documented in core/task/task-state.ts without going through events.
 */
export interface PeerSpec {
  id: string;
  status?: PeerStatus;
  have?: number[];
  /** piece → source id */
  inflight?: Record<number, string>;
  failedSources?: Record<string, number>;
  failuresCaused?: number;
  lastSeenAt?: number;
  /** The sync protocol's parents (peer ids or CDN_SOURCE); children counts follow from them. */
  parents?: string[];
}

export interface TaskSpec {
  pieceCount: number;
  /** Pieces seeded (digest known); default all. */
  seeded?: number[];
  /** Of the seeded pieces, those the CDN holds now; default all of them (as on the first owner). */
  cdnHeld?: number[];
  peers: PeerSpec[];
  /** Deadline written on the built in-flight entries. */
  deadline?: number;
}

export function buildState(spec: TaskSpec): TaskState {
  const n = spec.pieceCount;
  const seeded = new Set(spec.seeded ?? Array.from({ length: n }, (_, p) => p));
  const cdnHeld = new Set((spec.cdnHeld ?? [...seeded]).filter((p) => seeded.has(p)));
  const state: TaskState = {
    ...initialTaskState('task-under-test'),
    status: 'seeding',
    pieceCount: n,
    pieceSize: 100,
    contentLength: n * 100,
    pieces: Array.from({ length: n }, (_, p) => (seeded.has(p) ? { size: 100, digest: p.toString(16).padStart(64, '0') } : null)),
    seededCount: seeded.size,
    cdnHeld: Array.from({ length: n }, (_, p) => cdnHeld.has(p)),
    cdnHeldCount: cdnHeld.size,
    availability: new Array<number>(n).fill(0),
    inflightCount: new Array<number>(n).fill(0),
  };
  for (const s of spec.peers) {
    const have = new Array<boolean>(n).fill(false);
    for (const p of s.have ?? []) have[p] = true;
    const peer: PeerState = {
      peerId: s.id,
      hostId: `host-${s.id}`,
      address: `127.0.0.1:${10_000 + [...state.peers.keys()].length}`,
      status: s.status ?? 'active',
      joinedAt: 0,
      lastSeenAt: s.lastSeenAt ?? 0,
      have,
      haveCount: have.filter(Boolean).length,
      inflight: {},
      assignedFrom: new Array<null>(n).fill(null),
      uploading: 0,
      failedSources: { ...(s.failedSources ?? {}) },
      failuresCaused: s.failuresCaused ?? 0,
      served: 0,
      parents: s.parents ?? [],
      parentsEver: s.parents ?? [],
      children: [],
    };
    state.peers.set(s.id, peer);
    state.peerOrder.push(s.id);
  }
  for (const s of spec.peers) {
    const peer = state.peers.get(s.id)!;
    for (const id of peer.status === 'active' ? peer.parents : []) {
      if (id === CDN_SOURCE) state.cdnChildren++;
      else state.peers.get(id)!.children.push(s.id);
    }
    if (peer.status !== 'active') peer.parents = [];
    if (peer.status === 'active' || peer.status === 'succeeded') peer.have.forEach((h, p) => h && state.availability[p]!++);
    for (const [key, source] of Object.entries(s.inflight ?? {})) {
      const p = Number(key);
      if (peer.have[p] || peer.status !== 'active') continue;
      peer.inflight[p] = { source, deadline: spec.deadline ?? 1_000 };
      peer.assignedFrom[p] = source;
      state.inflightCount[p]!++;
      if (source === CDN_SOURCE) state.cdnUploading++;
      else state.peers.get(source)!.uploading++;
    }
  }
  return state;
}

/** The same state with its peers map in reverse order (determinism must not depend on it). */
export function reversePeers(state: TaskState): TaskState {
  const peers = new Map([...state.peers.entries()].reverse());
  return { ...state, peers };
}
