import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TaskEvent } from '../../../core/events/index.ts';
import {
  ackViolations,
  epochStarts,
  formatViolations,
  kafkaViolations,
  parseAckLog,
  streamViolations,
  type AckLine,
  type CheckedEvent,
  type Violation,
} from '../../../bench/invariants/index.ts';

const TASK = 'a'.repeat(64);
const at = 1;
let ids = 0;

function ev(version: number, epoch: number, event: TaskEvent): CheckedEvent {
  return { version, epoch, eventId: `00000000-0000-4000-8000-${String(++ids).padStart(12, '0')}`, event };
}
const created: TaskEvent = { type: 'TaskCreated', data: { taskId: TASK, url: 'http://o/f', digest: null, identifier: null, range: null, filter: [], at } };
const joined = (peerId: string): TaskEvent => ({ type: 'PeerJoined', data: { peerId, hostId: 'h', address: '127.0.0.1:1', at } });
const reported = (peerId: string, pieces: number[], source = 'cdn'): TaskEvent => ({ type: 'PiecesReported', data: { peerId, ok: [{ source, pieces, ms: pieces.map(() => 1) }], failed: [], at } });
const owned = (replicaId: string, epoch: number): TaskEvent => ({ type: 'OwnershipAcquired', data: { replicaId, epoch, at } });

/** A stream with two takeovers: epoch 1 (first writer, no OwnershipAcquired), then 4, then 9. */
function healthyStream(): CheckedEvent[] {
  const e = [
    [1, created], [1, joined('p1')], [1, reported('p1', [0, 1])],
    [4, owned('r2', 4)], [4, reported('p1', [2])], [4, joined('p2')],
    [9, owned('r3', 9)], [9, reported('p2', [0, 1, 2], 'p1')],
  ] as const;
  return e.map(([epoch, event], i) => ev(i + 1, epoch, event));
}
const renumber = (events: CheckedEvent[]) => events.map((e, i) => ({ ...e, version: i + 1 }));
const invariants = (vs: Violation[]) => vs.map((v) => v.invariant);

describe('stream invariants', () => {
  it('accept a stream whose owners changed cleanly, and tell where each epoch starts', () => {
    const s = healthyStream();
    expect(streamViolations(s)).toEqual([]);
    expect(epochStarts(s)).toEqual([{ epoch: 1, version: 1 }, { epoch: 4, version: 4, replicaId: 'r2' }, { epoch: 9, version: 7, replicaId: 'r3' }]);
  });

  it('report a missing version, a repeated one, and an empty stream', () => {
    const s = healthyStream();
    const gap = streamViolations([...s.slice(0, 4), ...s.slice(5)]);
    expect(invariants(gap)).toEqual(['contiguous-versions', 'contiguous-versions', 'contiguous-versions']);
    expect(gap[0]!.message).toMatch(/expected version 5 after version 4, found version 6/);
    expect(invariants(streamViolations([...s.slice(0, 3), { ...s[3]!, version: 3 }]))).toContain('contiguous-versions');
    expect(invariants(streamViolations([]))).toEqual(['stream-present']);
  });

  it('report a fenced owner writing after its successor (two epochs interleaved)', () => {
    const s = healthyStream();
    const late = renumber([...s.slice(0, 5), ev(0, 1, reported('p1', [3])), ...s.slice(5)]);
    const vs = streamViolations(late);
    expect(invariants(vs)).toContain('epoch-order');
    expect(vs.find((v) => v.invariant === 'epoch-order')!.message).toMatch(/version 6 .* epoch 1 after version 5 with epoch 4/);
  });

  it('report an epoch change that does not open with OwnershipAcquired, or one that carries another epoch', () => {
    const s = healthyStream();
    const silent = renumber([...s.slice(0, 3), ...s.slice(4)]);
    expect(streamViolations(silent)).toEqual([{ invariant: 'ownership-event', message: expect.stringMatching(/rises from 1 to 4 at version 4 with PiecesReported/) }]);
    const wrong = s.map((e) => (e.version === 4 ? { ...e, event: owned('r2', 3) } : e));
    expect(invariants(streamViolations(wrong))).toEqual(['ownership-event']);
  });

  it('require OwnershipAcquired first only when asked to', () => {
    const s = healthyStream();
    expect(invariants(streamViolations(s, { firstEpochNeedsOwnership: true }))).toEqual(['ownership-event']);
    const opened = renumber([ev(0, 1, owned('r1', 1)), ...s]);
    expect(streamViolations(opened, { firstEpochNeedsOwnership: true })).toEqual([]);
  });

  it('catch any single lost event of a valid stream (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: healthyStream().length - 2 }), (i) => {
        const s = healthyStream();
        s.splice(i, 1);
        return invariants(streamViolations(s)).includes('contiguous-versions');
      }),
    );
  });
});

describe('acknowledged reports', () => {
  const ack = (peerId: string, pieces: number[], source = 'cdn', taskId = TASK): AckLine => ({ taskId, peerId, ok: pieces.map((piece) => ({ piece, source })), failed: [] });

  it('accept acks recorded in any PiecesReported of the task, ignoring other tasks and failures', () => {
    const acks = [ack('p1', [0, 1]), ack('p1', [2]), ack('p2', [0, 1, 2], 'p1'), ack('p9', [7], 'cdn', 'b'.repeat(64)),
      { taskId: TASK, peerId: 'p2', ok: [], failed: [{ piece: 5, source: 'p1', reason: 'timeout' }] }];
    expect(ackViolations(TASK, healthyStream(), acks)).toEqual([]);
  });

  it('report an acknowledged piece no event records, or records from another source', () => {
    const vs = ackViolations(TASK, healthyStream(), [ack('p1', [2, 3]), ack('p2', [0], 'cdn'), ack('p1', [3])]);
    expect(vs.map((v) => v.message)).toEqual([
      expect.stringMatching(/peer p1's report of piece 3 \(from cdn\) was acknowledged/),
      expect.stringMatching(/peer p2's report of piece 0 \(from cdn\)/),
    ]);
  });

  it('parse ack logs strictly: a torn or foreign line is a violation', () => {
    const good = JSON.stringify(ack('p1', [0]));
    const { acks, violations } = parseAckLog(`${good}\n{"taskId":\n${JSON.stringify({ taskId: TASK })}\n`, 'peer-0.acks');
    expect(acks).toHaveLength(1);
    expect(violations.map((v) => v.message)).toEqual([expect.stringMatching(/peer-0.acks line 2 is not JSON/), expect.stringMatching(/peer-0.acks line 3: peerId/)]);
  });
});

describe('Kafka against PostgreSQL', () => {
  it('accept the same stream, with repeats from at-least-once delivery', () => {
    const s = healthyStream();
    expect(kafkaViolations(s, s)).toEqual({ violations: [], duplicates: 0 });
    const resent = [...s.slice(0, 5), ...s.slice(3, 5), ...s.slice(5), s[7]!];
    expect(kafkaViolations(s, resent)).toEqual({ violations: [], duplicates: 3 });
  });

  it('report missing, reordered, phantom and altered events', () => {
    const s = healthyStream();
    expect(invariants(kafkaViolations(s, s.slice(0, 6)).violations)).toEqual(['kafka-complete']);
    expect(kafkaViolations(s, s.slice(0, 6)).violations[0]!.message).toMatch(/2 of 8 committed events are not in Kafka \(versions 7, 8\)/);
    const swapped = [s[0]!, s[2]!, s[1]!, ...s.slice(3)];
    expect(kafkaViolations(s, swapped).violations).toEqual([{ invariant: 'kafka-order', message: expect.stringMatching(/2nd distinct event of the task is version 3 where PostgreSQL has version 2/) }]);
    const phantom = ev(6, 1, reported('p1', [4]));
    expect(invariants(kafkaViolations(s, [...s.slice(0, 6), phantom, ...s.slice(6)]).violations)).toEqual(['kafka-phantom']);
    const altered = s.map((e) => (e.version === 5 ? { ...e, epoch: 1 } : e));
    expect(invariants(kafkaViolations(s, altered).violations)).toEqual(['kafka-content']);
  });

  it('catch any single event missing from Kafka, and any order that is not the stream order (property)', () => {
    fc.assert(
      fc.property(fc.shuffledSubarray(healthyStream().map((_, i) => i), { minLength: 8, maxLength: 8 }), fc.integer({ min: 0, max: 7 }), (order, drop) => {
        const s = healthyStream();
        const shuffled = order.map((i) => s[i]!);
        const sorted = order.every((v, i) => v === i);
        const found = invariants(kafkaViolations(s, shuffled).violations);
        const without = invariants(kafkaViolations(s, s.filter((_, i) => i !== drop)).violations);
        return (sorted ? found.length === 0 : found.includes('kafka-order')) && without.includes('kafka-complete');
      }),
    );
  });
});

describe('formatViolations', () => {
  it('groups by invariant and caps each group', () => {
    const vs: Violation[] = Array.from({ length: 4 }, (_, i) => ({ invariant: 'file-identical', message: `f${i}` }));
    expect(formatViolations([...vs, { invariant: 'origin-bytes', message: 'too much' }], 2)).toBe(
      '[file-identical] f0\n[file-identical] f1\n[file-identical] … and 2 more\n[origin-bytes] too much',
    );
  });
});
