import { describe, expect, it } from 'vitest';
import { imageLowerBoundSeconds, p2pLowerBoundSeconds } from '../../../bench/lower-bound.ts';
import { imageBenchSummary, layerSizes, spread, type ImagePull, type ImageRound, type ImageShape } from '../../../bench/image/index.ts';

const MiB = 1024 * 1024;
const d = (c: string) => `sha256:${c.repeat(64)}`;

describe('imageLowerBoundSeconds', () => {
  const base = { imageBytes: 192 * MiB, nodes: 10, minDownload: Infinity };

  it('is the swarm bound with the CDN as the server when the registry is not the tighter link', () => {
    const o = { ...base, registryUpload: 4 * MiB, cdnUpload: 4 * MiB, nodeUpload: 1 * MiB };
    // N·F/(C + N·u) = 10 · 192 / 14 MiB/s
    expect(imageLowerBoundSeconds(o)).toBeCloseTo((10 * 192) / 14, 6);
    expect(imageLowerBoundSeconds(o)).toBe(p2pLowerBoundSeconds({ fileBytes: o.imageBytes, peers: 10, serverUpload: o.cdnUpload, peerUpload: o.nodeUpload, minDownload: Infinity }));
  });

  it('is at least the image through the registry once, and through the CDN once', () => {
    expect(imageLowerBoundSeconds({ ...base, registryUpload: 1 * MiB, cdnUpload: 100 * MiB, nodeUpload: 100 * MiB })).toBeCloseTo(192, 6);
    expect(imageLowerBoundSeconds({ ...base, registryUpload: 100 * MiB, cdnUpload: 2 * MiB, nodeUpload: 100 * MiB })).toBeCloseTo(96, 6);
  });

  it('with an uncapped CDN only the registry and the downloads bound it', () => {
    expect(imageLowerBoundSeconds({ ...base, registryUpload: 4 * MiB, cdnUpload: Infinity, nodeUpload: 1 * MiB })).toBeCloseTo(48, 6);
    expect(imageLowerBoundSeconds({ ...base, registryUpload: 4 * MiB, cdnUpload: Infinity, nodeUpload: 1 * MiB, minDownload: 2 * MiB })).toBeCloseTo(96, 6);
  });
});

describe('layerSizes', () => {
  it('one layer holds half the image, the rest share the remainder; the sizes add up', () => {
    expect(layerSizes(192 * MiB, 4)).toEqual([96 * MiB, 32 * MiB, 32 * MiB, 32 * MiB]);
    expect(layerSizes(1001, 3).reduce((a, b) => a + b)).toBe(1001);
    expect(layerSizes(5000, 1)).toEqual([5000]);
  });
});

describe('imageBenchSummary', () => {
  const image: ImageShape = { manifestDigest: d('m'), configDigest: d('c'), layers: [{ digest: d('a'), size: 6 * MiB }, { digest: d('b'), size: 2 * MiB }], totalBytes: 8 * MiB + 1000 };
  const caps = { registryUpload: 4 * MiB, cdnUpload: 4 * MiB, nodeUpload: 1 * MiB };

  function pull(startedAt: number, doneMs: number, largestFirstByteMs: number, o: { corrupt?: boolean } = {}): ImagePull {
    return {
      manifestDigest: image.manifestDigest,
      startedAt,
      doneMs,
      blobs: [
        { digest: d('c'), size: 1000, firstByteMs: 10, doneMs: 11, verified: true },
        { digest: d('a'), size: 6 * MiB, firstByteMs: largestFirstByteMs, doneMs, verified: !o.corrupt },
        { digest: d('b'), size: 2 * MiB, firstByteMs: 20, doneMs: doneMs / 2, verified: true },
      ],
    };
  }

  function round(pulls: ImagePull[], o: { registryBytes: number; gets: number }): ImageRound {
    return { goAt: 100, pulls, registryBytes: o.registryBytes, blobGets: new Map([d('c'), d('a'), d('b')].map((x) => [x, o.gets])) };
  }

  it('times the last pull from "go", against the bound; registry bytes against the image; the largest layer over nodes', () => {
    const p2p = {
      ...round([pull(100, 3000, 400), pull(101, 3999, 900), pull(100, 2000, 500)], { registryBytes: 8 * MiB + 2000, gets: 1 }),
      bytesFromPeers: 9 * MiB,
      peakRss: { supernode: 900 * MiB, daemons: [120 * MiB, 180 * MiB, 150 * MiB] },
    };
    const s = imageBenchSummary(image, caps, p2p, round([pull(100, 6000, 50), pull(100, 6000, 60), pull(100, 6000, 70)], { registryBytes: 3 * (8 * MiB + 1000), gets: 3 }));
    const bound = imageLowerBoundSeconds({ imageBytes: image.totalBytes, nodes: 3, ...caps, minDownload: Infinity });
    expect(s.seconds).toBe(4);
    expect(s.lowerBoundSeconds).toBeCloseTo(bound, 3);
    expect(s.ratioToBound).toBeCloseTo(4 / bound, 3);
    expect(s.registryBytesRatio).toBeCloseTo(1, 3);
    expect(s.eachBlobOnce).toBe(true);
    expect(s.largestLayerBytes).toBe(6 * MiB);
    expect(s.largestLayer.firstByteSeconds).toEqual({ median: 0.5, max: 0.9 });
    expect(s.largestLayer.doneSeconds).toEqual({ median: 3, max: 3.999 });
    expect(s.pullSeconds).toEqual({ median: 3, max: 3.999 });
    expect(s.bytesFromPeers).toBe(9 * MiB);
    expect(s.bytesFromCdn).toBe(3 * image.totalBytes - 9 * MiB);
    expect(s.pullsVerified).toBe(true);
    expect(s.baseline).toMatchObject({ seconds: 6, registryBytesRatio: 3, pullsVerified: true, speedupOfP2p: 1.5 });
    expect(s.peakRssMiB).toEqual({ supernode: 900, daemonsMax: 180 });
  });

  it('states no largest daemon when one of them could not be read', () => {
    const p2p = { ...round([pull(100, 1000, 10)], { registryBytes: 1, gets: 1 }), peakRss: { supernode: null, daemons: [120 * MiB, null] } };
    expect(imageBenchSummary(image, caps, p2p).peakRssMiB).toEqual({ supernode: null, daemonsMax: null });
  });

  it('says when a blob left the registry twice, a digest was wrong or a pull resolved another manifest', () => {
    const twice = imageBenchSummary(image, caps, round([pull(100, 1000, 10)], { registryBytes: 2 * image.totalBytes, gets: 2 }));
    expect(twice.eachBlobOnce).toBe(false);
    expect(twice.blobGetsPerDigest[d('a')]).toBe(2);
    expect(imageBenchSummary(image, caps, round([pull(100, 1000, 10, { corrupt: true })], { registryBytes: 1, gets: 1 })).pullsVerified).toBe(false);
    const other = { ...pull(100, 1000, 10), manifestDigest: d('f') };
    expect(imageBenchSummary(image, caps, round([other], { registryBytes: 1, gets: 1 })).pullsVerified).toBe(false);
    expect(twice.baseline).toBeNull();
  });

  it('spread: median of an even count is the mean of the middle two', () => {
    expect(spread([4, 1, 3, 2])).toEqual({ median: 2.5, max: 4 });
  });
});
