import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isDamselflyError } from '../../../core/errors.ts';
import { Cdn } from '../../../supernode/cdn/cdn.ts';
import { createLogger } from '../../../edge/log/logger.ts';
import { TestOrigin, sha256, type OriginBehaviour } from './test-origin.ts';

/**
 * Origin credentials reach the origin and nothing else: not the errors thrown, not the log,
 * not the CDN's files. The origin here echoes the credential back in its error bodies, which
 * is what real servers do often enough to make the masking necessary.
 */
const SECRET = 's3cr3t-origin-token-42';
const HEADERS = { Authorization: `Bearer ${SECRET}`, 'X-Api-Key': 'key-0f9e8d7c' };
const TASK = sha256(Buffer.from('secrets-task'));

let dir: string;
let log: string;
let cdn: Cdn;
let origin: TestOrigin;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'df-cdn-secrets-'));
  log = '';
  const sink = new Writable({
    write(chunk, _enc, done) {
      log += chunk.toString();
      done();
    },
  });
  cdn = new Cdn({ dataDir: dir, logger: createLogger({ level: 'trace', destination: sink }), backoffMs: 5, retries: 2 });
});
afterEach(async () => {
  await cdn.close();
  await origin.stop();
  await rm(dir, { recursive: true, force: true });
});

async function start(behaviour: OriginBehaviour) {
  origin = await new TestOrigin(200_000, { requireAuth: HEADERS.Authorization, ...behaviour }).start();
}

const seedIt = () =>
  cdn.seed({
    taskId: TASK,
    url: origin.url(),
    headers: HEADERS,
    contentLength: 200_000,
    pieceSize: 64 * 1024,
    validators: { etag: origin.etag, lastModified: origin.lastModified },
    onPiece: () => {},
    signal: new AbortController().signal,
  });

async function filesUnder(path: string): Promise<string> {
  let all = '';
  for (const entry of await readdir(path, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) all += await readFile(join(entry.parentPath, entry.name), 'latin1');
  }
  return all;
}

describe('origin credentials', () => {
  it('are sent to the origin, and appear in no log line or stored file, through a resumed seed', async () => {
    await start({ failOnceAfter: 100_000 });
    await cdn.probe(origin.url(), HEADERS);
    const result = await seedIt();
    expect(result.pieces).toBe(4);
    expect(origin.requests.every((r) => r.authorization === HEADERS.Authorization)).toBe(true);
    expect(log).toMatch(/resuming/);
    expect(log).not.toContain(SECRET);
    expect(log).not.toContain('key-0f9e8d7c');
    const stored = await filesUnder(dir);
    expect(stored.length).toBeGreaterThan(200_000);
    expect(stored).not.toContain(SECRET);
  });

  it('are masked in errors and logs even when the origin echoes them back', async () => {
    await start({ echoAuthIn500: true });
    const err = await seedIt().catch((e: unknown) => e);
    expect(isDamselflyError(err, 'DF_ERR_ORIGIN')).toBe(true);
    expect((err as Error).message).toContain('[redacted]'); // the echo was there, and masked
    for (const text of [(err as Error).message, JSON.stringify(err), String((err as Error).stack), log]) {
      expect(text).not.toContain(SECRET);
    }
    expect(log).toMatch(/origin fetch failed/);
  });

  it('are masked in probe errors', async () => {
    await start({ echoAuthIn500: true, refuseHead: true });
    const err = await cdn.probe(origin.url(), HEADERS).catch((e: unknown) => e);
    expect(isDamselflyError(err, 'DF_ERR_ORIGIN')).toBe(true);
    expect((err as Error).message).toContain('500');
    expect(JSON.stringify(err) + (err as Error).message).not.toContain(SECRET);
  });
});
