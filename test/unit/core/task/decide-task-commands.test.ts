import { describe, expect, it } from 'vitest';
import { computeTaskId } from '../../../../core/ids/index.ts';
import { decide, initialTaskState, type CreateTask, type TaskCommand, type TaskState } from '../../../../core/task/index.ts';
import { OPTIONS, TASK_ID, TASK_URL, createCommand, digestOf, run, seedingTask } from './fixtures.ts';

const rejects = (command: TaskCommand, state: TaskState, code: string) =>
  expect(() => decide(command, state, OPTIONS)).toThrowError(expect.objectContaining({ code }));

describe('CreateTask', () => {
  it('creates an absent task, its URL stored with the signature redacted (the id is the real URL\'s)', () => {
    expect(decide(createCommand(5), initialTaskState(TASK_ID))).toEqual([
      { type: 'TaskCreated', data: { taskId: TASK_ID, url: TASK_URL.replace('sig=abc', 'sig=[redacted]'), digest: null, identifier: null, range: null, filter: ['sig'], at: 5 } },
    ]);
  });

  it('refuses an existing task, and a task id that is not the URL’s', () => {
    rejects(createCommand(), seedingTask(2), 'DF_ERR_TASK_EXISTS');
    rejects({ ...(createCommand() as CreateTask), taskId: computeTaskId({ url: TASK_URL }) }, initialTaskState(''), 'DF_ERR_TASK_ID_MISMATCH');
    rejects(createCommand(), initialTaskState('f'.repeat(64)), 'DF_ERR_TASK_ID_MISMATCH');
  });

  it('creates a failed task anew, evicted and created in one decision; a second registration finds it created', () => {
    const failed = run([{ type: 'FailTask', at: 9, reason: 'the origin body failed' }], seedingTask(2)).state;
    expect(decide(createCommand(10), failed).map((e) => e.type)).toEqual(['TaskEvicted', 'TaskCreated']);
    const { state } = run([createCommand(10)], failed);
    expect(state).toMatchObject({ status: 'created', failure: null, pieceCount: null, version: failed.version + 2 });
    rejects(createCommand(11), state, 'DF_ERR_TASK_EXISTS');
  });

  it('recreates an evicted task', () => {
    const evicted = run([{ type: 'Evict', at: 9 }], seedingTask(2)).state;
    const { state } = run([createCommand(10)], evicted);
    expect(state).toMatchObject({ status: 'created', pieceCount: null, version: evicted.version + 1 });
  });
});

describe('RecordProbe', () => {
  const probe = (contentLength: number, pieceSize?: number): TaskCommand => ({ type: 'RecordProbe', at: 2, contentLength, acceptRanges: true, etag: null, lastModified: 'x', pieceSize });

  it('lays out pieces with the piece size rule', () => {
    const [event] = decide(probe(64 * 1024 * 1024), run([createCommand()]).state);
    expect(event).toMatchObject({ type: 'SourceProbed', data: { pieceSize: 256 * 1024, pieceCount: 256 } });
  });

  it('is refused before creation, after the probe, and for bad sizes', () => {
    rejects(probe(10), initialTaskState(TASK_ID), 'DF_ERR_NOT_FOUND');
    rejects(probe(10), seedingTask(2), 'DF_ERR_TASK_STATE');
    rejects(probe(-1), run([createCommand()]).state, 'DF_ERR_VALIDATION');
    rejects(probe(10, 0), run([createCommand()]).state, 'DF_ERR_VALIDATION');
  });
});

describe('RecordSeededPieces and CompleteSeed', () => {
  const seed = (...pieces: { piece: number; size: number; digest: string }[]): TaskCommand => ({ type: 'RecordSeededPieces', at: 4, pieces });

  it('records new pieces once and drops repeats', () => {
    const s = seedingTask(3, 1);
    expect(decide(seed({ piece: 0, size: 100, digest: digestOf(0) }), s)).toEqual([]);
    expect(decide(seed({ piece: 1, size: 100, digest: digestOf(1) }, { piece: 1, size: 100, digest: digestOf(1) }), s)).toEqual([
      { type: 'PiecesSeeded', data: { pieces: [{ piece: 1, size: 100, digest: digestOf(1) }], at: 4 } },
    ]);
  });

  it('refuses wrong pieces, sizes and digests', () => {
    const s = seedingTask(3, 1);
    rejects(seed({ piece: 3, size: 100, digest: digestOf(3) }), s, 'DF_ERR_PIECE_OUT_OF_RANGE');
    rejects(seed({ piece: 2, size: 100, digest: digestOf(2) }), s, 'DF_ERR_PIECE_SIZE');
    rejects(seed({ piece: 1, size: 100, digest: 'xyz' }), s, 'DF_ERR_VALIDATION');
    rejects(seed({ piece: 0, size: 100, digest: digestOf(9) }), s, 'DF_ERR_DIGEST_CONFLICT');
    rejects(seed({ piece: 0, size: 100, digest: digestOf(0) }), run([createCommand()]).state, 'DF_ERR_TASK_NOT_READY');
  });

  it('completes the seed only when every piece is stored, once', () => {
    rejects({ type: 'CompleteSeed', at: 5 }, seedingTask(3, 2), 'DF_ERR_TASK_NOT_READY');
    const { state, events } = run([{ type: 'CompleteSeed', at: 5 }, { type: 'CompleteSeed', at: 6 }], seedingTask(3));
    expect(events.map((e) => e.type)).toEqual(['TaskSucceeded']);
    expect(state.status).toBe('seeded');
  });
});

describe('FailTask, Evict, AcquireOwnership', () => {
  it('fails a live task once, bounding the reason; a seeded task too (a refill found the origin changed)', () => {
    const { state, events } = run([{ type: 'FailTask', at: 5, reason: 'x'.repeat(900) }, { type: 'FailTask', at: 6, reason: 'again' }], seedingTask(2));
    expect(events).toHaveLength(1);
    expect(state.failure).toHaveLength(500);
    const seeded = run([{ type: 'CompleteSeed', at: 4 }], seedingTask(2)).state;
    expect(run([{ type: 'FailTask', at: 5, reason: 'origin changed' }], seeded).state).toMatchObject({ status: 'failed', failure: 'origin changed' });
    rejects({ type: 'FailTask', at: 5, reason: 'r' }, run([{ type: 'Evict', at: 4 }], seeded).state, 'DF_ERR_NOT_FOUND');
  });

  it('evicts once; an absent task cannot be evicted', () => {
    expect(run([{ type: 'Evict', at: 5 }, { type: 'Evict', at: 6 }], seedingTask(2)).events).toHaveLength(1);
    rejects({ type: 'Evict', at: 5 }, initialTaskState(TASK_ID), 'DF_ERR_NOT_FOUND');
  });

  it('takes ownership only with a newer epoch', () => {
    const owned = run([{ type: 'AcquireOwnership', at: 1, replicaId: 'r1', epoch: 4 }], initialTaskState(TASK_ID)).state;
    expect(owned.owner).toEqual({ replicaId: 'r1', epoch: 4 });
    expect(decide({ type: 'AcquireOwnership', at: 2, replicaId: 'r1', epoch: 4 }, owned)).toEqual([]);
    rejects({ type: 'AcquireOwnership', at: 2, replicaId: 'r2', epoch: 4 }, owned, 'DF_ERR_STALE_EPOCH');
    rejects({ type: 'AcquireOwnership', at: 2, replicaId: 'r2', epoch: 3 }, owned, 'DF_ERR_STALE_EPOCH');
    expect(decide({ type: 'AcquireOwnership', at: 2, replicaId: 'r2', epoch: 5 }, owned)).toHaveLength(1);
  });
});
