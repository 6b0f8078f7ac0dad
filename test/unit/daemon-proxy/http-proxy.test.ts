import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProxyAgent, request } from 'undici';
import { createDaemonMetrics } from '../../../peer/daemon/daemon-metrics.ts';
import { captureLog, contentOf, counterValue, fakeFetcher, startWorld, type World } from './proxy-fixtures.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => world?.stop());

const RULES = { rules: [{ regex: '/p2p/' }, { regex: '/direct/', direct: true }, { regex: 'mirror\\.invalid', redirect: 'ORIGIN' }] };

function rules() {
  return JSON.parse(JSON.stringify(RULES).replace('ORIGIN', `127.0.0.1:${world.originPort}`));
}

/** A plain-HTTP request through the proxy as absolute-form (no CONNECT), as curl -x does for http:// URLs. */
async function viaProxy(proxyUrl: string, url: string, o: { method?: string; headers?: Record<string, string>; body?: string; proxyAuth?: string } = {}) {
  const dispatcher = new ProxyAgent({ uri: proxyUrl, proxyTunnel: false, ...(o.proxyAuth ? { token: o.proxyAuth } : {}) });
  try {
    const res = await request(url, { method: (o.method ?? 'GET') as 'GET', headers: o.headers, body: o.body, dispatcher });
    const body = Buffer.from(await res.body.arrayBuffer());
    return { status: res.statusCode, headers: res.headers, body };
  } finally {
    await dispatcher.close();
  }
}

/** Raw bytes to the proxy port and the raw answer (for requests no client library would send). */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(text));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString()));
  });
}

describe('the daemon HTTP proxy, plain HTTP', () => {
  it('sends a URL a rule marks through the fetcher and answers with its task id; the origin gets the client\'s credentials, not the proxy\'s or the steering headers', async () => {
    const f = fakeFetcher();
    const p = await world.startProxy(rules(), { fetcher: f.fetcher });
    const res = await viaProxy(p.url, `${world.origin}/p2p/layer.bin`, { headers: { authorization: 'Bearer origin-token', 'x-dragonfly-tag': 'v1' }, proxyAuth: 'Basic cHJveHk6cHc=' });
    expect(res.status).toBe(200);
    expect(res.body.equals(contentOf('/p2p/layer.bin'))).toBe(true);
    expect(res.headers['x-dragonfly-task-id']).toMatch(/^[0-9a-f]{64}$/);
    expect(f.seen.map((r) => r.url)).toEqual([`${world.origin}/p2p/layer.bin`]);
    expect(f.seen[0]!.tag).toBe('v1');
    expect(f.seen[0]!.headers['authorization']).toBe('Bearer origin-token');
    expect(Object.keys(f.seen[0]!.headers).filter((h) => /^(proxy-|x-dragonfly|connection|host)/.test(h))).toEqual([]);
    expect(await counterValue(p.metrics, 'proxyRoutes', { route: 'p2p' })).toBe(1);
    expect(await counterValue(p.metrics, 'bytesServed', { source: 'swarm' })).toBe(contentOf('/p2p/layer.bin').length);
    expect(await counterValue(p.metrics, 'requests', { kind: 'proxy', outcome: 'ok' })).toBe(1);
    await f.close();
  });

  it('sends other URLs direct, status and headers passed through, the body streamed both ways', async () => {
    const f = fakeFetcher();
    const p = await world.startProxy(rules(), { fetcher: f.fetcher });
    const before = world.hits.length;
    const res = await viaProxy(p.url, `${world.origin}/echo?x=1`, { method: 'POST', body: 'a'.repeat(100_000), headers: { 'content-type': 'text/plain', 'x-dragonfly-use-p2p': 'true', 'proxy-connection': 'keep-alive' } });
    expect(res.status).toBe(201);
    expect(res.headers['x-origin']).toBe('echo');
    expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(res.headers['x-dragonfly-task-id']).toBeUndefined();
    expect(JSON.parse(res.body.toString())).toEqual({ method: 'POST', body: 'a'.repeat(100_000) });
    const hit = world.hits.slice(before).find((h) => h.url === '/echo?x=1')!;
    expect(Object.keys(hit.headers).filter((h) => /^(proxy-|x-dragonfly)/.test(h))).toEqual([]);

    const direct = await viaProxy(p.url, `${world.origin}/direct/file`);
    expect(direct.status).toBe(200);
    expect(direct.headers['x-origin']).toBe('file');
    expect(direct.body.equals(contentOf('/direct/file'))).toBe(true);
    const none = await viaProxy(p.url, `${world.origin}/missing/thing`);
    expect([none.status, none.body.toString()]).toEqual([404, 'no such file']);
    expect(f.seen).toEqual([]); // POST never goes P2P, even when asked; the rest matched no P2P rule
    expect(await counterValue(p.metrics, 'proxyRoutes', { route: 'direct' })).toBe(3);
    await f.close();
  });

  it('X-Dragonfly-Use-P2P overrides the rules both ways; filtered query params and the tag reach the fetcher', async () => {
    const f = fakeFetcher();
    const p = await world.startProxy(rules(), { fetcher: f.fetcher });
    const off = await viaProxy(p.url, `${world.origin}/p2p/a`, { headers: { 'X-Dragonfly-Use-P2P': 'false' } });
    expect([off.status, off.headers['x-dragonfly-task-id']]).toEqual([200, undefined]);
    expect(f.seen).toEqual([]);
    const on = await viaProxy(p.url, `${world.origin}/other/b?sig=1&expires=2&keep=3`, { headers: { 'X-Dragonfly-Use-P2P': 'TRUE', 'X-Dragonfly-Filtered-Query-Params': 'sig, expires' } });
    expect(on.status).toBe(200);
    expect(on.body.equals(contentOf('/other/b'))).toBe(true);
    expect(f.seen[0]!.filter).toEqual(['sig', 'expires']);
    const again = await viaProxy(p.url, `${world.origin}/other/b?sig=9&expires=8&keep=3`, { headers: { 'X-Dragonfly-Use-P2P': 'true', 'X-Dragonfly-Filtered-Query-Params': 'sig,expires' } });
    expect(again.headers['x-dragonfly-task-id']).toBe(on.headers['x-dragonfly-task-id']);
    await f.close();
  });

  it('a rule\'s redirect replaces the host and useHTTPS upgrades the fetch', async () => {
    const f = fakeFetcher({ ca: world.originCa.cert });
    const config = { rules: [{ regex: 'mirror\\.invalid', redirect: `127.0.0.1:${world.originPort}` }, { regex: 'secure/', useHTTPS: true }] };
    const p = await world.startProxy(config, { fetcher: f.fetcher });
    const redirected = await viaProxy(p.url, 'http://mirror.invalid/files/x.bin');
    expect(redirected.body.equals(contentOf('/files/x.bin'))).toBe(true);
    const upgraded = await viaProxy(p.url, `http://localhost:${world.tlsPort}/secure/y.bin`);
    expect(upgraded.body.equals(contentOf('/secure/y.bin'))).toBe(true);
    expect(f.seen.map((r) => r.url)).toEqual([`http://127.0.0.1:${world.originPort}/files/x.bin`, `https://localhost:${world.tlsPort}/secure/y.bin`]);
    await f.close();
  });

  it('serves a Range from the task: 206 inside, 416 past the end', async () => {
    const f = fakeFetcher();
    const p = await world.startProxy(rules(), { fetcher: f.fetcher });
    const part = await viaProxy(p.url, `${world.origin}/p2p/ranged`, { headers: { range: 'bytes=10-19' } });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 10-19/${64 * 1024}`);
    expect(part.body.equals(contentOf('/p2p/ranged').subarray(10, 20))).toBe(true);
    const past = await viaProxy(p.url, `${world.origin}/p2p/ranged`, { headers: { range: 'bytes=999999-' } });
    expect(past.status).toBe(416);
    expect(f.seen[0]!.headers['range']).toBeUndefined(); // the task is the whole file
    await f.close();
  });

  it('answers upstream failures 502 problem+json and destroys a P2P body cut mid-way', async () => {
    const refusing = fakeFetcher({ refuse: true });
    const p = await world.startProxy(rules(), { fetcher: refusing.fetcher });
    const refused = await viaProxy(p.url, `${world.origin}/p2p/x`);
    expect(refused.status).toBe(502);
    expect(refused.headers['content-type']).toBe('application/problem+json');
    const closed = await viaProxy(p.url, 'http://127.0.0.1:9/direct/nothing-listens');
    expect(closed.status).toBe(502);
    expect(JSON.parse(closed.body.toString()).code).toBe('DF_ERR_ORIGIN');

    const cutting = fakeFetcher({ failAfter: 1000 });
    const q = await world.startProxy(rules(), { fetcher: cutting.fetcher });
    await expect(viaProxy(q.url, `${world.origin}/p2p/cut`)).rejects.toThrow();
    expect(await counterValue(q.metrics, 'requests', { kind: 'proxy', outcome: 'failed' })).toBe(1);
    // Failing before its first byte, the same body is answered with its problem, not cut.
    const early = fakeFetcher({ failAfter: 0 });
    const r = await world.startProxy(rules(), { fetcher: early.fetcher });
    const failed = await viaProxy(r.url, `${world.origin}/p2p/early`);
    expect(failed.status).toBe(503);
    expect(JSON.parse(failed.body.toString()).code).toBe('DF_ERR_SUPERNODE_UNREACHABLE');
    await refusing.close();
    await cutting.close();
    await early.close();
  });

  it('answers malformed requests and header abuse with a 4xx problem, never a 5xx', async () => {
    const f = fakeFetcher();
    const metrics = createDaemonMetrics();
    const p = await world.startProxy(rules(), { fetcher: f.fetcher, metrics });
    const bad = [
      `GET ftp://127.0.0.1:${world.originPort}/x HTTP/1.1\r\nHost: x\r\n\r\n`,
      `GET http://user:pw@127.0.0.1:${world.originPort}/x HTTP/1.1\r\nHost: x\r\n\r\n`,
      // No host: WHATWG would read the first path segment as one (http://p2p/x).
      'GET http:///p2p/x HTTP/1.1\r\nHost: x\r\n\r\n',
      `GET ${world.origin}/p2p/x HTTP/1.1\r\nHost: x\r\nX-Dragonfly-Use-P2P: maybe\r\n\r\n`,
      `GET ${world.origin}/p2p/x HTTP/1.1\r\nHost: x\r\nX-Dragonfly-Tag: ${'t'.repeat(300)}\r\n\r\n`,
      `GET ${world.origin}/p2p/x HTTP/1.1\r\nHost: x\r\nX-Dragonfly-Filtered-Query-Params: ${Array.from({ length: 100 }, (_, i) => `p${i}`).join(',')}\r\n\r\n`,
      `GET ${world.origin}/p2p/x HTTP/1.1\r\nHost: x\r\nX-Dragonfly-Filtered-Query-Params: a=b\r\n\r\n`,
      'CONNECT nonsense HTTP/1.1\r\nHost: nonsense\r\n\r\n',
      'CONNECT 127.0.0.1:0 HTTP/1.1\r\nHost: x\r\n\r\n',
      'CONNECT 127.0.0.1:99999 HTTP/1.1\r\nHost: x\r\n\r\n',
    ];
    for (const text of bad) {
      const answer = await raw(p.port, text);
      expect(answer, text).toMatch(/^HTTP\/1\.1 4\d\d /);
      expect(answer, text).toContain('application/problem+json');
    }
    expect(f.seen).toEqual([]);
    // The proxy still serves after all that.
    expect((await viaProxy(p.url, `${world.origin}/p2p/after`)).status).toBe(200);
    await f.close();
  });

  it('never writes the client\'s credentials to the log, whatever the outcome', async () => {
    const log = captureLog();
    const f = fakeFetcher({ failAfter: 10 });
    const p = await world.startProxy(rules(), { fetcher: f.fetcher, logger: log });
    const headers = { authorization: 'Bearer SECRET-AUTH', cookie: 'session=SECRET-COOKIE' };
    const proxyAuth = 'Basic SECRET-PROXY';
    await viaProxy(p.url, `${world.origin}/direct/x?access_token=SECRET-QUERY`, { headers, proxyAuth });
    await viaProxy(p.url, `${world.origin}/p2p/x?token=SECRET-QUERY`, { headers, proxyAuth }).catch(() => undefined);
    await viaProxy(p.url, `http://127.0.0.1:9/direct/x?token=SECRET-QUERY`, { headers, proxyAuth });
    await viaProxy(p.url, `${world.origin}/p2p/x`, { headers: { ...headers, 'x-dragonfly-use-p2p': 'nope' }, proxyAuth });
    expect(log.lines.length).toBeGreaterThan(3);
    expect(JSON.stringify(log.lines)).not.toMatch(/SECRET/);
    const hit = world.hits.find((h) => h.url.startsWith('/direct/x?access_token'))!;
    expect([hit.headers.authorization, hit.headers.cookie, hit.headers['proxy-authorization']]).toEqual(['Bearer SECRET-AUTH', 'session=SECRET-COOKIE', undefined]);
    await f.close();
  });
});
