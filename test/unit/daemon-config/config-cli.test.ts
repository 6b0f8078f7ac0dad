import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'df-config-cli-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The real binary, as a user runs it: `damselfly daemon config …`. */
function damselfly(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/damselfly.mjs', 'daemon', 'config', ...args], { cwd: process.cwd() }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code) : 0, stdout, stderr });
    });
  });
}

describe('damselfly daemon config (the binary)', () => {
  it('usage mistakes exit 2 with one line naming the flag, and write nothing', async () => {
    const cases: [string[], RegExp][] = [
      [['containerd', '--dir', dir, '--registry', 'bad host'], /daemon config containerd: --registry\[0\]: 'bad host': expected a registry host/],
      [['containerd', '--dir', dir, '--all-registries', '--write', '--remove'], /--remove: give --write or --remove, not both/],
      [['containerd', '--dir', dir], /--registry: give at least one --registry, or --all-registries/],
      [['registries-conf', '--file', join(dir, 'r.conf'), '--registry', 'docker.io', '--mirror', 'nohost'], /--mirror: expected host:port/],
    ];
    for (const [args, message] of cases) {
      const r = await damselfly(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(await readdir(dir)).toEqual([]);
  });

  it('--write puts hosts.toml where --dir says, for the --registry and --mirror given, and says how containerd must read it', async () => {
    const containerdConfig = join(dir, 'config.toml');
    await writeFile(containerdConfig, `version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "/etc/other:${dir}"\n`);
    const r = await damselfly(['containerd', '--registry', 'http://127.0.0.1:5000', '--all-registries', '--mirror', '127.0.0.1:7001', '--dir', dir, '--containerd-config', containerdConfig, '--write']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(parse(await readFile(join(dir, '127.0.0.1:5000', 'hosts.toml'), 'utf8'))).toEqual({
      server: 'http://127.0.0.1:5000',
      host: { 'http://127.0.0.1:7001': { capabilities: ['pull', 'resolve'], header: { 'X-Dragonfly-Registry': ['http://127.0.0.1:5000'] } } },
    });
    expect(parse(await readFile(join(dir, '_default', 'hosts.toml'), 'utf8'))).toEqual({ host: { 'http://127.0.0.1:7001': { capabilities: ['pull', 'resolve'] } } });
    expect(r.stdout).toContain(`ctr images pull --hosts-dir ${dir} IMAGE`);
    expect(r.stdout).toContain(`${dir} comes after /etc/other; a directory there for 127.0.0.1:5000, _default would be used instead`);

    const again = await damselfly(['containerd', '--registry', 'http://127.0.0.1:5000', '--all-registries', '--mirror', '127.0.0.1:7001', '--dir', dir, '--containerd-config', containerdConfig, '--write']);
    expect(again.stdout).toMatch(/^unchanged .*hosts\.toml\nunchanged .*hosts\.toml\n/);
  });

  it('registries-conf prints the file and what containers/image needs: the default upstream, and a login to the mirror', async () => {
    const r = await damselfly(['registries-conf', '--registry', 'docker.io', '--port', '7002']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^would create \/etc\/containers\/registries\.conf\.d\/damselfly\.conf\n/);
    expect(r.stdout).toContain('location = "127.0.0.1:7002"');
    expect(r.stdout).toContain('damselfly daemon --registry https://registry-1.docker.io');
    expect(r.stdout).toContain('skopeo login --tls-verify=false 127.0.0.1:7002');
  });
});
