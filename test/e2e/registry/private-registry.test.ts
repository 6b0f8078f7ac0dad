import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildOciLayout, pushImage, skopeoCopy, startContainerd, startRegistry, type BuiltImage, type Containerd, type LocalRegistry } from '../../../bench/registry/index.ts';

const creds = { user: 'puller', password: 'correct horse battery staple' };

/** The htpasswd registry the privacy tests need: anonymous refused, the right credentials accepted. */
describe('real registry with htpasswd (fixtures)', () => {
  let dir: string;
  let hostsDir: string;
  let image: BuiltImage;
  let registry: LocalRegistry;
  let containerd: Containerd;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'df-private-registry-'));
    image = await buildOciLayout(join(dir, 'layout'), { layers: [256 * 1024, 512 * 1024], seed: dir });
    registry = await startRegistry({ dir: join(dir, 'registry'), auth: creds });
    containerd = await startContainerd({ dir: join(dir, 'containerd') });
    hostsDir = join(dir, 'certs.d');
    await mkdir(join(hostsDir, registry.host), { recursive: true });
    await writeFile(join(hostsDir, registry.host, 'hosts.toml'), `server = "http://${registry.host}"\n`);
  });

  afterAll(async () => {
    await containerd?.stop();
    await registry?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('asks for Basic credentials and refuses an anonymous push', async () => {
    const res = await fetch(`${registry.url}/v2/`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm="damselfly-test"/);
    await expect(pushImage(join(dir, 'layout'), `${registry.host}/private/image:latest`)).rejects.toThrow(/unauthorized|authentication required/i);
  });

  it('accepts a push with credentials; ctr pulls only with --user, and the password never shows in an error', async () => {
    await pushImage(join(dir, 'layout'), `${registry.host}/private/image:latest`, { creds });
    const ref = `${registry.host}/private/image:latest`;

    const anonymous = containerd.pull(ref, { hostsDir });
    await expect(anonymous).rejects.toThrow(/401|unauthorized/i);
    const wrong = await containerd.pull(ref, { hostsDir, user: { user: creds.user, password: 'not-the-password' } }).catch((e: Error) => e.message);
    expect(wrong).toMatch(/401|unauthorized/i);
    expect(wrong).not.toContain('not-the-password');
    await registry.settle();
    expect(registry.requests().some((r) => r.status === 401)).toBe(true);
    expect(registry.blobGets().size).toBe(0);

    expect(await containerd.pull(ref, { hostsDir, user: creds })).toBe(image.manifestDigest);
    await registry.settle();
    for (const layer of image.layers) expect(registry.blobGets().get(layer.digest)).toBe(1);
  });

  it('skopeo copies out of it with credentials, and not without', async () => {
    const src = `docker://${registry.host}/private/image:latest`;
    await expect(skopeoCopy(src, `oci:${join(dir, 'anonymous')}:latest`, { tlsVerify: false })).rejects.toThrow(/unauthorized|authentication required/i);
    await skopeoCopy(src, `oci:${join(dir, 'copy')}:latest`, { tlsVerify: false, creds, preserveDigests: true });
  });
});
