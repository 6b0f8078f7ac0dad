import type { TaskState } from '../task/task-state.ts';
import type { SchedulingPolicy } from './policy.ts';

export interface PieceChoice {
  piece: number;
  /** A peer id, or CDN_SOURCE. */
  source: string;
  deadline: number;
}

/**
 * Chooses up to `want` pieces for `peerId` and a source for each (rarest first, least-loaded
 * eligible peer, the CDN as fallback). Pure: same inputs, same choices.
 * STUB — being written (core/scheduling); returns nothing until then.
 */
export function assignPieces(
  _state: TaskState,
  _peerId: string,
  _want: number,
  _policy: SchedulingPolicy,
  _now: number,
): PieceChoice[] {
  return [];
}
