import { imageLowerBoundSeconds, originOnlyLowerBoundSeconds } from '../lower-bound.ts';
import type { ImagePull } from './pull-image.ts';

/** The image as pushed: what every pull must end up with. */
export interface ImageShape {
  manifestDigest: string;
  configDigest: string;
  layers: { digest: string; size: number }[];
  /** Config + layers: the bytes one pull GETs. */
  totalBytes: number;
}

/** The link caps of a run, bytes/s (Infinity: uncapped). */
export interface ImageCaps {
  registryUpload: number;
  cdnUpload: number;
  nodeUpload: number;
}

/** What one timed round measured: N pulls started at `goAt` (performance.now()), and the registry's side. */
export interface ImageRound {
  goAt: number;
  pulls: ImagePull[];
  /** Bytes the registry sent through its capped proxy during the round (headers, manifests, blobs). */
  registryBytes: number;
  /** The registry's access log: successful blob GETs per digest during the round. */
  blobGets: Map<string, number>;
  /** Piece bytes the daemons served each other (their damselfly_daemon_uploaded_bytes), when through daemons. */
  bytesFromPeers?: number;
  cpu?: { supernodeSeconds: number | null; daemonsSeconds: number | null; benchSeconds: number | null; machineBusy: number };
  /** Each process's peak resident set over its life (VmHWM), bytes; null where unreadable. */
  peakRss?: { supernode: number | null; daemons: (number | null)[] };
}

/** Median and maximum over nodes. */
export interface Spread {
  median: number;
  max: number;
}

/**
 * The figures of `damselfly bench image` from its two rounds (through the daemons; straight
 * from the registry) — pure, so that the ratios and checks are tested without processes.
 */
export function imageBenchSummary(image: ImageShape, caps: ImageCaps, p2p: ImageRound, baseline?: ImageRound) {
  const nodes = p2p.pulls.length;
  const F = image.totalBytes;
  const seconds = roundSeconds(p2p);
  const lowerBoundSeconds = imageLowerBoundSeconds({ imageBytes: F, nodes, registryUpload: caps.registryUpload, cdnUpload: caps.cdnUpload, nodeUpload: caps.nodeUpload, minDownload: Infinity });
  const largest = image.layers.reduce((a, b) => (b.size > a.size ? b : a));
  const largestPulls = p2p.pulls.map((p) => p.blobs.find((b) => b.digest === largest.digest)!);
  const baselineSeconds = baseline ? roundSeconds(baseline) : undefined;
  return {
    nodes,
    layers: image.layers.length,
    imageBytes: F,
    largestLayerBytes: largest.size,
    seconds: round(seconds),
    lowerBoundSeconds: round(lowerBoundSeconds),
    ratioToBound: round(seconds / lowerBoundSeconds),
    registryBytes: p2p.registryBytes,
    registryBytesRatio: round(p2p.registryBytes / F),
    blobGetsPerDigest: Object.fromEntries(blobDigests(image).map((d) => [d, p2p.blobGets.get(d) ?? 0])),
    eachBlobOnce: blobDigests(image).every((d) => p2p.blobGets.get(d) === 1),
    /** Each node's whole pull, from its start (median and the slowest). */
    pullSeconds: spread(p2p.pulls.map((p) => p.doneMs / 1000)),
    largestLayer: {
      firstByteSeconds: spread(largestPulls.map((b) => b.firstByteMs / 1000)),
      doneSeconds: spread(largestPulls.map((b) => b.doneMs / 1000)),
    },
    pullsVerified: allVerified(image, p2p),
    bytesFromPeers: p2p.bytesFromPeers ?? null,
    /** What the nodes received that no peer sent: the CDN's share (N × image − peers). */
    bytesFromCdn: p2p.bytesFromPeers === undefined ? null : nodes * F - p2p.bytesFromPeers,
    baseline: baseline
      ? {
        seconds: round(baselineSeconds!),
        lowerBoundSeconds: round(originOnlyLowerBoundSeconds({ fileBytes: F, peers: nodes, serverUpload: caps.registryUpload, minDownload: Infinity })),
        registryBytes: baseline.registryBytes,
        registryBytesRatio: round(baseline.registryBytes / F),
        pullsVerified: allVerified(image, baseline),
        speedupOfP2p: round(baselineSeconds! / seconds),
      }
      : null,
    caps: { registryUploadBytesPerSecond: caps.registryUpload, cdnUploadBytesPerSecond: caps.cdnUpload, nodeUploadBytesPerSecond: caps.nodeUpload },
    cpu: p2p.cpu
      ? {
        supernodeSeconds: roundOrNull(p2p.cpu.supernodeSeconds),
        daemonsSeconds: roundOrNull(p2p.cpu.daemonsSeconds),
        benchSeconds: roundOrNull(p2p.cpu.benchSeconds),
        machineBusy: round(p2p.cpu.machineBusy),
      }
      : null,
    /** Peak resident sets, MiB: what bounds memory as the image grows (the largest daemon's). */
    peakRssMiB: p2p.peakRss
      ? { supernode: mibOrNull(p2p.peakRss.supernode), daemonsMax: mibOrNull(maxOrNull(p2p.peakRss.daemons)) }
      : null,
  };
}

export type ImageBenchSummary = ReturnType<typeof imageBenchSummary>;

/** Seconds from "go" to the last pull done. */
function roundSeconds(r: ImageRound): number {
  return (Math.max(...r.pulls.map((p) => p.startedAt + p.doneMs)) - r.goAt) / 1000;
}

function blobDigests(image: ImageShape): string[] {
  return [image.configDigest, ...image.layers.map((l) => l.digest)];
}

/** Every pull resolved the pushed manifest and received every blob of it with the right digest. */
function allVerified(image: ImageShape, r: ImageRound): boolean {
  const want = blobDigests(image).join(',');
  return r.pulls.every((p) => p.manifestDigest === image.manifestDigest && p.blobs.map((b) => b.digest).join(',') === want && p.blobs.every((b) => b.verified));
}

export function spread(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median: round(median), max: round(sorted.at(-1)!) };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function mibOrNull(bytes: number | null): number | null {
  return bytes === null ? null : Math.round(bytes / 1048576);
}

function maxOrNull(values: (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null);
  return known.length > 0 && known.length === values.length ? Math.max(...known) : null;
}

function roundOrNull(x: number | null): number | null {
  return x === null ? null : round(x);
}
