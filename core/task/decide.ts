import type { TaskEvent } from '../events/index.ts';
import { DamselflyError } from '../errors.ts';
import { assignPieces } from '../scheduling/assign-pieces.ts';
import { DEFAULT_POLICY, type SchedulingPolicy } from '../scheduling/policy.ts';
import { decideExpireAssignments, decideJoin, decideLeave } from './decide/decide-peer-commands.ts';
import { decideRound, type AssignFn } from './decide/decide-round.ts';
import { decideSync } from './decide/decide-sync.ts';
import {
  decideAcquireOwnership,
  decideCompleteSeed,
  decideCreateTask,
  decideEvict,
  decideFailTask,
  decideRecordProbe,
  decideRecordSeededPieces,
} from './decide/decide-task-commands.ts';
import type { TaskCommand } from './task-commands.ts';
import type { TaskState } from './task-state.ts';

export interface DecideOptions {
  policy: SchedulingPolicy;
  /** The scheduler; replaceable so tests can pin assignments. */
  assign: AssignFn;
}

const DEFAULTS: DecideOptions = { policy: DEFAULT_POLICY, assign: assignPieces };

/**
 * The task's decider: the events a command causes in `state`, or a DamselflyError if it is not
 * allowed. Pure: time and ids come in the command. Commands that would change nothing (a
 * retried join, a second leave) return no events, so clients may retry freely.
 */
export function decide(command: TaskCommand, state: TaskState, options: Partial<DecideOptions> = {}): TaskEvent[] {
  const { policy, assign } = { ...DEFAULTS, ...options };
  switch (command.type) {
    case 'CreateTask':
      return decideCreateTask(command, state);
    case 'RecordProbe':
      return decideRecordProbe(command, state);
    case 'RecordSeededPieces':
      return decideRecordSeededPieces(command, state);
    case 'CompleteSeed':
      return decideCompleteSeed(command, state);
    case 'Join':
      return decideJoin(command, state);
    case 'Round':
      return decideRound(command, state, policy, assign);
    case 'Sync':
      return decideSync(command, state, policy);
    case 'ExpireAssignments':
      return decideExpireAssignments(command, state, policy);
    case 'Leave':
      return decideLeave(command, state);
    case 'FailTask':
      return decideFailTask(command, state);
    case 'Evict':
      return decideEvict(command, state);
    case 'AcquireOwnership':
      return decideAcquireOwnership(command, state);
    default: {
      const unknown: never = command;
      throw new DamselflyError('DF_ERR_VALIDATION', `unknown command ${JSON.stringify(unknown).slice(0, 200)}`);
    }
  }
}
