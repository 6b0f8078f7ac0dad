import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_REQUEST_BODY_BYTES, MAX_ROUND_REPORTS } from '../../../core/wire/peer-api.ts';
import { silentLog } from '../../../edge/log/log-sink.ts';
import { SupernodeClient } from '../../../peer/dfget/supernode-client.ts';
import { SwarmSession } from '../../../peer/dfget/swarm-session.ts';
import { TaskRegistry } from '../../../peer/storage/task-registry.ts';
import { CDN, FakeSupernode } from './fake-supernode.ts';

/**
 * A peer that re-joins re-reports every piece it holds. With more pieces than one round may
 * carry, it must spread them over several rounds, each within the wire's bounds (a round the
 * supernode refuses would leave the peer unable to report ever again), and lose none.
 */
const PIECES = 20_000;
const PIECE = 16;
const CONTENT = randomBytes(PIECES * PIECE);
const URL_ = 'http://origin.test/many-pieces.bin';

let dir: string;
const cleanups: (() => Promise<unknown>)[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'df-rejoin-'));
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await rm(dir, { recursive: true, force: true });
});

describe('a peer re-joining with many pieces', () => {
  it('reports all 20 000 pieces it holds again, in rounds each within the wire limits', async () => {
    const all = new Set(Array.from({ length: PIECES }, (_, i) => i));
    const sn = new FakeSupernode({ url: URL_, content: CONTENT, pieceSize: PIECE, sources: new Map([[CDN, { address: '127.0.0.1:9', pieces: all }]]), preference: [CDN] });
    cleanups.push(() => sn.close());
    const node = await sn.listen();
    const client = new SupernodeClient([node], {});
    cleanups.push(() => client.close());
    const output = join(dir, 'out.bin');
    let roundsBeforeRejoin = -1;
    const session = new SwarmSession({
      client, taskId: sn.taskId, register: { url: URL_, headers: {}, filter: [] }, join: { peerId: 'me', hostId: 'host', address: '127.0.0.1:7000' },
      output, registry: new TaskRegistry(), parallelism: 256, logger: silentLog, giveUpAfterMs: 5_000,
      // The bytes without a network: this test is about the control plane.
      fetch: async (a) => ({ ok: true, bytes: CONTENT.subarray(a.offset, a.offset + a.size), ms: 1 }),
      onProgress: (c) => {
        // Holding every piece, the peer is expired before its last report: it must join again
        // and tell the supernode, which now knows nothing of it, about all 20 000.
        if (c.storedPieces === PIECES) {
          roundsBeforeRejoin = sn.rounds.length;
          sn.peers.get('me')!.status = 'left';
        }
      },
    });
    const first = await client.registerTask({ url: URL_, headers: {}, filter: [] });
    const file = await session.run(first);
    await file.commit();
    cleanups.push(() => file.close());

    expect(await readFile(output)).toEqual(CONTENT);
    expect(sn.joins).toHaveLength(2);
    // The supernode learned every piece from the rounds after the re-join alone (the peer it
    // knows since then started empty), and answered "done" only then.
    expect(sn.peers.get('me')!.have.size).toBe(PIECES);
    const after = sn.rounds.slice(roundsBeforeRejoin);
    expect(after.length).toBeGreaterThanOrEqual(Math.ceil(PIECES / MAX_ROUND_REPORTS));
    for (const r of sn.rounds) {
      expect(r.body.ok.length).toBeLessThanOrEqual(MAX_ROUND_REPORTS);
      expect(r.body.failed.length).toBeLessThanOrEqual(MAX_ROUND_REPORTS);
      expect(Buffer.byteLength(JSON.stringify(r.body))).toBeLessThanOrEqual(MAX_REQUEST_BODY_BYTES);
    }
    const reported = new Set(after.flatMap((r) => r.body.ok.map((e) => e.piece)));
    expect(reported.size).toBe(PIECES);
  });
});
