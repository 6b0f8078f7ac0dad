import { describe, expect, it } from 'vitest';
import { RoundResponse, TaskView } from '../../../../core/wire/index.ts';
import { roundResponse, taskView } from '../../../../core/task/index.ts';
import { TASK_ID, digestOf, join, run, seedingTask } from './fixtures.ts';

const OPTS = { cdnAddress: '127.0.0.1:8002', waitRetryMs: 200 };

describe('roundResponse', () => {
  it('gives each assignment the source address, byte range and digest', () => {
    const s = run([join('a'), join('b')], seedingTask(3)).state;
    const r = roundResponse(s, 'b', [{ piece: 2, source: 'cdn', deadline: 9 }, { piece: 0, source: 'a', deadline: 9 }], OPTS);
    expect(RoundResponse.parse(r)).toEqual({
      action: 'assign',
      contentLength: 250,
      pieceSize: 100,
      pieceCount: 3,
      assignments: [
        { piece: 2, source: 'cdn', address: '127.0.0.1:8002', offset: 200, size: 50, digest: digestOf(2) },
        { piece: 0, source: 'a', address: s.peers.get('a')!.address, offset: 0, size: 100, digest: digestOf(0) },
      ],
    });
  });

  it('says wait, done or failed when there is nothing to assign', () => {
    const s = run([join('a')], seedingTask(2, 1)).state;
    expect(roundResponse(s, 'a', [{ piece: 1, source: 'cdn', deadline: 9 }], OPTS)).toEqual({ action: 'wait', retryAfterMs: 200 });
    const done = run([
      { type: 'RecordSeededPieces', at: 15, pieces: [{ piece: 1, size: 50, digest: digestOf(1) }] },
      { type: 'Round', at: 16, peerId: 'a', ok: [], failed: [], want: 2 },
      { type: 'Round', at: 20, peerId: 'a', ok: [{ piece: 0, source: 'cdn', ms: 1 }, { piece: 1, source: 'cdn', ms: 1 }], failed: [], want: 0 },
    ], s).state;
    expect(roundResponse(done, 'a', undefined, OPTS)).toEqual({ action: 'done' });
    const failed = run([{ type: 'FailTask', at: 30, reason: 'origin 404' }], s).state;
    expect(roundResponse(failed, 'a', undefined, OPTS)).toEqual({ action: 'failed', reason: 'origin 404' });
  });
});

describe('taskView', () => {
  it('summarises the task without filtered URL parameters', () => {
    const s = run([join('a'), join('b'), { type: 'Leave', at: 20, peerId: 'b', outcome: 'left' }], seedingTask(3)).state;
    expect(TaskView.parse(taskView(s))).toEqual({
      taskId: TASK_ID,
      status: 'seeding',
      url: 'https://origin.example/files/big.bin',
      contentLength: 250,
      pieceSize: 100,
      pieceCount: 3,
      seededCount: 3,
      cdnHeldCount: 3,
      peers: 1,
      version: s.version,
      failure: null,
    });
  });
});
