import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { z } from 'zod';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '../../bin/damselfly.mjs');
const Digest = z.string().regex(/^sha256:[0-9a-f]{64}$/);
const Seconds = z.object({ median: z.number().nonnegative(), max: z.number().nonnegative() });

/** The JSON contract of `damselfly bench image --json` (docs/benchmarks.md, "bench image"). */
const Result = z.object({
  nodes: z.literal(2),
  layers: z.literal(3),
  imageBytes: z.number().int().min(8 * 1024 * 1024),
  largestLayerBytes: z.number().int().positive(),
  seconds: z.number().positive(),
  lowerBoundSeconds: z.number().positive(),
  ratioToBound: z.number().positive(),
  registryBytes: z.number().int().positive(),
  registryBytesRatio: z.number().positive(),
  blobGetsPerDigest: z.record(Digest, z.number().int()),
  eachBlobOnce: z.boolean(),
  largestLayer: z.object({ firstByteSeconds: Seconds, doneSeconds: Seconds }),
  pullsVerified: z.boolean(),
  bytesFromPeers: z.number().nonnegative(),
  bytesFromCdn: z.number(),
  baseline: z.object({ seconds: z.number().positive(), lowerBoundSeconds: z.number().positive(), registryBytes: z.number().int(), registryBytesRatio: z.number(), pullsVerified: z.boolean(), speedupOfP2p: z.number() }),
  caps: z.object({ registryUploadBytesPerSecond: z.number(), cdnUploadBytesPerSecond: z.number(), nodeUploadBytesPerSecond: z.number() }),
  cpu: z.object({ machineBusy: z.number() }).passthrough(),
  /** Issue 13 asks for memory stated: peak RSS of the supernode and of the largest daemon, MiB. */
  peakRssMiB: z.object({ supernode: z.number().int().positive(), daemonsMax: z.number().int().positive() }),
});

/**
 * The command end to end, tiny: a real docker-registry, a supernode process, two daemon
 * processes. No timing assertions (the machine is shared): every pull got the pushed manifest
 * and verified blobs, each blob left the registry once through the daemons, and the baseline's
 * two clients took it twice.
 */
describe('damselfly bench image --json', () => {
  it('two daemons pull a 3-layer image: digests verified, each blob GET once from the registry', async () => {
    const { stdout } = await run(process.execPath, [BIN, 'bench', 'image', '--daemons', '2', '--layers', '3', '--size', '8MiB', '--registry-upload', '8MiB', '--node-upload', '4MiB', '--json'], { timeout: 240_000, maxBuffer: 1 << 20 });
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const r = Result.parse(JSON.parse(lines[0]!));
    expect(r.pullsVerified).toBe(true);
    expect(r.baseline.pullsVerified).toBe(true);
    // config + 3 layers, each fetched from the registry exactly once for both nodes.
    expect(Object.values(r.blobGetsPerDigest)).toEqual([1, 1, 1, 1]);
    expect(r.eachBlobOnce).toBe(true);
    expect(r.registryBytes).toBeGreaterThanOrEqual(r.imageBytes);
    expect(r.registryBytesRatio).toBeLessThan(1.01);
    expect(r.baseline.registryBytes).toBeGreaterThanOrEqual(2 * r.imageBytes);
    expect(r.largestLayer.firstByteSeconds.max).toBeLessThanOrEqual(r.largestLayer.doneSeconds.max);
    expect(r.caps).toEqual({ registryUploadBytesPerSecond: 8 * 1024 * 1024, cdnUploadBytesPerSecond: 8 * 1024 * 1024, nodeUploadBytesPerSecond: 4 * 1024 * 1024 });
  });
});
