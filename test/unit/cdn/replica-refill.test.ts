import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { Agent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CdnStore } from '../../../supernode/cdn/cdn-store.ts';
import { OriginClient } from '../../../supernode/cdn/origin-client.ts';
import { OriginGuard } from '../../../supernode/cdn/origin-guard.ts';
import { pieceRoute } from '../../../supernode/cdn/piece-route.ts';
import { seed } from '../../../supernode/cdn/seeder.ts';
import { TestOrigin, sha256 } from './test-origin.ts';

/**
 * A refill after a change of owner (a takeover, or a cluster restarted whose shards landed
 * elsewhere): the pieces another replica's CDN verified come from it, checked against the
 * task's digests; the origin sends only the rest (issue 12, finding 8).
 */
const TASK = sha256(Buffer.from('replica-refill-task'));
const PIECE = 64 * 1024;
const SIZE = 9 * PIECE + 77; // 10 pieces
const COUNT = 10;

let dir: string;
let client: OriginClient;
let agent: Agent;
const closers: (() => Promise<unknown>)[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'df-replica-refill-'));
  client = new OriginClient(new OriginGuard());
  agent = new Agent();
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await Promise.all([client.close(), agent.close()]);
  await rm(dir, { recursive: true, force: true });
});

const pieceOf = (content: Buffer, p: number) => content.subarray(p * PIECE, Math.min(content.length, (p + 1) * PIECE));

/** Another replica's CDN holding `pieces` (of `content`, or of other bytes), serving its piece route. */
async function replicaHolding(content: Buffer, pieces: number[]): Promise<string> {
  const store = new CdnStore(join(dir, `replica-${Math.random().toString(36).slice(2)}`), 0);
  await mkdir(store.taskDir(TASK), { recursive: true });
  for (const p of pieces) await store.writePiece(TASK, p, [pieceOf(content, p)]);
  const app: FastifyInstance = Fastify();
  await app.register(pieceRoute, { store });
  await app.listen({ port: 0, host: '127.0.0.1' });
  closers.push(() => app.close());
  return `127.0.0.1:${(app.server.address() as { port: number }).port}`;
}

async function refill(o: TestOrigin, replicas: string[]) {
  const digests = Array.from({ length: COUNT }, (_, p) => sha256(pieceOf(o.content, p)));
  const stored: number[] = [];
  const result = await seed(
    { store: new CdnStore(join(dir, 'owner')), client, backoffMs: 5, replicaDispatcher: agent },
    {
      taskId: TASK, url: o.url(), headers: {}, contentLength: SIZE, pieceSize: PIECE,
      validators: { etag: o.etag, lastModified: o.lastModified },
      pieces: Array.from({ length: COUNT }, (_, p) => p), digests, replicas,
      onPiece: (piece, _size, digest) => {
        expect(digest).toBe(digests[piece]);
        stored.push(piece);
      },
      signal: new AbortController().signal,
    },
  );
  return { ...result, stored: stored.sort((a, b) => a - b) };
}

describe('a refill asks the other replicas before the origin', () => {
  it('takes what a replica verified and leaves the origin only the rest', async () => {
    const o = await new TestOrigin(SIZE).start();
    closers.push(() => o.stop());
    const former = await replicaHolding(o.content, [0, 1, 2, 3, 4, 5, 6]);
    const r = await refill(o, [former]);
    expect(r.fromReplicas).toBe(7);
    expect(r.stored).toEqual(Array.from({ length: COUNT }, (_, p) => p));
    expect(o.bodyBytes).toBe(2 * PIECE + 77);
    expect(r.originBytes).toBe(2 * PIECE + 77);
  });

  it('never keeps bytes that miss the digest: those pieces come from the origin', async () => {
    const o = await new TestOrigin(SIZE).start();
    closers.push(() => o.stop());
    const other = Buffer.alloc(SIZE, 7); // another version of the file on that replica's disk
    const stale = await replicaHolding(other, [0, 1, 2]);
    const good = await replicaHolding(o.content, [3, 4]);
    const r = await refill(o, [stale, good]);
    expect(r.fromReplicas).toBe(2);
    expect(r.stored).toEqual(Array.from({ length: COUNT }, (_, p) => p));
    expect(o.bodyBytes).toBe(7 * PIECE + 77);
  });

  it('goes to the origin when no replica answers', async () => {
    const o = await new TestOrigin(SIZE).start();
    closers.push(() => o.stop());
    const r = await refill(o, ['127.0.0.1:9']);
    expect(r.fromReplicas).toBe(0);
    expect(o.bodyBytes).toBe(SIZE);
  });
});
