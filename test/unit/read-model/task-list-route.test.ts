import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../../supernode/http/server.ts';
import { createMetrics } from '../../../supernode/metrics.ts';
import { registerTaskListRoutes } from '../../../supernode/http/routes/task-list-routes.ts';
import { TaskReadModel } from '../../../supernode/read-model/index.ts';
import { storedStream } from '../../shared/event-bus-conformance.ts';

/** GET /api/v1/tasks on the real app (validation, problem+json, token, OpenAPI), fed directly. */
describe('GET /api/v1/tasks', () => {
  let app: App;
  const token = 'list-token';
  const get = async (url: string, auth = true) => {
    const res = await app.inject({ method: 'GET', url, headers: auth ? { authorization: `Bearer ${token}` } : {} });
    return { status: res.statusCode, type: String(res.headers['content-type']), body: res.json() };
  };

  beforeAll(async () => {
    app = await createApp({ logger: pino({ level: 'silent' }), metrics: createMetrics(), token });
    const model = new TaskReadModel();
    // Three tasks: 'a' seeding (9 events), 'b' created (1), 'c' seeding (4); 'b' updated last.
    await model.apply([...storedStream('a', 9), ...storedStream('c', 4)]);
    await model.apply(storedStream('b', 1).map((e) => ({ ...e, data: { ...e.data, at: 1_800_000_000_000 } }) as typeof e));
    registerTaskListRoutes(app, model);
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('lists every task, newest first, with what the schema promises', async () => {
    const res = await get('/api/v1/tasks');
    expect(res.status).toBe(200);
    expect(res.body.total).toBe(3);
    expect(res.body.next).toBeUndefined();
    expect(res.body.tasks.map((t: { taskId: string }) => t.taskId)).toEqual(['b', 'a', 'c']);
    expect(res.body.tasks[1]).toEqual({
      taskId: 'a', status: 'seeding', url: 'https://origin.test/a', pieceCount: 256, seededCount: 4, peers: 3, version: 9,
      updatedAt: new Date(1_700_000_000_009).toISOString(),
    });
  });

  it('filters by status and pages with the cursor it hands out', async () => {
    const first = await get('/api/v1/tasks?status=seeding&limit=1');
    expect(first.body).toMatchObject({ total: 2, tasks: [{ taskId: 'a' }] });
    expect(typeof first.body.next).toBe('string');
    const second = await get(`/api/v1/tasks?status=seeding&limit=1&cursor=${first.body.next}`);
    expect(second.body.tasks.map((t: { taskId: string }) => t.taskId)).toEqual(['c']);
    expect(second.body.next).toBeUndefined();
    expect((await get('/api/v1/tasks?status=failed')).body).toEqual({ tasks: [], total: 0 });
  });

  it('answers bad query values with 400 problem+json', async () => {
    for (const q of ['limit=0', 'limit=1001', 'limit=abc', 'limit=1.5', 'status=running', 'cursor=nonsense']) {
      const res = await get(`/api/v1/tasks?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.type, q).toContain('application/problem+json');
      expect(res.body.code, q).toBe('DF_ERR_VALIDATION');
    }
    expect((await get('/api/v1/tasks?limit=1000')).status).toBe(200);
  });

  it('requires the cluster token', async () => {
    const res = await get('/api/v1/tasks', false);
    expect(res.status).toBe(401);
    expect(res.type).toContain('application/problem+json');
  });

  it('is in the OpenAPI document, with its query parameters and response', async () => {
    const doc = (await get('/api/v1/openapi.json', false)).body;
    const op = doc.paths['/api/v1/tasks'].get;
    expect(op.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`).sort()).toEqual(['query:cursor', 'query:limit', 'query:status']);
    expect(op.description).toMatch(/eventually consistent/i);
    expect(Object.keys(op.responses['200'].content['application/json'].schema.properties).sort()).toEqual(['next', 'tasks', 'total']);
  });
});
