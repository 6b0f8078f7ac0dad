import type { NewEvent } from '../../core/events/index.ts';

/** One validated append waiting in the group commit queue. */
export interface PendingAppend {
  streamId: string;
  expected: number;
  epoch: number;
  /** The shard whose lease fences this append (AppendOptions.shard), null for none. */
  shard: number | null;
  /** The events as checkNewEvents returned them (what is stored). */
  events: NewEvent[];
  /** `events` as a JSON array, serialised once in the caller's turn. */
  json: string;
}
