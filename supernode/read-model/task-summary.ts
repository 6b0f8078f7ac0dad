import type { StoredEvent } from '../../core/events/index.ts';
import type { TaskStatus } from '../../core/task/task-state.ts';

/** What the read model shows about one task (the "list tasks" view, dashboards). */
export interface TaskSummary {
  taskId: string;
  version: number;
  status: Exclude<TaskStatus, 'absent'>;
  url: string | null;
  pieceCount: number | null;
  seededCount: number;
  /** Peers that joined and have not left (succeeded and failed peers still count). */
  peers: number;
  lastEventAt: number;
}

/** The summary plus the little it needs to stay exact under repeated facts. */
export interface SummaryState {
  summary: TaskSummary;
  seeded: boolean[];
  peerIds: Set<string>;
}

export function emptySummary(taskId: string): SummaryState {
  return {
    summary: { taskId, version: 0, status: 'created', url: null, pieceCount: null, seededCount: 0, peers: 0, lastEventAt: 0 },
    seeded: [],
    peerIds: new Set(),
  };
}

/**
 * Folds one event into a task's summary, in place. A deliberately small fold of its own, not
 * the task machine: the read model must not break or slow down when the machine's state grows.
 * Callers feed each stream's events once, in version order (see Deduplicator).
 */
export function foldSummary(state: SummaryState, event: StoredEvent): void {
  const s = state.summary;
  switch (event.type) {
    case 'TaskCreated':
      Object.assign(state, emptySummary(event.streamId));
      state.summary.url = event.data.url;
      break;
    case 'SourceProbed':
      s.status = 'seeding';
      s.pieceCount = event.data.pieceCount;
      s.seededCount = 0;
      state.seeded = new Array<boolean>(event.data.pieceCount).fill(false);
      break;
    case 'PiecesSeeded':
      for (const { piece } of event.data.pieces) {
        if (piece < state.seeded.length && !state.seeded[piece]) {
          state.seeded[piece] = true;
          s.seededCount += 1;
        }
      }
      break;
    case 'PeerJoined':
      state.peerIds.add(event.data.peerId);
      break;
    case 'PeerLeft':
      state.peerIds.delete(event.data.peerId);
      break;
    case 'TaskSucceeded':
      s.status = 'seeded';
      break;
    case 'TaskFailed':
      s.status = 'failed';
      break;
    case 'TaskEvicted':
      s.status = 'evicted';
      break;
    case 'PiecesAssigned':
    case 'PiecesReported':
    case 'AssignmentsExpired':
    case 'PeerSucceeded':
    case 'PeerFailed':
    case 'OwnershipAcquired':
      break;
    default: {
      const never: never = event;
      throw new Error(`unknown event type ${(never as StoredEvent).type}`);
    }
  }
  // TaskCreated replaced state.summary; write through the current object.
  const now = state.summary;
  now.peers = state.peerIds.size;
  now.version = event.version;
  now.lastEventAt = eventTime(event);
}

function eventTime(event: StoredEvent): number {
  return event.data.at;
}
