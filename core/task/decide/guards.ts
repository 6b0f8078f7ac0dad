import { DamselflyError } from '../../errors.ts';
import type { PeerState, TaskState, TaskStatus } from '../task-state.ts';

/** Statuses in which a task exists and takes part in distribution. */
const LIVE: readonly TaskStatus[] = ['created', 'seeding', 'seeded'];

/** Refuses unless the task exists, has not failed, and is in one of `allowed` (default: any live status). */
export function requireStatus(state: TaskState, allowed: readonly TaskStatus[] = LIVE): void {
  const { status } = state;
  if (allowed.includes(status)) return;
  if (status === 'absent' || status === 'evicted') throw new DamselflyError('DF_ERR_NOT_FOUND', `task ${state.taskId} does not exist`);
  if (status === 'failed') throw new DamselflyError('DF_ERR_TASK_FAILED', state.failure ?? undefined);
  if (status === 'created') throw new DamselflyError('DF_ERR_TASK_NOT_READY', 'the origin has not been probed yet');
  throw new DamselflyError('DF_ERR_TASK_STATE', `not allowed while the task is ${status}`);
}

export function requirePeer(state: TaskState, peerId: string): PeerState {
  const peer = state.peers.get(peerId);
  if (!peer) throw new DamselflyError('DF_ERR_UNKNOWN_PEER', `peer ${peerId} has not joined task ${state.taskId}`);
  return peer;
}

export function requirePiece(state: TaskState, piece: number): void {
  const n = state.pieceCount;
  if (n === null) throw new DamselflyError('DF_ERR_TASK_NOT_READY', 'the piece layout is not known yet');
  if (!Number.isInteger(piece) || piece < 0 || piece >= n) {
    throw new DamselflyError('DF_ERR_PIECE_OUT_OF_RANGE', `piece ${piece} of ${n}`);
  }
}

/** Free-text reasons are bounded by the event schema. */
export function boundedReason(reason: string | undefined, fallback: string): string {
  return (reason || fallback).slice(0, 500);
}
