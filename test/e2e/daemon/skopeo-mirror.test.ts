import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startSupernode, type RunningSupernode } from '../../../supernode/supernode.ts';
import { parseSupernodeConfig } from '../../../supernode/config.ts';
import { createLogger } from '../../../edge/log/logger.ts';
import { DAMSELFLY_BIN } from '../../../bench/processes.ts';
import { startDaemonProcess, type DaemonProcess } from '../../../bench/harness/daemon-process.ts';
import { skopeoCopy, startImageRegistries, type BuiltImage, type LocalRegistry } from '../../../bench/registry/index.ts';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const creds = { user: 'puller', password: 'pw-skopeo-s3cret' };
const auth = Buffer.from(`${creds.user}:${creds.password}`).toString('base64');

/**
 * The registries.conf a user gets: `damselfly daemon config registries-conf --write`, here
 * into a file of the test's (the default is a drop-in under /etc/containers).
 */
async function writeRegistriesConf(file: string, registry: LocalRegistry, mirror: string): Promise<string> {
  await run(process.execPath, [DAMSELFLY_BIN, 'daemon', 'config', 'registries-conf', '--registry', `http://${registry.host}`, '--mirror', mirror, '--file', file, '--write']);
  return file;
}

/** An auth.json holding credentials for these hosts only. */
async function authFile(path: string, hosts: string[]): Promise<string> {
  await writeFile(path, JSON.stringify({ auths: Object.fromEntries(hosts.map((h) => [h, { auth }])) }), { mode: 0o600 });
  return path;
}

/** The manifest digest of an `oci:` copy, after checking that each blob it holds hashes to its name. */
async function copiedImage(dir: string, image: BuiltImage): Promise<string> {
  for (const digest of [image.configDigest, ...image.layers.map((l) => l.digest)]) {
    const bytes = await readFile(join(dir, 'blobs', 'sha256', digest.slice('sha256:'.length)));
    expect(`sha256:${createHash('sha256').update(bytes).digest('hex')}`, `the copy of ${digest}`).toBe(digest);
  }
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
  expect(index.manifests).toHaveLength(1);
  return index.manifests[0]!.digest;
}

/** Blob bytes a daemon sent to clients out of the swarm or its cache (never passed through). */
async function swarmBytes(d: DaemonProcess): Promise<number> {
  return (await d.metric('damselfly_daemon_served_bytes_total', { source: 'swarm' })) + (await d.metric('damselfly_daemon_served_bytes_total', { source: 'cache' }));
}

/**
 * Issue 11's proof with containers/image: skopeo copies an image through the daemon with the
 * registries.conf `damselfly daemon config registries-conf --write` produced. containers/image
 * sends a mirror no header, so each daemon serves one registry (`--registry`), as
 * docs/runtimes.md says. skopeo falls back to the registry when the mirror fails, so a copy
 * that succeeds proves nothing alone: the daemons' served bytes and the registry's access log
 * show where the blobs came from.
 */
describe('skopeo through the daemon mirror (real registry, skopeo, daemons)', () => {
  let dir: string;
  let node: RunningSupernode;
  let image: BuiltImage;
  let registry: LocalRegistry;
  let privateRegistry: LocalRegistry;
  const daemons: DaemonProcess[] = [];
  const blobs = () => [image.configDigest, ...image.layers.map((l) => l.digest)];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'df-skopeo-mirror-'));
    ({ image, open: registry, private: privateRegistry } = await startImageRegistries(dir, [1 * MiB, 2 * MiB, 6 * MiB], creds));
    node = await startSupernode(parseSupernodeConfig({ port: '0', dataDir: join(dir, 'sn'), logLevel: 'silent' }, {}), createLogger({ level: 'silent' }));
    for (const [name, upstream] of [['a', registry], ['b', registry], ['private', privateRegistry]] as const) {
      daemons.push(await startDaemonProcess({ name: `daemon ${name}`, supernode: node.address, dataDir: join(dir, `daemon-${name}`), args: ['--registry', upstream.url], logLevel: 'debug' }));
    }
  }, 240_000);

  afterAll(async () => {
    await Promise.allSettled(daemons.map((d) => d.stop()));
    await node?.stop();
    await Promise.allSettled([registry?.stop(), privateRegistry?.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('copies through two daemons: the pushed digests, each blob GET once at the registry, the blobs served by the daemons', async () => {
    const ref = `docker://${registry.host}/team/app:v1`;
    for (const [i, d] of daemons.slice(0, 2).entries()) {
      const conf = await writeRegistriesConf(join(dir, `registries-${i}.conf`), registry, d.address);
      const out = join(dir, `copy-${i}`);
      await skopeoCopy(ref, `oci:${out}:v1`, { registriesConf: conf, preserveDigests: true });
      expect(await copiedImage(out, image)).toBe(image.manifestDigest);
      expect(await swarmBytes(d), `blob bytes daemon ${i} served`).toBeGreaterThanOrEqual(image.totalBytes);
    }
    await registry.settle();
    const gets = registry.blobGets();
    for (const digest of blobs()) expect(gets.get(digest), `registry GETs of ${digest}`).toBe(1);
    // The second copy's pieces came (at least partly) from the first daemon.
    expect(await daemons[0]!.metric('damselfly_daemon_uploaded_bytes')).toBeGreaterThan(0);
  });

  it('a private registry: credentials stored for the mirror address work; none are refused, also once the daemon holds the blobs', async () => {
    const ref = `docker://${privateRegistry.host}/team/app:v1`;
    const d = daemons[2]!;
    const conf = await writeRegistriesConf(join(dir, 'registries-private.conf'), privateRegistry, d.address);

    // Credentials for the mirror's address only: the registry's own address has none, so a
    // fallback to it would be refused — this copy can only have come through the daemon.
    const out = join(dir, 'copy-private');
    await skopeoCopy(ref, `oci:${out}:v1`, { registriesConf: conf, authFile: await authFile(join(dir, 'auth-mirror.json'), [d.address]), preserveDigests: true });
    expect(await copiedImage(out, image)).toBe(image.manifestDigest);
    const served = await swarmBytes(d);
    expect(served).toBeGreaterThanOrEqual(image.totalBytes);

    // No credentials: refused by the mirror and by the registry, though the daemon holds every blob.
    await expect(skopeoCopy(ref, `oci:${join(dir, 'copy-anonymous')}:v1`, { registriesConf: conf, authFile: await authFile(join(dir, 'auth-none.json'), []) })).rejects.toThrow(/401|unauthorized/i);
    const anonymous = await fetch(`http://${d.address}/v2/team/app/blobs/${image.layers[2]!.digest}`);
    expect(anonymous.status).toBe(401);
    await anonymous.arrayBuffer();
    expect(await swarmBytes(d)).toBe(served);
    for (const x of daemons) expect(x.log()).not.toContain(creds.password);
  });

  it('credentials stored for the registry only are not sent to the mirror (docs/runtimes.md): the copy bypasses the daemon', async () => {
    const ref = `docker://${privateRegistry.host}/team/app:v1`;
    const d = daemons[2]!;
    const conf = await writeRegistriesConf(join(dir, 'registries-private.conf'), privateRegistry, d.address);
    await privateRegistry.settle();
    const before = privateRegistry.blobGets();
    const served = await swarmBytes(d);
    const out = join(dir, 'copy-primary-creds');
    await skopeoCopy(ref, `oci:${out}:v1`, { registriesConf: conf, authFile: await authFile(join(dir, 'auth-primary.json'), [privateRegistry.host]), preserveDigests: true });
    expect(await copiedImage(out, image)).toBe(image.manifestDigest);
    // The mirror answered 401 (no credentials reached it) and skopeo fell back to the registry.
    expect(await swarmBytes(d)).toBe(served);
    await privateRegistry.settle();
    const after = privateRegistry.blobGets();
    for (const digest of blobs()) expect((after.get(digest) ?? 0) - (before.get(digest) ?? 0), `registry GETs of ${digest}`).toBe(1);
  });
});
