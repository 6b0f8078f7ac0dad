import { describe, expect, it } from 'vitest';
import { TaskSignals } from '../../../supernode/swarm/task-signals.ts';

/**
 * What the long poll keeps per task is bounded by the live actors: a task whose actor was
 * passivated or evicted leaves nothing behind, and a hold that timed out leaves no empty set.
 */
const task = (i: number) => `t${i}`;

describe('TaskSignals memory', () => {
  it('forgets the versions of tasks whose actor is gone, and keeps those of live ones', async () => {
    const live = new Set<string>();
    const signals = new TaskSignals(() => live);
    for (let i = 0; i < 10_000; i++) {
      // A few hundred actors live at any time; the rest were passivated after their commits.
      live.add(task(i));
      if (i >= 300) live.delete(task(i - 300));
      signals.notify(task(i), 3);
      signals.notify(task(i), 7);
      expect(signals.trackedTasks).toBeLessThanOrEqual(2 * 300 + 256 + 1);
    }
    // A live task's commit that landed before a wait began still answers it at once.
    expect(await signals.changedSince(task(9_999), 5, 60_000)).toBe(true);
    expect(await signals.changedSince(task(9_700), 5, 60_000)).toBe(true);
  });

  it('drops a waiter set when its hold times out', async () => {
    const signals = new TaskSignals(() => []);
    const held = [signals.changedSince('a', 0, 1), signals.changedSince('a', 0, 1), signals.changedSince('b', 0, 1)];
    expect(signals.trackedTasks).toBe(2);
    expect(await Promise.all(held)).toEqual([false, false, false]);
    expect(signals.trackedTasks).toBe(0);
  });

  it('keeps waking a held round of a task whose actor is gone', async () => {
    const signals = new TaskSignals(() => ['busy']);
    const held = signals.changedSince('quiet', 1, 60_000);
    for (let i = 0; i < 2_000; i++) signals.notify(`busy-${i}`, 1); // sweeps run meanwhile
    signals.notify('quiet', 2);
    expect(await held).toBe(true);
  });
});
