import type { TaskEvent } from '../events/index.ts';
import { applyAssignmentsExpired, applyPiecesAssigned, applyPiecesReported } from './apply/apply-piece-events.ts';
import { applyPeerJoined, applyPeerOutcome } from './apply/apply-peer-events.ts';
import { applyParentsAssigned } from './apply/apply-parent-events.ts';
import {
  applyOwnershipAcquired,
  applyPiecesSeeded,
  applySourceProbed,
  applyTaskCreated,
  applyTaskFailed,
} from './apply/apply-task-events.ts';
import { nextStatus } from './lifecycle.ts';
import { StateDraft } from './state-draft.ts';
import type { TaskState } from './task-state.ts';
import { DamselflyError } from '../errors.ts';

/**
 * The context reducer: the state after one event. Pure and total (any event applies in any
 * status; see lifecycle.ts), and it never mutates `state`. The task machine's only action runs
 * this, and decide() runs it to look at the state a report leads to before assigning.
 */
export function applyTaskEvent(state: TaskState, event: TaskEvent): TaskState {
  return applyToDraft(new StateDraft(state), event);
}

/**
 * The same reducer writing into `state` itself, for replay() only: it owns a state nobody else
 * has seen, so copy-on-write would be wasted. Returns `state`.
 */
export function applyTaskEventInPlace(state: TaskState, event: TaskEvent): TaskState {
  return applyToDraft(new StateDraft(state, true), event);
}

/**
 * Several events folded into one copy-on-write draft of `base`: what they touch is copied once
 * for all of them, not once per event. The supernode folds a whole batch of commands so: with
 * thousands of peers, copying the peers map per event grew with the swarm (docs/decisions.md,
 * "Parents, not pieces"). `base` itself is never written.
 */
export class EventFold {
  private readonly draft: StateDraft;

  constructor(base: TaskState) {
    this.draft = new StateDraft(base);
  }

  /** The state after every event applied so far (read it, never write it). */
  get state(): TaskState {
    return this.draft.state;
  }

  apply(event: TaskEvent): void {
    applyToDraft(this.draft, event);
  }
}

function applyToDraft(draft: StateDraft, event: TaskEvent): TaskState {
  const before = draft.state.status;
  const version = draft.state.version;
  switch (event.type) {
    case 'TaskCreated':
      applyTaskCreated(draft, event);
      break;
    case 'SourceProbed':
      applySourceProbed(draft, event);
      break;
    case 'PiecesSeeded':
      applyPiecesSeeded(draft, event);
      break;
    case 'PeerJoined':
      applyPeerJoined(draft, event);
      break;
    case 'PiecesAssigned':
      applyPiecesAssigned(draft, event);
      break;
    case 'ParentsAssigned':
      applyParentsAssigned(draft, event);
      break;
    case 'PiecesReported':
      applyPiecesReported(draft, event);
      break;
    case 'AssignmentsExpired':
      applyAssignmentsExpired(draft, event);
      break;
    case 'PeerLeft':
      applyPeerOutcome(draft, event, 'left', event.data.reason === 'left');
      break;
    case 'PeerSucceeded':
      applyPeerOutcome(draft, event, 'succeeded', true);
      break;
    case 'PeerFailed':
      applyPeerOutcome(draft, event, 'failed', true);
      break;
    case 'TaskFailed':
      applyTaskFailed(draft, event);
      break;
    case 'OwnershipAcquired':
      applyOwnershipAcquired(draft, event);
      break;
    case 'TaskSucceeded':
    case 'TaskEvicted':
      break; // only the status changes
    default: {
      const unknown: never = event;
      throw new DamselflyError('DF_ERR_INTERNAL', `unknown event ${JSON.stringify(unknown)}`);
    }
  }
  const next = draft.state;
  next.status = nextStatus(before, event.type);
  next.lastEventAt = event.data.at;
  next.version = version + 1;
  return next;
}
