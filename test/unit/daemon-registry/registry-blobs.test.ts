import { afterEach, describe, expect, it, vi } from 'vitest';
import { computeTaskId } from '../../../core/ids/task-id.ts';
import { fakeFetcher } from './fake-fetcher.ts';
import { blobOf, startFakeRegistry } from './fake-registry.ts';
import { metricValue, startMirror } from './mirror-harness.ts';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

const layer = blobOf(Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251)));
/** A blob the registry holds but the swarm cannot get. */
const orphan = blobOf('only upstream');

async function setup(o: { failAfter?: number; cached?: boolean; redirect?: boolean; accessTtlMs?: number } = {}) {
  const storage = o.redirect ? await startFakeRegistry({ blobs: { [layer.digest]: layer.bytes } }) : undefined;
  const reg = await startFakeRegistry({ privateRepos: { 'team/private': 'good', 'team/other': 'other' }, blobs: { [layer.digest]: layer.bytes, [orphan.digest]: orphan.bytes }, redirectBlobsTo: storage?.origin });
  const { fetcher, calls } = fakeFetcher({ [layer.digest]: layer.bytes }, o);
  const m = await startMirror({ fetcher, defaultRegistry: reg.origin, accessTtlMs: o.accessTtlMs });
  open.push(m, reg, ...(storage ? [storage] : []));
  return { reg, storage, m, calls };
}

const privatePath = `/v2/team/private/blobs/${layer.digest}`;

describe('registry mirror: private blobs stay private', () => {
  it("a client without credentials gets the registry's 401 and challenge, and the swarm is never asked", async () => {
    const { reg, m, calls } = await setup();
    const res = await m.get(privatePath);
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toContain('scope="repository:team/private:pull"');
    expect(await res.body.json()).toEqual({ errors: [{ code: 'UNAUTHORIZED', message: 'unauthorized', detail: null }] });
    expect(calls).toEqual([]);
    // The check was a HEAD without Authorization; the error body came from a GET.
    expect(reg.seen.map((s) => [s.method, s.headerLines('authorization')])).toEqual([['HEAD', []], ['GET', []]]);
    const head = await m.get(privatePath, [], 'HEAD');
    expect(head.statusCode).toBe(401);
    expect(head.headers['www-authenticate']).toContain('Bearer realm=');
    await head.body.dump();
    expect(calls).toEqual([]);
    expect(await metricValue(m.metrics, 'damselfly_daemon_access_checks_total', { result: 'refused' })).toBe(2);
  });

  it('a client with credentials gets the blob from the swarm, its Authorization passed to the fetcher only as authorization', async () => {
    const { reg, m, calls } = await setup();
    const res = await m.get(privatePath, ['authorization', 'Bearer good', 'accept', '*/*']);
    expect(res.statusCode).toBe(200);
    expect(Buffer.from(await res.body.arrayBuffer()).equals(layer.bytes)).toBe(true);
    expect(calls).toEqual([{ url: `${reg.origin}${privatePath}`, headers: { authorization: 'Bearer good' }, digest: layer.digest }]);
    expect(reg.seen.map((s) => [s.method, s.headerLines('authorization')])).toEqual([['HEAD', ['Bearer good']]]);
  });

  it('an allowed answer cached for one credential does not let an anonymous client, or another credential, through', async () => {
    const { reg, m, calls } = await setup();
    const ok = await m.get(privatePath, ['authorization', 'Bearer good']);
    expect(ok.statusCode).toBe(200);
    await ok.body.dump();
    const again = await m.get(privatePath, ['authorization', 'Bearer good']);
    expect(again.statusCode).toBe(200);
    await again.body.dump();
    expect(reg.seen.filter((s) => s.method === 'HEAD')).toHaveLength(1);

    const anonymous = await m.get(privatePath);
    expect(anonymous.statusCode).toBe(401);
    await anonymous.body.dump();
    const wrong = await m.get(privatePath, ['authorization', 'Bearer other']);
    expect(wrong.statusCode).toBe(401);
    await wrong.body.dump();
    // The same credential for another repository is checked there too.
    const elsewhere = await m.get(`/v2/team/other/blobs/${layer.digest}`, ['authorization', 'Bearer good']);
    expect(elsewhere.statusCode).toBe(401);
    await elsewhere.body.dump();
    expect(calls).toHaveLength(2);
    expect(await metricValue(m.metrics, 'damselfly_daemon_access_checks_total', { result: 'cached_allowed' })).toBe(1);
  });

  it('concurrent requests of one credential share one check; concurrent anonymous ones are each refused', async () => {
    const { reg, m } = await setup();
    const allowed = await Promise.all(Array.from({ length: 5 }, () => m.get(privatePath, ['authorization', 'Bearer good'])));
    for (const r of allowed) {
      expect(r.statusCode).toBe(200);
      await r.body.dump();
    }
    expect(reg.seen.filter((s) => s.method === 'HEAD')).toHaveLength(1);
    const refused = await Promise.all(Array.from({ length: 3 }, () => m.get(privatePath)));
    for (const r of refused) {
      expect(r.statusCode).toBe(401);
      await r.body.dump();
    }
  });

  it('an allowed answer is asked again after its TTL; a refusal is never kept', async () => {
    const { reg, m } = await setup({ accessTtlMs: 50 });
    for (let i = 0; i < 2; i++) await (await m.get(privatePath)).body.dump();
    await (await m.get(privatePath, ['authorization', 'Bearer good'])).body.dump();
    await new Promise((r) => setTimeout(r, 80));
    await (await m.get(privatePath, ['authorization', 'Bearer good'])).body.dump();
    expect(reg.seen.filter((s) => s.method === 'HEAD')).toHaveLength(4);
  });

  it('an unknown blob is the registry BLOB_UNKNOWN 404 and never reaches the swarm', async () => {
    const { m, calls } = await setup();
    const res = await m.get(`/v2/lib/app/blobs/sha256:${'c'.repeat(64)}`);
    expect(res.statusCode).toBe(404);
    expect(await res.body.json()).toEqual({ errors: [{ code: 'BLOB_UNKNOWN', message: 'blob_unknown', detail: null }] });
    expect(calls).toEqual([]);
  });

  it('the check follows a redirect to storage without the Authorization crossing origins', async () => {
    const { storage, m, calls } = await setup({ redirect: true });
    const res = await m.get(privatePath, ['authorization', 'Bearer good']);
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    expect(calls).toHaveLength(1);
    expect(storage!.seen.map((s) => [s.method, s.headerLines('authorization')])).toEqual([['HEAD', []]]);
  });

  it('X-Dragonfly-Use-P2P: false and non-sha256 digests go straight to the registry', async () => {
    const { reg, m, calls } = await setup();
    const direct = await m.get(privatePath, ['authorization', 'Bearer good', 'x-dragonfly-use-p2p', 'false']);
    expect(direct.statusCode).toBe(200);
    expect(Buffer.from(await direct.body.arrayBuffer()).equals(layer.bytes)).toBe(true);
    const other = await m.get(`/v2/lib/app/blobs/sha512:${'d'.repeat(128)}`);
    expect(other.statusCode).toBe(404);
    await other.body.dump();
    expect(calls).toEqual([]);
    expect(reg.seen.map((s) => s.method)).toEqual(['GET', 'GET']);
  });
});

describe('registry mirror: serving blobs', () => {
  const publicPath = `/v2/lib/app/blobs/${layer.digest}`;

  it('GET answers 200 with the blob and its headers; bytes and first byte are measured', async () => {
    const { m } = await setup();
    const res = await m.get(publicPath);
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({
      'content-length': String(layer.bytes.length),
      'content-type': 'application/octet-stream',
      'docker-content-digest': layer.digest,
      'accept-ranges': 'bytes',
      etag: `"${layer.digest}"`,
    });
    expect(res.headers['x-dragonfly-task-id']).toMatch(/^[a-f0-9]{64}$/);
    expect(Buffer.from(await res.body.arrayBuffer()).equals(layer.bytes)).toBe(true);
    expect(await metricValue(m.metrics, 'damselfly_daemon_served_bytes_total', { source: 'swarm' })).toBe(layer.bytes.length);
    expect(await metricValue(m.metrics, 'damselfly_daemon_first_byte_seconds_count', {})).toBe(1);
    // Counted when the server's side of the stream is done, which may be just after the client's.
    await vi.waitFor(async () => expect(await metricValue(m.metrics, 'damselfly_daemon_requests_total', { kind: 'blob', outcome: 'ok' })).toBe(1));
  });

  it('a cached blob counts as cache bytes', async () => {
    const { m } = await setup({ cached: true });
    await (await m.get(publicPath)).body.dump();
    expect(await metricValue(m.metrics, 'damselfly_daemon_served_bytes_total', { source: 'cache' })).toBe(layer.bytes.length);
  });

  it('a single Range is a 206 of exactly that span; an unsatisfiable one a 416 with bytes */len', async () => {
    const { m } = await setup();
    const part = await m.get(publicPath, ['range', 'bytes=100-199']);
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 100-199/${layer.bytes.length}`);
    expect(part.headers['content-length']).toBe('100');
    expect(Buffer.from(await part.body.arrayBuffer()).equals(layer.bytes.subarray(100, 200))).toBe(true);

    const suffix = await m.get(publicPath, ['range', 'bytes=-10']);
    expect(suffix.statusCode).toBe(206);
    expect(Buffer.from(await suffix.body.arrayBuffer()).equals(layer.bytes.subarray(990))).toBe(true);

    const beyond = await m.get(publicPath, ['range', 'bytes=5000-']);
    expect(beyond.statusCode).toBe(416);
    expect(beyond.headers['content-range']).toBe(`bytes */${layer.bytes.length}`);
    await beyond.body.dump();
  });

  it('HEAD answers the GET headers from the registry HEAD without downloading', async () => {
    const { reg, m, calls } = await setup();
    const res = await m.get(publicPath, [], 'HEAD');
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({ 'content-length': String(layer.bytes.length), 'docker-content-digest': layer.digest, 'accept-ranges': 'bytes' });
    expect(res.headers['x-dragonfly-task-id']).toBe(computeTaskId({ url: `${reg.origin}${publicPath}`, digest: layer.digest, contentAddressed: true }));
    await res.body.dump();
    const ranged = await m.get(publicPath, ['range', 'bytes=0-9'], 'HEAD');
    expect(ranged.statusCode).toBe(206);
    expect(ranged.headers['content-length']).toBe('10');
    await ranged.body.dump();
    expect(calls).toEqual([]);
  });

  it('a stream that fails mid-body aborts the response: the client never sees a complete blob', async () => {
    const { m } = await setup({ failAfter: 300 });
    const res = await m.get(publicPath);
    expect(res.statusCode).toBe(200);
    await expect(res.body.arrayBuffer()).rejects.toThrow();
    await vi.waitFor(async () => expect(await metricValue(m.metrics, 'damselfly_daemon_requests_total', { kind: 'blob', outcome: 'failed' })).toBe(1));
  });

  it('a stream that fails before its first byte is answered with the error, in the registry format, not a cut connection', async () => {
    const { m } = await setup({ failAfter: 0 });
    const res = await m.get(publicPath);
    expect(res.statusCode).toBe(502);
    const body = (await res.body.json()) as { code: string; errors: { code: string; message: string }[] };
    expect(body.code).toBe('DF_ERR_DIGEST_MISMATCH');
    expect(body.errors[0]!.message).toMatch(/does not match its digest/);
    await vi.waitFor(async () => expect(await metricValue(m.metrics, 'damselfly_daemon_requests_total', { kind: 'blob', outcome: 'failed' })).toBe(1));
  });

  it('a fetcher that cannot start answers its problem (a 502, not a crash) and the mirror keeps serving', async () => {
    const { m } = await setup();
    // The registry says yes (public) but the swarm cannot get it.
    const res = await m.get(`/v2/lib/app/blobs/${orphan.digest}`);
    expect(res.statusCode).toBe(502);
    expect(((await res.body.json()) as { code: string }).code).toBe('DF_ERR_ORIGIN');
    const ok = await m.get(publicPath);
    expect(ok.statusCode).toBe(200);
    await ok.body.dump();
  });
});
