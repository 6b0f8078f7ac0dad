import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { startSupernode, type RunningSupernode } from '../../../supernode/supernode.ts';
import { parseSupernodeConfig } from '../../../supernode/config.ts';
import { databaseUrl, kafkaBrokers } from '../../shared/env.ts';
import { freshDatabase } from '../../../bench/cluster/fresh-database.ts';
import { startTestOrigin } from '../../shared/origin.ts';

interface Listed {
  taskId: string;
  status: string;
  url: string | null;
  version: number;
  updatedAt: string;
}

const token = 'list-token';
const logger = () => pino({ level: 'warn' });

function client(node: RunningSupernode) {
  return async (method: string, path: string, body?: unknown, auth = true) => {
    const res = await fetch(`http://${node.address}${path}`, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(auth ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: text ? JSON.parse(text) : null };
  };
}

/** Polls GET /api/v1/tasks until `done` holds for its tasks (the list is eventually consistent). */
async function listUntil(call: ReturnType<typeof client>, done: (tasks: Listed[]) => boolean, what: string): Promise<Listed[]> {
  let tasks: Listed[] = [];
  for (let i = 0; i < 300; i++) {
    const res = await call('GET', '/api/v1/tasks');
    expect(res.status).toBe(200);
    tasks = res.body.tasks;
    if (done(tasks)) return tasks;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: the list never got there; last ${JSON.stringify(tasks)}`);
}

/**
 * GET /api/v1/tasks on a real supernode (PostgreSQL + Kafka): tasks registered through the API
 * appear with their status, the filter and the pages hold, a replica started later lists the
 * same tasks (it reads the whole feed), and secrets in a URL are never listed.
 */
describe('the task list on Postgres + Kafka', () => {
  let node: RunningSupernode;
  let dir: string;
  let origin: Awaited<ReturnType<typeof startTestOrigin>>;
  let db: { url: string; drop: () => Promise<void> };
  let call: ReturnType<typeof client>;
  const topic = `it-task-list-${randomUUID()}`;
  const ids: Record<'seeded' | 'failed' | 'secret', string> = { seeded: '', failed: '', secret: '' };
  const configFor = (dataDir: string) =>
    parseSupernodeConfig({ port: '0', dataDir, databaseUrl: db.url, kafkaBrokers: kafkaBrokers().join(','), kafkaTopic: topic, logLevel: 'warn' }, { DAMSELFLY_TOKEN: token });

  beforeAll(async () => {
    db = await freshDatabase(databaseUrl(), 'sn_list');
    dir = mkdtempSync(join(tmpdir(), 'df-list-'));
    origin = await startTestOrigin(1024 * 1024 + 7);
    node = await startSupernode(configFor(join(dir, 'a')), logger());
    call = client(node);
  });

  afterAll(async () => {
    await node?.stop();
    await db?.drop();
    await origin?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists tasks registered through the API with their status once their events are committed', async () => {
    ids.seeded = (await call('POST', '/api/v1/tasks', { url: origin.url })).body.taskId;
    ids.failed = (await call('POST', '/api/v1/tasks', { url: origin.url, digest: `sha256:${'0'.repeat(64)}` })).body.taskId;
    const secretUrl = origin.url.replace('http://', 'http://user:pw-s3cret@') + '?token=q-s3cret&v=1';
    const secret = await call('POST', '/api/v1/tasks', { url: secretUrl });
    expect(secret.status).toBe(200);
    ids.secret = secret.body.taskId;

    const tasks = await listUntil(call, (t) => t.some((x) => x.taskId === ids.seeded && x.status === 'seeded') && t.some((x) => x.taskId === ids.failed && x.status === 'failed') && t.some((x) => x.taskId === ids.secret), 'both tasks settled');
    expect(tasks).toHaveLength(3);
    const seeded = tasks.find((t) => t.taskId === ids.seeded)!;
    expect(seeded.url).toBe(origin.url);
    // The summary is the task's own: the same version and status as the live view, once settled.
    const live = await call('GET', `/api/v1/tasks/${ids.seeded}`);
    expect(seeded).toMatchObject({ status: live.body.status, version: live.body.version, seededCount: live.body.seededCount, pieceCount: live.body.pieceCount });
    const listedSecret = tasks.find((t) => t.taskId === ids.secret)!;
    expect(listedSecret.url).toBe(origin.url);
    expect(JSON.stringify(tasks)).not.toContain('s3cret');
    // Newest first.
    const times = tasks.map((t) => Date.parse(t.updatedAt));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });

  it('filters by status and pages through every task once', async () => {
    const seeded = await call('GET', '/api/v1/tasks?status=seeded');
    expect(seeded.body.tasks.map((t: Listed) => t.taskId)).toContain(ids.seeded);
    expect(seeded.body.tasks.every((t: Listed) => t.status === 'seeded')).toBe(true);
    const failed = await call('GET', '/api/v1/tasks?status=failed');
    expect(failed.body.tasks.map((t: Listed) => t.taskId)).toContain(ids.failed);
    expect(failed.body.tasks.map((t: Listed) => t.taskId)).not.toContain(ids.seeded);

    const all = (await call('GET', '/api/v1/tasks')).body.tasks.map((t: Listed) => t.taskId);
    const paged: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await call('GET', `/api/v1/tasks?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.total).toBe(3);
      paged.push(...page.body.tasks.map((t: Listed) => t.taskId));
      cursor = page.body.next;
    } while (cursor && paged.length < 10);
    expect(paged).toEqual(all);
  });

  it('answers bad query values with 400 and a missing token with 401, as problem+json', async () => {
    const zero = await call('GET', '/api/v1/tasks?limit=0');
    expect(zero.status).toBe(400);
    expect(zero.type).toContain('application/problem+json');
    expect(zero.body.code).toBe('DF_ERR_VALIDATION');
    expect((await call('GET', '/api/v1/tasks?status=nope')).status).toBe(400);
    expect((await call('GET', '/api/v1/tasks?cursor=forged')).status).toBe(400);
    const anonymous = await call('GET', '/api/v1/tasks', undefined, false);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.code).toBe('DF_ERR_UNAUTHORIZED');
    const doc = await call('GET', '/api/v1/openapi.json', undefined, false);
    expect(doc.body.paths['/api/v1/tasks'].get.responses['200']).toBeDefined();
  });

  it('is listed the same by a replica started after the tasks were written', async () => {
    const expected = (await call('GET', '/api/v1/tasks')).body.tasks as Listed[];
    const late = await startSupernode(configFor(join(dir, 'b')), logger());
    try {
      const lateCall = client(late);
      const seen = await listUntil(lateCall, (t) => t.length === expected.length && t.every((x) => expected.some((e) => e.taskId === x.taskId && e.version === x.version)), 'the late replica');
      expect(seen.map((t) => [t.taskId, t.status])).toEqual(expected.map((t) => [t.taskId, t.status]));
      // A task registered on the first replica now reaches the late one through the bus.
      const more = (await call('POST', '/api/v1/tasks', { url: `${origin.url}?v=2` })).body.taskId;
      await listUntil(lateCall, (t) => t.some((x) => x.taskId === more), 'a new task on the late replica');
    } finally {
      await late.stop();
    }
  });
});

describe('the task list of an embedded supernode', () => {
  it('lists the tasks of its store again after a restart (the in-process bus starts empty)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'df-list-emb-'));
    const origin = await startTestOrigin(64 * 1024);
    const config = parseSupernodeConfig({ port: '0', dataDir: dir, logLevel: 'warn' }, { DAMSELFLY_TOKEN: token });
    try {
      let node = await startSupernode(config, logger());
      const taskId = (await client(node)('POST', '/api/v1/tasks', { url: origin.url })).body.taskId;
      const before = await listUntil(client(node), (t) => t.some((x) => x.taskId === taskId && x.status === 'seeded'), 'the task seeded');
      await node.stop();
      node = await startSupernode(config, logger());
      try {
        const after = await listUntil(client(node), (t) => t.some((x) => x.taskId === taskId), 'the task after the restart');
        expect(after.find((x) => x.taskId === taskId)).toEqual(before.find((x) => x.taskId === taskId));
      } finally {
        await node.stop();
      }
    } finally {
      await origin.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
