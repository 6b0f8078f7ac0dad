import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSupernode, type RunningSupernode } from '../../../supernode/supernode.ts';
import { parseSupernodeConfig } from '../../../supernode/config.ts';
import { createLogger } from '../../../edge/log/logger.ts';
import { startDaemonProcess, type DaemonProcess } from '../../../bench/harness/daemon-process.ts';
import { startContainerd, startImageRegistries, type BuiltImage, type Containerd, type LocalRegistry } from '../../../bench/registry/index.ts';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const BIN = join(import.meta.dirname, '../../../bin/damselfly.mjs');
const creds = { user: 'puller', password: 'pw-mirror-s3cret' };

/** Writes the hosts.toml the way a user would: `damselfly daemon config containerd --write`. */
async function writeHostsToml(dir: string, registry: LocalRegistry, mirror: string): Promise<void> {
  await run(process.execPath, [BIN, 'daemon', 'config', 'containerd', '--registry', `http://${registry.host}`, '--mirror', mirror, '--dir', dir, '--containerd-config', join(dir, 'none.toml'), '--write']);
}

/**
 * Issue 11's proof with the real runtime: containerd pulls an image through two daemons, with
 * the hosts.toml `damselfly daemon config containerd --write` produced. Same digests; each
 * blob leaves the registry once; the second node takes its layers from the first. A private
 * registry works through the mirror with credentials and refuses a pull without.
 */
describe('containerd through the daemon mirror (real registry, containerd, daemons)', () => {
  let dir: string;
  let node: RunningSupernode;
  let image: BuiltImage;
  let registry: LocalRegistry;
  let privateRegistry: LocalRegistry;
  const daemons: DaemonProcess[] = [];
  const runtimes: Containerd[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'df-mirror-'));
    ({ image, open: registry, private: privateRegistry } = await startImageRegistries(dir, [1 * MiB, 3 * MiB, 9 * MiB], creds));
    node = await startSupernode(parseSupernodeConfig({ port: '0', dataDir: join(dir, 'sn'), logLevel: 'silent' }, {}), createLogger({ level: 'silent' }));
    for (const name of ['a', 'b']) {
      daemons.push(await startDaemonProcess({ name: `daemon ${name}`, supernode: node.address, dataDir: join(dir, `daemon-${name}`), logLevel: 'debug' }));
      runtimes.push(await startContainerd({ dir: join(dir, `containerd-${name}`) }));
    }
    for (const [i, d] of daemons.entries()) {
      await writeHostsToml(join(dir, `certs-${i}`), registry, d.address);
      await writeHostsToml(join(dir, `certs-${i}`), privateRegistry, d.address);
    }
  }, 240_000);

  afterAll(async () => {
    await Promise.allSettled(daemons.map((d) => d.stop()));
    await Promise.allSettled(runtimes.map((r) => r.stop()));
    await node?.stop();
    await Promise.allSettled([registry?.stop(), privateRegistry?.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('pulls on two nodes with identical digests; each blob leaves the registry once; the second node gets its layers from the first', async () => {
    const ref = `${registry.host}/team/app:v1`;
    expect(await runtimes[0]!.pull(ref, { hostsDir: join(dir, 'certs-0') })).toBe(image.manifestDigest);
    expect(await runtimes[1]!.pull(ref, { hostsDir: join(dir, 'certs-1') })).toBe(image.manifestDigest);
    for (const r of runtimes) {
      const content = await r.contentDigests();
      for (const l of image.layers) expect(content).toContain(l.digest);
    }
    await registry.settle();
    const gets = registry.blobGets();
    for (const d of [image.configDigest, ...image.layers.map((l) => l.digest)]) expect(gets.get(d), `GETs of ${d}`).toBe(1);
    // The second pull took its layers from a peer: the first daemon served it most of their bytes
    // (the rest came from the supernode's CDN, which fetched each blob from the registry once).
    const layerBytes = image.layers.reduce((n, l) => n + l.size, 0);
    expect(await daemons[0]!.metric('damselfly_daemon_uploaded_bytes')).toBeGreaterThan(layerBytes / 2);
  });

  it('a private registry: pulls with credentials, refuses a pull without — also once the layers are held by peers', async () => {
    const ref = `${privateRegistry.host}/team/app:v1`;
    expect(await runtimes[0]!.pull(ref, { hostsDir: join(dir, 'certs-0'), user: creds })).toBe(image.manifestDigest);
    // Node b holds nothing of it yet, but the swarm (and node a's cache) does: still refused.
    await expect(runtimes[1]!.pull(ref, { hostsDir: join(dir, 'certs-1') })).rejects.toThrow(/401|unauthorized/i);
    const anonymousBlob = await fetch(`http://${daemons[1]!.address}/v2/team/app/blobs/${image.layers[2]!.digest}`, { headers: { 'x-dragonfly-registry': privateRegistry.url } });
    expect(anonymousBlob.status).toBe(401);
    expect(await runtimes[1]!.pull(ref, { hostsDir: join(dir, 'certs-1'), user: creds })).toBe(image.manifestDigest);
    for (const d of daemons) expect(d.log()).not.toContain(creds.password);
  });

  it('passes the registry’s own errors through: unknown repository and digest', async () => {
    const base = `http://${daemons[0]!.address}/v2/team`;
    const h = { 'x-dragonfly-registry': registry.url };
    const unknownRepo = await fetch(`${base}/nope/manifests/v1`, { headers: h });
    expect(unknownRepo.status).toBe(404);
    expect(((await unknownRepo.json()) as { errors: { code: string }[] }).errors[0]!.code).toMatch(/NAME_UNKNOWN|MANIFEST_UNKNOWN/);
    const unknownBlob = await fetch(`${base}/app/blobs/sha256:${'e'.repeat(64)}`, { headers: h });
    expect(unknownBlob.status).toBe(404);
    const bad = await fetch(`${base}/app/blobs/sha256:${'e'.repeat(64)}`, { method: 'DELETE', headers: h });
    expect(bad.status).toBe(405);
  });
});
