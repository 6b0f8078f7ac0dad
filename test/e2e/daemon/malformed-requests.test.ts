import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { connect } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemonProcess, type DaemonProcess } from '../../../bench/harness/daemon-process.ts';
import { startRegistry, type LocalRegistry } from '../../../bench/registry/index.ts';

/** The status line of what the server answered to `raw` (0 if it closed without a word), sent on a socket of its own. */
function rawRequest(address: string, raw: string | Buffer): Promise<{ status: number; head: string }> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let got = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within 30 s to ${JSON.stringify(raw.toString().slice(0, 120))}`));
    }, 30_000);
    const done = () => {
      clearTimeout(timer);
      const status = /^HTTP\/1\.[01] (\d{3}) /.exec(got);
      resolve({ status: status ? Number(status[1]) : 0, head: got.split('\r\n\r\n')[0]! });
      socket.destroy();
    };
    socket.on('data', (c: Buffer) => {
      got += c.toString('latin1');
      // The status line and headers are all that is judged: stop once they are in.
      if (got.includes('\r\n\r\n')) done();
    });
    socket.on('end', done);
    // A reset after the answer was written (the server closed a connection it would not read on).
    socket.on('error', done);
    socket.write(raw);
  });
}

const request = (method: string, target: string, headers: string[] = []) => [`${method} ${target} HTTP/1.1`, 'Host: mirror', ...headers, 'Connection: close', '', ''].join('\r\n');

/**
 * Issue 11's bad input, on the real daemon port (mirror, proxy, health on one listener): what
 * a client may send by mistake or on purpose — unparsable request lines, names and digests the
 * distribution grammar refuses, absolute-form URLs and CONNECT targets that are not URLs or
 * authorities, NUL bytes, headers beyond the limit — is a 4xx, never a 5xx, never a crash. The
 * mirror's grammar (each refusal's code, 405s, bad ns= and X-Dragonfly-Registry) is covered
 * route by route in test/unit/daemon-registry/registry-pass-through.test.ts and the proxy's
 * (credentials in URLs, CONNECT to bad ports) in test/unit/daemon-proxy/http-proxy.test.ts;
 * here the whole process answers: Node's parser, the daemon's routing, a real registry behind.
 */
describe('malformed requests to the daemon port', () => {
  let dir: string;
  let registry: LocalRegistry;
  let daemon: DaemonProcess;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'df-malformed-'));
    registry = await startRegistry({ dir: join(dir, 'registry') });
    // No supernode at this address: nothing here may get as far as the swarm.
    daemon = await startDaemonProcess({ supernode: '127.0.0.1:9', dataDir: join(dir, 'daemon'), args: ['--registry', registry.url] });
  }, 120_000);

  afterAll(async () => {
    await daemon?.stop();
    await registry?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const healthy = async () => {
    expect(daemon.proc.exitCode).toBeNull();
    expect((await rawRequest(daemon.address, request('GET', '/healthy'))).status).toBe(200);
  };

  const digest = `sha256:${'e'.repeat(64)}`;
  it.each<[string, string | Buffer]>([
    ['a dot-dot path', request('GET', '/v2/../x')],
    ['an upper-case name', request('GET', '/v2/UPPER/manifests/x')],
    ['an overlong name', request('GET', `/v2/${'a'.repeat(300)}/manifests/v1`)],
    ['a digest of bad hex', request('GET', '/v2/team/app/blobs/sha256:zz')],
    ['a digest without an algorithm', request('GET', '/v2/team/app/blobs/:abc')],
    ['a blob of an unknown repository', request('GET', `/v2/nobody/here/blobs/${digest}`)],
    ['an unknown path', request('GET', '/nothing/here')],
    ['a method Node does not know', request('BREW', '/v2/')],
    ['a lower-case method', request('get', '/v2/')],
    ['a NUL in the path', request('GET', '/v2/team\0app/manifests/v1')],
    ['a NUL in a header', request('GET', '/v2/', ['X-Junk: a\0b'])],
    ['a space in the path', 'GET /v2/a b/manifests/v1 HTTP/1.1\r\nHost: m\r\n\r\n'],
    ['a bare LF request', 'GET /v2/ HTTP/1.1\nHost: m\n\n'],
    ['an HTTP version that does not exist', 'GET /v2/ HTTP/7.3\r\nHost: m\r\n\r\n'],
    ['no request line at all', '\r\n\r\n\r\nnot http at all\r\n\r\n'],
    ['binary garbage', Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x01, 0x00, 0x00, 0xfb, 0x03, 0x03, 0x0d, 0x0a, 0x0d, 0x0a])],
    ['headers of 64 KiB', request('GET', '/v2/', [`X-Big: ${'x'.repeat(64 * 1024)}`])],
    ['a request target of 64 KiB', request('GET', `/v2/${'a/'.repeat(32 * 1024)}manifests/v1`)],
    ['Content-Length and Transfer-Encoding both', request('GET', '/v2/', ['Content-Length: 3', 'Transfer-Encoding: chunked'])],
    ['a Content-Length that is no number', request('GET', '/v2/', ['Content-Length: abc'])],
    ['an absolute-form ftp URL', request('GET', 'ftp://example.com/file')],
    ['an absolute-form file URL', request('GET', 'file:///etc/passwd')],
    ['an absolute-form javascript: URL', request('GET', 'javascript:alert(1)')],
    ['an absolute-form URL without a host', request('GET', 'http:///x')],
    ['an absolute-form URL with an empty authority before its query', request('GET', 'https://?x=1')],
    ['an absolute-form URL with a bad port', request('GET', 'http://127.0.0.1:99999/x')],
    ['an absolute-form URL of bad percent-encoding in the host', request('GET', 'http://%zz/x')],
    ['an absolute-form URL with an unclosed IPv6 host', request('GET', 'http://[::1/x')],
    ['CONNECT without a host', request('CONNECT', ':443')],
    ['CONNECT to an unclosed IPv6 host', request('CONNECT', '[::1:443')],
    ['CONNECT to a URL', request('CONNECT', 'http://example.com:443/')],
    ['CONNECT to a host with a space', request('CONNECT', 'a b:443')],
  ])('%s → 4xx, and the daemon answers on', async (_what, raw) => {
    const { status, head } = await rawRequest(daemon.address, raw);
    expect(status, head).toBeGreaterThanOrEqual(400);
    expect(status, head).toBeLessThan(500);
    await healthy();
  });

  it('any request path: never a 5xx, never a dropped connection (fast-check)', async () => {
    // Paths made of what registry paths are made of, and of what breaks parsers of them.
    const part = fc.oneof(
      fc.constantFrom('v2', 'team', 'app', 'manifests', 'blobs', 'tags', 'list', 'referrers', '_catalog', 'uploads', 'latest', digest, 'sha256:zz', '..', '.', '', 'A', '%2F', '%00', '%zz', '?ns=', '?ns=%zz', '#', ';', '@', ':', '~'),
      fc.stringMatching(/^[A-Za-z0-9._:%@~-]{1,40}$/),
    );
    const path = fc.array(part, { minLength: 1, maxLength: 8 }).map((parts) => `/${parts.join('/')}`);
    const method = fc.constantFrom('GET', 'HEAD', 'GET', 'PUT', 'OPTIONS');
    await fc.assert(
      fc.asyncProperty(method, fc.oneof(path, path.map((p) => `/v2${p}`)), async (m, p) => {
        const { status, head } = await rawRequest(daemon.address, request(m, p));
        // A valid pull of something that is not there is the registry's own 4xx; a ping or a
        // catalog its 200. Nothing is a 5xx: there is no swarm to fail and no upstream down (no
        // ns= names a real host: the daemon would go to it, and a 502 for an unreachable one is right).
        expect(status, `${m} ${p}: ${head}`).toBeGreaterThanOrEqual(200);
        expect(status, `${m} ${p}: ${head}`).toBeLessThan(500);
      }),
      { numRuns: 300 },
    );
    await healthy();
  });
});
