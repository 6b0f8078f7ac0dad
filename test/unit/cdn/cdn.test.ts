import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pieceSizeFor } from '../../../core/pieces/index.ts';
import { piecePath } from '../../../core/wire/peer-api.ts';
import { Cdn } from '../../../supernode/cdn/cdn.ts';
import type { CdnPort } from '../../../supernode/swarm/seeding.ts';
import { TestOrigin, sha256 } from './test-origin.ts';

const TASK = sha256(Buffer.from('cdn-facade-task'));
let dir: string;
let origin: TestOrigin;
let cdn: Cdn;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'df-cdn-'));
  origin = await new TestOrigin(3 * 1024 * 1024 + 5).start();
  cdn = new Cdn({ dataDir: dir, uploadRate: 64 * 1024 * 1024, uploadSlots: 4 });
});
afterEach(async () => {
  await cdn.close();
  await origin.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('Cdn', () => {
  it('is the CdnPort the seeding uses: probe, seed with the core piece size, then serve every piece', async () => {
    const port: CdnPort = cdn; // compile-time: the façade fits the port as it is
    const probe = await port.probe(origin.url(), {}, new AbortController().signal);
    const pieceSize = pieceSizeFor(probe.contentLength);
    const digests: string[] = [];
    await port.seed({
      taskId: TASK,
      url: origin.url(),
      headers: {},
      contentLength: probe.contentLength,
      pieceSize,
      validators: { etag: probe.etag, lastModified: probe.lastModified },
      onPiece: (piece, _size, digest) => void (digests[piece] = digest),
      signal: new AbortController().signal,
    });
    expect(digests).toHaveLength(Math.ceil(origin.content.length / pieceSize));

    const app = Fastify();
    cdn.registerRoutes(app);
    await app.ready();
    const parts: Buffer[] = [];
    for (let piece = 0; piece < digests.length; piece++) {
      const res = await app.inject({ method: 'GET', url: piecePath(TASK, piece) });
      expect(res.statusCode).toBe(200);
      expect(sha256(res.rawPayload)).toBe(digests[piece]);
      parts.push(res.rawPayload);
    }
    expect(Buffer.concat(parts).equals(origin.content)).toBe(true);
    expect(origin.bodyBytes).toBe(origin.content.length);
    await app.close();
  });

  it('refuses a metadata origin before any request, with 403', async () => {
    await expect(cdn.probe('http://169.254.169.254/latest/meta-data/', {})).rejects.toMatchObject({ code: 'DF_ERR_FORBIDDEN_ORIGIN', status: 403 });
  });
});
