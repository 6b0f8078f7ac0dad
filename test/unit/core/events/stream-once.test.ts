import { describe, expect, it } from 'vitest';
import { streamOnce, type StoredEvent } from '../../../../core/events/index.ts';

function event(version: number, eventId = `e${version}`): StoredEvent {
  return {
    eventId, schemaVersion: 2, streamId: 's', version, position: version, epoch: 0, recordedAt: version,
    type: 'ExpireAssignments' as never, data: {} as never,
  } as unknown as StoredEvent;
}

describe('streamOnce: a stream read from an at-least-once log, each version once', () => {
  it('drops a range the relay published again after what followed it, and keeps version order', () => {
    const log = [1, 2, 3, 4, 5, 6, 3, 4, 5, 6, 7].map((v) => event(v));
    expect(streamOnce(log).map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('keeps the first copy of a version', () => {
    const first = event(2);
    const again = { ...event(2), position: 99 };
    expect(streamOnce([event(1), first, again])[1]).toBe(first);
  });

  it('refuses two different events under one version (corruption, not a redelivery)', () => {
    expect(() => streamOnce([event(1), event(2, 'a'), event(2, 'b')])).toThrow(/DF_ERR_MALFORMED_EVENT.*two events at version 2/);
  });

  it('leaves a log without repeats as it is', () => {
    const log = [1, 2, 3].map((v) => event(v));
    expect(streamOnce(log)).toEqual(log);
  });
});
