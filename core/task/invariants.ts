import { CDN_SOURCE } from '../events/index.ts';
import { wasAssignedFrom, type TaskState } from './task-state.ts';

/**
 * The bookkeeping invariants of a TaskState, recomputed from scratch. The reducer maintains
 * the counters incrementally (O(touched) per event); this O(peers × pieces) check is for
 * tests and for a supernode debug mode. Returns the violations, empty when all hold.
 */
export function taskInvariantViolations(state: TaskState): string[] {
  const errors: string[] = [];
  const n = state.pieceCount ?? 0;
  const availability = new Array<number>(n).fill(0);
  const inflightCount = new Array<number>(n).fill(0);
  const uploading = new Map<string, number>();
  for (const peer of state.peers.values()) {
    if (peer.have.length !== n) errors.push(`peer ${peer.peerId}: have has ${peer.have.length} entries, not ${n}`);
    if (peer.assignedFrom.length !== n) errors.push(`peer ${peer.peerId}: assignedFrom has ${peer.assignedFrom.length} entries, not ${n}`);
    const held = peer.have.filter(Boolean).length;
    if (held !== peer.haveCount) errors.push(`peer ${peer.peerId}: haveCount ${peer.haveCount} but holds ${held}`);
    if (peer.status === 'active' || peer.status === 'succeeded') peer.have.forEach((h, p) => h && availability[p]!++);
    const inflight = Object.entries(peer.inflight);
    if (inflight.length > 0 && peer.status !== 'active') errors.push(`peer ${peer.peerId}: ${peer.status} with pieces in flight`);
    for (const [piece, entry] of inflight) {
      inflightCount[Number(piece)]!++;
      if (!wasAssignedFrom(peer, Number(piece), entry.source)) errors.push(`peer ${peer.peerId}: piece ${piece} in flight from ${entry.source} is not in assignedFrom`);
      uploading.set(entry.source, (uploading.get(entry.source) ?? 0) + 1);
    }
    for (const [field, value] of [['uploading', peer.uploading], ['served', peer.served], ['failuresCaused', peer.failuresCaused]] as const) {
      if (value < 0) errors.push(`peer ${peer.peerId}: ${field} ${value} < 0`);
    }
  }
  for (let p = 0; p < n; p++) {
    if (state.availability[p] !== availability[p]) errors.push(`availability[${p}] ${state.availability[p]} != ${availability[p]}`);
    if (state.inflightCount[p] !== inflightCount[p]) errors.push(`inflightCount[${p}] ${state.inflightCount[p]} != ${inflightCount[p]}`);
  }
  for (const [name, arr] of [['availability', state.availability], ['inflightCount', state.inflightCount], ['pieces', state.pieces], ['cdnHeld', state.cdnHeld]] as const) {
    if (arr.length !== n) errors.push(`${name} has ${arr.length} entries, not ${n}`);
  }
  for (const peer of state.peers.values()) {
    const expected = uploading.get(peer.peerId) ?? 0;
    if (peer.uploading !== expected) errors.push(`peer ${peer.peerId}: uploading ${peer.uploading} != ${expected} in flight from it`);
  }
  errors.push(...parentViolations(state));
  if (state.peerOrder.length !== state.peers.size || new Set(state.peerOrder).size !== state.peers.size || state.peerOrder.some((id) => !state.peers.has(id))) errors.push(`peerOrder does not list each peer once`);
  const cdn = uploading.get(CDN_SOURCE) ?? 0;
  if (state.cdnUploading !== cdn) errors.push(`cdnUploading ${state.cdnUploading} != ${cdn}`);
  const seeded = state.pieces.filter((p) => p !== null).length;
  if (state.seededCount !== seeded) errors.push(`seededCount ${state.seededCount} != ${seeded}`);
  const held = state.cdnHeld.filter(Boolean).length;
  if (state.cdnHeldCount !== held) errors.push(`cdnHeldCount ${state.cdnHeldCount} != ${held}`);
  state.cdnHeld.forEach((h, p) => h && !state.pieces[p] && errors.push(`cdnHeld[${p}] but its digest is not known`));
  if (state.cdnServed < 0) errors.push(`cdnServed ${state.cdnServed} < 0`);
  return errors;
}

/** The sync protocol's: only active peers have parents, each parent's children count them, parentsEver holds every parent. */
function parentViolations(state: TaskState): string[] {
  const errors: string[] = [];
  const children = new Map<string, string[]>();
  for (const peer of state.peers.values()) {
    if (peer.parents.length > 0 && peer.status !== 'active') errors.push(`peer ${peer.peerId}: ${peer.status} with parents`);
    for (const id of peer.parents) {
      children.set(id, [...(children.get(id) ?? []), peer.peerId]);
      if (!peer.parentsEver.includes(id)) errors.push(`peer ${peer.peerId}: parent ${id} is not in parentsEver`);
    }
  }
  for (const peer of state.peers.values()) {
    const expected = (children.get(peer.peerId) ?? []).sort().join(',');
    if ([...peer.children].sort().join(',') !== expected) errors.push(`peer ${peer.peerId}: children [${peer.children.join(',')}] are not the peers with it as parent [${expected}]`);
  }
  const cdn = children.get(CDN_SOURCE)?.length ?? 0;
  if (state.cdnChildren !== cdn) errors.push(`cdnChildren ${state.cdnChildren} != ${cdn}`);
  return errors;
}
