import type { StoredEvent } from '../../core/events/index.ts';
import { nextStatus, type TaskStatus } from '../../core/task/index.ts';

/** What the read model shows about one task (GET /api/v1/tasks, dashboards). */
export interface TaskSummary {
  taskId: string;
  version: number;
  status: TaskStatus;
  /** The URL without credentials or query (see `listedUrl`); null before TaskCreated. */
  url: string | null;
  pieceCount: number | null;
  seededCount: number;
  /** Peers still fetching or serving (active or succeeded), counted as GET /api/v1/tasks/{id} does. */
  peers: number;
  /** Time of the task's last event (epoch ms, the writer's clock). */
  lastEventAt: number;
}

/** The summary plus the little it needs to stay exact under repeated facts. */
export interface SummaryState {
  summary: TaskSummary;
  /** seeded[p] = 1 once piece p is seeded; released (empty) once every piece is. */
  seeded: Uint8Array;
  /** Every peer id that joined, and whether it counts in `peers` (as core's peer status). */
  peerCounts: Map<string, boolean>;
}

export function emptySummary(taskId: string): SummaryState {
  return {
    summary: { taskId, version: 0, status: 'absent', url: null, pieceCount: null, seededCount: 0, peers: 0, lastEventAt: 0 },
    seeded: new Uint8Array(0),
    peerCounts: new Map(),
  };
}

/**
 * Folds one event into a task's summary, in place. A deliberately small fold of its own, not
 * the task machine: the read model must not break or slow down when the machine's state grows.
 * It agrees with core's fold on what it shows (the status comes from core's LIFECYCLE table;
 * test/unit/read-model checks the rest against taskView). Callers feed each stream's events
 * once, in version order (see Deduplicator).
 */
export function foldSummary(state: SummaryState, event: StoredEvent): void {
  const status = nextStatus(state.summary.status, event.type);
  const s = state.summary;
  switch (event.type) {
    case 'TaskCreated':
      // A (re)created task starts from scratch, as in core's applyTaskCreated.
      Object.assign(state, emptySummary(event.streamId));
      state.summary.url = listedUrl(event.data.url);
      break;
    case 'SourceProbed':
      s.pieceCount = event.data.pieceCount;
      s.seededCount = 0;
      state.seeded = new Uint8Array(event.data.pieceCount);
      break;
    case 'PiecesSeeded':
      for (const { piece } of event.data.pieces) {
        if (piece < state.seeded.length && state.seeded[piece] === 0) {
          state.seeded[piece] = 1;
          s.seededCount += 1;
        }
      }
      // Nothing can be seeded for the first time any more (until a new probe): drop the bitmap.
      if (s.seededCount === state.seeded.length) state.seeded = new Uint8Array(0);
      break;
    case 'PeerJoined':
      setPeer(state, event.data.peerId, true);
      break;
    case 'PeerLeft':
    case 'PeerFailed':
      // As core's applyPeerOutcome: an outcome for a peer that never joined changes nothing.
      if (state.peerCounts.has(event.data.peerId)) setPeer(state, event.data.peerId, false);
      break;
    case 'PeerSucceeded':
      if (state.peerCounts.has(event.data.peerId)) setPeer(state, event.data.peerId, true);
      break;
    case 'PiecesAssigned':
    case 'ParentsAssigned':
    case 'PiecesReported':
    case 'AssignmentsExpired':
    case 'TaskSucceeded':
    case 'TaskFailed':
    case 'TaskEvicted':
    case 'OwnershipAcquired':
      break;
    default: {
      const never: never = event;
      throw new Error(`unknown event type ${(never as StoredEvent).type}`);
    }
  }
  // TaskCreated replaced state.summary; write through the current object.
  const now = state.summary;
  now.status = status;
  now.version = event.version;
  now.lastEventAt = event.data.at;
}

/** Records whether a peer counts, keeping `peers` in step (no recount per event). */
function setPeer(state: SummaryState, peerId: string, counts: boolean): void {
  const before = state.peerCounts.get(peerId) ?? false;
  state.peerCounts.set(peerId, counts);
  state.summary.peers += Number(counts) - Number(before);
}

/**
 * The URL as the list shows it: scheme, host, port and path only. The userinfo (a password)
 * and the whole query are left out: a query may carry a signature or token that the task's
 * `--filter` did not name, and the list goes to every holder of the cluster token; the task id
 * tells two URLs that differ only in their query apart. Null if it does not parse (TaskCreated
 * validated it, so only a corrupt event could), rather than echoing what it holds.
 */
export function listedUrl(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null; // not parseable: show nothing rather than a string that may hold a secret
  }
  u.username = '';
  u.password = '';
  u.search = '';
  u.hash = '';
  return u.toString();
}
