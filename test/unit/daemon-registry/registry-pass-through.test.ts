import { afterEach, describe, expect, it } from 'vitest';
import { fakeFetcher } from './fake-fetcher.ts';
import { MANIFEST_V2, OCI_INDEX, startFakeRegistry, type FakeRegistry } from './fake-registry.ts';
import { startMirror } from './mirror-harness.ts';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

async function registries(n: number): Promise<FakeRegistry[]> {
  const out = await Promise.all(Array.from({ length: n }, () => startFakeRegistry({ privateRepos: { 'team/private': 'good' } })));
  open.push(...out);
  return out;
}

async function mirrorOver(o: Parameters<typeof startMirror>[0]) {
  const m = await startMirror(o);
  open.push(m);
  return m;
}

describe('registry mirror: pass-through', () => {
  it('chooses the upstream by X-Dragonfly-Registry, then ns=, then the default; neither the header nor ns= goes upstream', async () => {
    const [byHeader, byNs, byDefault] = await registries(3);
    const m = await mirrorOver({ fetcher: fakeFetcher({}).fetcher, defaultRegistry: byDefault!.origin, insecureRegistries: [byNs!.host] });

    await (await m.get(`/v2/lib/app/manifests/v1?ns=${byNs!.host}`, ['x-dragonfly-registry', byHeader!.origin])).body.dump();
    expect(byHeader!.seen.map((s) => s.url)).toEqual(['/v2/lib/app/manifests/v1']);
    expect(byHeader!.seen[0]!.headerLines('x-dragonfly-registry')).toEqual([]);

    await (await m.get(`/v2/lib/app/tags/list?n=10&ns=${byNs!.host}&last=a`)).body.dump();
    expect(byNs!.seen.map((s) => s.url)).toEqual(['/v2/lib/app/tags/list?n=10&last=a']);

    await (await m.get('/v2/lib/app/manifests/v1')).body.dump();
    expect(byDefault!.seen.map((s) => s.url)).toEqual(['/v2/lib/app/manifests/v1']);
  });

  it('without any upstream answers 400 saying how to configure one, in both error formats', async () => {
    const m = await mirrorOver({ fetcher: fakeFetcher({}).fetcher });
    const res = await m.get('/v2/lib/app/manifests/v1');
    expect(res.statusCode).toBe(400);
    const body = (await res.body.json()) as { code: string; detail: string; errors: { code: string; message: string }[] };
    expect(body.code).toBe('DF_ERR_VALIDATION');
    expect(body.detail).toMatch(/X-Dragonfly-Registry.*--registry/);
    expect(body.errors[0]!.message).toBe(body.detail);
  });

  it('an ns= host not marked insecure is reached over https (a plain-http registry then fails as unreachable, not as a 500)', async () => {
    const [reg] = await registries(1);
    const m = await mirrorOver({ fetcher: fakeFetcher({}).fetcher, connectTimeoutMs: 2000 });
    const res = await m.get(`/v2/lib/app/manifests/v1?ns=${reg!.host}`);
    expect(res.statusCode).toBe(502);
    expect(((await res.body.json()) as { detail: string }).detail).toContain(`https://${reg!.host}`);
  });

  it('forwards every Accept line as sent and the other end-to-end headers, but no hop-by-hop ones', async () => {
    const [reg] = await registries(1);
    const m = await mirrorOver({ fetcher: fakeFetcher({}).fetcher, defaultRegistry: reg!.origin });
    const res = await m.raw('GET', '/v2/lib/app/manifests/latest', [
      `Accept: ${MANIFEST_V2}`,
      `Accept: ${OCI_INDEX}`,
      'Accept: */*',
      'User-Agent: containerd/1.7',
      'Connection: x-hop',
      'X-Hop: secret-hop',
      'TE: trailers',
      'Keep-Alive: timeout=5',
    ]);
    expect(res.status).toBe(200);
    expect(res.head).toContain(`content-type: ${OCI_INDEX}`);
    const sent = reg!.seen[0]!;
    expect(sent.headerLines('accept')).toEqual([MANIFEST_V2, OCI_INDEX, '*/*']);
    expect(sent.headerLines('user-agent')).toEqual(['containerd/1.7']);
    expect(sent.headerLines('x-hop')).toEqual([]);
    expect(sent.headerLines('te')).toEqual([]);
    expect(sent.headerLines('keep-alive')).toEqual([]);
  });

  it('passes the ping and its 401 challenge through unchanged, WWW-Authenticate included (skopeo pings first)', async () => {
    const [reg] = await registries(1);
    const m = await mirrorOver({ fetcher: fakeFetcher({}).fetcher, defaultRegistry: reg!.origin });
    for (const path of ['/v2/', '/v2']) {
      const res = await m.get(path);
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBe(`Bearer realm="${reg!.origin}/token",service="fake",scope=""`);
      expect(res.headers['docker-distribution-api-version']).toBe('registry/2.0');
      await res.body.dump();
    }
    expect(reg!.seen.map((s) => s.url)).toEqual(['/v2/', '/v2/']);
    const authed = await m.get('/v2/', ['authorization', 'Bearer good']);
    expect(authed.statusCode).toBe(200);
    await authed.body.dump();
  });

  it("a private manifest's challenge names its scope; with the token it is served; HEAD on a manifest answers headers only", async () => {
    const [reg] = await registries(1);
    const m = await mirrorOver({ fetcher: fakeFetcher({}).fetcher, defaultRegistry: reg!.origin });
    const refused = await m.get('/v2/team/private/manifests/v1');
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['www-authenticate']).toContain('scope="repository:team/private:pull"');
    expect(await refused.body.json()).toEqual({ errors: [{ code: 'UNAUTHORIZED', message: 'unauthorized', detail: null }] });

    const head = await m.get('/v2/team/private/manifests/v1', ['authorization', 'Bearer good', 'accept', MANIFEST_V2], 'HEAD');
    expect(head.statusCode).toBe(200);
    expect(head.headers['docker-content-digest']).toMatch(/^sha256:/);
    expect(Number(head.headers['content-length'])).toBeGreaterThan(0);
    expect((await head.body.arrayBuffer()).byteLength).toBe(0);
  });

  it("the registry's own errors pass through unchanged (unknown blob through the direct path)", async () => {
    const [reg] = await registries(1);
    const m = await mirrorOver({ fetcher: fakeFetcher({}).fetcher, defaultRegistry: reg!.origin });
    const res = await m.get(`/v2/lib/app/blobs/sha256:${'a'.repeat(64)}`, ['x-dragonfly-use-p2p', 'false']);
    expect(res.statusCode).toBe(404);
    expect(await res.body.json()).toEqual({ errors: [{ code: 'BLOB_UNKNOWN', message: 'blob_unknown', detail: null }] });
  });

  it.each([
    ['PUT', '/v2/lib/app/manifests/v1', 405, 'UNSUPPORTED'],
    ['POST', '/v2/lib/app/blobs/uploads/', 405, 'UNSUPPORTED'],
    ['DELETE', `/v2/lib/app/blobs/sha256:${'a'.repeat(64)}`, 405, 'UNSUPPORTED'],
    ['PATCH', '/v2/lib/app/blobs/uploads/123', 405, 'UNSUPPORTED'],
    ['GET', '/v2/Upper/app/manifests/v1', 400, 'NAME_INVALID'],
    ['GET', '/v2/lib/../etc/manifests/v1', 400, 'NAME_INVALID'],
    ['GET', '/v2/lib%2Fapp/manifests/v1', 400, 'NAME_INVALID'],
    ['GET', `/v2/${'a'.repeat(256)}/manifests/v1`, 400, 'NAME_INVALID'],
    ['GET', '/v2/lib/app/manifests/-bad', 400, 'TAG_INVALID'],
    ['GET', '/v2/lib/app/blobs/notadigest', 400, 'DIGEST_INVALID'],
    ['GET', '/v2/lib/app/referrers/sha256:', 400, 'DIGEST_INVALID'],
    ['GET', '/v2/lib/app/nothing/here', 404, 'NOT_FOUND'],
    ['GET', '/v2/lib/app/manifests/v1?ns=%E0%A4%A', 400, 'UNKNOWN'],
    ['GET', '/v2/lib/app/manifests/v1?ns=bad%20host', 400, 'UNKNOWN'],
    ['HEAD', '/v2/lib/app/manifests/v1?ns=bad%20host', 400, 'UNKNOWN'],
    ['OPTIONS', '/v2/', 405, 'UNSUPPORTED'],
  ])('%s %s → %i %s (problem+json with the registry error format), nothing sent upstream', async (method, path, status, code) => {
    const [reg] = await registries(1);
    const m = await mirrorOver({ fetcher: fakeFetcher({}).fetcher, defaultRegistry: reg!.origin });
    const res = await m.raw(method, path);
    expect(res.status).toBe(status);
    expect(res.head).toContain('content-type: application/problem+json');
    if (status === 405) expect(res.head).toContain('allow: GET, HEAD');
    if (method === 'HEAD') expect(res.body).toBe('');
    else {
      const body = JSON.parse(res.body) as { status: number; errors: { code: string }[] };
      expect(body.status).toBe(status);
      expect(body.errors[0]!.code).toBe(code);
    }
    expect(reg!.seen).toEqual([]);
  });

  it('a bad X-Dragonfly-Registry is a 400, not a 5xx', async () => {
    const m = await mirrorOver({ fetcher: fakeFetcher({}).fetcher });
    for (const value of ['registry.example.com', 'ftp://x', 'https://u:p@x', 'https://x/path']) {
      const res = await m.get('/v2/lib/app/manifests/v1', ['x-dragonfly-registry', value]);
      expect(res.statusCode).toBe(400);
      await res.body.dump();
    }
  });

  it('a redirect from upstream reaches the client as sent, Location included', async () => {
    const [storage] = await registries(1);
    const reg = await startFakeRegistry({ redirectBlobsTo: storage!.origin });
    open.push(reg);
    const m = await mirrorOver({ fetcher: fakeFetcher({}).fetcher, defaultRegistry: reg.origin });
    const digest = `sha256:${'b'.repeat(64)}`;
    const res = await m.get(`/v2/lib/app/blobs/${digest}`, ['x-dragonfly-use-p2p', 'false']);
    expect(res.statusCode).toBe(307);
    expect(res.headers['location']).toBe(`${storage!.origin}/storage/${digest}`);
    await res.body.dump();
  });
});
