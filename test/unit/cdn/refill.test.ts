import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isDamselflyError } from '../../../core/errors.ts';
import { CdnStore } from '../../../supernode/cdn/cdn-store.ts';
import { heldPieces } from '../../../supernode/cdn/held-pieces.ts';
import { OriginClient } from '../../../supernode/cdn/origin-client.ts';
import { OriginGuard } from '../../../supernode/cdn/origin-guard.ts';
import { seed, type SeedRequest } from '../../../supernode/cdn/seeder.ts';
import { TestOrigin, sha256, type OriginBehaviour } from './test-origin.ts';

/**
 * The CDN after a takeover: the task knows every digest, the new owner's disk holds few or none
 * of the pieces, and only some are needed. Those, and only those, come from the origin by Range.
 */
const TASK = sha256(Buffer.from('refill-test-task'));
const PIECE = 64 * 1024;
const SIZE = 17 * PIECE + 123; // 18 pieces, the last one short
const COUNT = 18;

let dir: string;
let client: OriginClient;
const origins: TestOrigin[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'df-cdn-refill-'));
  client = new OriginClient(new OriginGuard());
});
afterEach(async () => {
  await client.close();
  await Promise.all(origins.splice(0).map((o) => o.stop()));
  await rm(dir, { recursive: true, force: true });
});

async function origin(behaviour: OriginBehaviour = {}): Promise<TestOrigin> {
  const o = await new TestOrigin(SIZE, behaviour).start();
  origins.push(o);
  return o;
}

const pieceOf = (content: Buffer, p: number) => content.subarray(p * PIECE, Math.min(content.length, (p + 1) * PIECE));
const digestsOf = (content: Buffer) => Array.from({ length: COUNT }, (_, p) => sha256(pieceOf(content, p)));
const store = () => new CdnStore(dir);

async function refill(o: TestOrigin, extra: Partial<SeedRequest> = {}) {
  const calls: { piece: number; size: number; digest: string }[] = [];
  const result = await seed(
    { store: store(), client, backoffMs: 5 },
    {
      taskId: TASK,
      url: o.url(),
      headers: {},
      contentLength: SIZE,
      pieceSize: PIECE,
      validators: { etag: o.behaviour.noEtag ? null : o.etag, lastModified: o.lastModified },
      onPiece: (piece, size, digest) => void calls.push({ piece, size, digest }),
      signal: new AbortController().signal,
      ...extra,
    },
  );
  return { ...result, calls };
}

const gets = (o: TestOrigin) => o.requests.filter((r) => r.method === 'GET');

describe('seed with pieces (a refill)', () => {
  it('fetches only the requested pieces, one ranged GET per run, verified against the known digests', async () => {
    const o = await origin();
    const digests = digestsOf(o.content);
    const wanted = [2, 3, 4, 9, 17];
    const s = await refill(o, { pieces: wanted, digests });
    expect(s.calls.map((c) => c.piece)).toEqual(wanted);
    expect(s.calls.map((c) => c.digest)).toEqual(wanted.map((p) => digests[p]));
    expect(gets(o).map((r) => r.range)).toEqual([`bytes=${2 * PIECE}-${5 * PIECE - 1}`, `bytes=${9 * PIECE}-${10 * PIECE - 1}`, `bytes=${17 * PIECE}-`]);
    expect(gets(o).every((r) => r.ifRange === '"v1"')).toBe(true);
    expect(o.bodyBytes).toBe(4 * PIECE + 123);
    expect(s.originBytes).toBe(4 * PIECE + 123);
    for (const p of wanted) expect((await readFile(join(dir, 'cdn', TASK, String(p)))).equals(pieceOf(o.content, p))).toBe(true);
    expect((await readdir(join(dir, 'cdn', TASK))).filter((f) => /^\d+$/.test(f)).map(Number).sort((a, b) => a - b)).toEqual(wanted);
  });

  it('resumes a run cut mid-way from its next missing piece, not from the start of the file', async () => {
    const o = await origin({ failOnceAfter: PIECE + 100 });
    const s = await refill(o, { pieces: [5, 6, 7, 8], digests: digestsOf(o.content) });
    expect(s.calls.map((c) => c.piece)).toEqual([5, 6, 7, 8]);
    expect(gets(o).map((r) => r.range)).toEqual([`bytes=${5 * PIECE}-${9 * PIECE - 1}`, `bytes=${6 * PIECE}-${9 * PIECE - 1}`]);
    expect(o.bodyBytes).toBeLessThanOrEqual(5 * PIECE);
  });

  it('fails with DF_ERR_ORIGIN_CHANGED when a piece comes back with another digest, storing nothing of it', async () => {
    // No validators to betray the change: the known digests are what catches it.
    const o = await origin({ noEtag: true });
    const digests = digestsOf(o.content);
    o.changeVersion();
    const err = await refill(o, { pieces: [3], digests, validators: { etag: null, lastModified: null } }).catch((e: unknown) => e);
    expect(isDamselflyError(err, 'DF_ERR_ORIGIN_CHANGED')).toBe(true);
    expect(await store().storedSize(TASK, 3)).toBeUndefined();
  });

  it('reads a whole body only up to the last missing piece when the origin ignores Range, checking what it passes', async () => {
    const o = await origin({ ignoreRange: true });
    const s = await refill(o, { pieces: [1, 4], digests: digestsOf(o.content) });
    expect(s.calls.map((c) => c.piece)).toEqual([1, 4]);
    expect(gets(o)).toHaveLength(1); // the second run was in the same body
    // Pieces 0-4 plus what arrived in the same socket read (up to 64 KiB), far from all 18.
    expect(s.originBytes).toBeLessThan(5 * PIECE + 128 * 1024);
  });

  it('keeps stored pieces the task’s digests vouch for even when the origin has no validators, and drops the rest', async () => {
    const o = await origin();
    const digests = digestsOf(o.content);
    const none = { etag: null, lastModified: null };
    await refill(o, { pieces: [0, 1, 2], digests, validators: none });
    // Piece 1's file now holds other bytes under the same meta entry: not vouched for any more.
    await refill(o, { pieces: [5], digests: digests.map((d, p) => (p === 1 ? sha256(Buffer.from('other')) : d)), validators: none });
    expect(await store().storedSize(TASK, 0)).toBe(PIECE);
    expect(await store().storedSize(TASK, 1)).toBeUndefined();
    const before = o.bodyBytes;
    const again = await refill(o, { pieces: [0, 2, 5], digests, validators: none });
    expect(again.reused).toBe(3);
    expect(o.bodyBytes).toBe(before);
  });
});

describe('heldPieces', () => {
  const layout = (digests: (string | null)[]) => ({ pieceSize: PIECE, contentLength: SIZE, pieces: digests.map((d) => (d ? { digest: d } : null)) });

  it('lists the stored pieces with the right size and the digest the task knows', async () => {
    const o = await origin();
    const digests = digestsOf(o.content);
    await refill(o, { pieces: [0, 3, 4, 17], digests });
    expect(await heldPieces(store(), TASK, layout(digests))).toEqual([0, 3, 4, 17]);
    // Another digest known for piece 3 (another version), piece 4 unknown to the task, piece 17's file torn.
    await writeFile(join(dir, 'cdn', TASK, '17'), Buffer.alloc(5));
    const other = digests.map((d, p) => (p === 3 ? sha256(Buffer.from('x')) : p === 4 ? null : d));
    expect(await heldPieces(store(), TASK, layout(other))).toEqual([0]);
  });

  it('is empty for another layout, an unprobed task, or nothing on disk', async () => {
    const o = await origin();
    const digests = digestsOf(o.content);
    expect(await heldPieces(store(), TASK, layout(digests))).toEqual([]);
    await refill(o, { pieces: [0], digests });
    expect(await heldPieces(store(), TASK, { ...layout(digests), pieceSize: PIECE * 2 })).toEqual([]);
    expect(await heldPieces(store(), TASK, { pieceSize: null, contentLength: null, pieces: [] })).toEqual([]);
  });
});
