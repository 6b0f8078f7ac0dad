import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { computeTaskId } from '../../../core/ids/index.ts';
import { ensureFreeSpace, freeBytes } from '../../../edge/disk/free-space.ts';
import { formatSize } from '../../../edge/units/format-size.ts';
import { downloadFromOrigin } from '../../../peer/dfget/back-source.ts';
import { PieceFile } from '../../../peer/storage/piece-file.ts';
import { Cdn } from '../../../supernode/cdn/cdn.ts';
import { OriginCredentials } from '../../../supernode/swarm/origin-credentials.ts';
import { Seeding } from '../../../supernode/swarm/seeding.ts';
import { MemoryRuntime } from '../swarm/memory-runtime.ts';

const GiB = 1024 ** 3;

/**
 * Issue 13, item 2: a download that cannot fit is refused before its first byte — by dfget
 * (swarm and back-to-source) and by the CDN — with DF_ERR_NO_SPACE, leaving no file behind.
 * The files are "larger than the disk" by announcement only: an origin that claims free + 8 GiB.
 */
describe('free disk space is checked before a download starts', () => {
  let dir: string;
  let origin: Server;
  let tooBig: number;
  const requests: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'df-space-'));
    tooBig = (await freeBytes(dir)) + 8 * GiB;
    origin = createServer((req, res) => {
      requests.push(req.method!);
      res.writeHead(200, { 'content-length': String(tooBig), 'accept-ranges': 'bytes', etag: '"big"' });
      if (req.method === 'HEAD') return void res.end();
      res.write(Buffer.alloc(64 * 1024)); // and then nothing: a reader that waited for it would hang
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    origin.closeAllConnections();
    await new Promise((resolve) => origin.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });
  const url = () => `http://127.0.0.1:${(origin.address() as AddressInfo).port}/big.bin`;

  it('names what does not fit and the free space, and lets what fits pass', async () => {
    await ensureFreeSpace(dir, 1, 'one byte');
    const refused = ensureFreeSpace(dir, tooBig, 'the test file');
    await expect(refused).rejects.toMatchObject({ code: 'DF_ERR_NO_SPACE', status: 507 });
    await expect(refused).rejects.toThrow(new RegExp(`the test file needs ${formatSize(tooBig).replace('.', '\\.')} but ${dir} has .* free`));
  });

  it('a swarm download refuses to lay out its piece file, and leaves no temp file', async () => {
    await expect(PieceFile.create(join(dir, 'out.bin'), { contentLength: tooBig, pieceSize: 16 * 1024 * 1024 })).rejects.toMatchObject({ code: 'DF_ERR_NO_SPACE' });
    expect(await readdir(dir)).toEqual([]);
  });

  it('back-to-source refuses after the response headers, without reading the body, and leaves no file', async () => {
    await expect(downloadFromOrigin({ url: url(), output: join(dir, 'direct.bin'), headers: {} })).rejects.toMatchObject({ code: 'DF_ERR_NO_SPACE' });
    expect(await readdir(dir)).toEqual([]);
  });

  it('the CDN fails the task with DF_ERR_NO_SPACE after its probe, before fetching a byte', async () => {
    const cdnDir = await mkdtemp(join(tmpdir(), 'df-space-cdn-'));
    const cdn = new Cdn({ dataDir: cdnDir, allowPrivateOrigins: true, retries: 0 });
    const runtime = new MemoryRuntime();
    try {
      requests.length = 0;
      const taskId = computeTaskId({ url: url(), filter: [] });
      const seeding = new Seeding({ runtime, cdn, credentials: new OriginCredentials(), clock: () => 1_000, logger: pino({ level: 'silent' }), maxFileSize: 2 ** 40 });
      await runtime.execute(taskId, { type: 'CreateTask', at: 1, taskId, url: url(), digest: null, identifier: null, range: null, filter: [] });
      seeding.ensure(taskId, 'created');
      await vi.waitFor(() => expect(seeding.isRunning(taskId)).toBe(false), { timeout: 10_000, interval: 5 });
      const state = runtime.state(taskId);
      expect(state.status).toBe('failed');
      expect(state.failure).toMatch(/DF_ERR_NO_SPACE: the CDN's copy of task \w+ needs/);
      expect(requests).toEqual(['HEAD']);
    } finally {
      await cdn.close();
      await rm(cdnDir, { recursive: true, force: true });
    }
  });
});
