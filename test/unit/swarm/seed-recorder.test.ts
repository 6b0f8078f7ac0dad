import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { TaskCommand } from '../../../core/task/index.ts';
import { SeedRecorder } from '../../../supernode/swarm/seed-recorder.ts';

const piece = (n: number) => ({ piece: n, size: 10, digest: String(n).padStart(64, '0') });

describe('SeedRecorder: stored pieces recorded several to a command', () => {
  let commands: TaskCommand[];
  let fail: Error | undefined;
  const runtime = {
    snapshot: vi.fn(),
    execute: async (_taskId: string, command: TaskCommand) => {
      commands.push(command);
      if (fail) throw fail;
      return { events: [], snapshot: undefined as never };
    },
  };
  const recorder = (windowMs: number) => new SeedRecorder({ runtime, taskId: 't', clock: () => 42, windowMs });
  const recorded = () => commands.map((c) => (c.type === 'RecordSeededPieces' ? c.pieces.map((p) => p.piece) : []));

  beforeEach(() => {
    vi.useFakeTimers();
    commands = [];
    fail = undefined;
  });
  afterEach(() => vi.useRealTimers());

  it('puts the pieces stored within one window into one command, and opens a new window after it', async () => {
    const r = recorder(20);
    r.add(piece(0));
    r.add(piece(1));
    expect(commands).toEqual([]);
    await vi.advanceTimersByTimeAsync(20);
    r.add(piece(2));
    await vi.advanceTimersByTimeAsync(19);
    r.add(piece(3));
    await vi.advanceTimersByTimeAsync(1);
    expect(recorded()).toEqual([[0, 1], [2, 3]]);
    expect(commands[0]).toMatchObject({ type: 'RecordSeededPieces', at: 42, pieces: [piece(0), piece(1)] });
  });

  it('settle() records what is pending at once and waits for every record', async () => {
    const r = recorder(1000);
    r.add(piece(5));
    await r.settle();
    expect(recorded()).toEqual([[5]]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(recorded()).toEqual([[5]]);
  });

  it('a window of 0 records each piece on its own', async () => {
    const r = recorder(0);
    r.add(piece(1));
    r.add(piece(2));
    expect(recorded()).toEqual([[1], [2]]);
  });

  it('cancel() drops what is pending; settle() rejects with a failed record', async () => {
    const r = recorder(20);
    r.add(piece(7));
    r.cancel();
    await vi.advanceTimersByTimeAsync(50);
    expect(commands).toEqual([]);
    fail = new Error('store down');
    r.add(piece(8));
    await expect(r.settle()).rejects.toThrow('store down');
  });
});
