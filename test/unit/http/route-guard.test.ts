import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../../supernode/http/server.ts';
import { createMetrics } from '../../../supernode/metrics.ts';
import { rawRequest } from './raw-request.ts';

/**
 * The gates of supernode/http/server.ts hang on the routes themselves (edge/http/route-guard.ts):
 * a route left out of the OpenAPI document is protected all the same, and the 503 while the
 * supernode cannot serve follows the same rule as the token, whatever spelling the target has.
 */
describe('route gates', () => {
  let app: App;
  let port: number;
  let down: string | undefined;
  const token = 'tok';

  beforeAll(async () => {
    app = await createApp({ logger: pino({ level: 'silent' }), metrics: createMetrics(), token, unavailable: () => down });
    app.get('/api/v1/undocumented', { schema: { hide: true } }, async () => ({ secret: true }));
    app.get('/elsewhere', async () => ({ open: true }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await app?.close();
  });

  const get = (target: string, authorization?: string) => rawRequest(port, { method: 'GET', target, headers: authorization ? { authorization } : {} });

  it('protects a route that is not in the document', async () => {
    for (const target of ['/api/v1/undocumented', '/%61pi/v1/undocumented', 'http://x.invalid/api/%76%31/undocumented']) {
      expect((await get(target)).status).toBe(401);
      expect((await get(target, 'bearer tok')).status).toBe(200);
    }
  });

  it('leaves routes outside /api/v1 and the document open', async () => {
    expect((await get('/elsewhere')).status).toBe(200);
    expect((await get('/api/v1/openapi.json')).status).toBe(200);
    expect((await get('/api/v1/%6fpenapi.json')).status).toBe(200);
  });

  it('answers 503 on every spelling while unavailable, after the token', async () => {
    down = 'draining';
    try {
      for (const target of ['/api/v1/undocumented', '/%61pi/v1/undocumented', 'http://x.invalid/api/v1/undocumented']) {
        const res = await get(target, 'Bearer tok');
        expect(res.status).toBe(503);
        expect(res.headers['retry-after']).toBe('1');
        expect((await get(target)).status).toBe(401);
      }
    } finally {
      down = undefined;
    }
  });
});
