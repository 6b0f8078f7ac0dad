import { lookup } from 'node:dns';
import { afterEach, describe, expect, it } from 'vitest';
import { isDamselflyError } from '../../../core/errors.ts';
import { OriginClient } from '../../../supernode/cdn/origin-client.ts';
import { OriginGuard } from '../../../supernode/cdn/origin-guard.ts';
import { probeOrigin } from '../../../supernode/cdn/origin-probe.ts';
import { TestOrigin } from './test-origin.ts';

/** DNS for the tests: a name that resolves to the metadata address, one to loopback. */
const fakeDns: ConstructorParameters<typeof OriginGuard>[1] = (hostname, options, callback) => {
  if (hostname === 'evil.test') return callback(null, [{ address: '169.254.169.254', family: 4 }]);
  if (hostname === 'mixed.test') return callback(null, [{ address: '127.0.0.1', family: 4 }, { address: 'fe80::1', family: 6 }]);
  if (hostname === 'good.test') return callback(null, [{ address: '127.0.0.1', family: 4 }]);
  lookup(hostname, options, callback);
};

const forbidden = (e: unknown) => isDamselflyError(e, 'DF_ERR_FORBIDDEN_ORIGIN');
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

async function setup(guard = new OriginGuard({}, fakeDns)) {
  const origin = await new TestOrigin(1000).start();
  const client = new OriginClient(guard);
  cleanup.push(() => client.close(), () => origin.stop());
  return { origin, client };
}

describe('OriginGuard.checkUrl', () => {
  const guard = new OriginGuard();
  it.each([
    'http://169.254.169.254/latest/meta-data/',
    'http://169.254.1.2:8080/x',
    'http://2852039166/', // 169.254.169.254 as one number
    'http://[fe80::1]/',
    'http://[FE80::abcd:1]:9000/',
    'http://[::ffff:169.254.169.254]/',
    'http://[fd00:ec2::254]/',
    'http://metadata.google.internal/computeMetadata/v1/',
    'http://METADATA.GOOGLE.INTERNAL./',
    'http://100.100.100.200/',
  ])('refuses %s', (url) => {
    expect(() => guard.checkUrl(url)).toThrow(expect.objectContaining({ code: 'DF_ERR_FORBIDDEN_ORIGIN', status: 403 }));
  });

  it.each(['file:///etc/passwd', 'ftp://example.com/x', 'gopher://127.0.0.1/'])('refuses the scheme of %s', (url) => {
    expect(() => guard.checkUrl(url)).toThrow(expect.objectContaining({ code: 'DF_ERR_FORBIDDEN_ORIGIN' }));
  });

  it.each(['http://127.0.0.1:8080/f', 'http://[::1]/f', 'https://10.0.0.5/f', 'https://registry.example.com/v2/'])('allows %s', (url) => {
    expect(guard.checkUrl(url).href).toBe(new URL(url).href);
  });

  it('allows forbidden addresses when configured', () => {
    expect(new OriginGuard({ allowPrivateOrigins: true }).checkUrl('http://169.254.169.254/').hostname).toBe('169.254.169.254');
    const listed = new OriginGuard({ allowList: ['169.254.10.0/24', 'metadata.google.internal', 'fe80::7'] });
    expect(() => listed.checkUrl('http://169.254.10.9/')).not.toThrow();
    expect(() => listed.checkUrl('http://metadata.google.internal/')).not.toThrow();
    expect(() => listed.checkUrl('http://[fe80::7]/')).not.toThrow();
    expect(() => listed.checkUrl('http://169.254.169.254/')).toThrow(expect.objectContaining({ code: 'DF_ERR_FORBIDDEN_ORIGIN' }));
  });
});

describe('OriginClient through the guard', () => {
  it('refuses a host name that resolves to the metadata address, at connect time', async () => {
    const { origin, client } = await setup();
    const err = await client.request(`http://evil.test:${origin.port}/file.bin`, { method: 'GET', headers: {} }).catch((e: unknown) => e);
    expect(forbidden(err)).toBe(true);
    expect(origin.requests).toHaveLength(0);
  });

  it('refuses a name with any forbidden address among its records', async () => {
    const { origin, client } = await setup();
    const err = await client.request(`http://mixed.test:${origin.port}/file.bin`, { method: 'GET', headers: {} }).catch((e: unknown) => e);
    expect(forbidden(err)).toBe(true);
  });

  it('connects to a name that resolves to an allowed address', async () => {
    const { origin, client } = await setup();
    const res = await client.request(`http://good.test:${origin.port}/file.bin`, { method: 'GET', headers: {} });
    expect(res.statusCode).toBe(200);
    expect((await res.body.arrayBuffer()).byteLength).toBe(1000);
  });

  it.each([
    ['the metadata address', 'http://169.254.169.254/latest/meta-data/iam/'],
    ['a link-local IPv6 address', 'http://[fe80::1]:80/'],
    ['a name resolving to link-local', 'http://evil.test/'],
    ['a non-http scheme', 'file:///etc/passwd'],
  ])('refuses a redirect to %s', async (_what, target) => {
    const { origin, client } = await setup();
    const err = await client.request(origin.url(`/redirect?to=${encodeURIComponent(target)}`), { method: 'GET', headers: {} }).catch((e: unknown) => e);
    expect(forbidden(err)).toBe(true);
    expect(origin.requests).toHaveLength(1);
  });

  it('refuses a forbidden redirect during the probe too', async () => {
    const { origin, client } = await setup();
    const err = await probeOrigin(client, origin.url('/redirect?to=http%3A%2F%2F169.254.169.254%2F'), {}).catch((e: unknown) => e);
    expect(forbidden(err)).toBe(true);
  });

  it('follows up to 5 redirects and no more', async () => {
    const { origin, client } = await setup();
    const err = await client.request(origin.url('/loop'), { method: 'GET', headers: {} }).catch((e: unknown) => e);
    expect(isDamselflyError(err, 'DF_ERR_ORIGIN')).toBe(true);
    expect(origin.requests).toHaveLength(6);
  });

  it('keeps credentials on a same-origin redirect and drops them when the redirect leaves the origin', async () => {
    const { origin, client } = await setup();
    const other = await new TestOrigin(10).start();
    cleanup.push(() => other.stop());
    const headers = { authorization: 'Bearer hunter2-secret' };
    const same = await client.request(origin.url('/redirect?to=/echo-auth'), { method: 'GET', headers });
    expect(await same.body.text()).toBe('Bearer hunter2-secret');
    const away = await client.request(origin.url(`/redirect?to=${encodeURIComponent(other.url('/echo-auth'))}`), { method: 'GET', headers });
    expect(await away.body.text()).toBe('');
  });
});
