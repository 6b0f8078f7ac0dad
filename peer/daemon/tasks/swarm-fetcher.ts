import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { startDownload, type Download } from '../../dfget/download.ts';
import type { PieceFile } from '../../storage/piece-file.ts';
import type { TaskRegistry } from '../../storage/task-registry.ts';
import type { Uploader } from '../../uploader/uploader.ts';
import type { LogSink } from '../../../edge/log/log-sink.ts';
import { silentLog } from '../../../edge/log/log-sink.ts';
import type { DaemonMetrics } from '../daemon-metrics.ts';
import type { ByteSpan, P2PBody, P2PFetcher, P2PRequest } from '../p2p-fetcher.ts';
import { BlobCache, type CachedBlob } from './blob-cache.ts';
import { pieceStream } from './blob-stream.ts';

export interface SwarmFetcherOptions {
  nodes: string[];
  token?: string;
  dataDir: string;
  /** The host id the daemon announces; every download joins its swarm under it. */
  hostId?: string;
  /** The daemon's one uploader and registry: every download is served to the swarm from them. */
  uploader: { uploader: Uploader; registry: TaskRegistry };
  /** Host-wide download cap, bytes/s. */
  downloadLimit?: number;
  cache: { highWatermark: number; lowWatermark: number; ttlMs: number };
  connectTimeoutMs?: number;
  logger?: LogSink;
  metrics?: DaemonMetrics;
}

interface Flight {
  /** Resolves with the body once the length is known. */
  body: Promise<P2PBody>;
}

/**
 * The P2PFetcher over dfget's engine: one download per content (requests for the same blob
 * while it downloads share it), written into the data dir, streamed to readers from the file as
 * pieces land, then kept (and served to the swarm) in the BlobCache until collected.
 */
export function createSwarmFetcher(o: SwarmFetcherOptions): P2PFetcher & { collect(): Promise<void>; close(): Promise<void> } {
  const log = o.logger ?? silentLog;
  const blobsDir = join(o.dataDir, 'blobs');
  const flights = new Map<string, Flight>();
  const cache = new BlobCache({ dataDir: o.dataDir, ...o.cache, onEvict: (reason) => o.metrics?.cacheEvictions.inc({ reason }) });
  const stop = new AbortController();

  function keyOf(r: P2PRequest): string {
    const identity = r.digest ? `d:${r.digest}` : `u:${r.url}\0${(r.filter ?? []).join('&')}\0${r.tag ?? ''}`;
    return createHash('sha256').update(identity).digest('hex');
  }

  function cachedBody(blob: CachedBlob & { taskId: string; path: string; file?: PieceFile }, digest?: string): P2PBody {
    return {
      taskId: blob.taskId, contentLength: blob.bytes, cached: true,
      stream: (span?: ByteSpan) => reading(blob, blob.file ? pieceStream(blob.file, span, digest) : createReadStream(blob.path, span ? { start: span.start, end: span.end } : {})),
    };
  }

  function reading(blob: CachedBlob, s: Readable): Readable {
    blob.readers++;
    let done = false;
    const end = () => { if (!done) { done = true; blob.readers--; } };
    s.once('close', end).once('error', end);
    return s;
  }

  async function start(key: string, r: P2PRequest): Promise<P2PBody> {
    await mkdir(blobsDir, { recursive: true });
    const output = join(blobsDir, key);
    let fileReady!: (f: PieceFile) => void;
    const file = new Promise<PieceFile>((resolve) => (fileReady = resolve));
    o.metrics?.activeDownloads.inc();
    const downloading = startDownload({
      url: r.url, output, nodes: o.nodes, token: o.token, hostId: o.hostId, headers: r.headers, filter: r.filter,
      ...(r.digest ? { digest: r.digest, contentAddressed: true } : r.tag ? { identifier: r.tag } : {}),
      uploader: o.uploader, downloadLimit: o.downloadLimit, connectTimeoutMs: o.connectTimeoutMs,
      logger: log, signal: stop.signal, onFile: fileReady,
    }).finally(() => o.metrics?.activeDownloads.dec());
    const settled = downloading.then((d) => keep(key, output, d));
    settled.catch((err: Error) => log.warn({ err: err.message }, 'download failed'));
    settled.finally(() => flights.delete(key)).catch(() => {
      // the failure is logged above and reaches the readers through `first`
    });
    // Whichever comes first: the file (stream while it downloads) or the whole download
    // (back-to-source writes the output directly, with no pieces to follow).
    const first = await Promise.race([file.then((f) => ({ f })), settled.then((blob) => ({ blob }))]);
    if ('blob' in first) return cachedBody(first.blob, r.digest);
    const f = first.f;
    return {
      taskId: taskIdOf(f, o.uploader.registry) ?? key, contentLength: f.layout.contentLength, cached: false,
      stream: (span?: ByteSpan) => pieceStream(f, span, r.digest),
    };
  }

  async function keep(key: string, path: string, d: Download) {
    const bytes = (await stat(path)).size;
    const file = d.result.taskId ? o.uploader.registry.get(d.result.taskId) : undefined;
    const blob = {
      key, bytes, lastUsed: Date.now(), readers: 0, taskId: d.result.taskId ?? key, path, file,
      release: async () => {
        await d.close();
        await rm(path, { force: true });
      },
    };
    cache.add(blob);
    o.metrics?.cacheBytes.set(cache.totalBytes);
    return blob;
  }

  return {
    async open(r: P2PRequest): Promise<P2PBody> {
      const key = keyOf(r);
      const hit = cache.get(key) as (CachedBlob & { taskId: string; path: string; file?: PieceFile }) | undefined;
      if (hit) return cachedBody(hit, r.digest);
      let flight = flights.get(key);
      if (!flight) {
        flight = { body: start(key, r) };
        flights.set(key, flight);
        flight.body.catch(() => flights.delete(key));
      }
      return flight.body;
    },
    async collect() {
      await cache.collect();
      o.metrics?.cacheBytes.set(cache.totalBytes);
    },
    async close() {
      stop.abort();
      await Promise.allSettled([...flights.values()].map((f) => f.body));
      await cache.releaseAll();
    },
  };
}

/** The registry holds the file under its task id (the supernode computed it). */
function taskIdOf(file: PieceFile, registry: TaskRegistry): string | undefined {
  return registry.taskIds().find((id) => registry.get(id) === file);
}
