import type { StoredEvent } from '../../core/events/index.ts';
import type { TaskCommand, TaskSnapshot } from '../../core/task/index.ts';

/**
 * One live task: its current snapshot and stream version, and its mailbox. Commands that
 * arrive while an append is in flight wait in `mailbox` and are decided and appended together
 * in the next batch — the per-task group commit that keeps hundreds of peers on one task from
 * turning into hundreds of transactions.
 */
export interface TaskActor {
  taskId: string;
  snapshot: TaskSnapshot;
  version: number;
  /** Version of the last stored snapshot (to know when the next one is due). */
  snapshotVersion: number;
  mailbox: PendingCommand[];
  busy: boolean;
  lastUsedAt: number;
}

export interface PendingCommand {
  command: TaskCommand;
  resolve: (outcome: CommandOutcome) => void;
  reject: (err: unknown) => void;
}

export interface CommandOutcome {
  /** The events this command caused, as committed. */
  events: StoredEvent[];
  /** The task state right after this command's events. */
  snapshot: TaskSnapshot;
}
