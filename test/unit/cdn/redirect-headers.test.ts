import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { OriginClient } from '../../../supernode/cdn/origin-client.ts';
import { OriginGuard } from '../../../supernode/cdn/origin-guard.ts';

/**
 * On a redirect to another origin only headers marked safe travel on: the request-control
 * ones (Range, If-Range, Accept, User-Agent, …) and those the caller names; a registry's
 * X-Api-Key or Private-Token must not reach the storage bucket it redirects to.
 */
interface Echo {
  url: (path: string) => string;
  seen: IncomingHttpHeaders[];
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
});

/** Redirects /to?u=… there; answers anything else 200 with the request's headers recorded. */
async function echoOrigin(): Promise<Echo> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/to') return void res.writeHead(302, { location: url.searchParams.get('u') ?? '/' }).end();
    seen.push(req.headers);
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: (path) => `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`, seen };
}

const CALLER = {
  authorization: 'Bearer registry-token',
  'X-Api-Key': 'key-0f9e8d7c',
  'Private-Token': 'glpat-secret',
  cookie: 'session=abc',
  'X-Trace-Id': 'trace-1',
  range: 'bytes=100-',
  'if-range': '"v1"',
  'user-agent': 'damselfly-test',
};

async function fetchThrough(client: OriginClient, url: string, o: { crossOriginSafe?: string[] } = {}): Promise<void> {
  const res = await client.request(url, { method: 'GET', headers: CALLER, ...o });
  await res.body.text();
}

describe('the CDN origin client on redirects', () => {
  const client = () => new OriginClient(new OriginGuard());

  it('keeps every header on a same-origin redirect', async () => {
    const a = await echoOrigin();
    const c = client();
    await fetchThrough(c, a.url(`/to?u=${encodeURIComponent('/blob')}`));
    await c.close();
    expect(a.seen[0]).toMatchObject({ authorization: CALLER.authorization, 'x-api-key': CALLER['X-Api-Key'], 'private-token': CALLER['Private-Token'] });
  });

  it('sends only request-control headers to another origin, X-Api-Key and other credentials never', async () => {
    const a = await echoOrigin();
    const b = await echoOrigin();
    const c = client();
    await fetchThrough(c, a.url(`/to?u=${encodeURIComponent(b.url('/bucket/blob'))}`));
    await c.close();
    expect(b.seen).toHaveLength(1);
    for (const name of ['authorization', 'x-api-key', 'private-token', 'cookie', 'x-trace-id']) expect(b.seen[0]).not.toHaveProperty(name);
    expect(b.seen[0]).toMatchObject({ range: 'bytes=100-', 'if-range': '"v1"', 'user-agent': 'damselfly-test' });
  });

  it('sends a header the caller marks safe, and keeps the others dropped when the chain comes back', async () => {
    const a = await echoOrigin();
    const b = await echoOrigin();
    const c = client();
    const back = b.url(`/to?u=${encodeURIComponent(a.url('/again'))}`);
    await fetchThrough(c, a.url(`/to?u=${encodeURIComponent(back)}`), { crossOriginSafe: ['x-trace-id'] });
    await c.close();
    expect(a.seen).toHaveLength(1);
    expect(a.seen[0]).toMatchObject({ 'x-trace-id': 'trace-1' });
    expect(a.seen[0]).not.toHaveProperty('x-api-key');
    expect(a.seen[0]).not.toHaveProperty('authorization');
  });
});
