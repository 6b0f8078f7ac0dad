import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { startSupernode, type RunningSupernode } from '../../../supernode/supernode.ts';
import { parseSupernodeConfig } from '../../../supernode/config.ts';
import { createLogger } from '../../../edge/log/logger.ts';
import { openPostgresEventStore } from '../../../supernode/store/index.ts';
import { KafkaEventBus } from '../../../supernode/bus/index.ts';
import { databaseUrl, kafkaBrokers } from '../../shared/env.ts';
import { freshDatabase } from '../../../bench/cluster/fresh-database.ts';

/**
 * Credentials in a task URL (userinfo, a query token) are secrets like an Authorization header:
 * on a real supernode (PostgreSQL + Kafka) the CDN fetches with the URL as registered, while the
 * events in PostgreSQL and Kafka, every API answer and the log hold it redacted — also when the
 * origin fails and echoes the URL and the header back into the error the task fails with.
 */
const SECRETS = ['pw-s3cret', 'q-s3cret', 'h-s3cret'];
const token = 'url-credentials-token';

describe('credentials in a task URL on Postgres + Kafka', () => {
  let node: RunningSupernode;
  let dir: string;
  let db: { url: string; drop: () => Promise<void> };
  let origin: Server;
  let log = '';
  const seen: string[] = [];
  const topic = `it-url-credentials-${randomUUID()}`;
  const content = Buffer.alloc(300 * 1024, 3);

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`http://${node.address}${path}`, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), authorization: `Bearer ${token}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, text, body: text ? JSON.parse(text) : null };
  };
  const until = async (taskId: string, status: string) => {
    for (let i = 0; i < 300; i++) {
      const view = await call('GET', `/api/v1/tasks/${taskId}`);
      if (view.body.status === status) return view;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`task ${taskId} never became ${status}`);
  };
  const originUrl = (path: string) => `http://deploy:pw-s3cret@127.0.0.1:${(origin.address() as AddressInfo).port}${path}?v=1&token=q-s3cret`;
  const expectNoSecret = (what: string, text: string) => {
    for (const s of SECRETS) expect(text, `${what} holds ${s}`).not.toContain(s);
  };

  beforeAll(async () => {
    // /file.bin needs the URL's token and the header; /fail.bin answers 500, echoing both.
    origin = createServer((req, res) => {
      seen.push(req.url ?? '');
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/fail.bin') return void res.writeHead(500).end(`cannot serve ${req.url} for ${JSON.stringify(req.headers.authorization).replace(/\//g, '\\/')}`);
      if (url.searchParams.get('token') !== 'q-s3cret' || req.headers.authorization !== 'Bearer h-s3cret') return void res.writeHead(403).end();
      res.writeHead(200, { 'content-length': String(content.length), 'accept-ranges': 'bytes', etag: '"v1"' });
      res.end(req.method === 'HEAD' ? undefined : content);
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    db = await freshDatabase(databaseUrl(), 'sn_urlcred');
    dir = mkdtempSync(join(tmpdir(), 'df-url-credentials-'));
    const sink = new Writable({
      write(chunk, _enc, done) {
        log += chunk.toString();
        done();
      },
    });
    const config = parseSupernodeConfig({ port: '0', dataDir: dir, databaseUrl: db.url, kafkaBrokers: kafkaBrokers().join(','), kafkaTopic: topic, logLevel: 'debug' }, { DAMSELFLY_TOKEN: token });
    node = await startSupernode(config, createLogger({ level: 'debug', destination: sink }));
  }, 120_000);

  afterAll(async () => {
    await node?.stop();
    await db?.drop();
    origin?.closeAllConnections();
    await new Promise<void>((resolve) => origin?.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('fetches with the real URL, and stores, publishes, answers and logs it redacted', async () => {
    const headers = { authorization: 'Bearer h-s3cret' };
    const ok = await call('POST', '/api/v1/tasks', { url: originUrl('/file.bin'), headers });
    expect(ok.status).toBe(200);
    const failing = await call('POST', '/api/v1/tasks', { url: originUrl('/fail.bin'), headers });
    expect(failing.status).toBe(200);
    const seeded = await until(ok.body.taskId, 'seeded');
    const failed = await until(failing.body.taskId, 'failed');

    // The origin was asked with the token (the real URL), and echoed it into the failure.
    expect(seen.some((u) => u.startsWith('/file.bin') && u.includes('token=q-s3cret'))).toBe(true);
    expect(seen.some((u) => u.startsWith('/fail.bin') && u.includes('token=q-s3cret'))).toBe(true);
    expect(failed.body.failure).toMatch(/500/);
    expect(seeded.body.url).toContain('v=1');

    const answers = [ok.text, failing.text, seeded.text, failed.text];
    for (const id of [ok.body.taskId, failing.body.taskId]) answers.push((await call('GET', `/api/v1/tasks/${id}/history`)).text);
    answers.push((await call('GET', '/api/v1/tasks')).text);
    expectNoSecret('an API answer', answers.join('\n'));

    const store = await openPostgresEventStore(db.url);
    const fromPg = [...(await store.readStream(ok.body.taskId)), ...(await store.readStream(failing.body.taskId))];
    await store.close();
    expect(fromPg.find((e) => e.type === 'TaskCreated')?.data).toMatchObject({ url: expect.stringContaining('token=[redacted]') });
    expectNoSecret('PostgreSQL', JSON.stringify(fromPg));

    const bus = await KafkaEventBus.open({ brokers: kafkaBrokers(), topic });
    let fromKafka = [...(await bus.readStream(ok.body.taskId)), ...(await bus.readStream(failing.body.taskId))];
    for (let i = 0; i < 100 && fromKafka.length < fromPg.length; i++) {
      await new Promise((r) => setTimeout(r, 200));
      fromKafka = [...(await bus.readStream(ok.body.taskId)), ...(await bus.readStream(failing.body.taskId))];
    }
    await bus.close();
    expect(fromKafka.length).toBe(fromPg.length);
    expectNoSecret('Kafka', JSON.stringify(fromKafka));

    expect(log).toMatch(/seeding failed/);
    expectNoSecret('the log', log);
  });
});
