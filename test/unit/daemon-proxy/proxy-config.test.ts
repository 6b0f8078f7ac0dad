import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isDamselflyError } from '../../../core/errors.ts';
import { routeRequest } from '../../../peer/daemon/proxy/route-request.ts';
import { createLeafIssuer } from '../../../peer/daemon/proxy/leaf-certificates.ts';
import { loadProxyCa, parseProxyConfig, trustCaInstructions } from '../../../peer/daemon/proxy/index.ts';
import { subtle, x509 } from '../../../peer/daemon/proxy/x509.ts';

const dirs: string[] = [];
async function tempDir() {
  const dir = await mkdtemp(join(tmpdir(), 'damselfly-proxy-ca-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function usageDetail(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isDamselflyError(e, 'DF_ERR_USAGE')) return e.detail!;
    throw e;
  }
  throw new Error('no usage error');
}

describe('the proxy section of the config file', () => {
  it('compiles the rules in order and fills the defaults', () => {
    const c = parseProxyConfig({ rules: [{ regex: 'blobs/sha256.*' }, { regex: '.*', direct: true }], hijackHTTPS: { hosts: [{ regex: 'registry\\.example' }] } });
    // RegExp#source escapes '/', so compare against the same compilation.
    expect(c.rules.map((r) => [r.regex.source, r.direct, r.useHTTPS])).toEqual([[new RegExp('blobs/sha256.*').source, false, false], ['.*', true, false]]);
    expect(c.rules[0]!.regex.test('http://h/v2/a/blobs/sha256:00')).toBe(true);
    expect(c.hijackHTTPS?.hosts[0]).toMatchObject({ insecure: false });
    expect(parseProxyConfig(undefined)).toEqual({ rules: [] });
  });

  it('names the place of a mistake: an invalid regex, a redirect with a scheme, a cert without its key, an unknown field', () => {
    expect(usageDetail(() => parseProxyConfig({ rules: [{ regex: 'ok' }, { regex: 'a(b' }] }))).toMatch(/^proxy\.rules\[1\]\.regex: invalid regular expression "a\(b"/);
    expect(usageDetail(() => parseProxyConfig({ rules: [{ regex: 'x', redirect: 'https://other/' }] }))).toMatch(/^proxy\.rules\[0\]\.redirect:/);
    expect(usageDetail(() => parseProxyConfig({ hijackHTTPS: { cert: '/ca.crt', hosts: [] } }))).toMatch(/^proxy\.hijackHTTPS\.cert: cert and key go together/);
    expect(usageDetail(() => parseProxyConfig({ rules: [{ regex: 'x', usehttps: true }] }))).toMatch(/^proxy\.rules\[0\]/);
    expect(usageDetail(() => parseProxyConfig({ hijackHTTPS: { hosts: [{ regex: '[' }] } }))).toMatch(/^proxy\.hijackHTTPS\.hosts\[0\]\.regex/);
  });

  it('routes by the first matching rule; no rule is direct; the header decides P2P or not, the rule still rewrites', () => {
    const { rules } = parseProxyConfig({ rules: [{ regex: 'a\\.example/direct', direct: true }, { regex: 'a\\.example', redirect: 'b.example:8080', useHTTPS: true }] });
    const route = (url: string, headers = {}, method = 'GET') => {
      const r = routeRequest(method, new URL(url), headers, rules);
      return `${r.via} ${r.url.href}`;
    };
    expect(route('http://a.example/x')).toBe('p2p https://b.example:8080/x');
    expect(route('http://a.example/direct/x')).toBe('direct http://a.example/direct/x');
    expect(route('http://c.example/x')).toBe('direct http://c.example/x');
    expect(route('http://c.example/x', { 'x-dragonfly-use-p2p': 'true' })).toBe('p2p http://c.example/x');
    expect(route('http://a.example/x', { 'x-dragonfly-use-p2p': 'false' })).toBe('direct https://b.example:8080/x');
    expect(route('http://a.example/x', {}, 'HEAD')).toBe('direct https://b.example:8080/x');
  });
});

describe('the proxy CA', () => {
  it('is generated into the data dir once (key 0600) and reused by the next start', async () => {
    const dataDir = await tempDir();
    const first = await loadProxyCa({ dataDir });
    expect(first.generated).toBe(true);
    expect((await stat(join(dataDir, 'proxy-ca', 'ca.key'))).mode & 0o777).toBe(0o600);
    const cert = new X509Certificate(first.cert);
    expect(cert.ca).toBe(true);
    const second = await loadProxyCa({ dataDir });
    expect([second.generated, second.cert, second.certPath]).toEqual([false, first.cert, join(dataDir, 'proxy-ca', 'ca.crt')]);
  });

  it('is loaded from the files given, an RSA key in PKCS#1 too, and signs leaves that verify against it', async () => {
    const dir = await tempDir();
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    const keys = { privateKey: await subtle.importKey('pkcs8', privateKey.export({ type: 'pkcs8', format: 'der' }), alg, true, ['sign']), publicKey: await subtle.importKey('spki', publicKey.export({ type: 'spki', format: 'der' }), alg, true, ['verify']) };
    const caCert = await x509.X509CertificateGenerator.createSelfSigned({ serialNumber: '01', name: 'CN=Operator CA', keys, signingAlgorithm: alg, extensions: [new x509.BasicConstraintsExtension(true, 0, true)] });
    await writeFile(join(dir, 'ca.crt'), caCert.toString('pem'));
    await writeFile(join(dir, 'ca.key'), privateKey.export({ type: 'pkcs1', format: 'pem' }));
    const ca = await loadProxyCa({ certPath: join(dir, 'ca.crt'), keyPath: join(dir, 'ca.key'), dataDir: dir });
    expect(ca.generated).toBe(false);
    const leaf = new X509Certificate((await createLeafIssuer(ca).certificateFor('registry.example')).cert);
    expect(leaf.checkIssued(new X509Certificate(ca.cert))).toBe(true);
    expect(leaf.verify(new X509Certificate(ca.cert).publicKey)).toBe(true);
    expect(leaf.checkHost('registry.example')).toBe('registry.example');
    await expect(loadProxyCa({ certPath: join(dir, 'ca.crt'), dataDir: dir })).rejects.toThrow(/--ca-cert and --ca-key go together/);
    await writeFile(join(dir, 'junk.key'), 'not a key');
    await expect(loadProxyCa({ certPath: join(dir, 'ca.crt'), keyPath: join(dir, 'junk.key'), dataDir: dir })).rejects.toThrow(/not a PEM certificate and private key/);
    expect(await readFile(join(dir, 'ca.crt'), 'utf8')).toBe(ca.cert);
  });

  it('tells how to trust it: the system store, Node.js and curl', () => {
    const text = trustCaInstructions('/var/lib/damselfly/proxy-ca/ca.crt', '127.0.0.1:65001');
    expect(text).toContain('update-ca-certificates');
    expect(text).toContain('NODE_EXTRA_CA_CERTS=/var/lib/damselfly/proxy-ca/ca.crt');
    expect(text).toContain('curl --cacert /var/lib/damselfly/proxy-ca/ca.crt -x http://127.0.0.1:65001');
  });
});
