import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildOciLayout, pushImage, skopeoCopy, startRegistry, type BuiltImage, type LocalRegistry } from '../../../bench/registry/index.ts';

/**
 * skopeo with a private registries.conf, as the daemon's `config registries-conf` output will
 * be used: a name that does not resolve anywhere is redirected to our registry by the file
 * alone, so the copy succeeding proves the file (and not the machine's /etc/containers) was read.
 */
describe('real skopeo through a private registries.conf (fixtures)', () => {
  let dir: string;
  let image: BuiltImage;
  let registry: LocalRegistry;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'df-skopeo-'));
    image = await buildOciLayout(join(dir, 'layout'), { layers: [512 * 1024, 2 * 1024 * 1024], seed: dir });
    registry = await startRegistry({ dir: join(dir, 'registry') });
    await pushImage(join(dir, 'layout'), `${registry.host}/team/app:latest`);
  });

  afterAll(async () => {
    await registry?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('copies registry → oci: dir through a [[registry]] location, digests and blobs intact', async () => {
    const conf = join(dir, 'registries.conf');
    await writeFile(conf, `[[registry]]\nprefix = "images.damselfly.invalid"\nlocation = "${registry.host}"\ninsecure = true\n`);
    const out = join(dir, 'copy');
    await skopeoCopy('docker://images.damselfly.invalid/team/app:latest', `oci:${out}:latest`, { registriesConf: conf, preserveDigests: true });

    const index = JSON.parse(await readFile(join(out, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    expect(index.manifests.map((m) => m.digest)).toEqual([image.manifestDigest]);
    for (const layer of image.layers) expect((await stat(join(out, 'blobs', 'sha256', layer.digest.slice(7)))).size).toBe(layer.size);
    await registry.settle();
    for (const layer of image.layers) expect(registry.blobGets().get(layer.digest)).toBe(1);
  });

  it('without that file the same name goes nowhere', async () => {
    await expect(skopeoCopy('docker://images.damselfly.invalid/team/app:latest', `oci:${join(dir, 'nowhere')}:latest`, { tlsVerify: false })).rejects.toThrow(/images\.damselfly\.invalid/);
  });
});
