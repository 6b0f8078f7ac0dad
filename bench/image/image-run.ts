import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { startSupernodeProcess, stopProcess } from '../processes.ts';
import { startCpuMeter } from '../process-cpu.ts';
import { peakRssBytes } from '../process-memory.ts';
import { buildOciLayout, pushImage, startRegistry, type LocalRegistry } from '../registry/index.ts';
import { countBlobRequests } from '../registry/registry-access-log.ts';
import { startDaemonProcess, type DaemonProcess } from '../harness/daemon-process.ts';
import { imageBenchSummary, type ImageBenchSummary, type ImageCaps, type ImageRound, type ImageShape } from './image-summary.ts';
import { layerSizes } from './layer-sizes.ts';
import { pullImage, type ImagePull } from './pull-image.ts';

export interface ImageBenchOptions {
  daemons: number;
  layers: number;
  imageBytes: number;
  /** bytes/s; the CDN's cap defaults to the registry's (together they are the bound's server). */
  caps: ImageCaps;
  baseline: boolean;
  /** Work directory to use and keep (the demo's); else a temp dir, removed. */
  dir?: string;
  /** Progress: what is being set up, and each pull as it ends. */
  onStep?: (what: string) => void;
  onPullDone?: (round: 'p2p' | 'registry', node: number, pull: ImagePull) => void;
}

const REPOSITORY = 'bench/image';
const TAG = 'v1';

/**
 * One `bench image` run with real processes on loopback: a docker-registry behind a capped TCP
 * proxy (which counts what leaves it), a supernode process (embedded store; CDN capped), and N
 * `damselfly daemon` processes with fresh data dirs and capped uploads. Every daemon is up
 * before the clock starts; then N pulls (bench/image/pull-image.ts, one per daemon, in this
 * process) start at the same moment with X-Dragonfly-Registry naming the capped registry. The
 * image is new each run (a random seed), so no cache has seen it. The baseline is the same N
 * pulls straight at the capped registry, after the daemons are gone.
 */
export async function runImageBench(o: ImageBenchOptions): Promise<ImageBenchSummary> {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'damselfly-image-'));
  if (o.dir) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
  }
  let registry: LocalRegistry | undefined;
  let supernode: ChildProcess | undefined;
  const daemons: DaemonProcess[] = [];
  try {
    o.onStep?.(`building a ${o.layers}-layer image`);
    const built = await buildOciLayout(join(dir, 'layout'), { layers: layerSizes(o.imageBytes, o.layers), seed: randomUUID(), tag: TAG });
    const image: ImageShape = { manifestDigest: built.manifestDigest, configDigest: built.configDigest, layers: built.layers, totalBytes: built.totalBytes };
    o.onStep?.('starting docker-registry and pushing the image');
    registry = await startRegistry({ dir: join(dir, 'registry'), uploadLimit: o.caps.registryUpload });
    // Pushed past the proxy: the push is set-up, not the registry's upload.
    await pushImage(join(dir, 'layout'), `${registry.directHost}/${REPOSITORY}:${TAG}`, { tag: TAG });
    // The layout was the push's source only; a 10 GiB image should not hold the disk twice more.
    rmSync(join(dir, 'layout'), { recursive: true, force: true });

    o.onStep?.(`starting a supernode and ${o.daemons} daemons`);
    const cdnArgs = Number.isFinite(o.caps.cdnUpload) ? ['--cdn-upload-rate', String(o.caps.cdnUpload)] : [];
    const started = await startSupernodeProcess({ dataDir: join(dir, 'supernode'), args: cdnArgs });
    supernode = started.proc;
    const address = started.address;
    daemons.push(...(await Promise.all(Array.from({ length: o.daemons }, (_, i) =>
      startDaemonProcess({ name: `daemon ${i}`, supernode: address, dataDir: join(dir, `daemon-${i}`), uploadLimit: o.caps.nodeUpload })))));

    o.onStep?.(`${o.daemons} pulls through the daemons`);
    const meter = startCpuMeter({ supernode: [supernode.pid], daemons: daemons.map((d) => d.proc.pid), bench: [process.pid] });
    const p2p = await timedRound(registry, daemons.map((d) => `http://${d.address}`), { 'x-dragonfly-registry': registry.url }, (i, p) => o.onPullDone?.('p2p', i, p));
    const cpu = meter();
    const uploaded = await Promise.all(daemons.map((d) => d.metric('damselfly_daemon_uploaded_bytes')));
    p2p.bytesFromPeers = uploaded.reduce((a, b) => a + b, 0);
    p2p.cpu = { supernodeSeconds: cpu.seconds.supernode, daemonsSeconds: cpu.seconds.daemons, benchSeconds: cpu.seconds.bench, machineBusy: cpu.machineBusy };
    p2p.peakRss = { supernode: peakRssBytes(supernode.pid), daemons: daemons.map((d) => peakRssBytes(d.proc.pid)) };
    await Promise.all(daemons.splice(0).map((d) => d.stop()));
    await stopProcess(supernode, 15_000);
    supernode = undefined;

    let baseline: ImageRound | undefined;
    if (o.baseline) {
      o.onStep?.(`${o.daemons} pulls straight from the registry (baseline)`);
      baseline = await timedRound(registry, Array.from({ length: o.daemons }, () => registry!.url), {}, (i, p) => o.onPullDone?.('registry', i, p));
    }
    return imageBenchSummary(image, o.caps, p2p, baseline);
  } finally {
    await Promise.allSettled(daemons.map((d) => d.stop()));
    if (supernode) await stopProcess(supernode, 15_000);
    await registry?.stop();
    if (!o.dir) rmSync(dir, { recursive: true, force: true });
  }
}

/** N pulls started in one tick, one per base URL; the registry's bytes and blob GETs over the round. */
async function timedRound(registry: LocalRegistry, bases: string[], headers: Record<string, string>, onDone: (node: number, pull: ImagePull) => void): Promise<ImageRound> {
  const logged = registry.requests().length;
  const sentBefore = registry.proxy!.bytesToClients;
  const goAt = performance.now();
  const pulls = await Promise.all(bases.map((base, i) => pullImage({ base, repository: REPOSITORY, tag: TAG, headers }).then((p) => {
    onDone(i, p);
    return p;
  })));
  await registry.settle();
  return {
    goAt,
    pulls,
    registryBytes: registry.proxy!.bytesToClients - sentBefore,
    blobGets: countBlobRequests(registry.requests().slice(logged), 'GET'),
  };
}
