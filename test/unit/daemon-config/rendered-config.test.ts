import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { RegistryOption } from '../../../peer/daemon/config/registry-name.ts';
import { hostsToml } from '../../../peer/daemon/config/containerd-hosts.ts';
import { registriesConf } from '../../../peer/daemon/config/registries-conf.ts';
import { mergeDaemonJson } from '../../../peer/daemon/config/docker-daemon-json.ts';

const registry = (text: string) => RegistryOption.parse(text);

describe('containerd hosts.toml', () => {
  it('names the daemon as the one pull/resolve host, with the registry as server and in X-Dragonfly-Registry', () => {
    expect(parse(hostsToml('127.0.0.1:65001', registry('ghcr.io')))).toEqual({
      server: 'https://ghcr.io',
      host: { 'http://127.0.0.1:65001': { capabilities: ['pull', 'resolve'], header: { 'X-Dragonfly-Registry': ['https://ghcr.io'] } } },
    });
  });

  it("sends Docker Hub's real server for docker.io, and keeps http:// for a plain-HTTP registry", () => {
    const hub = parse(hostsToml('127.0.0.1:65001', registry('docker.io'))) as { server: string; host: Record<string, { header: Record<string, string[]> }> };
    expect(hub.server).toBe('https://registry-1.docker.io');
    expect(hub.host['http://127.0.0.1:65001']!.header['X-Dragonfly-Registry']).toEqual(['https://registry-1.docker.io']);
    expect(parse(hostsToml('127.0.0.2:7000', registry('http://127.0.0.1:5000')))).toEqual({
      server: 'http://127.0.0.1:5000',
      host: { 'http://127.0.0.2:7000': { capabilities: ['pull', 'resolve'], header: { 'X-Dragonfly-Registry': ['http://127.0.0.1:5000'] } } },
    });
  });

  it('_default has neither server nor header (the daemon reads ns=)', () => {
    expect(parse(hostsToml('127.0.0.1:65001'))).toEqual({ host: { 'http://127.0.0.1:65001': { capabilities: ['pull', 'resolve'] } } });
  });
});

describe('--registry values', () => {
  it('takes a host[:port] or an http(s) URL of one, and names its directory by the host', () => {
    expect(registry('127.0.0.1:5000')).toEqual({ host: '127.0.0.1:5000', server: 'https://127.0.0.1:5000', plainHttp: false });
    expect(registry('http://127.0.0.1:5000/')).toEqual({ host: '127.0.0.1:5000', server: 'http://127.0.0.1:5000', plainHttp: true });
    expect(registry('https://docker.io')).toEqual({ host: 'docker.io', server: 'https://registry-1.docker.io', plainHttp: false });
    expect(registry('[::1]:5000').host).toBe('[::1]:5000');
  });

  it('refuses what is not a registry host', () => {
    for (const bad of ['bad host', 'ftp://h', 'ghcr.io/org', 'http://u:p@h', 'h:99999', '_default', '', '1.2.3.256']) {
      expect(RegistryOption.safeParse(bad).success, bad).toBe(false);
    }
  });
});

describe('registries.conf', () => {
  it('gives each registry the daemon as an insecure mirror; an http:// registry is insecure itself', () => {
    expect(parse(registriesConf('127.0.0.1:65001', [registry('docker.io'), registry('http://127.0.0.1:5000')]))).toEqual({
      registry: [
        { location: 'docker.io', mirror: [{ location: '127.0.0.1:65001', insecure: true }] },
        { location: '127.0.0.1:5000', insecure: true, mirror: [{ location: '127.0.0.1:65001', insecure: true }] },
      ],
    });
  });
});

describe('daemon.json', () => {
  it('puts the mirror first and keeps every other key and mirror', () => {
    const merged = JSON.parse(mergeDaemonJson('d.json', '{"log-driver":"json-file","registry-mirrors":["https://m.example"],"features":{"buildkit":true}}', '127.0.0.1:65001'));
    expect(merged).toEqual({ 'log-driver': 'json-file', 'registry-mirrors': ['http://127.0.0.1:65001', 'https://m.example'], features: { buildkit: true } });
  });

  it('is the bare fragment without a file, and marks a non-loopback mirror insecure', () => {
    expect(JSON.parse(mergeDaemonJson('d.json', undefined, '127.0.0.1:65001'))).toEqual({ 'registry-mirrors': ['http://127.0.0.1:65001'] });
    expect(JSON.parse(mergeDaemonJson('d.json', '{}', '10.0.0.5:65001'))).toEqual({ 'registry-mirrors': ['http://10.0.0.5:65001'], 'insecure-registries': ['10.0.0.5:65001'] });
  });

  it('refuses to merge into what is not a JSON object', () => {
    expect(() => mergeDaemonJson('d.json', '{"a":1,}', '127.0.0.1:65001')).toThrow(/DF_ERR_RUNTIME_CONFIG_CONFLICT: d.json is not valid JSON/);
    expect(() => mergeDaemonJson('d.json', '[]', '127.0.0.1:65001')).toThrow(/not a JSON object/);
    expect(() => mergeDaemonJson('d.json', '{"registry-mirrors":"x"}', '127.0.0.1:65001')).toThrow(/not a list of strings/);
  });
});
