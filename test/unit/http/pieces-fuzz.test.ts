import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import fc from 'fast-check';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { piecePath } from '../../../core/wire/peer-api.ts';
import { registryPieceSource, startUploader, type Uploader } from '../../../peer/uploader/index.ts';
import { CdnStore } from '../../../supernode/cdn/cdn-store.ts';
import { pieceRoute } from '../../../supernode/cdn/piece-route.ts';
import { createApp, type App } from '../../../supernode/http/server.ts';
import { createMetrics } from '../../../supernode/metrics.ts';
import { heldTask } from '../peer/peer-fixtures.ts';
import { rawRequest, type RawResponse } from './raw-request.ts';

const PIECE = 16 * 1024;
const hex = fc.stringMatching(/^[0-9a-f]{0,70}$/);
/** Printable ASCII but space: what an HTTP/1.1 request target may carry at all. */
const targetChars = fc.string({ unit: fc.constantFrom(...'abcdefABCDEF0123456789/%.-_~?#;=&+:@!$\'()*,[]x'.split('')), maxLength: 120 });

/** A request for /pieces as a fuzzer would write it: real and made-up task ids, piece numbers in every spelling, ranges good and bad. */
function pieceRequests(taskId: string) {
  const task = fc.oneof(fc.constant(taskId), hex, targetChars, fc.constant(taskId.toUpperCase()), fc.constant(`%${taskId}`));
  const piece = fc.oneof(
    fc.nat({ max: 10 }).map(String),
    fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String),
    fc.constantFrom('-1', '%30', '%2e', '0x1', '1e3', '00', '1.0', '+1', '1/', '..', '%2F0', '9007199254740993', ''),
    targetChars,
  );
  const path = fc.oneof(
    fc.tuple(task, piece).map(([t, p]) => `/pieces/${t}/${p}`),
    fc.tuple(task, piece).map(([t, p]) => `http://other.invalid/pieces/${t}/${p}`),
    fc.tuple(task, piece).map(([t, p]) => `//pieces//${t}/./${p}`),
    targetChars.map((s) => `/${s}`),
  );
  const range = fc.oneof(
    fc.constant(undefined),
    fc.tuple(fc.nat({ max: 2 * PIECE }), fc.nat({ max: 2 * PIECE })).map(([a, b]) => `bytes=${a}-${b}`),
    fc.nat({ max: 2 * PIECE }).map((a) => `bytes=${a}-`),
    fc.nat({ max: 2 * PIECE }).map((a) => `bytes=-${a}`),
    fc.constantFrom('bytes=0-0,5-9', 'bytes=-', 'items=0-1', 'bytes=99999999999999999999-', 'bytes=5-1'),
    fc.string({ unit: fc.constantFrom(...'bytes=-0123456789,'.split('')), maxLength: 30 }),
  );
  const method = fc.constantFrom('GET', 'GET', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'QUERY');
  return fc.record({ method, path, range });
}

/**
 * Every answer of a piece server: never a 5xx; an error is problem+json with a code; a piece
 * only for its one spelling, /pieces/<task id>/<piece number> (issue 12, finding 7: /%30 was served).
 */
function judge(req: { method: string; path: string; range?: string }, res: RawResponse, canonical: RegExp): string | undefined {
  const what = `${req.method} ${req.path}${req.range ? ` (Range: ${req.range})` : ''} → ${res.status}`;
  if (res.status >= 500) return what;
  if (res.status < 300 && !canonical.test(req.path)) return `${what}: served on a spelling that is not the piece's path`;
  if (!res.headers['content-type']) return `${what} without Content-Type`;
  if (res.status >= 400 && !res.headers['content-type'].startsWith('application/problem+json')) return `${what} as ${res.headers['content-type']}`;
  if (res.status >= 400 && req.method !== 'HEAD' && typeof JSON.parse(res.body).code !== 'string') return `${what} without a code`;
  return undefined;
}

/**
 * The piece protocol is not in the OpenAPI document's terms (binary, ranges), so it has a
 * fuzzer of its own: the CDN's route on the supernode's app and a peer's uploader, each fed
 * a few hundred requests of every shape; each must answer 2xx/3xx/4xx (problem+json) and keep
 * serving the real piece afterwards.
 */
describe('fuzzing the piece servers', () => {
  let dir: string;
  let app: App;
  let uploader: Uploader;
  let cdnPort: number;
  let held: Awaited<ReturnType<typeof heldTask>>;
  let cdnTask: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'df-pieces-fuzz-'));
    held = await heldTask({ dir, name: 'fuzzed.bin', contentLength: 3 * PIECE + 100, pieceSize: PIECE, stored: [0, 2] });
    uploader = await startUploader({ source: registryPieceSource(held.registry) });
    cdnTask = held.taskId;
    const store = new CdnStore(join(dir, 'cdn'));
    await mkdir(store.taskDir(cdnTask), { recursive: true });
    await store.writePiece(cdnTask, 0, [held.piece(0)]);
    app = await createApp({ logger: pino({ level: 'silent' }), metrics: createMetrics() });
    await (app as unknown as FastifyInstance).register(pieceRoute, { store });
    await app.listen({ port: 0, host: '127.0.0.1' });
    cdnPort = (app.server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await uploader?.close();
    await app?.close();
    await held?.file.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const server of ['the CDN route', 'a peer\'s uploader'] as const) {
    it(`${server} answers every request with a 2xx/4xx and keeps serving`, async () => {
      const port = server === 'the CDN route' ? cdnPort : uploader.port;
      const failures: string[] = [];
      const canonical = new RegExp(`^(?:http://[^/]+)?/pieces/${held.taskId}/(?:0|[1-9][0-9]*)$`);
      await fc.assert(
        fc.asyncProperty(pieceRequests(held.taskId), async (req) => {
          const res = await rawRequest(port, { method: req.method, target: req.path, headers: req.range ? { range: req.range } : {} });
          const wrong = judge(req, res, canonical);
          if (wrong) failures.push(wrong);
          return wrong === undefined;
        }),
        { numRuns: 300, seed: 42 },
      );
      expect(failures).toEqual([]);
      const res = await rawRequest(port, { method: 'GET', target: piecePath(held.taskId, 0) });
      expect(res.status).toBe(200);
      expect(Buffer.from(res.body, 'latin1').length).toBeGreaterThan(0);
    });
  }
});
