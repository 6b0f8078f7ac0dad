import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../../supernode/http/server.ts';
import { createMetrics } from '../../../supernode/metrics.ts';
import { rawRequest } from './raw-request.ts';

/** What the supernode answers when no route takes a request, as the fuzz suite expects it: problem+json, never Fastify's own JSON. */
describe('requests no route takes', () => {
  let app: App;
  let port: number;

  beforeAll(async () => {
    app = await createApp({ logger: pino({ level: 'silent' }), metrics: createMetrics() });
    app.get('/api/v1/things/:id', async (req) => ({ id: (req.params as { id: string }).id }));
    app.post('/api/v1/things/:id', async () => ({ ok: true }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await app?.close();
  });

  it('answers 405 with Allow for a method the path has no route for, even one that would carry a body', async () => {
    for (const method of ['TRACE', 'DELETE', 'QUERY', 'PUT']) {
      const res = await rawRequest(port, { method, target: '/api/v1/things/x' });
      expect(res.status, method).toBe(405);
      expect(res.headers.allow).toBe('GET, HEAD, POST');
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(res.body).code).toBe('DF_ERR_METHOD_NOT_ALLOWED');
    }
  });

  it('answers 404 for a path without routes', async () => {
    const res = await rawRequest(port, { method: 'QUERY', target: '/api/v1/nothing' });
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body).code).toBe('DF_ERR_NOT_FOUND');
  });

  it('renders the router\'s own refusals as problems: a long parameter, bad percent-encoding', async () => {
    for (const target of [`/api/v1/things/${'x'.repeat(2000)}`, '/api/v1/things/%zz']) {
      const res = await rawRequest(port, { method: 'GET', target });
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(JSON.parse(res.body).code).toBe('DF_ERR_VALIDATION');
    }
    // Up to 1000 characters a parameter reaches its route (whose schema then decides).
    expect((await rawRequest(port, { method: 'GET', target: `/api/v1/things/${'x'.repeat(300)}` })).status).toBe(200);
  });
});
