import { expect } from 'vitest';
import type { StoredEvent, TaskEvent } from '../../../core/events/index.ts';
import { DEFAULT_POLICY } from '../../../core/scheduling/policy.ts';
import { decide, evolve, initialTaskSnapshot, stateOf, taskInvariantViolations, type AssignFn, type TaskCommand, type TaskSnapshot, type TaskState } from '../../../core/task/index.ts';
import type { SeedingRuntime } from '../../../supernode/swarm/seeding.ts';

/**
 * The task runtime as the seeding sees it, over core's decide/evolve in memory: what a test's
 * seeding records is exactly what core accepts, and every state it reaches keeps core's
 * invariants. It keeps the commands and events it was given for the test to read.
 */
export class MemoryRuntime implements SeedingRuntime {
  snapshots = new Map<string, TaskSnapshot>();
  commands: TaskCommand[] = [];
  events: TaskEvent[] = [];
  /** Pins the next assignments (a fixture's peers must be given a piece before they may report it). */
  assign: AssignFn | undefined;

  async snapshot(taskId: string): Promise<TaskSnapshot> {
    return this.snapshots.get(taskId) ?? initialTaskSnapshot(taskId);
  }

  async execute(taskId: string, command: TaskCommand): Promise<{ events: StoredEvent[]; snapshot: TaskSnapshot }> {
    this.commands.push(command);
    let snapshot = await this.snapshot(taskId);
    const events = decide(command, stateOf(snapshot), { policy: DEFAULT_POLICY, ...(this.assign ? { assign: this.assign } : {}) });
    for (const e of events) snapshot = evolve(snapshot, e);
    expect(taskInvariantViolations(stateOf(snapshot))).toEqual([]);
    this.events.push(...events);
    this.snapshots.set(taskId, snapshot);
    return { events: events as StoredEvent[], snapshot };
  }

  state(taskId: string): TaskState {
    return stateOf(this.snapshots.get(taskId)!);
  }
}
