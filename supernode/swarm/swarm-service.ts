import { computeTaskId } from '../../core/ids/index.ts';
import { DamselflyError, isDamselflyError } from '../../core/errors.ts';
import { refusedReports, refusedSyncReports, roundResponse, stateHash, stateOf, syncResponse, taskView, type RefusedReason, type TaskState } from '../../core/task/index.ts';
import type { SchedulingPolicy } from '../../core/scheduling/policy.ts';
import type { JoinRequest, LeaveRequest, RegisterTaskRequest, RoundRequest, RoundResponse, SyncRequest, SyncResponse, TaskView } from '../../core/wire/peer-api.ts';
import type { TaskRuntime } from '../runtime/task-runtime.ts';
import type { OriginCredentials } from './origin-credentials.ts';
import type { TaskSignals } from './task-signals.ts';

/** The fields that identify the task a registration names (its id is their hash). */
export function taskFieldsOf(req: RegisterTaskRequest) {
  return { url: req.url, filter: req.filter, digest: req.digest ?? null, identifier: req.identifier ?? null, range: req.range ?? null, ...(req.contentAddressed ? { contentAddressed: true } : {}) };
}

export type TaskViewWithHash = TaskView & { stateHash: string };

export interface SwarmServiceOptions {
  runtime: TaskRuntime;
  credentials: OriginCredentials;
  policy: SchedulingPolicy;
  /** host:port of this supernode's CDN piece route, handed to peers as a source address. */
  cdnAddress: () => string;
  clock: () => number;
  signals: TaskSignals;
  /** Called with the task's status whenever a peer touches it (the seeding restarts from here). */
  onTaskTouched?: (taskId: string, status: string) => void;
  /** Called with the ok entries of a committed round that decide refused (never assigned so): the metric. */
  onReportsRefused?: (taskId: string, peerId: string, refused: { piece: number; source: string; reason: RefusedReason | 'not_parent' }[]) => void;
}

/**
 * The peer-facing use cases, each one command of the task actor. Nothing here decides: core/
 * does; this layer builds commands from requests (with the time) and shapes the answers.
 */
export class SwarmService {
  constructor(private readonly o: SwarmServiceOptions) {}

  async registerTask(req: RegisterTaskRequest): Promise<TaskView> {
    const fields = taskFieldsOf(req);
    const taskId = computeTaskId(fields);
    const current = stateOf(await this.o.runtime.snapshot(taskId));
    // The real URL and the headers, for the CDN's fetch (the task's events carry the URL
    // redacted). A failed task is created anew (decideCreateTask): a registration retries it.
    this.o.credentials.remember(taskId, req.headers, req.url);
    if (current.status === 'absent' || current.status === 'evicted' || current.status === 'failed') {
      try {
        await this.o.runtime.execute(taskId, { type: 'CreateTask', at: this.o.clock(), taskId, ...fields });
      } catch (err) {
        // Two peers registering the same new (or failed) task at once: the second one finds it created.
        if (!isDamselflyError(err, 'DF_ERR_TASK_EXISTS')) throw err;
      }
    }
    const view = await this.summary(taskId);
    this.o.onTaskTouched?.(taskId, view.status);
    return view;
  }

  async join(taskId: string, req: JoinRequest): Promise<TaskView> {
    await this.requireTask(taskId);
    const outcome = await this.o.runtime.execute(taskId, { type: 'Join', at: this.o.clock(), ...req });
    return taskView(stateOf(outcome.snapshot));
  }

  async round(taskId: string, peerId: string, req: RoundRequest): Promise<RoundResponse> {
    // Refusals are decided in core and leave no event; they are named here from the state the
    // round arrived in, by the rule decide applies (only a peer racing its own rounds could
    // see the two differ).
    const refused = refusedReports(await this.requireTask(taskId), peerId, req.ok);
    const deadline = this.o.clock() + req.holdMs;
    let command = { type: 'Round' as const, at: this.o.clock(), peerId, ok: req.ok, failed: req.failed, want: req.want };
    for (;;) {
      const outcome = await this.o.runtime.execute(taskId, command);
      if (refused.length > 0 && command.ok.length > 0) this.o.onReportsRefused?.(taskId, peerId, refused);
      const assigned = outcome.events.find((e) => e.type === 'PiecesAssigned');
      const response = roundResponse(stateOf(outcome.snapshot), peerId, assigned?.type === 'PiecesAssigned' ? assigned.data.assignments : undefined, {
        cdnAddress: this.o.cdnAddress(),
        waitRetryMs: this.o.policy.waitRetryMs,
      });
      // Long poll: hold a "wait" until the task changes, then schedule again (reports were
      // committed by the first pass; later passes only ask for assignments).
      const left = deadline - this.o.clock();
      if (response.action !== 'wait' || req.want === 0 || left <= 0) return response;
      if (!(await this.o.signals.changedSince(taskId, stateOf(outcome.snapshot).version, left))) return response;
      command = { ...command, at: this.o.clock(), ok: [], failed: [] };
    }
  }

  /**
   * The sync protocol's one round trip: a batch report, then the peer's parents. A peer that
   * knows every seeded piece's digest may ask to be held until the task changes (holdMs): the
   * report is committed first, later passes only read the state again.
   */
  async sync(taskId: string, peerId: string, req: SyncRequest): Promise<SyncResponse> {
    const refused = refusedSyncReports(await this.requireTask(taskId), peerId, req.ok);
    const deadline = this.o.clock() + req.holdMs;
    const outcome = await this.o.runtime.execute(taskId, {
      type: 'Sync', at: this.o.clock(), peerId, ok: req.ok, failed: req.failed, replace: req.replace, ...(req.join ? { join: req.join } : {}),
    });
    if (refused.length > 0) this.o.onReportsRefused?.(taskId, peerId, refused);
    let state = stateOf(outcome.snapshot);
    for (;;) {
      const response = syncResponse(state, peerId, req.knownDigests, {
        cdnAddress: this.o.cdnAddress(),
        waitRetryMs: this.o.policy.waitRetryMs,
        syncIntervalMs: this.o.policy.syncIntervalMs,
        syncsPerSecond: this.o.policy.syncsPerSecond,
        parentsPerPeer: this.o.policy.parentsPerPeer,
      });
      const left = deadline - this.o.clock();
      if (left <= 0 || !nothingNew(response, req.knownDigests)) return response;
      if (!(await this.o.signals.changedSince(taskId, state.version, left))) return response;
      state = stateOf(await this.o.runtime.snapshot(taskId));
    }
  }

  async leave(taskId: string, peerId: string, req: LeaveRequest): Promise<void> {
    await this.requireTask(taskId);
    await this.o.runtime.execute(taskId, { type: 'Leave', at: this.o.clock(), peerId, outcome: req.outcome, ...(req.reason ? { reason: req.reason } : {}) });
  }

  /**
   * The task's status with its state hash (GET, for operators and replay checks). The hash is
   * O(task state); register and join answer without it (summary), or a swarm of N peers joining
   * would hash a state of up to N peers N times.
   */
  async view(taskId: string): Promise<TaskViewWithHash> {
    const snapshot = await this.o.runtime.snapshot(taskId);
    return { ...taskView(stateOf(snapshot)), stateHash: stateHash(snapshot) };
  }

  async summary(taskId: string): Promise<TaskView> {
    return taskView(stateOf(await this.o.runtime.snapshot(taskId)));
  }

  private async requireTask(taskId: string): Promise<TaskState> {
    const state = stateOf(await this.o.runtime.snapshot(taskId));
    if (state.status === 'absent') throw new DamselflyError('DF_ERR_NOT_FOUND', `unknown task ${taskId}`);
    this.o.onTaskTouched?.(taskId, state.status);
    return state;
  }
}

/** An answer a held sync waits past: no layout yet, or no digest beyond what the peer knows while some piece is unseeded. */
function nothingNew(response: SyncResponse, knownDigests: number): boolean {
  if (response.action === 'wait') return true;
  return response.action === 'sync' && response.digests.length === 0 && knownDigests < response.pieceCount;
}
