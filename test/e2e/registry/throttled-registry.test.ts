import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildOciLayout, pushImage, startRegistry, type BuiltImage, type LocalRegistry } from '../../../bench/registry/index.ts';

const MiB = 1024 * 1024;
const RATE = 8 * MiB;

/** The "registry's upload capped" of `damselfly bench image`: one budget for every connection, every byte counted. */
describe('real registry behind the upload cap (fixtures)', () => {
  let dir: string;
  let image: BuiltImage;
  let registry: LocalRegistry;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'df-throttled-registry-'));
    image = await buildOciLayout(join(dir, 'layout'), { layers: [2 * MiB, 2 * MiB], seed: dir });
    registry = await startRegistry({ dir: join(dir, 'registry'), uploadLimit: RATE });
    await pushImage(join(dir, 'layout'), `${registry.host}/bench/capped:latest`);
  });

  afterAll(async () => {
    await registry?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('two blobs fetched at once share the cap, and the proxy counts what the registry sent', async () => {
    const before = registry.proxy!.bytesToClients;
    const started = performance.now();
    const bodies = await Promise.all(
      image.layers.map(async (l) => Buffer.from(await (await fetch(`${registry.url}/v2/bench/capped/blobs/${l.digest}`)).arrayBuffer())),
    );
    const seconds = (performance.now() - started) / 1000;
    expect(bodies.map((b) => b.length)).toEqual(image.layers.map((l) => l.size));
    const layerBytes = image.layers.reduce((s, l) => s + l.size, 0);
    // 4 MiB at 8 MiB/s, less the 64 KiB burst: ≥ ~0.49 s together (each alone would be 0.25 s).
    expect(seconds).toBeGreaterThan((layerBytes - 64 * 1024) / RATE - 0.05);
    expect(seconds).toBeLessThan(5);
    const sent = registry.proxy!.bytesToClients - before;
    expect(sent).toBeGreaterThan(layerBytes); // bodies plus the response headers
    expect(sent).toBeLessThan(layerBytes + 4096);
    await registry.settle();
    expect(registry.blobBytesServed()).toBe(layerBytes);
  });
});
