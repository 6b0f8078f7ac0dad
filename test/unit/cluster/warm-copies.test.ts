import { describe, expect, it } from 'vitest';
import type { StoredEvent, TaskEvent } from '../../../core/events/index.ts';
import { replay, stateHash } from '../../../core/task/index.ts';
import { WarmCopies } from '../../../supernode/cluster/warm-copies.ts';
import { createCommand, join, run, TASK_ID } from '../core/task/fixtures.ts';

/** A real history (created, probed, seeded, 300 peers joined), as the store would have stored it. */
function storedHistory(): StoredEvent[] {
  const commands = [
    createCommand(),
    { type: 'RecordProbe' as const, at: 2, contentLength: 4 * 262144, acceptRanges: true, etag: null, lastModified: null },
    ...Array.from({ length: 300 }, (_, i) => join(`p${i}`, 10 + i)),
  ];
  const { events } = run(commands);
  return events.map((e: TaskEvent, i: number) => ({ ...e, eventId: `e${i}`, schemaVersion: 2, streamId: TASK_ID, version: i + 1, position: i + 1, epoch: 1, recordedAt: i }) as StoredEvent);
}

describe('WarmCopies', () => {
  it('folds redelivered, batched events into the same state as a replay of the stream', () => {
    const events = storedHistory();
    const warm = new WarmCopies();
    warm.apply(events.slice(0, 100));
    warm.apply(events.slice(50, 290)); // at-least-once: 50..99 again
    warm.apply(events.slice(290));
    const copy = warm.get(TASK_ID)!;
    expect(copy.version).toBe(events.length);
    expect(stateHash(copy.snapshot)).toBe(stateHash(replay(events)));
    expect(warm.runningTasks(() => true)).toEqual([TASK_ID]);
    expect(warm.runningTasks(() => false)).toEqual([]);
  });

  it('hands out a snapshot of its own: folding more events later does not change it', () => {
    const events = storedHistory();
    const warm = new WarmCopies();
    warm.apply(events.slice(0, 100));
    const early = warm.get(TASK_ID)!;
    const hashAt100 = stateHash(replay(events.slice(0, 100)));
    expect(stateHash(early.snapshot)).toBe(hashAt100);
    warm.apply(events.slice(100));
    expect(warm.get(TASK_ID)!.version).toBe(events.length);
    expect(stateHash(early.snapshot)).toBe(hashAt100);
    expect(early.snapshot.context.peers.size).toBeLessThan(warm.get(TASK_ID)!.snapshot.context.peers.size);
  });

  it('keeps no copy of a stream it joined mid-way, and drops one with a gap', () => {
    const events = storedHistory();
    const late = new WarmCopies();
    late.apply(events.slice(10));
    expect(late.get(TASK_ID)).toBeUndefined();

    const gap = new WarmCopies();
    gap.apply(events.slice(0, 20));
    gap.apply(events.slice(21));
    expect(gap.get(TASK_ID)).toBeUndefined();
  });
});
