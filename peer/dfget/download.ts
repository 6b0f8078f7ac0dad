import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from 'undici';
import type { FailureReason } from '../../core/events/index.ts';
import type { Assignment, RoundRequest } from '../../core/wire/peer-api.ts';
import { PieceFile } from '../storage/piece-file.ts';
import { TaskRegistry } from '../storage/task-registry.ts';
import { createThrottle } from '../rate/throttle.ts';
import { startUploader, type Uploader } from '../uploader/uploader.ts';
import { SupernodeClient, SupernodesUnreachable } from './supernode-client.ts';
import { fetchPiece } from './fetch-piece.ts';
import { downloadFromOrigin } from './back-source.ts';

export interface DownloadOptions {
  url: string;
  output: string;
  /** Supernodes (host:port), tried in order; the peer fails over between them. */
  nodes: string[];
  digest?: string;
  /** Headers for the origin (the supernode's CDN uses them; never stored or logged). */
  headers?: Record<string, string>;
  filter?: string[];
  identifier?: string;
  token?: string;
  /** Download cap, bytes/s. */
  downloadLimit?: number;
  /** Upload cap of the uploader this download starts (ignored with `uploader`). */
  uploadLimit?: number;
  noBackSource?: boolean;
  /** An uploader + registry to serve from (the daemon's); else one is started for this download. */
  uploader?: { uploader: Uploader; registry: TaskRegistry };
  parallelism?: number;
  pieceTimeoutMs?: number;
  connectTimeoutMs?: number;
  peerId?: string;
  onProgress?: (p: { stored: number; pieceCount: number; bytes: number; contentLength: number }) => void;
  /** FOR TESTS ONLY: the started uploader serves corrupt bytes for these pieces. */
  corruptUploads?: (taskId: string, piece: number) => boolean;
  signal?: AbortSignal;
}

export interface DownloadResult {
  taskId: string | null;
  output: string;
  bytes: number;
  seconds: number;
  pieces: number;
  fromPeers: number;
  fromCdn: number;
  failedPieces: number;
  backSource: boolean;
  supernode: string | null;
}

export interface Download {
  result: DownloadResult;
  /** Stops serving (the uploader, if this download started it) and releases the file. */
  close(): Promise<void>;
}

type Report = { ok: RoundRequest['ok']; failed: RoundRequest['failed'] };

/**
 * dfget's engine: register the task, join with this peer's uploader address, then round trips
 * that each report every piece finished since the last one and take new assignments, with up
 * to `parallelism` pieces in flight. Pieces are verified before they are written or served.
 * If no supernode answers at the start, the file comes straight from the origin unless
 * `noBackSource`.
 */
export async function download(o: DownloadOptions): Promise<Download> {
  const started = performance.now();
  const peerId = o.peerId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const downloadThrottle = createThrottle(o.downloadLimit);
  const own = o.uploader ? undefined : new TaskRegistry();
  const registry = o.uploader?.registry ?? own!;
  const uploader = o.uploader?.uploader ?? (await startUploader({ registry, rateLimit: o.uploadLimit, corrupt: o.corruptUploads }));
  const closeUploader = async () => {
    if (own) await uploader.close();
  };
  const client = new SupernodeClient(o.nodes, { token: o.token, connectTimeoutMs: o.connectTimeoutMs });
  const elapsed = () => (performance.now() - started) / 1000;

  let view;
  try {
    view = await client.registerTask({ url: o.url, headers: o.headers ?? {}, filter: o.filter ?? [], ...(o.digest ? { digest: o.digest } : {}), ...(o.identifier ? { identifier: o.identifier } : {}) });
  } catch (err) {
    await client.close();
    if (!(err instanceof SupernodesUnreachable) || o.noBackSource) {
      await closeUploader();
      throw err instanceof SupernodesUnreachable ? new Error(`${err.message}; back-to-source is disabled (--no-back-source)`) : err;
    }
    const { bytes } = await downloadFromOrigin({ url: o.url, output: o.output, headers: o.headers ?? {}, digest: o.digest, throttle: downloadThrottle, signal: o.signal });
    await closeUploader();
    return {
      result: { taskId: null, output: o.output, bytes, seconds: elapsed(), pieces: 0, fromPeers: 0, fromCdn: 0, failedPieces: 0, backSource: true, supernode: null },
      close: async () => {},
    };
  }

  const taskId = view.taskId;
  const join = () => client.join(taskId, { peerId, hostId: hostname().replace(/[^A-Za-z0-9._:-]/g, '-') || 'host', address: uploader.address });
  let file: PieceFile | undefined;
  const dispatcher = new Agent({ connections: 8, keepAliveTimeout: 10_000 });
  const inflight = new Map<number, Promise<void>>();
  const pending: Report = { ok: [], failed: [] };
  let fromPeers = 0;
  let fromCdn = 0;
  let failedPieces = 0;
  let node = client.node;
  const parallelism = o.parallelism ?? 6;

  const runPiece = (a: Assignment) => {
    const job = (async () => {
      const outcome = await fetchPiece(taskId, a, { dispatcher, timeoutMs: o.pieceTimeoutMs ?? 30_000, throttle: downloadThrottle, now: () => performance.now() });
      if (outcome.ok) {
        try {
          await file!.writePiece(a.piece, a.offset, outcome.bytes);
        } catch {
          // Our own disk failed: not the source's fault ('io' blames nobody).
          pending.failed.push({ piece: a.piece, source: a.source, reason: 'io' });
          return;
        }
        pending.ok.push({ piece: a.piece, source: a.source, ms: outcome.ms });
        if (a.source === 'cdn') fromCdn++;
        else fromPeers++;
        o.onProgress?.({ stored: file!.storedCount, pieceCount: view.pieceCount ?? 0, bytes: Math.min(file!.storedCount * (view.pieceSize ?? 0), file!.contentLength), contentLength: file!.contentLength });
      } else {
        failedPieces++;
        pending.failed.push({ piece: a.piece, source: a.source, reason: outcome.reason as FailureReason });
      }
    })().finally(() => inflight.delete(a.piece));
    inflight.set(a.piece, job);
  };

  try {
    await join();
    let unreachableSince: number | undefined;
    for (;;) {
      if (o.signal?.aborted) throw new Error('download aborted');
      const report: Report = { ok: pending.ok.splice(0), failed: pending.failed.splice(0) };
      let resp;
      try {
        // Idle (nothing in flight): let the supernode hold the answer until there is work.
        resp = await client.round(taskId, peerId, { ...report, want: Math.max(0, parallelism - inflight.size), holdMs: inflight.size === 0 ? 2000 : 0 });
        unreachableSince = undefined;
      } catch (err) {
        // Nothing reported is lost: the reports go out again with the next round (the supernode
        // drops repeats). Keep trying the supernodes for a while, keeping the pieces we hold.
        pending.ok.unshift(...report.ok);
        pending.failed.unshift(...report.failed);
        if (!(err instanceof SupernodesUnreachable)) throw err;
        unreachableSince ??= performance.now();
        if (performance.now() - unreachableSince > 60_000) throw err;
        await sleep(250);
        continue;
      }
      if (client.node !== node) {
        node = client.node;
        await join();
      }
      if (resp.action === 'done') break;
      if (resp.action === 'failed') throw new Error(`the supernode failed the task: ${resp.reason}`);
      if (resp.action === 'assign') {
        if (!file) {
          file = await PieceFile.create(o.output, resp.contentLength);
          registry.add(taskId, { file, pieceSize: resp.pieceSize, contentLength: resp.contentLength });
        }
        for (const a of resp.assignments) if (!inflight.has(a.piece) && !file.has(a.piece)) runPiece(a);
      }
      if (pending.ok.length + pending.failed.length > 0) continue;
      const retryMs = resp.action === 'wait' ? resp.retryAfterMs : 100;
      // Next round when a piece finishes (to report it at once), or after the retry hint.
      const next = inflight.size > 0 ? Promise.race([...inflight.values()]) : undefined;
      if (next && inflight.size >= parallelism) await next;
      else await Promise.race([sleep(retryMs), ...(next ? [next] : [])]);
    }
    await Promise.all(inflight.values());
    if (!file) {
      // An empty file: nothing was ever assigned.
      file = await PieceFile.create(o.output, 0);
    }
    await file.commit(o.digest);
    await client.leave(taskId, peerId, { outcome: 'succeeded' }).catch(() => {
      // Leaving is a courtesy: the supernode expires silent peers anyway.
    });
  } catch (err) {
    await Promise.allSettled(inflight.values());
    await client.leave(taskId, peerId, { outcome: 'failed', reason: (err as Error).message.slice(0, 400) }).catch(() => {
      // best effort, as above
    });
    registry.remove(taskId);
    await file?.abort();
    await Promise.all([client.close(), dispatcher.close(), closeUploader()]);
    throw err;
  }
  await dispatcher.close();
  const result: DownloadResult = {
    taskId,
    output: o.output,
    bytes: file.contentLength,
    seconds: elapsed(),
    pieces: file.storedCount,
    fromPeers,
    fromCdn,
    failedPieces,
    backSource: false,
    supernode: node,
  };
  return {
    result,
    close: async () => {
      registry.remove(taskId);
      // Stop being offered as a source before the uploader goes away.
      await client.leave(taskId, peerId, { outcome: 'left' }).catch(() => {
        // best effort: a failed source is penalised and its pieces refetched elsewhere
      });
      await Promise.all([client.close(), closeUploader(), file!.close()]);
    },
  };
}
