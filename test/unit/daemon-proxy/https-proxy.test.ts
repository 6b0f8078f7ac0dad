import { X509Certificate } from 'node:crypto';
import { connect as connectTcp } from 'node:net';
import { connect as connectTls, type PeerCertificate } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProxyAgent, request } from 'undici';
import { contentOf, counterValue, fakeFetcher, startWorld, type World } from './proxy-fixtures.ts';

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(async () => world?.stop());

/** An https:// request through the proxy by CONNECT, the client trusting only `ca`. */
async function viaTunnel(proxyUrl: string, url: string, ca: string) {
  const dispatcher = new ProxyAgent({ uri: proxyUrl, requestTls: { ca } });
  try {
    const res = await request(url, { dispatcher });
    return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) };
  } finally {
    await dispatcher.close();
  }
}

/** Opens a CONNECT by hand and returns the certificate the far end of the tunnel shows. */
function certificateThroughTunnel(proxyPort: number, target: string, servername: string | undefined, ca: string): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const tcp = connectTcp(proxyPort, '127.0.0.1', () => tcp.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`));
    tcp.once('data', (head: Buffer) => {
      if (!head.toString().startsWith('HTTP/1.1 200')) return reject(new Error(head.toString()));
      // Without a servername no SNI is sent; the name check is then the test's, not node's.
      const tls = connectTls({ socket: tcp, ca, ...(servername ? { servername } : { checkServerIdentity: () => undefined }) }, () => {
        resolve(tls.getPeerCertificate());
        tls.destroy();
      });
      tls.once('error', reject);
    });
    tcp.once('error', reject);
  });
}

describe('the daemon HTTP proxy, HTTPS', () => {
  it('tunnels a CONNECT untouched: the client sees the origin\'s own certificate and its bytes, the fetcher nothing', async () => {
    const f = fakeFetcher();
    const p = await world.startProxy({ rules: [{ regex: '.' }] }, { fetcher: f.fetcher });
    const res = await viaTunnel(p.url, `${world.tlsOrigin}/p2p/through-tunnel`, world.originCa.cert);
    expect(res.status).toBe(200);
    expect(res.body.equals(contentOf('/p2p/through-tunnel'))).toBe(true);
    expect(res.headers['x-dragonfly-task-id']).toBeUndefined();
    expect(f.seen).toEqual([]);
    const cert = await certificateThroughTunnel(p.port, `localhost:${world.tlsPort}`, 'localhost', world.originCa.cert);
    expect(`CN=${cert.issuer.CN}`).toBe(new X509Certificate(world.originCa.cert).subject);
    expect(await counterValue(p.metrics, 'proxyRoutes', { route: 'tunnel' })).toBe(2);
    expect(await counterValue(p.metrics, 'requests', { kind: 'tunnel', outcome: 'ok' })).toBe(2);
    await f.close();
  });

  it('answers a CONNECT to a port nobody listens on 502', async () => {
    const f = fakeFetcher();
    const p = await world.startProxy({}, { fetcher: f.fetcher });
    const answer = await new Promise<string>((resolve) => {
      const tcp = connectTcp(p.port, '127.0.0.1', () => tcp.write('CONNECT 127.0.0.1:9 HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n'));
      let text = '';
      tcp.on('data', (c: Buffer) => (text += c.toString()));
      tcp.on('close', () => resolve(text));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 502 /);
    expect(answer).toContain('DF_ERR_ORIGIN');
    await f.close();
  });

  it('intercepts a hijacked host: a client trusting the daemon\'s CA gets the body through the fetcher, one that does not fails TLS', async () => {
    const f = fakeFetcher({ ca: world.originCa.cert });
    const config = { rules: [{ regex: '/p2p/' }], hijackHTTPS: { hosts: [{ regex: '^localhost:' }, { regex: '^127\\.0\\.0\\.1:' }] } };
    const p = await world.startProxy(config, { fetcher: f.fetcher });
    const url = `${world.tlsOrigin}/p2p/intercepted.bin`;
    const res = await viaTunnel(p.url, url, world.daemonCa.cert);
    expect(res.status).toBe(200);
    expect(res.body.equals(contentOf('/p2p/intercepted.bin'))).toBe(true);
    expect(res.headers['x-dragonfly-task-id']).toMatch(/^[0-9a-f]{64}$/);
    expect(f.seen.map((r) => r.url)).toEqual([url]);

    // The leaf names the host the client asked for, signed by the daemon's CA.
    const leaf = await certificateThroughTunnel(p.port, `localhost:${world.tlsPort}`, 'localhost', world.daemonCa.cert);
    expect(leaf.subjectaltname).toBe('DNS:localhost');
    expect(`CN=${leaf.issuer.CN}`).toBe(new X509Certificate(world.daemonCa.cert).subject);
    const named = await certificateThroughTunnel(p.port, `localhost:${world.tlsPort}`, 'other.example', world.daemonCa.cert);
    expect(named.subjectaltname).toBe('DNS:other.example'); // SNI respected
    const bare = await certificateThroughTunnel(p.port, `127.0.0.1:${world.tlsPort}`, undefined, world.daemonCa.cert);
    expect(bare.subjectaltname).toBe('IP Address:127.0.0.1'); // no SNI for an address: the CONNECT host's leaf

    await expect(viaTunnel(p.url, url, world.originCa.cert)).rejects.toThrow(/certificate|self.signed|issuer/i);
    expect(f.seen).toHaveLength(1);
    expect(await counterValue(p.metrics, 'proxyRoutes', { route: 'mitm' })).toBeGreaterThanOrEqual(3);
    await f.close();
  });

  it('a hijacked host\'s direct requests verify the origin unless the host is marked insecure', async () => {
    const f = fakeFetcher();
    const strict = await world.startProxy({ hijackHTTPS: { hosts: [{ regex: '^localhost:' }] } }, { fetcher: f.fetcher });
    const refused = await viaTunnel(strict.url, `${world.tlsOrigin}/plain.txt`, world.daemonCa.cert);
    expect(refused.status).toBe(502); // the origin's test CA is not one the daemon trusts
    const lax = await world.startProxy({ hijackHTTPS: { hosts: [{ regex: '^localhost:', insecure: true }] } }, { fetcher: f.fetcher });
    const ok = await viaTunnel(lax.url, `${world.tlsOrigin}/plain.txt`, world.daemonCa.cert);
    expect(ok.status).toBe(200);
    expect(ok.headers['x-origin']).toBe('file');
    expect(ok.body.equals(contentOf('/plain.txt'))).toBe(true);
    expect(f.seen).toEqual([]);
    await f.close();
  });
});
