import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { Agent } from 'undici';
import { DamselflyError } from '../../core/errors.ts';
import type { RegisterTaskRequest } from '../../core/wire/peer-api.ts';
import { TaskRegistry } from '../storage/task-registry.ts';
import { createThrottle, CHUNK_BURST_BYTES } from '../../edge/rate/index.ts';
import { registryPieceSource, startUploader, type Uploader } from '../uploader/index.ts';
import { silentLog } from '../../edge/log/log-sink.ts';
import { redactHeaders, redactUrl } from '../../edge/log/redact.ts';
import { SupernodeClient, SupernodesUnreachable } from './supernode-client.ts';
import { fetchPiece, watchHoldings, type PieceAt } from '../../edge/pieces/index.ts';
import { downloadFromOrigin } from './back-source.ts';
import { SwarmSession } from './swarm-session.ts';
import { SyncSession } from './sync-session.ts';
import type { SwarmCounters } from './swarm-counters.ts';
import type { DownloadOptions, DownloadResult } from './download-options.ts';

export type { DownloadOptions, DownloadResult } from './download-options.ts';

export interface Download {
  result: DownloadResult;
  /** Live counters (uploads go on while the peer lingers). */
  uploadedBytes(): number;
  /** Stops serving: leaves the swarm, removes the task from the registry, closes what this download started. */
  close(): Promise<void>;
}

/**
 * How long a registration waits out supernodes that answer "not now" (a retryable 5xx with a
 * retry hint: a shard changing hands, a replica starting or renewing its lease late under load)
 * before the file comes from the origin. A few lease TTLs: a takeover completes well within it.
 */
const REGISTER_PATIENCE_MS = 10_000;

/**
 * Registers the task, asking again while the supernodes answer with a retry hint: they are up
 * and say how soon to ask, and one busy second must not send a whole swarm to the origin.
 * Unreachable supernodes (no answer, no hint) fail at once, so back-to-source stays prompt.
 */
async function registerPatiently(client: SupernodeClient, req: RegisterTaskRequest, patienceMs: number, signal: AbortSignal) {
  const deadline = performance.now() + patienceMs;
  for (;;) {
    try {
      return await client.registerTask(req);
    } catch (err) {
      const waitMs = err instanceof SupernodesUnreachable ? err.retryAfterMs : undefined;
      if (waitMs === undefined || performance.now() + waitMs > deadline || signal.aborted) throw err;
      await delay(waitMs, undefined, { signal }).catch(() => undefined);
    }
  }
}

/** Downloads, keeps serving for `lingerMs`, then stops serving: the whole life of a CLI download. */
export async function download(o: DownloadOptions): Promise<DownloadResult> {
  const d = await startDownload(o);
  try {
    if (o.lingerMs && o.lingerMs > 0) await new Promise((resolve) => setTimeout(resolve, o.lingerMs).unref());
  } finally {
    await d.close();
  }
  return d.result;
}

/**
 * dfget's engine. Registers the task with the first supernode that answers, joins its swarm
 * with this peer's uploader address and downloads piece by piece (SwarmSession), then commits
 * the file (whole-file digest check if given) and reports success, and keeps serving the
 * pieces until close(). If no supernode answers at registration the file comes straight from
 * the origin, unless `noBackSource`.
 */
export async function startDownload(o: DownloadOptions): Promise<Download> {
  const started = performance.now();
  const log = o.logger ?? silentLog;
  // One signal for everything in flight (pieces, throttle waits): more listeners than the default 10.
  const abort = new AbortController();
  setMaxListeners(1000, abort.signal);
  if (o.signal?.aborted) abort.abort(o.signal.reason);
  o.signal?.addEventListener('abort', () => abort.abort(o.signal!.reason), { once: true });
  const signal = abort.signal;
  const seconds = () => (performance.now() - started) / 1000;
  const downloadThrottle = createThrottle(o.downloadLimit ?? o.totalLimit, { burstBytes: CHUNK_BURST_BYTES });
  const registry = o.uploader?.registry ?? new TaskRegistry();
  const uploader: Uploader = o.uploader?.uploader ?? (await startUploader({
    source: registryPieceSource(registry), logger: log, rateLimit: o.uploadLimit ?? o.totalLimit, host: o.listen?.host, port: o.listen?.port, advertiseHost: o.listen?.advertiseHost,
  }));
  const closeUploader = () => (o.uploader ? Promise.resolve() : uploader.close());
  const client = new SupernodeClient(o.nodes, { token: o.token, connectTimeoutMs: o.connectTimeoutMs });
  const headers = o.headers ?? {};
  const register: RegisterTaskRequest = {
    url: o.url, headers, filter: o.filter ?? [], ...(o.digest ? { digest: o.digest } : {}), ...(o.identifier ? { identifier: o.identifier } : {}),
    ...(o.contentAddressed && o.digest ? { contentAddressed: true } : {}),
  };
  log.info({ url: redactUrl(o.url), headers: redactHeaders(headers), nodes: o.nodes }, 'registering the task');

  let view;
  try {
    view = await registerPatiently(client, register, o.registerPatienceMs ?? REGISTER_PATIENCE_MS, signal);
  } catch (err) {
    await client.close();
    if (err instanceof SupernodesUnreachable && !o.noBackSource) {
      log.info({ err: err.detail }, 'no supernode answered: downloading from the origin');
      try {
        const { bytes } = await downloadFromOrigin({ url: o.url, output: o.output, headers, digest: o.digest, throttle: downloadThrottle, signal });
        return finished({ taskId: null, outputPath: o.output, bytes, seconds: seconds(), pieces: 0, fromPeers: 0, fromCdn: 0, peerBytes: 0, cdnBytes: 0, uploadedBytes: 0, failedPieces: 0, backSource: true, supernode: null }, uploader, closeUploader);
      } catch (originErr) {
        await closeUploader();
        throw originErr;
      }
    }
    await closeUploader();
    if (err instanceof SupernodesUnreachable) throw new DamselflyError('DF_ERR_SUPERNODE_UNREACHABLE', `${err.detail}; back-to-source is disabled (--no-back-source)`);
    throw err;
  }

  const taskId = view.taskId;
  const peerId = o.peerId ?? defaultPeerId();
  const parallelism = o.parallelism ?? 6;
  const dispatcher = new Agent({ connections: parallelism, keepAliveTimeout: 10_000, connect: { timeout: o.connectTimeoutMs ?? 3000 } });
  const pieceTimeoutMs = o.pieceTimeoutMs ?? 30_000;
  const common = {
    client, taskId, register, registry, parallelism, logger: log, signal, output: o.output,
    join: { peerId, hostId: o.hostId ?? defaultHostId(), address: uploader.address },
    giveUpAfterMs: o.giveUpAfterMs ?? 60_000,
    fetch: (a: PieceAt) => fetchPiece(taskId, a, { dispatcher, timeoutMs: pieceTimeoutMs, throttle: downloadThrottle, signal, now: () => performance.now() }),
    onProgress: o.onProgress,
    onFile: o.onFile,
  };
  const session = o.protocol === 'sync'
    ? new SyncSession({ ...common, watch: (address, pieceCount, s, onHoldings) => watchHoldings(taskId, address, { pieceCount, dispatcher, signal: s, timeoutMs: pieceTimeoutMs, onHoldings }) })
    : new SwarmSession(common);
  let file;
  try {
    file = await session.run(view);
    await file.commit(o.digest);
  } catch (err) {
    await session.settle();
    await client.leave(taskId, peerId, { outcome: 'failed', reason: (err as Error).message.slice(0, 400) }).catch((e: Error) => {
      log.debug({ err: e.message }, 'leave failed'); // a courtesy: the supernode expires silent peers anyway
    });
    if (session.file) registry.remove(taskId, session.file);
    await session.file?.abort();
    await Promise.all([client.close(), dispatcher.close(), closeUploader()]);
    throw err;
  }
  await client.leave(taskId, peerId, { outcome: 'succeeded' }).catch((e: Error) => log.warn({ err: e.message }, 'could not report success'));
  await dispatcher.close();
  const c: SwarmCounters = session.counters;
  const result: DownloadResult = {
    taskId, outputPath: o.output, bytes: file.layout.contentLength, seconds: seconds(), pieces: file.pieceCount,
    fromPeers: c.fromPeers, fromCdn: c.fromCdn, peerBytes: c.peerBytes, cdnBytes: c.cdnBytes, uploadedBytes: uploader.bytesServed(),
    failedPieces: c.failedPieces, backSource: false, supernode: client.node,
  };
  const done = file;
  return finished(result, uploader, async () => {
    registry.remove(taskId, done);
    // Stop being offered as a source before the uploader goes away.
    await client.leave(taskId, peerId, { outcome: 'left' }).catch((e: Error) => log.debug({ err: e.message }, 'leave failed'));
    await Promise.all([client.close(), closeUploader(), done.close()]);
  });
}

function finished(result: DownloadResult, uploader: Uploader, close: () => Promise<void>): Download {
  let closing: Promise<void> | undefined;
  return { result, uploadedBytes: () => uploader.bytesServed(), close: () => (closing ??= close()) };
}

/** Peer ids must match the wire's id pattern; a host name may not. */
function defaultHostId(): string {
  return hostname().replace(/[^A-Za-z0-9._:-]/g, '-').slice(0, 100) || 'host';
}

function defaultPeerId(): string {
  return `${defaultHostId()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}
