import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isDamselflyError } from '../../../core/errors.ts';
import { createLogger } from '../../../edge/log/logger.ts';
import { Cdn } from '../../../supernode/cdn/cdn.ts';
import { sha256 } from './test-origin.ts';

/**
 * Secrets are masked before an origin's error excerpt is cut, and in the forms an echo takes:
 * JSON-escaped (`\/`), percent-encoded, base64, a Basic header decoded; the task URL's userinfo
 * and query token are secrets too. The origin here answers every request 500 with a body
 * built from the request: that is what the TaskFailed reason, the log and the API then quote.
 */
const TOKEN = 's3cr3t/origin+token=42/xyz';
const BEARER = { authorization: `Bearer ${TOKEN}` };
/** The fragments that must never appear: any 8 characters of the token's start, or of its tail. */
const fragments = (secret: string) => [secret.slice(0, 8), secret.slice(-8)];

let dir: string;
let log: string;
let cdn: Cdn;
let server: Server;
let body: (req: IncomingMessage) => string;
let status: number;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'df-cdn-encoded-'));
  log = '';
  const sink = new Writable({
    write(chunk, _enc, done) {
      log += chunk.toString();
      done();
    },
  });
  cdn = new Cdn({ dataDir: dir, logger: createLogger({ level: 'trace', destination: sink }), backoffMs: 1, retries: 1 });
  status = 500;
  server = createServer((req, res) => {
    res.writeHead(status, { 'content-type': 'text/plain' }); // no length: a chunked body
    res.write(body(req));
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterEach(async () => {
  await cdn.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

const origin = (path = '/file.bin') => `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;

async function probeError(url: string, headers: Record<string, string>): Promise<Error> {
  const err = await cdn.probe(url, headers).catch((e: unknown) => e);
  expect(isDamselflyError(err, 'DF_ERR_ORIGIN')).toBe(true);
  return err as Error;
}

function expectMasked(err: Error, secrets: string[]): void {
  expect(err.message).toContain('500');
  expect(err.message).toContain('[redacted]'); // the echo reached the excerpt, and was masked
  for (const text of [err.message, JSON.stringify(err), String(err.stack), log]) {
    for (const secret of secrets) for (const fragment of fragments(secret)) expect(text).not.toContain(fragment);
  }
}

describe('secrets in an origin error excerpt', () => {
  it('are masked whole when the excerpt cut (200 bytes) falls inside one', async () => {
    // "Bearer s3cr3t/…" starts at byte 190: the first 200 bytes end inside the token.
    body = (req) => `${'e'.repeat(190 - ' auth='.length)} auth=${req.headers.authorization} and more text after it`;
    const err = await probeError(origin(), BEARER);
    expectMasked(err, [TOKEN]);
    expect(err.message.length).toBeLessThan(400);
  });

  it('are masked when straddling the cut of a seed request, in the error and the resume log', async () => {
    body = (req) => `${'e'.repeat(185)} ${req.headers.authorization}`;
    const err = await cdn
      .seed({ taskId: sha256(Buffer.from('straddle')), url: origin(), headers: BEARER, contentLength: 1000, pieceSize: 1000, validators: { etag: '"v1"', lastModified: null }, onPiece: () => {}, signal: new AbortController().signal })
      .then(() => new Error('the seed succeeded'), (e: unknown) => e as Error);
    expectMasked(err, [TOKEN]);
    expect(log).toMatch(/origin fetch failed/);
  });

  it.each([
    ['JSON-escaped with \\/ (PHP, some Java serialisers)', (v: string) => JSON.stringify({ authorization: v }).replace(/\//g, '\\/')],
    ['JSON with \\u escapes', (v: string) => v.replace(/[/+=]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)],
    ['percent-encoded', (v: string) => `header=${encodeURIComponent(v)}`],
    ['percent-encoded in lower case, form-style', (v: string) => `header=${encodeURIComponent(v).replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()).replace(/%20/g, '+')}`],
    ['base64', (v: string) => `token b64: ${Buffer.from(v).toString('base64')}`],
  ])('are masked when echoed %s', async (_what, encode) => {
    body = (req) => `could not authorise ${encode(String(req.headers.authorization))}`;
    const err = await probeError(origin(), BEARER);
    expectMasked(err, [TOKEN, Buffer.from(`Bearer ${TOKEN}`).toString('base64').slice(0, 24)]);
  });

  it('mask a Basic credential echoed decoded (user:pass) and re-encoded', async () => {
    const basic = { authorization: `Basic ${Buffer.from('deploy:pa55/word-9').toString('base64')}` };
    body = (req) => {
      const decoded = Buffer.from(String(req.headers.authorization).slice(6), 'base64').toString();
      return `user ${JSON.stringify(decoded).replace(/\//g, '\\/')} refused; raw ${req.headers.authorization}`;
    };
    const err = await probeError(origin(), basic);
    expectMasked(err, ['pa55/word-9', 'deploy:pa55']);
  });

  it("mask the task URL's userinfo and query token, quoted in the detail and echoed in the body", async () => {
    const url = origin('/file.bin?v=1&token=q-s3cret-77/zz').replace('http://', 'http://deploy:pw-s3cret-88@');
    body = (req) => `no such object ${JSON.stringify(req.url).replace(/\//g, '\\/')} (${decodeURIComponent(req.url ?? '')})`;
    const err = await probeError(url, {});
    expectMasked(err, ['q-s3cret-77/zz', 'pw-s3cret-88']);
    expect(err.message).toContain('v=1'); // the rest of the URL is still there to read
  });

  it('mask the task URL in every origin error, such as a body without a length', async () => {
    status = 200;
    body = () => 'content of unknown length';
    const err = await cdn.probe(origin('/file.bin?token=q-s3cret-77/zz'), {}).then(() => new Error('the probe succeeded'), (e: unknown) => e as Error);
    expect(isDamselflyError(err, 'DF_ERR_ORIGIN')).toBe(true);
    expect(err.message).toMatch(/no content length/);
    expect(err.message).not.toContain('q-s3cret');
  });
});
