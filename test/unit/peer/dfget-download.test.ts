import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { piecePath } from '../../../core/wire/peer-api.ts';
import { startDownload, download } from '../../../peer/dfget/download.ts';
import { registryPieceSource, startUploader, type Uploader } from '../../../peer/uploader/index.ts';
import { lyingSource } from '../../../bench/harness/lying-source.ts';
import { PieceFile } from '../../../peer/storage/piece-file.ts';
import { TaskRegistry } from '../../../peer/storage/task-registry.ts';
import { CDN, FakeSupernode, type FakeSource } from './fake-supernode.ts';
import { deadAddress, rawRequest, recordingLogger, startTestOrigin } from './peer-fixtures.ts';

const PIECE = 32 * 1024;
const CONTENT = randomBytes(10 * PIECE + 777); // 11 pieces, the last one short
const PIECES = 11;
const URL_ = 'http://origin.test/file.bin';
const TOKEN = 'cluster-token';
const digestOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

let dir: string;
const cleanups: (() => Promise<unknown>)[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'df-dfget-'));
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await rm(dir, { recursive: true, force: true });
});

/** An uploader holding `pieces` of CONTENT: the CDN or another peer (they serve the same path). */
async function source(taskId: string, pieces: number[], o: { corrupt?: boolean } = {}): Promise<FakeSource & { uploader: Uploader }> {
  const registry = new TaskRegistry();
  const file = await PieceFile.create(join(dir, `src-${randomBytes(3).toString('hex')}`), { contentLength: CONTENT.length, pieceSize: PIECE });
  for (const n of pieces) await file.writePiece(n, CONTENT.subarray(n * PIECE, (n + 1) * PIECE));
  registry.add(taskId, file);
  const honest = registryPieceSource(registry);
  const uploader = await startUploader({ source: o.corrupt ? lyingSource(honest, () => true) : honest });
  cleanups.push(() => uploader.close(), () => file.abort());
  return { address: uploader.address, pieces: new Set(pieces), uploader };
}

async function swarm(preference: string[], build: (taskId: string) => Promise<Record<string, FakeSource>>) {
  const probe = new FakeSupernode({ url: URL_, content: CONTENT, pieceSize: PIECE, sources: new Map(), preference });
  const sources = new Map(Object.entries(await build(probe.taskId)));
  const sn = new FakeSupernode({ url: URL_, content: CONTENT, pieceSize: PIECE, sources, preference, token: TOKEN });
  cleanups.push(() => sn.close());
  return sn;
}

const all = Array.from({ length: PIECES }, (_, i) => i);
const okReports = (sn: FakeSupernode) => sn.rounds.flatMap((r) => r.body.ok);
const failedReports = (sn: FakeSupernode) => sn.rounds.flatMap((r) => r.body.failed);

describe('dfget download against a fake supernode', () => {
  it('downloads from a peer and the CDN, byte-identical, reporting each piece once, and serves what it holds', async () => {
    const sn = await swarm(['peer-a', CDN], async (taskId) => ({
      'peer-a': await source(taskId, [0, 2, 4, 6, 8, 10]),
      [CDN]: await source(taskId, all),
    }));
    sn.waitFirstRounds = 1;
    const node = await sn.listen();
    const output = join(dir, 'out.bin');
    const progress: number[] = [];
    const d = await startDownload({ url: URL_, output, nodes: [node], token: TOKEN, peerId: 'me', parallelism: 3, onProgress: (c) => progress.push(c.storedPieces) });
    cleanups.push(() => d.close());

    expect(await readFile(output)).toEqual(CONTENT);
    expect(await readdir(dir)).not.toContainEqual(expect.stringMatching(/^out\.bin\.damselfly-.*\.tmp$/));
    expect(d.result).toMatchObject({ taskId: sn.taskId, outputPath: output, bytes: CONTENT.length, pieces: PIECES, fromPeers: 6, fromCdn: 5, failedPieces: 0, backSource: false });
    expect(d.result.peerBytes + d.result.cdnBytes).toBe(CONTENT.length);
    expect(progress.at(-1)).toBe(PIECES);
    // Every piece reported exactly once, with the source it came from; never more than 3 in flight.
    const ok = okReports(sn);
    expect(ok.map((e) => e.piece).sort((a, b) => a - b)).toEqual(all);
    expect(ok.filter((e) => e.source === 'peer-a').map((e) => e.piece).sort((a, b) => a - b)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(sn.rounds.every((r) => r.body.want <= 3)).toBe(true);
    expect(sn.rounds.length).toBeLessThanOrEqual(PIECES + 3);
    expect(sn.authorizations.every((a) => a === `Bearer ${TOKEN}`)).toBe(true);
    expect(sn.joins[0]!.body).toMatchObject({ peerId: 'me', address: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
    expect(sn.leaves).toEqual([{ peerId: 'me', body: { outcome: 'succeeded' } }]);

    // It serves what it holds while it lingers, then leaves and stops.
    const port = Number(sn.joins[0]!.body.address.split(':')[1]);
    const served = await rawRequest(port, piecePath(sn.taskId, 10));
    expect(served.body).toEqual(CONTENT.subarray(10 * PIECE));
    await d.close();
    expect(sn.leaves.at(-1)).toEqual({ peerId: 'me', body: { outcome: 'left' } });
    await expect(rawRequest(port, piecePath(sn.taskId, 0))).rejects.toThrow();
  });

  it('catches a lying source by digest, reports it, and refetches the piece elsewhere', async () => {
    const sn = await swarm(['liar', CDN], async (taskId) => ({
      liar: await source(taskId, [1, 3, 5], { corrupt: true }),
      [CDN]: await source(taskId, all),
    }));
    const node = await sn.listen();
    const output = join(dir, 'out.bin');
    const result = await download({ url: URL_, output, nodes: [node], token: TOKEN, peerId: 'me', parallelism: 4, digest: undefined });
    expect(createHash('sha256').update(await readFile(output)).digest('hex')).toBe(createHash('sha256').update(CONTENT).digest('hex'));
    const failed = failedReports(sn);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((f) => f.source === 'liar' && f.reason === 'digest')).toBe(true);
    // No byte from the liar was kept: every piece it was asked for came from the CDN in the end.
    const ok = okReports(sn);
    expect(ok.filter((e) => e.source === 'liar')).toEqual([]);
    for (const f of failed) expect(ok.find((e) => e.piece === f.piece)?.source).toBe(CDN);
    expect(result).toMatchObject({ fromPeers: 0, fromCdn: PIECES, failedPieces: failed.length });
  });

  it('fails over to another supernode mid-download, re-joins and reports the pieces it holds', async () => {
    const sn = await swarm([CDN], async (taskId) => ({ [CDN]: await source(taskId, all) }));
    const first = await sn.listen();
    const second = await sn.listen();
    // The first replica dies after a few rounds; the peer must carry on with the second.
    let rounds = 0;
    const d = await startDownload({
      url: URL_, output: join(dir, 'out.bin'), nodes: [first, second], token: TOKEN, peerId: 'me', parallelism: 2,
      onProgress: () => {
        if (++rounds === 4) {
          void sn.kill(0);
          sn.peers.get('me')!.status = 'left'; // as if the peer had expired: the new replica wants a join
        }
      },
    });
    cleanups.push(() => d.close());
    expect(await readFile(join(dir, 'out.bin'))).toEqual(CONTENT);
    expect(sn.joins.map((j) => j.node)).toEqual([0, 1]);
    expect(sn.registers.map((r) => r.node)).toEqual([0, 1]);
    // The first round on the second replica reports everything held at the time of the switch.
    const firstOnSecond = sn.rounds.find((r) => r.node === 1)!;
    const heldBefore = new Set(sn.rounds.filter((r) => r.node === 0).flatMap((r) => r.body.ok.map((e) => e.piece)));
    expect(heldBefore.size).toBeGreaterThanOrEqual(1);
    for (const piece of heldBefore) expect(firstOnSecond.body.ok.map((e) => e.piece)).toContain(piece);
    expect(d.result.supernode).toBe(second);
  });

  it('registers with the next node when the first answers 503, and re-joins on the same node when it was expired', async () => {
    const sn = await swarm([CDN], async (taskId) => ({ [CDN]: await source(taskId, all) }));
    const draining = await sn.listen();
    const live = await sn.listen();
    sn.unavailable.add(0);
    let stored = 0;
    const d = await startDownload({
      url: URL_, output: join(dir, 'out.bin'), nodes: [draining, live], token: TOKEN, peerId: 'me', parallelism: 1,
      onProgress: () => {
        // The supernode expired this peer (PeerLeft 'expired'): its next round is refused as gone.
        if (++stored === 5) sn.peers.get('me')!.status = 'left';
      },
    });
    cleanups.push(() => d.close());
    expect(await readFile(join(dir, 'out.bin'))).toEqual(CONTENT);
    expect(sn.registers.map((r) => r.node)).toEqual([1, 1]);
    expect(sn.joins.map((j) => j.node)).toEqual([1, 1]);
    const rejoinedAt = sn.rounds.findIndex((r, i) => i > 0 && r.body.ok.length >= 5);
    expect(rejoinedAt).toBeGreaterThan(0);
    expect(sn.rounds[rejoinedAt]!.body.ok.map((e) => e.piece).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4]);
  });

  it('waits out a supernode that answers "retry soon" at registration instead of going to the origin', async () => {
    const sn = await swarm([CDN], async (taskId) => ({ [CDN]: await source(taskId, all) }));
    const node = await sn.listen();
    sn.unavailable.add(0); // 503 with Retry-After: 1 (a shard changing hands, a replica starting)
    setTimeout(() => sn.unavailable.delete(0), 300);
    const d = await startDownload({ url: URL_, output: join(dir, 'out.bin'), nodes: [node], token: TOKEN, peerId: 'me' });
    cleanups.push(() => d.close());
    expect(d.result).toMatchObject({ taskId: sn.taskId, backSource: false });
    expect(await readFile(join(dir, 'out.bin'))).toEqual(CONTENT);
  });

  it('goes to the origin once its patience with "retry soon" answers runs out', async () => {
    const origin = await startTestOrigin(CONTENT);
    cleanups.push(() => origin.close());
    const sn = new FakeSupernode({ url: origin.url, content: CONTENT, pieceSize: PIECE, sources: new Map(), preference: [], token: TOKEN });
    cleanups.push(() => sn.close());
    const node = await sn.listen();
    sn.unavailable.add(0);
    const result = await download({ url: origin.url, output: join(dir, 'direct.bin'), nodes: [node], token: TOKEN, registerPatienceMs: 1500 });
    expect(result).toMatchObject({ backSource: true, taskId: null });
    expect(origin.requests).toHaveLength(1);
  });

  it('goes back to the origin, with the origin headers, when no supernode answers; never logs the secret', async () => {
    const origin = await startTestOrigin(CONTENT);
    cleanups.push(() => origin.close());
    const output = join(dir, 'direct.bin');
    const { lines, logger } = recordingLogger();
    const result = await download({
      url: origin.url, output, nodes: [await deadAddress(), await deadAddress()], digest: digestOf(CONTENT), logger,
      headers: { authorization: 'Bearer origin-secret-123', 'x-api-token': 'tok-456', accept: '*/*' },
    });
    expect(result).toMatchObject({ backSource: true, taskId: null, bytes: CONTENT.length, outputPath: output });
    expect(await readFile(output)).toEqual(CONTENT);
    expect(origin.requests).toHaveLength(1);
    expect(origin.requests[0]).toMatchObject({ authorization: 'Bearer origin-secret-123', 'x-api-token': 'tok-456' });
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toMatch(/origin-secret-123|tok-456/);
  });

  it('with noBackSource fails with a clear one-line error and leaves nothing behind', async () => {
    const origin = await startTestOrigin(CONTENT);
    cleanups.push(() => origin.close());
    const output = join(dir, 'never.bin');
    const err = await download({ url: origin.url, output, nodes: [await deadAddress()], noBackSource: true }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/DF_ERR_SUPERNODE_UNREACHABLE: no supernode answered .*back-to-source is disabled/);
    expect((err as Error).message).not.toContain('\n');
    expect(origin.requests).toHaveLength(0);
    expect(await readdir(dir)).toEqual([]);
  });

  it('fails on a whole-file digest mismatch without leaving a file, and tells the supernode', async () => {
    const sn = await swarm([CDN], async (taskId) => ({ [CDN]: await source(taskId, all) }));
    const node = await sn.listen();
    const output = join(dir, 'out.bin');
    const wrong = digestOf(Buffer.from('not this'));
    // The fake computes its task id without the digest; the peer's registration carries it.
    const err = await download({ url: URL_, output, nodes: [node], token: TOKEN, peerId: 'me', digest: wrong }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/DF_ERR_DIGEST_MISMATCH/);
    expect(sn.registers[0]!.body.digest).toBe(wrong);
    expect(sn.leaves).toEqual([{ peerId: 'me', body: { outcome: 'failed', reason: expect.stringMatching(/DIGEST_MISMATCH/) } }]);
    expect(await readdir(dir)).not.toContainEqual(expect.stringMatching(/out\.bin/));
  });

  it('refuses to go on when the supernode rejects the token (no back-to-source on a 401)', async () => {
    const sn = await swarm([CDN], async (taskId) => ({ [CDN]: await source(taskId, all) }));
    const node = await sn.listen();
    const err = await download({ url: URL_, output: join(dir, 'x.bin'), nodes: [node], token: 'wrong' }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/401 DF_ERR_UNAUTHORIZED/);
    expect(sn.joins).toHaveLength(0);
  });
});

describe('dfget download on the sync protocol', () => {
  const okSynced = (sn: FakeSupernode) => sn.syncs.flatMap((r) => r.body.ok.flatMap(({ source, pieces }) => pieces.map((piece) => ({ piece, source }))));
  const failedSynced = (sn: FakeSupernode) => sn.syncs.flatMap((r) => r.body.failed);

  it('chooses its pieces from what its parents hold, the CDN for what no peer holds (and one download at a time besides), and reports them in a few syncs', async () => {
    const sn = await swarm(['peer-a', CDN], async (taskId) => ({
      'peer-a': await source(taskId, [0, 2, 4, 6, 8, 10]),
      [CDN]: await source(taskId, all),
    }));
    const node = await sn.listen();
    const output = join(dir, 'out.bin');
    const d = await startDownload({ url: URL_, output, nodes: [node], token: TOKEN, peerId: 'me', parallelism: 3, protocol: 'sync' });
    cleanups.push(() => d.close());

    expect(await readFile(output)).toEqual(CONTENT);
    expect(d.result).toMatchObject({ taskId: sn.taskId, bytes: CONTENT.length, pieces: PIECES, failedPieces: 0, backSource: false });
    const ok = okSynced(sn);
    expect(ok.map((e) => e.piece).sort((a, b) => a - b)).toEqual(all);
    const fromA = ok.filter((e) => e.source === 'peer-a').map((e) => e.piece);
    const fromCdn = ok.filter((e) => e.source === CDN).map((e) => e.piece);
    expect(fromA.every((p) => p % 2 === 0)).toBe(true);
    expect(fromCdn).toEqual(expect.arrayContaining([1, 3, 5, 7, 9]));
    // The CDN took one download at a time of what peer-a holds: with 3 at once, peer-a sent most.
    expect(fromA.length).toBeGreaterThanOrEqual(3);
    expect(d.result).toMatchObject({ fromPeers: fromA.length, fromCdn: fromCdn.length });
    // Joined by its first sync, and far fewer syncs than pieces: no round trip per piece.
    expect(sn.syncs[0]!.body.join).toMatchObject({ address: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
    expect(sn.syncs.slice(1).every((s) => s.body.join === undefined)).toBe(true);
    expect(sn.syncs.length).toBeLessThan(PIECES / 2);
    expect(sn.rounds).toEqual([]);
    expect(sn.leaves).toEqual([{ peerId: 'me', body: { outcome: 'succeeded' } }]);
  });

  it('catches a lying parent by digest, reports it, and takes those pieces elsewhere', async () => {
    const sn = await swarm(['liar', CDN], async (taskId) => ({
      liar: await source(taskId, [1, 3, 5], { corrupt: true }),
      [CDN]: await source(taskId, all),
    }));
    const node = await sn.listen();
    const result = await download({ url: URL_, output: join(dir, 'out.bin'), nodes: [node], token: TOKEN, peerId: 'me', parallelism: 4, protocol: 'sync' });
    expect(await readFile(join(dir, 'out.bin'))).toEqual(CONTENT);
    const failed = failedSynced(sn);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((f) => f.source === 'liar' && f.reason === 'digest')).toBe(true);
    expect(okSynced(sn).filter((e) => e.source === 'liar')).toEqual([]);
    expect(result).toMatchObject({ fromPeers: 0, fromCdn: PIECES, failedPieces: failed.length });
  });

  it('fetches only pieces whose digest it knows, and asks to be held for the next ones', async () => {
    const sn = await swarm([CDN], async (taskId) => ({ [CDN]: await source(taskId, all) }));
    sn.seededDigests = 3;
    const node = await sn.listen();
    const seen: number[] = [];
    const d = await startDownload({
      url: URL_, output: join(dir, 'out.bin'), nodes: [node], token: TOKEN, peerId: 'me', parallelism: 4, protocol: 'sync',
      onProgress: (c) => {
        seen.push(c.storedPieces);
        if (c.storedPieces === 3) setTimeout(() => (sn.seededDigests = PIECES), 200);
      },
    });
    cleanups.push(() => d.close());
    expect(await readFile(join(dir, 'out.bin'))).toEqual(CONTENT);
    // Until more were seeded it held only the first three, and its syncs asked to be held
    // (its very first sync may ask too: it knows no digest yet).
    const held = sn.syncs.filter((s) => s.body.holdMs > 0).map((s) => s.body.knownDigests);
    expect(held).toContain(3);
    expect(held.every((k) => k === 0 || k === 3)).toBe(true);
    expect(okSynced(sn).filter((e) => e.piece >= 3).length).toBe(PIECES - 3);
  });

  it('fails over to another supernode, joins again there and reports all it holds', async () => {
    const sn = await swarm([CDN], async (taskId) => ({ [CDN]: await source(taskId, all) }));
    sn.seededDigests = 5;
    const first = await sn.listen();
    const second = await sn.listen();
    let killed = false;
    const d = await startDownload({
      url: URL_, output: join(dir, 'out.bin'), nodes: [first, second], token: TOKEN, peerId: 'me', parallelism: 2, protocol: 'sync',
      onProgress: (c) => {
        if (c.storedPieces === 5 && !killed) {
          killed = true;
          void sn.kill(0).then(() => (sn.seededDigests = PIECES));
          sn.peers.get('me')!.status = 'left'; // as if the peer had expired: the new replica wants a join
        }
      },
    });
    cleanups.push(() => d.close());
    expect(await readFile(join(dir, 'out.bin'))).toEqual(CONTENT);
    expect(sn.registers.map((r) => r.node)).toEqual([0, 1]);
    const firstOnSecond = sn.syncs.find((s) => s.node === 1)!;
    expect(firstOnSecond.body.join).toBeDefined();
    expect(firstOnSecond.body.ok.flatMap((e) => e.pieces).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4]);
    expect(d.result.supernode).toBe(second);
  });
});
