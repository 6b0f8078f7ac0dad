import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildOciLayout, pushImage, startContainerd, startRegistry, type BuiltImage, type Containerd, type LocalRegistry } from '../../../bench/registry/index.ts';

const MiB = 1024 * 1024;

/**
 * The fixtures against the real programs, no daemon: an image we build, pushed by skopeo to
 * Debian's docker-registry, pulled (and unpacked) by Debian's containerd through a hosts.toml
 * written by hand. What the daemon's tests will assert through the mirror, here straight.
 */
describe('real registry + containerd (fixtures)', () => {
  let dir: string;
  let image: BuiltImage;
  let registry: LocalRegistry;
  let containerd: Containerd;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'df-registry-'));
    image = await buildOciLayout(join(dir, 'layout'), { layers: [1 * MiB, 4 * MiB, 12 * MiB], seed: dir });
    registry = await startRegistry({ dir: join(dir, 'registry') });
    containerd = await startContainerd({ dir: join(dir, 'containerd') });
    await pushImage(join(dir, 'layout'), `${registry.host}/bench/image:latest`);
  });

  afterAll(async () => {
    await containerd?.stop();
    await registry?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('built a valid image: three layers of about the sizes asked, random so gzip cannot shrink them', () => {
    expect(image.layers).toHaveLength(3);
    for (const [i, size] of [1 * MiB, 4 * MiB, 12 * MiB].entries()) {
      expect(image.layers[i]!.size).toBeGreaterThan(size);
      expect(image.layers[i]!.size).toBeLessThan(size * 1.01);
    }
  });

  it('pulls the pushed image with ctr through a hand-written hosts.toml: same digests, each blob served once', async () => {
    const hostsDir = join(dir, 'certs.d');
    await mkdir(join(hostsDir, registry.host), { recursive: true });
    await writeFile(
      join(hostsDir, registry.host, 'hosts.toml'),
      `server = "http://${registry.host}"\n\n[host."http://${registry.host}"]\n  capabilities = ["pull", "resolve"]\n`,
    );
    const ref = `${registry.host}/bench/image:latest`;
    // Unpacked into overlayfs: containerd checks every layer against the config's diff_ids.
    expect(await containerd.pull(ref, { hostsDir })).toBe(image.manifestDigest);

    const content = await containerd.contentDigests();
    for (const digest of [image.manifestDigest, image.configDigest, ...image.layers.map((l) => l.digest)]) expect(content).toContain(digest);

    await registry.settle();
    const gets = registry.blobGets();
    expect(new Map([...gets].sort())).toEqual(new Map([image.configDigest, ...image.layers.map((l) => l.digest)].sort().map((d) => [d, 1])));
    expect(registry.blobBytesServed()).toBe(image.totalBytes);
  });
});
