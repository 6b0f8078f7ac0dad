import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isDamselflyError } from '../../../core/errors.ts';
import { computeTaskId } from '../../../core/ids/index.ts';
import { stateOf, taskView } from '../../../core/task/index.ts';
import { Cdn } from '../../../supernode/cdn/cdn.ts';
import { OriginCredentials } from '../../../supernode/swarm/origin-credentials.ts';
import { Seeding } from '../../../supernode/swarm/seeding.ts';
import { MemoryRuntime } from './memory-runtime.ts';

/**
 * What a replica keeps in memory to reach a task's origin (the headers and the URL as
 * registered) is bounded per task and in total, dropped when idle, and released once the task
 * no longer needs its origin; the task's events carry the URL redacted.
 */
const KiB = 1024;
const task = (i: number) => computeTaskId({ url: `https://origin.example/f/${i}` });

describe('OriginCredentials bounds', () => {
  it('keeps the retained bytes under the budget through thousands of registrations with large headers', () => {
    const budget = 4 * 1024 * KiB;
    const credentials = new OriginCredentials({ maxTotalBytes: budget });
    for (let i = 0; i < 3000; i++) {
      // ~16 KiB of distinct header values per task: 48 MiB if every one were kept.
      credentials.remember(task(i), { authorization: `Bearer ${String(i).padStart(8, '0')}${'x'.repeat(16 * KiB)}`, cookie: `s=${i}` }, `https://origin.example/f/${i}`);
      expect(credentials.retainedBytes).toBeLessThanOrEqual(budget);
    }
    expect(credentials.size).toBeLessThanOrEqual(budget / (16 * KiB));
    // The least recently used went first; the latest registrations are still here.
    expect(credentials.originFor(task(0), 'https://origin.example/f/0').headers).toEqual({});
    expect(credentials.originFor(task(2999), 'https://origin.example/f/2999').headers.cookie).toBe('s=2999');
  });

  it('refuses more than the per-task bound, naming the field, and keeps nothing of it', () => {
    const credentials = new OriginCredentials();
    const err = (() => {
      try {
        credentials.remember(task(1), { 'x-big': 'v'.repeat(1024 * KiB) });
      } catch (e) {
        return e;
      }
    })();
    expect(isDamselflyError(err, 'DF_ERR_VALIDATION')).toBe(true);
    expect((err as Error).message).toMatch(/headers: .*65536 kept per task/);
    expect(credentials.retainedBytes).toBe(0);
  });

  it('drops what was not used for idleMs, and keeps what is used', () => {
    let now = 0;
    const credentials = new OriginCredentials({ idleMs: 1000, clock: () => now });
    credentials.remember(task(1), { authorization: 'Bearer one-1' });
    credentials.remember(task(2), { authorization: 'Bearer two-2' });
    now = 600;
    expect(credentials.originFor(task(2), 'https://origin.example/f/2').headers.authorization).toBe('Bearer two-2');
    now = 1200;
    expect(credentials.originFor(task(1), 'https://origin.example/f/1').headers).toEqual({});
    expect(credentials.originFor(task(2), 'https://origin.example/f/2').headers.authorization).toBe('Bearer two-2');
    expect(credentials.size).toBe(1);
  });

  it('never hands out a redacted URL as if it were the origin: the next registration brings the real one', () => {
    const credentials = new OriginCredentials();
    const redacted = 'https://origin.example/f?token=[redacted]';
    const err = (() => {
      try {
        credentials.originFor(task(1), redacted);
      } catch (e) {
        return e;
      }
    })();
    expect(isDamselflyError(err, 'DF_ERR_UNAVAILABLE')).toBe(true); // retryable: the seeding waits
    // An event written before URLs were redacted still holds the real URL: that one is usable.
    expect(credentials.originFor(task(1), 'https://origin.example/f?token=real').url).toBe('https://origin.example/f?token=real');
    credentials.remember(task(1), {}, 'https://origin.example/f?token=real');
    expect(credentials.originFor(task(1), redacted)).toEqual({ url: 'https://origin.example/f?token=real', headers: {} });
  });
});


describe('credentials of a task being seeded', () => {
  const CONTENT = Buffer.alloc(100 * KiB, 7);
  const TOKEN = 'q-s3cret-token';
  let server: Server;
  let seen: string[];
  let dir: string;
  let cdn: Cdn;
  let runtime: MemoryRuntime;
  let credentials: OriginCredentials;
  let now: number;
  let seeding: Seeding;

  beforeEach(async () => {
    seen = [];
    // The origin serves the file only with the URL's token and the header.
    server = createServer((req, res) => {
      seen.push(req.url ?? '');
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.searchParams.get('token') !== TOKEN || req.headers.authorization !== 'Bearer h-s3cret') return void res.writeHead(403).end('forbidden');
      res.writeHead(200, { 'content-length': String(CONTENT.length), 'accept-ranges': 'none', etag: '"v1"' });
      res.end(req.method === 'HEAD' ? undefined : CONTENT);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    dir = await mkdtemp(join(tmpdir(), 'df-credentials-'));
    cdn = new Cdn({ dataDir: dir, allowPrivateOrigins: true, backoffMs: 1, retries: 0 });
    runtime = new MemoryRuntime();
    credentials = new OriginCredentials();
    now = 1000;
    seeding = new Seeding({ runtime, cdn, credentials, clock: () => now, logger: pino({ level: 'silent' }), refillRetryMs: 10_000 });
  });
  afterEach(async () => {
    seeding.stopAll();
    await cdn.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  });

  const realUrl = () => `http://127.0.0.1:${(server.address() as AddressInfo).port}/file.bin?v=1&token=${TOKEN}`;

  /** What SwarmService.registerTask does: remember, then create the task from the real URL. */
  async function register(headers: Record<string, string>): Promise<string> {
    const url = realUrl();
    const taskId = computeTaskId({ url });
    credentials.remember(taskId, headers, url);
    if (stateOf(await runtime.snapshot(taskId)).status === 'absent') {
      await runtime.execute(taskId, { type: 'CreateTask', at: now, taskId, url, digest: null, identifier: null, range: null, filter: [] });
    }
    return taskId;
  }

  async function ensure(taskId: string): Promise<string> {
    seeding.ensure(taskId, stateOf(await runtime.snapshot(taskId)).status);
    await vi.waitFor(() => expect(seeding.isRunning(taskId)).toBe(false), { timeout: 10_000, interval: 5 });
    return stateOf(await runtime.snapshot(taskId)).status;
  }

  it('fetches with the real URL while the events hold it redacted, and releases the credentials once seeded', async () => {
    const taskId = await register({ authorization: 'Bearer h-s3cret' });
    expect(credentials.size).toBe(1);
    expect(await ensure(taskId)).toBe('seeded');
    expect(seen.every((u) => u.includes(`token=${TOKEN}`))).toBe(true);
    expect(JSON.stringify(runtime.events)).not.toContain(TOKEN);
    expect(JSON.stringify(runtime.events)).toContain('token=[redacted]');
    expect(taskView(stateOf(await runtime.snapshot(taskId))).url).not.toContain(TOKEN);
    expect(credentials.size).toBe(0);
    expect(credentials.retainedBytes).toBe(0);
  });

  it('releases the credentials of a task that failed', async () => {
    const taskId = await register({ authorization: 'Bearer wrong-one' });
    expect(await ensure(taskId)).toBe('failed');
    expect(credentials.size).toBe(0);
  });

  it('on a replica that does not know the real URL, waits for the next registration instead of asking the origin', async () => {
    const taskId = await register({ authorization: 'Bearer h-s3cret' });
    credentials.release(taskId); // as after a takeover: the events are here, the memory is not
    expect(await ensure(taskId)).toBe('created');
    expect(seen).toEqual([]); // the redacted URL was never requested
    await register({ authorization: 'Bearer h-s3cret' });
    now += 10_000;
    expect(await ensure(taskId)).toBe('seeded');
  });

  it('does not ask for the released credentials of a seeded task that peers keep touching', async () => {
    const taskId = await register({ authorization: 'Bearer h-s3cret' });
    expect(await ensure(taskId)).toBe('seeded');
    const warnings: string[] = [];
    seeding = new Seeding({ runtime, cdn, credentials, clock: () => now, logger: pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) }), refillRetryMs: 10_000 });
    const requests = seen.length;
    for (let i = 0; i < 3; i++) expect(await ensure(taskId)).toBe('seeded'); // a round, a join, a leave…
    expect(seen).toHaveLength(requests);
    expect(warnings).toEqual([]);
  });
});
