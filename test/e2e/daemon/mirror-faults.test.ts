import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSupernode, type RunningSupernode } from '../../../supernode/supernode.ts';
import { parseSupernodeConfig } from '../../../supernode/config.ts';
import { createLogger } from '../../../edge/log/logger.ts';
import { startDaemonProcess, type DaemonProcess } from '../../../bench/harness/daemon-process.ts';
import { startTcpProxy, type TcpProxy } from '../../../bench/harness/tcp-proxy.ts';
import { buildOciLayout, pushImage, startRegistry, type BuiltImage, type LocalRegistry } from '../../../bench/registry/index.ts';
import { pollUntil } from '../swarm/swarm-fixture.ts';

const MiB = 1024 * 1024;
/** What the registry may send through its proxy, bytes/s: a 32 MiB layer takes seconds. */
const REGISTRY_RATE = 4 * MiB;
/** The CDN's upload cap and the first daemon's: the second pull takes seconds and needs both. */
const CDN_RATE = '3MiB';
const PEER_RATE = 2 * MiB;

/** What a plain HTTP client saw of a blob GET: the status, the bytes, and whether the body ended normally. */
interface BlobFetch {
  status: number;
  bytes: number;
  digest: string;
  /** The body ended ('end'); false when the connection was cut or errored first. */
  complete: boolean;
  error?: string;
}

/** GET a blob through a daemon with node:http, recording a cut connection rather than throwing. */
function getBlob(daemon: string, registry: string, digest: string, onBytes?: (n: number) => void): Promise<BlobFetch> {
  return new Promise((resolve) => {
    const hash = createHash('sha256');
    let bytes = 0;
    let settled = false;
    const done = (r: Omit<BlobFetch, 'bytes' | 'digest'>) => {
      if (settled) return;
      settled = true;
      resolve({ ...r, bytes, digest: `sha256:${hash.digest('hex')}` });
    };
    const req = request(`http://${daemon}/v2/team/app/blobs/${digest}`, { headers: { 'x-dragonfly-registry': registry } }, (res) => {
      const status = res.statusCode ?? 0;
      res.on('data', (c: Buffer) => {
        hash.update(c);
        bytes += c.length;
        onBytes?.(bytes);
      });
      res.on('end', () => done({ status, complete: res.complete }));
      res.on('aborted', () => done({ status, complete: false, error: 'aborted' }));
      res.on('error', (err) => done({ status, complete: false, error: err.message }));
      res.on('close', () => done({ status, complete: res.complete, error: res.complete ? undefined : 'closed' }));
    });
    req.on('error', (err) => done({ status: 0, complete: false, error: err.message }));
    req.end();
  });
}

/**
 * Issue 11's faults with real parts: a registry killed in the middle of a blob, and a daemon
 * killed while another pulls from it. The client of a broken pull sees an error, never a
 * truncated or wrong blob that looks complete; what follows the fault (a retry, the other
 * daemon's pull) ends with the right bytes. Kills land mid-transfer by byte counts (the
 * registry's and the daemon's uploads are capped), never by timing.
 */
describe('the daemon mirror under faults (real registry, daemons, supernode)', () => {
  let dir: string;
  let node: RunningSupernode;
  let registry: LocalRegistry;
  let registryPort: number;
  let proxy: TcpProxy;
  let big: BuiltImage;
  let other: BuiltImage;
  const daemons: DaemonProcess[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'df-mirror-faults-'));
    big = await buildOciLayout(join(dir, 'big'), { layers: [32 * MiB], seed: `${dir}/big` });
    other = await buildOciLayout(join(dir, 'other'), { layers: [16 * MiB], seed: `${dir}/other` });
    registry = await startRegistry({ dir: join(dir, 'registry') });
    registryPort = Number(registry.directHost.split(':')[1]);
    // Pushed straight to the registry; the daemons and the CDN reach it through the capped proxy.
    await pushImage(join(dir, 'big'), `${registry.directHost}/team/app:big`);
    await pushImage(join(dir, 'other'), `${registry.directHost}/team/app:other`);
    proxy = await startTcpProxy({ host: '127.0.0.1', port: registryPort }, { uploadBytesPerSecond: REGISTRY_RATE });
    node = await startSupernode(parseSupernodeConfig({ port: '0', dataDir: join(dir, 'sn'), logLevel: 'silent', cdnUploadRate: CDN_RATE }, {}), createLogger({ level: 'silent' }));
  }, 240_000);

  afterAll(async () => {
    await Promise.allSettled(daemons.map((d) => d.stop()));
    await node?.stop();
    await proxy?.close();
    await registry?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const daemon = async (name: string, args: string[] = []) => {
    const d = await startDaemonProcess({ name: `daemon ${name}`, supernode: node.address, dataDir: join(dir, `daemon-${name}`), args, logLevel: 'info' });
    daemons.push(d);
    return d;
  };

  it('a registry killed mid-blob: the client gets an error (a 5xx, or a cut response), never a complete-looking blob; a retry once it is back gets the right blob', async () => {
    const layer = big.layers[0]!;
    const d = await daemon('faults');
    const upstream = `http://${proxy.address}`;
    const before = proxy.bytesToClients;
    const pulling = getBlob(d.address, upstream, layer.digest);
    // Kill it once a few MiB of the layer went out (the CDN is fetching it through the proxy).
    await pollUntil('the registry to be mid-blob', async () => (proxy.bytesToClients - before > 6 * MiB ? true : undefined), 120_000, 50);
    await registry.kill();
    const cut = await pulling;
    // An error either way, never a complete-looking blob: a 5xx if the task failed before the
    // blob's first byte reached the daemon (the status goes out with it), else a cut body.
    if (cut.status === 200) {
      expect(cut.complete, `the client saw ${cut.bytes} of ${layer.size} bytes`).toBe(false);
      expect(cut.bytes).toBeLessThan(layer.size);
    } else {
      expect(cut.status, JSON.stringify(cut)).toBeGreaterThanOrEqual(500);
    }

    // Back on the same port with the same storage: the retry gets the whole, right blob.
    registry = await startRegistry({ dir: join(dir, 'registry'), port: registryPort });
    const retry = await getBlob(d.address, upstream, layer.digest);
    expect(retry, JSON.stringify(retry)).toMatchObject({ status: 200, complete: true, bytes: layer.size, digest: layer.digest });
    expect((await fetch(`http://${d.address}/healthy`)).status).toBe(200);
  });

  it("a daemon killed while another pulls from it: the other's pull completes with the right digest", async () => {
    const layer = other.layers[0]!;
    const upstream = `http://${proxy.address}`;
    const a = await daemon('victim', ['--upload-limit', String(PEER_RATE)]);
    const b = await daemon('survivor');
    const first = await getBlob(a.address, upstream, layer.digest);
    expect(first).toMatchObject({ status: 200, complete: true, digest: layer.digest });

    let received = 0;
    const pulling = getBlob(b.address, upstream, layer.digest, (n) => (received = n));
    await pollUntil('the victim to be serving the survivor', async () => ((await a.metric('damselfly_daemon_uploaded_bytes')) > 1 * MiB ? true : undefined), 120_000, 50);
    await a.kill();
    // The kill landed mid-pull (else this test proves nothing): the survivor still lacked bytes.
    expect(received).toBeLessThan(layer.size);
    const pulled = await pulling;
    expect(pulled, JSON.stringify(pulled)).toMatchObject({ status: 200, complete: true, bytes: layer.size, digest: layer.digest });
  });
});
