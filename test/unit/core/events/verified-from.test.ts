import { describe, expect, it } from 'vitest';
import { bySource, FailureReason, parseStoredEvent, TaskEvent, type StoredEvent } from '../../../../core/events/index.ts';
import { applyTaskEvent, stateHash } from '../../../../core/task/index.ts';
import { MAX_REQUEST_BODY_BYTES, MAX_ROUND_REPORTS, SyncRequest } from '../../../../core/wire/peer-api.ts';
import { join, run, seedingTask } from '../task/fixtures.ts';

const legacyOk = [
  { piece: 3, source: 'cdn', ms: 30 },
  { piece: 0, source: 'a', ms: 10 },
  { piece: 1, source: 'cdn', ms: 11 },
];
const grouped = [
  { source: 'cdn', pieces: [3, 1], ms: [30, 11] },
  { source: 'a', pieces: [0], ms: [10] },
];

describe('verified pieces grouped by source (schema version 4)', () => {
  it('bySource keeps the order sources first appear in, and each source’s pieces with their durations in order', () => {
    expect(bySource(legacyOk)).toEqual(grouped);
    expect(bySource([])).toEqual([]);
  });

  it('reads a version-3 report (one entry per piece) as groups, and its fold reaches the same state', () => {
    const envelope = { eventId: 'e-1', schemaVersion: 3, streamId: 't', version: 9, position: 9, epoch: 1, recordedAt: 5 };
    const legacy = parseStoredEvent({ ...envelope, type: 'PiecesReported', data: { peerId: 'b', ok: legacyOk, failed: [], at: 5 } }, 'test');
    expect(legacy.type === 'PiecesReported' && legacy.data.ok).toEqual(grouped);
    const current = parseStoredEvent({ ...envelope, schemaVersion: 4, type: 'PiecesReported', data: { peerId: 'b', ok: grouped, failed: [], at: 5 } }, 'test');
    const before = run([join('a'), join('b')], seedingTask(4)).state;
    expect(stateHash(applyTaskEvent(before, legacy as StoredEvent))).toBe(stateHash(applyTaskEvent(before, current as StoredEvent)));
    expect(applyTaskEvent(before, current as StoredEvent).peers.get('b')!.have).toEqual([true, true, false, true]);
  });

  it('refuses a group whose durations do not match its pieces', () => {
    const bad = { type: 'PiecesReported', data: { peerId: 'b', ok: [{ source: 'a', pieces: [0, 1], ms: [1] }], failed: [], at: 5 } };
    expect(TaskEvent.safeParse(bad).success).toBe(false);
  });
});

describe('a sync’s report on the wire', () => {
  it('takes groups, and reads an older peer’s one-entry-per-piece list as groups', () => {
    expect(SyncRequest.parse({ ok: grouped }).ok).toEqual(grouped);
    expect(SyncRequest.parse({ ok: legacyOk }).ok).toEqual(grouped);
    expect(SyncRequest.parse({}).ok).toEqual([]);
  });

  it('holds at most MAX_ROUND_REPORTS verified pieces in all, and one duration per piece', () => {
    const pieces = Array.from({ length: MAX_ROUND_REPORTS }, (_, i) => i);
    const full = [{ source: 'a', pieces: pieces.slice(0, 1000), ms: pieces.slice(0, 1000) }, { source: 'b', pieces: pieces.slice(1000), ms: pieces.slice(1000) }];
    expect(SyncRequest.safeParse({ ok: full }).success).toBe(true);
    const over = [...full, { source: 'c', pieces: [0], ms: [0] }];
    expect(SyncRequest.safeParse({ ok: over }).error?.issues[0]?.message).toMatch(/at most 1024 verified pieces/);
    expect(SyncRequest.safeParse({ ok: [{ source: 'a', pieces: [1, 2], ms: [1] }] }).error?.issues[0]?.path).toEqual(['ok', 0, 'ms']);
  });

  it('at the schema’s largest fits the supernode’s body limit', () => {
    const longestReason = [...FailureReason.options].sort((a, b) => b.length - a.length)[0]!;
    const big = Number.MAX_SAFE_INTEGER;
    const body = {
      ok: Array.from({ length: MAX_ROUND_REPORTS }, (_, i) => ({ source: `${i}`.padStart(200, 'a'), pieces: [big], ms: [big] })),
      failed: Array.from({ length: MAX_ROUND_REPORTS }, () => ({ piece: big, source: 'b'.repeat(200), reason: longestReason })),
      replace: Array.from({ length: 64 }, () => 'c'.repeat(200)),
      knownDigests: big,
      join: { hostId: 'h'.repeat(200), address: `${[63, 63, 63, 61].map((n) => 'd'.repeat(n)).join('.')}:65535` },
      holdMs: 5000,
    };
    expect(SyncRequest.safeParse(body).success).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(body))).toBeLessThanOrEqual(MAX_REQUEST_BODY_BYTES);
  });
});
