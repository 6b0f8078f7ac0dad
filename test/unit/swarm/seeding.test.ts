import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DamselflyError } from '../../../core/errors.ts';
import { computeTaskId } from '../../../core/ids/index.ts';
import type { TaskCommand } from '../../../core/task/index.ts';
import { Cdn } from '../../../supernode/cdn/cdn.ts';
import { OriginCredentials } from '../../../supernode/swarm/origin-credentials.ts';
import { Seeding } from '../../../supernode/swarm/seeding.ts';
import { MemoryRuntime } from './memory-runtime.ts';
import { TestOrigin, sha256, type OriginBehaviour } from '../cdn/test-origin.ts';

/**
 * The seeding of a task taken over by a new replica, against a real HTTP origin on loopback and
 * a real CDN on a fresh disk: the origin must send the pieces no surviving peer holds, by Range,
 * and nothing else. The runtime is core's decide/evolve in memory (the seeding only needs a
 * task's state and its commands), so what is recorded is exactly what core accepts.
 */
const PIECE = 64 * 1024;
const COUNT = 12;
const SIZE = (COUNT - 1) * PIECE + 1000; // the last piece is short
const sizeOf = (p: number) => (p === COUNT - 1 ? 1000 : PIECE);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);


let dir: string;
let origin: TestOrigin;
let cdn: Cdn;
let runtime: MemoryRuntime;
let credentials: OriginCredentials;
let now: number;
let seeding: Seeding;
let taskId: string;

async function start(behaviour: OriginBehaviour = {}): Promise<void> {
  origin = await new TestOrigin(SIZE, behaviour).start();
  taskId = computeTaskId({ url: origin.url(), filter: [] });
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'df-seeding-'));
  cdn = new Cdn({ dataDir: dir, allowPrivateOrigins: true, backoffMs: 5, retries: 1 });
  runtime = new MemoryRuntime();
  credentials = new OriginCredentials();
  now = 1_000;
  seeding = new Seeding({ runtime, cdn, credentials, clock: () => now, logger: pino({ level: 'silent' }), refillRetryMs: 10_000 });
});
afterEach(async () => {
  seeding.stopAll();
  await cdn.close();
  await origin.stop();
  await rm(dir, { recursive: true, force: true });
});

const digestOf = (p: number) => sha256(origin.content.subarray(p * PIECE, p * PIECE + sizeOf(p)));
const gets = () => origin.requests.filter((r) => r.method === 'GET');

/** Runs `ensure` and waits until the seeding it started (if any) is over. */
async function ensure(status = runtime.state(taskId).status): Promise<void> {
  seeding.ensure(taskId, status);
  await vi.waitFor(() => expect(seeding.isRunning(taskId)).toBe(false), { timeout: 10_000, interval: 5 });
}

/**
 * The task as replica r1 left it when it died, replayed on replica r2: the probe, the pieces
 * seeded (`seeded`, all by default, with the origin's real digests), and peers holding pieces.
 * Then r2 takes over; its CDN's disk is empty, so it reports no pieces.
 */
async function takenOver(holders: { id: string; have: number[]; outcome?: 'succeeded' | 'left' }[], seeded = range(0, COUNT - 1)): Promise<void> {
  const exec = (command: TaskCommand) => runtime.execute(taskId, command);
  await exec({ type: 'CreateTask', at: 1, taskId, url: origin.url(), digest: null, identifier: null, range: null, filter: [] });
  await exec({ type: 'AcquireOwnership', at: 1, replicaId: 'r1', epoch: 1 });
  await exec({ type: 'RecordProbe', at: 2, contentLength: SIZE, pieceSize: PIECE, acceptRanges: true, etag: origin.etag, lastModified: origin.lastModified });
  await exec({ type: 'RecordSeededPieces', at: 3, pieces: seeded.map((p) => ({ piece: p, size: sizeOf(p), digest: digestOf(p) })) });
  if (seeded.length === COUNT) await exec({ type: 'CompleteSeed', at: 4 });
  for (const h of holders) {
    await exec({ type: 'Join', at: 5, peerId: h.id, hostId: `host-${h.id}`, address: `127.0.0.1:${7000 + h.id.length}` });
    if (h.have.length > 0) {
      runtime.assign = () => h.have.map((piece) => ({ piece, source: 'cdn', deadline: 100 }));
      await exec({ type: 'Round', at: 6, peerId: h.id, ok: [], failed: [], want: 1 });
      runtime.assign = undefined;
      await exec({ type: 'Round', at: 6, peerId: h.id, ok: h.have.map((p) => ({ piece: p, source: 'cdn', ms: 1 })), failed: [], want: 0 });
    }
    if (h.outcome) await exec({ type: 'Leave', at: 7, peerId: h.id, outcome: h.outcome });
  }
  await exec({ type: 'AcquireOwnership', at: 10, replicaId: 'r2', epoch: 2, cdnPieces: await cdn.heldPieces(taskId, runtime.state(taskId)) });
  expect(runtime.state(taskId).cdnHeldCount).toBe(0);
  runtime.commands = [];
}

const heldByCdn = () => range(0, COUNT - 1).filter((p) => runtime.state(taskId).cdnHeld[p]);

describe('Seeding after a takeover', () => {
  it('fetches only the pieces no serving peer holds, one ranged GET per run, and records them', async () => {
    await start();
    // a holds 0-4, done (succeeded) 5-7 and 9, gone (left) 8 — which no longer counts.
    // Nobody that can serve holds 8, 10, 11; r lacks everything.
    await takenOver([
      { id: 'a', have: range(0, 4) },
      { id: 'done', have: [5, 6, 7, 9], outcome: 'succeeded' },
      { id: 'gone', have: [8], outcome: 'left' },
      { id: 'r', have: [] },
    ]);
    await ensure();
    expect(gets().map((r) => r.range)).toEqual([`bytes=${8 * PIECE}-${9 * PIECE - 1}`, `bytes=${10 * PIECE}-`]);
    expect(origin.bodyBytes).toBe(sizeOf(8) + sizeOf(10) + sizeOf(11));
    expect(heldByCdn()).toEqual([8, 10, 11]);
    expect(runtime.state(taskId).status).toBe('seeded');
    // Recorded, several to a command when they land within the recorder's window (seed-recorder.ts).
    expect(new Set(runtime.commands.map((c) => c.type))).toEqual(new Set(['RecordSeededPieces']));
    expect(runtime.commands.flatMap((c) => (c.type === 'RecordSeededPieces' ? c.pieces.map((p) => p.piece) : []))).toEqual([8, 10, 11]);

    // Nothing more is needed: touching the task again costs the origin nothing.
    await ensure();
    expect(gets()).toHaveLength(2);

    // a leaves: 0-4 lose their last holder while r still lacks them, so the CDN fetches them now.
    await runtime.execute(taskId, { type: 'Leave', at: 20, peerId: 'a', outcome: 'left' });
    await ensure();
    expect(gets().map((r) => r.range).at(-1)).toBe(`bytes=0-${5 * PIECE - 1}`);
    expect(origin.bodyBytes).toBe(5 * PIECE + sizeOf(8) + sizeOf(10) + sizeOf(11));
    expect(heldByCdn()).toEqual([0, 1, 2, 3, 4, 8, 10, 11]);
  });

  it('finishes a seed interrupted by the takeover without refetching what peers hold', async () => {
    await start();
    await takenOver([{ id: 'a', have: range(0, 5) }], range(0, 5));
    expect(runtime.state(taskId).status).toBe('seeding');
    await ensure();
    expect(gets().map((r) => r.range)).toEqual([`bytes=${6 * PIECE}-`]);
    expect(origin.bodyBytes).toBe(5 * PIECE + sizeOf(11));
    expect(runtime.state(taskId)).toMatchObject({ status: 'seeded', seededCount: COUNT, cdnHeldCount: 6 });
  });

  it('fails the task when the origin changed since the pieces were seeded, never storing the new version', async () => {
    await start();
    await takenOver([{ id: 'a', have: range(0, 9) }, { id: 'r', have: [] }]);
    origin.changeVersion();
    await ensure();
    expect(runtime.state(taskId)).toMatchObject({ status: 'failed' });
    expect(runtime.state(taskId).failure).toMatch(/changed/);
    expect(heldByCdn()).toEqual([]);
    expect(await cdn.heldPieces(taskId, runtime.state(taskId))).toEqual([]);
  });

  it('keeps a seeded task when the refill cannot reach the origin yet, and retries once credentials are known', async () => {
    await start({ requireAuth: 'Bearer s3cret' });
    await takenOver([{ id: 'a', have: range(0, 9) }, { id: 'r', have: [] }]);
    await ensure();
    expect(runtime.state(taskId).status).toBe('seeded');
    expect(gets().at(-1)?.authorization).toBeUndefined();
    const tries = gets().length;

    // A peer registers the task again here: the new owner learns the origin's credentials.
    credentials.remember(taskId, { authorization: 'Bearer s3cret' });
    await ensure();
    expect(gets()).toHaveLength(tries); // still backing off
    now += 10_000;
    await ensure();
    expect(gets().at(-1)).toMatchObject({ range: `bytes=${10 * PIECE}-`, authorization: 'Bearer s3cret' });
    expect(heldByCdn()).toEqual([10, 11]);
  });

  it('never fails a task for this replica’s own trouble (its store down): it seeds on later', async () => {
    await start();
    await takenOver([{ id: 'a', have: range(0, 5) }], range(0, 5));
    const execute = runtime.execute.bind(runtime);
    let outage = true;
    runtime.execute = async (id, command) => {
      if (outage && command.type === 'RecordSeededPieces') throw new DamselflyError('DF_ERR_UNAVAILABLE', 'the event store is unavailable');
      return execute(id, command);
    };
    await ensure();
    expect(runtime.commands.map((c) => c.type)).not.toContain('FailTask');
    expect(runtime.state(taskId).status).toBe('seeding');
    outage = false;
    now += 10_000;
    await ensure();
    expect(runtime.state(taskId)).toMatchObject({ status: 'seeded', seededCount: COUNT });
    // The pieces stored during the outage were on disk already: announced from the cache, not refetched.
    expect(origin.bodyBytes).toBe(5 * PIECE + sizeOf(11));
  });
});
