import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { containerdFiles } from '../../../peer/daemon/config/containerd-hosts.ts';
import { daemonJsonFile } from '../../../peer/daemon/config/docker-daemon-json.ts';
import { runHelper } from '../../../peer/daemon/config/run-helper.ts';
import { RegistryOption } from '../../../peer/daemon/config/registry-name.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'df-config-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const MIRROR = '127.0.0.1:65001';
const registries = ['ghcr.io', 'docker.io'].map((r) => RegistryOption.parse(r));
const hosts = (d: string, allRegistries = false) => containerdFiles(d, MIRROR, registries, allRegistries);
const ghcr = () => join(dir, 'ghcr.io', 'hosts.toml');
const hub = () => join(dir, 'docker.io', 'hosts.toml');
// Bytes a user wrote: no trailing newline, a comment and odd spacing, so "restored" means byte for byte.
const ORIGINAL = 'server = "https://ghcr.io"\n# mine\n[host."https://other.mirror"]\n  capabilities=["pull"]';

async function tree(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(root, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(join(e.parentPath, e.name).slice(root.length + 1));
  return out.sort();
}

describe('writing and removing runtime configuration', () => {
  it('prints without --write and changes nothing, not even the directory', async () => {
    const missing = join(dir, 'certs.d');
    const report = await runHelper(hosts(missing), 'print');
    expect(report).toContain(`would create ${join(missing, 'ghcr.io', 'hosts.toml')}\n# Written by damselfly daemon config`);
    expect(report).toContain('X-Dragonfly-Registry = [ "https://registry-1.docker.io" ]');
    await expect(stat(missing)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('creates the directories, and a second --write changes nothing: same bytes, one backup holding the original', async () => {
    await mkdir(join(dir, 'ghcr.io'));
    await writeFile(ghcr(), ORIGINAL);
    const first = await runHelper(hosts(dir, true), 'write');
    expect(first).toContain(`replaced ${ghcr()} (the file there is kept in ${ghcr()}.damselfly-backup)`);
    expect(first).toContain(`created ${hub()}`);
    const written = await Promise.all([ghcr(), hub()].map((p) => readFile(p)));

    const second = await runHelper(hosts(dir, true), 'write');
    expect(second).toBe(`unchanged ${ghcr()}\nunchanged ${hub()}\nunchanged ${join(dir, '_default', 'hosts.toml')}\n`);
    expect(await Promise.all([ghcr(), hub()].map((p) => readFile(p)))).toEqual(written);
    expect(await readFile(`${ghcr()}.damselfly-backup`, 'utf8')).toBe(ORIGINAL);
    expect(await tree(dir)).toEqual(['_default/hosts.toml', 'docker.io/hosts.toml', 'ghcr.io/hosts.toml', 'ghcr.io/hosts.toml.damselfly-backup']);
  });

  it('--remove restores the original byte for byte, deletes its own files and never a foreign one', async () => {
    await mkdir(join(dir, 'ghcr.io'));
    await writeFile(ghcr(), ORIGINAL);
    await runHelper(hosts(dir), 'write');
    // A registry dir damselfly did not write, and one of its files replaced by hand since.
    await mkdir(join(dir, 'quay.io'));
    await writeFile(join(dir, 'quay.io', 'hosts.toml'), 'server = "https://quay.io"\n');
    await writeFile(hub(), 'server = "https://mine.example"\n');

    const report = await runHelper(hosts(dir), 'remove');
    expect(report).toBe(`restored ${ghcr()} from ${ghcr()}.damselfly-backup\nleft ${hub()} alone: damselfly did not write it\n`);
    expect(await readFile(ghcr(), 'utf8')).toBe(ORIGINAL);
    expect(await readFile(hub(), 'utf8')).toBe('server = "https://mine.example"\n');
    expect(await tree(dir)).toEqual(['docker.io/hosts.toml', 'ghcr.io/hosts.toml', 'quay.io/hosts.toml']);

    // Its own files go with their (then empty) registry directories; a second remove finds nothing.
    await rm(hub());
    await runHelper(hosts(dir, true), 'write');
    await runHelper(hosts(dir, true), 'remove');
    expect(await tree(dir)).toEqual(['ghcr.io/hosts.toml', 'quay.io/hosts.toml']);
    expect((await readdir(dir)).sort()).toEqual(['ghcr.io', 'quay.io']);
    expect(await runHelper(hosts(dir), 'remove')).toBe(`left ${ghcr()} alone: damselfly did not write it\nnothing to remove at ${hub()}\n`);
  });

  it('refuses to write over a foreign file while an earlier backup is kept, touching nothing', async () => {
    await mkdir(join(dir, 'ghcr.io'));
    await writeFile(ghcr(), ORIGINAL);
    await runHelper(hosts(dir), 'write');
    await writeFile(ghcr(), 'server = "https://ghcr.io"\n# replaced by hand\n');
    await rm(hub());
    await expect(runHelper(hosts(dir), 'write')).rejects.toThrow(/DF_ERR_RUNTIME_CONFIG_CONFLICT: .*ghcr.io\/hosts.toml is not the file damselfly wrote/);
    expect(await readFile(`${ghcr()}.damselfly-backup`, 'utf8')).toBe(ORIGINAL);
    await expect(stat(hub())).rejects.toMatchObject({ code: 'ENOENT' }); // planned first, so nothing was written
  });

  it('says which path could not be written', async () => {
    await writeFile(join(dir, 'plain-file'), '');
    await expect(runHelper(hosts(join(dir, 'plain-file', 'certs.d')), 'write')).rejects.toThrow(/DF_ERR_RUNTIME_CONFIG_IO: .*plain-file.*ENOTDIR/);
  });
});

describe('daemon.json', () => {
  const file = () => join(dir, 'daemon.json');
  const ORIGINAL_JSON = '{ "log-driver": "journald", "live-restore": true }';

  it('merges keeping other keys, is idempotent, and --remove restores the original', async () => {
    await writeFile(file(), ORIGINAL_JSON);
    await runHelper([daemonJsonFile(file(), MIRROR)], 'write');
    const merged = await readFile(file(), 'utf8');
    expect(JSON.parse(merged)).toEqual({ 'log-driver': 'journald', 'live-restore': true, 'registry-mirrors': ['http://127.0.0.1:65001'] });
    expect(await runHelper([daemonJsonFile(file(), MIRROR)], 'write')).toBe(`unchanged ${file()}\n`);
    expect(await readFile(`${file()}.damselfly-backup`, 'utf8')).toBe(ORIGINAL_JSON);

    expect(await runHelper([daemonJsonFile(file(), MIRROR)], 'remove')).toBe(`restored ${file()} from ${file()}.damselfly-backup\n`);
    expect(await readFile(file(), 'utf8')).toBe(ORIGINAL_JSON);
    expect(await tree(dir)).toEqual(['daemon.json']);
  });

  it('deletes a daemon.json it created, and leaves one edited by hand since', async () => {
    await runHelper([daemonJsonFile(file(), MIRROR)], 'write');
    await runHelper([daemonJsonFile(file(), MIRROR)], 'remove');
    expect(await tree(dir)).toEqual([]);

    await runHelper([daemonJsonFile(file(), MIRROR)], 'write');
    const edited = JSON.stringify({ ...JSON.parse(await readFile(file(), 'utf8')), debug: true });
    await writeFile(file(), edited);
    expect(await runHelper([daemonJsonFile(file(), MIRROR)], 'remove')).toBe(`left ${file()} alone: damselfly did not write it\n`);
    expect(await readFile(file(), 'utf8')).toBe(edited);
  });
});
