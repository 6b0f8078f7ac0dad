import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { DAMSELFLY_BIN } from '../../bench/processes.ts';

function run(args: string[]) {
  return spawnSync(process.execPath, [DAMSELFLY_BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, DAMSELFLY_DATABASE_URL: '', DAMSELFLY_KAFKA_BROKERS: '' },
    timeout: 120_000,
  });
}

interface LegOut { seconds: number; megabytesPerSecond: number; piecesFromPeers: number; piecesFromCdn: number; cpuSecondsPerGiB: Record<string, number | null> }

/** `damselfly bench throughput`: one peer from the CDN, a second from the first, nothing capped (issue 13). */
describe('damselfly bench throughput', () => {
  it('pulls from the CDN, then from the first peer, and prints rates, CPU per GiB and peak memory as JSON', () => {
    const r = run(['bench', 'throughput', '--size', '16MiB', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { fileBytes: number; fromCdn: LegOut; fromPeer: LegOut; peakRssMiB: Record<string, number | null>; filesIdentical: boolean };
    expect(out.fileBytes).toBe(16 * 1024 * 1024);
    expect(out.filesIdentical).toBe(true);
    // The first peer is alone: everything from the CDN. The second takes from the first what its slots allow.
    expect(out.fromCdn).toMatchObject({ piecesFromPeers: 0 });
    expect(out.fromCdn.piecesFromCdn).toBeGreaterThan(0);
    expect(out.fromPeer.piecesFromPeers).toBeGreaterThan(0);
    for (const leg of [out.fromCdn, out.fromPeer]) {
      expect(leg.megabytesPerSecond).toBeGreaterThan(0);
      expect(leg.cpuSecondsPerGiB.supernode).toBeGreaterThan(0);
      expect(leg.cpuSecondsPerGiB.peerA).toBeGreaterThan(0);
    }
    expect(out.fromPeer.cpuSecondsPerGiB.peerB).toBeGreaterThan(0);
    expect(out.peakRssMiB.peerB).toBeGreaterThan(0);
  });

  it('refuses a bad size with exit code 2', () => {
    const r = run(['bench', 'throughput', '--size', 'lots']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/bench throughput: --size/);
  });
});
