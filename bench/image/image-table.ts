import type { ImageBenchSummary } from './image-summary.ts';

const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
const rate = (b: number | null) => (b === null ? 'uncapped' : `${mib(b)}/s`);

/** `bench image` (and `demo image`) for a human: one line per figure. */
export function imageTable(r: ImageBenchSummary): string {
  const c = r.caps;
  const l = r.largestLayer;
  const b = r.baseline;
  return [
    `image: ${r.nodes} daemons pull ${mib(r.imageBytes)} in ${r.layers} layers (largest ${mib(r.largestLayerBytes)}); registry ${rate(c.registryUploadBytesPerSecond)}, CDN ${rate(numberOrNull(c.cdnUploadBytesPerSecond))}, each node ${rate(c.nodeUploadBytesPerSecond)}`,
    `  last pull done        ${r.seconds.toFixed(2)} s   (a node's pull: median ${r.pullSeconds.median.toFixed(2)} s)`,
    `  P2P lower bound       ${r.lowerBoundSeconds.toFixed(2)} s   (ratio ${r.ratioToBound.toFixed(3)})`,
    `  registry bytes        ${mib(r.registryBytes)}   (${r.registryBytesRatio.toFixed(3)} × image; each blob GET once: ${r.eachBlobOnce ? 'yes' : 'NO'})`,
    `  largest layer         first byte ${l.firstByteSeconds.median.toFixed(2)} s (max ${l.firstByteSeconds.max.toFixed(2)}), done ${l.doneSeconds.median.toFixed(2)} s (max ${l.doneSeconds.max.toFixed(2)}), median over nodes`,
    r.bytesFromPeers !== null ? `  bytes to nodes        ${mib(r.bytesFromPeers)} from peers, ${mib(r.bytesFromCdn!)} from the CDN` : '',
    b ? `  straight from registry ${b.seconds.toFixed(2)} s (bound ${b.lowerBoundSeconds.toFixed(2)} s), ${b.registryBytesRatio.toFixed(2)} × image from the registry; P2P ${b.speedupOfP2p.toFixed(2)}× faster` : '  straight from registry skipped',
    r.cpu ? `  CPU while timed       supernode ${r.cpu.supernodeSeconds ?? '?'} s, daemons ${r.cpu.daemonsSeconds ?? '?'} s, pulls ${r.cpu.benchSeconds ?? '?'} s; machine ${(r.cpu.machineBusy * 100).toFixed(0)} % busy` : '',
    r.peakRssMiB ? `  peak RSS              supernode ${r.peakRssMiB.supernode ?? '?'} MiB, largest daemon ${r.peakRssMiB.daemonsMax ?? '?'} MiB` : '',
    `  digests               ${r.pullsVerified && (b?.pullsVerified ?? true) ? 'every blob of every pull verified' : 'MISMATCH'}`,
    '',
  ].filter((line) => line !== '').join('\n') + '\n';
}

/** JSON turns an uncapped (Infinity) rate into null; in memory it is still Infinity. */
function numberOrNull(x: number | null): number | null {
  return x === null || !Number.isFinite(x) ? null : x;
}
