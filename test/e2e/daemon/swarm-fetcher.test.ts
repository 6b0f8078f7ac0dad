import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSupernode, type RunningSupernode } from '../../../supernode/supernode.ts';
import { parseSupernodeConfig } from '../../../supernode/config.ts';
import { createLogger } from '../../../edge/log/logger.ts';
import { startDaemon, type RunningDaemon } from '../../../peer/daemon/daemon.ts';
import { startTestOrigin } from '../../shared/origin.ts';

/**
 * The daemon's fetcher over a real supernode (embedded store): a blob streams in order as its
 * pieces land, the same digest through two URLs is one task, a second daemon takes the pieces
 * from the first, and a blob that does not hash to its digest errors instead of ending.
 */
describe('the daemon fetches blobs through the swarm', () => {
  let node: RunningSupernode;
  let dir: string;
  const daemons: RunningDaemon[] = [];
  let origin: Awaited<ReturnType<typeof startTestOrigin>>;

  const daemon = async (name: string) => {
    const d = await startDaemon({
      nodes: [node.address], dataDir: join(dir, name), host: '127.0.0.1', port: 0, uploadPort: 0,
      cache: { highWatermark: 0.99, lowWatermark: 0.98, ttlMs: 3_600_000 }, gcIntervalMs: 60_000,
    });
    daemons.push(d);
    return d;
  };
  const read = async (s: AsyncIterable<Buffer>) => {
    const chunks: Buffer[] = [];
    for await (const c of s) chunks.push(c);
    return Buffer.concat(chunks);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'df-daemon-fetch-'));
    origin = await startTestOrigin(9 * 1024 * 1024 + 123);
    node = await startSupernode(parseSupernodeConfig({ port: '0', dataDir: join(dir, 'sn'), logLevel: 'silent' }, {}), createLogger({ level: 'silent' }));
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled(daemons.map((d) => d.stop()));
    await node?.stop();
    await origin?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('streams a blob, shares one task per digest, and serves the second daemon from the first', async () => {
    const digest = `sha256:${origin.sha256}`;
    const a = await daemon('a');
    const body = await a.fetcher.open({ url: origin.url, headers: {}, digest });
    expect(body.contentLength).toBe(origin.content.length);
    expect((await read(body.stream())).equals(origin.content)).toBe(true);
    const span = await read(body.stream({ start: 1000, end: 4_500_000 }));
    expect(span.equals(origin.content.subarray(1000, 4_500_001))).toBe(true);

    const b = await daemon('b');
    // Another URL for the same bytes (as a layer through another registry name): the same task.
    const other = await b.fetcher.open({ url: `${origin.url}?through=another-name`, headers: {}, digest });
    expect(other.taskId).toBe(body.taskId);
    expect((await read(other.stream())).equals(origin.content)).toBe(true);
    // b took pieces from a, which keeps serving the blob from its cache.
    expect(a.uploadedBytes()).toBeGreaterThan(0);
    // The download is kept once committed (just after its last byte was streamed).
    let metrics = '';
    for (let i = 0; i < 100 && !metrics.includes(`damselfly_daemon_cache_bytes ${origin.content.length}`); i++) {
      metrics = await fetch(`http://${a.address}/metrics`).then((r) => r.text());
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(metrics).toMatch(new RegExp(`damselfly_daemon_cache_bytes ${origin.content.length}\\b`));
  });

  it('errors the stream of a blob that does not hash to its digest', async () => {
    const c = await daemon('c');
    const wrong = `sha256:${'0'.repeat(64)}`;
    const body = await c.fetcher.open({ url: `${origin.url}?wrong=1`, headers: {}, digest: wrong });
    await expect(read(body.stream())).rejects.toThrow(/expected sha256:0000/);
  });

  it('answers health, and unknown paths with a problem', async () => {
    const d = daemons[0]!;
    expect((await fetch(`http://${d.address}/healthy`)).status).toBe(200);
    const res = await fetch(`http://${d.address}/nope`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/problem\+json/);
  });
});
