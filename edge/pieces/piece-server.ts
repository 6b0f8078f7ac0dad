import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseByteRange } from '../http/byte-range.ts';
import { problemOf, sendProblem } from '../http/problem.ts';
import { silentLog, type LogSink } from '../log/log-sink.ts';
import { chunkBytesFor, unthrottled, type Throttle } from '../rate/throttle.ts';
import { parsePiecePath, PIECE_COUNT_HEADER, WATCH_HEARTBEAT_MS, WATCH_MARK } from './piece-path.ts';
import type { OpenPiece, PieceHoldings, PieceSource } from './piece-source.ts';

export interface PieceServerOptions {
  source: PieceSource;
  /** The host-wide upload cap, shared by every response of this server. */
  throttle?: Throttle;
  /** Responses in flight at once. Default 16. */
  slots?: number;
  /**
   * Requests that may wait for a slot, first come first served, when every slot is busy; beyond
   * them 503 with Retry-After (the requester asks again). Default 0: refuse at once.
   */
  queue?: number;
  /** The Retry-After hint of that 503, ms. Default 1000. */
  retryAfterMs?: number;
  /**
   * Holdings watches open at once; beyond them 503 with Retry-After. Default 512: a parent has
   * at most 16 children a task (core/scheduling/policy.ts), and a daemon serves every layer of
   * the images its node pulls, so room for 32 busy tasks; each watch is a socket (a file
   * descriptor: 512 stays under the common soft limit of 1024 with room for piece uploads).
   */
  watches?: number;
  log?: LogSink;
}

/** The longest a request waits in the queue for a slot before it is refused. */
const QUEUE_WAIT_MS = 10_000;
/** A watch writes at most this often: pieces that land in between go out in one write. */
const WATCH_GAP_MS = 100;

export interface PieceServer {
  /** Answers one request (GET or HEAD /pieces/<task>/<n> or /pieces/<task>); never rejects. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Body bytes sent so far. */
  bytesServed(): number;
  /** Responses in progress right now. */
  activeUploads(): number;
  /** Holdings watches open right now. */
  openWatches(): number;
}

/**
 * The one implementation of the piece protocol every holder speaks — the CDN (mounted on the
 * supernode's Fastify app), every peer's uploader and the daemon: GET or HEAD
 * /pieces/:taskId/:piece, single byte ranges within the piece (206, 416), a slot limit (503 +
 * Retry-After) and a shared rate cap, every refusal a problem+json; and GET or HEAD
 * /pieces/:taskId, what the holder has (its bitfield, or with `?watch` a stream of it). The path is parsed into
 * numbers before the source is asked, so nothing from a request ever names a file.
 */
export function createPieceServer(o: PieceServerOptions): PieceServer {
  const throttle = o.throttle ?? unthrottled;
  const slots = o.slots ?? 16;
  const log = o.log ?? silentLog;
  const chunkBytes = chunkBytesFor(throttle);
  const queue = o.queue ?? 0;
  const maxWatches = o.watches ?? 512;
  let busy = 0;
  let served = 0;
  let watching = 0;
  /** Requests waiting for a slot, in order of arrival. */
  const waiting: (() => void)[] = [];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return sendProblem(res, problemOf('DF_ERR_METHOD_NOT_ALLOWED', `${req.method} is not supported`), { allow: 'GET, HEAD' });
    }
    const path = parsePiecePath(req.url ?? '');
    if (path.kind === 'refused') return sendProblem(res, problemOf(path.code, path.detail));
    if (path.kind === 'holdings') return answerHoldings(req, res, path);
    const { taskId, piece } = path;
    const opened = await o.source.open(taskId, piece);
    if (!opened) return sendProblem(res, problemOf('DF_ERR_NOT_FOUND', `no verified piece ${piece} of task ${taskId} here`));
    try {
      const size = opened.size;
      const range = parseByteRange(req.headers.range, size);
      if (range === 'unsatisfiable') {
        return sendProblem(res, problemOf('DF_ERR_RANGE_NOT_SATISFIABLE', `piece ${piece} has ${size} bytes`), { 'content-range': `bytes */${size}` });
      }
      const body = req.method !== 'HEAD' && size > 0;
      if (body ? !(await takeSlot(res)) : busy >= slots) {
        if (res.destroyed) return; // the requester went away while it waited
        return sendProblem(res, problemOf('DF_ERR_UNAVAILABLE', `all ${slots} upload slots are busy`, { retryAfterMs: o.retryAfterMs ?? 1000 }));
      }
      const { start, end } = range ?? { start: 0, end: size - 1 };
      const headers: Record<string, string> = { 'content-type': 'application/octet-stream', 'content-length': String(Math.max(0, end - start + 1)), 'accept-ranges': 'bytes' };
      if (range) headers['content-range'] = `bytes ${start}-${end}/${size}`;
      res.writeHead(range ? 206 : 200, headers);
      if (!body) return void res.end();
      await send(opened, start, end, res);
    } finally {
      await opened.close();
    }
  }

  /**
   * What the holder has: its bitfield, or with `watch` a stream of the pieces it holds and then
   * of each one as it lands (piece-path.ts, WATCH_MARK). A few bytes, so it takes no upload slot
   * and skips the throttle: a requester keeps a watch open at every parent without crowding out
   * piece uploads. A watch replaced a long poll per landed piece per watcher, which with its
   * request and response parsing on both sides was a third of a peer's CPU in a 20-peer swarm.
   */
  async function answerHoldings(req: IncomingMessage, res: ServerResponse, q: { taskId: string; watch: boolean }): Promise<void> {
    const held = o.source.holdings?.(q.taskId);
    if (!held) return sendProblem(res, problemOf('DF_ERR_NOT_FOUND', `nothing of task ${q.taskId} here`));
    if (q.watch) {
      // Each watch holds a connection, a waiter and a timer for as long as the task runs here:
      // without a cap, requesters could pin them without end. A refused one asks again later.
      if (watching >= maxWatches) {
        return sendProblem(res, problemOf('DF_ERR_UNAVAILABLE', `all ${maxWatches} holdings watches are open`, { retryAfterMs: o.retryAfterMs ?? 1000 }));
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'cache-control': 'no-store' });
      if (req.method === 'HEAD') return void res.end();
      watching++;
      try {
        return await watch(q.taskId, held, res);
      } finally {
        watching--;
      }
    }
    const bitfield = held.bitfield();
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(bitfield.length), [PIECE_COUNT_HEADER]: String(held.count) });
    res.end(req.method === 'HEAD' ? undefined : bitfield);
  }

  /** Writes a watch until every piece is held, the holder gives the task up, or the requester goes away. */
  async function watch(taskId: string, first: PieceHoldings, res: ServerResponse): Promise<void> {
    const gone = new AbortController();
    const onClose = () => gone.abort();
    res.once('close', onClose);
    try {
      let held: PieceHoldings | undefined = first;
      let sent: Uint8Array = new Uint8Array(0);
      let count = -1;
      while (held) {
        // The count before the bitfield: pieces only land, so the wait below never misses one.
        const now = held.count;
        const bitfield = held.bitfield();
        const records = newPieces(sent, bitfield, count < 0);
        if (records.length > 0) res.write(records);
        sent = bitfield;
        if (now >= held.total) break;
        const before = count;
        count = now;
        if (before >= 0 && records.length === 0) res.write(MARK);
        const more = await held.changed(count, WATCH_HEARTBEAT_MS, gone.signal);
        if (gone.signal.aborted) return;
        if (!more) break;
        await sleep(WATCH_GAP_MS, undefined, { signal: gone.signal }).catch(() => {
          // the requester went away
        });
        if (gone.signal.aborted) return;
        held = o.source.holdings?.(taskId);
      }
      res.end();
    } finally {
      res.off('close', onClose);
    }
  }

  /**
   * A slot for one response: at once if one is free and nobody waits, else in turn behind the
   * requests queued before it — a requester that waits here gets the next free slot rather than
   * a 503 it would retry blindly, so a freed slot goes to those who asked first. False when the
   * queue is full, the wait exceeds QUEUE_WAIT_MS, or the requester went away.
   */
  function takeSlot(res: ServerResponse): Promise<boolean> {
    if (busy < slots && waiting.length === 0) {
      busy++;
      return Promise.resolve(true);
    }
    if (waiting.length >= queue) return Promise.resolve(false);
    return new Promise((resolve) => {
      const settle = (granted: boolean) => {
        clearTimeout(timer);
        res.off('close', refuse);
        const at = waiting.indexOf(grant);
        if (at >= 0) waiting.splice(at, 1);
        if (granted) busy++;
        resolve(granted);
      };
      const grant = () => settle(true);
      const refuse = () => settle(false);
      const timer = setTimeout(refuse, QUEUE_WAIT_MS);
      res.once('close', refuse);
      waiting.push(grant);
    });
  }

  function releaseSlot(): void {
    busy--;
    if (busy < slots) waiting[0]?.();
  }

  /** Streams the bytes under the throttle; the slot (taken by takeSlot) is held until the response is over, however it ends. */
  async function send(opened: OpenPiece, start: number, end: number, res: ServerResponse): Promise<void> {
    const gone = new AbortController();
    const onClose = () => gone.abort();
    res.once('close', onClose);
    try {
      for await (const chunk of opened.chunks(start, end, chunkBytes)) {
        if (throttle !== unthrottled) await throttle.take(chunk.length, gone.signal);
        served += chunk.length;
        if (!res.write(chunk)) await drained(res);
        if (gone.signal.aborted) return;
      }
      res.end();
    } catch (err) {
      // The requester went away during a throttle wait or a read: nothing more to send.
      if (!gone.signal.aborted) throw err;
      res.destroy();
    } finally {
      res.off('close', onClose);
      releaseSlot();
    }
  }

  return {
    handle: (req, res) =>
      handle(req, res).catch((err: Error) => {
        log.error({ err: err.message, url: req.url }, 'piece upload failed');
        if (!res.headersSent) sendProblem(res, problemOf('DF_ERR_INTERNAL', 'internal error'));
        else res.destroy();
      }),
    bytesServed: () => served,
    activeUploads: () => busy,
    openWatches: () => watching,
  };
}

const MARK = record(WATCH_MARK);

function record(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n);
  return b;
}

/** A record per piece set in `now` and not in `sent`, then WATCH_MARK if `mark`. */
function newPieces(sent: Uint8Array, now: Uint8Array, mark: boolean): Buffer {
  const pieces: number[] = [];
  for (let i = 0; i < now.length; i++) {
    const fresh = now[i]! & ~(sent[i] ?? 0);
    if (fresh === 0) continue;
    for (let bit = 0; bit < 8; bit++) if (fresh & (0x80 >> bit)) pieces.push(i * 8 + bit);
  }
  if (mark) pieces.push(WATCH_MARK);
  const out = Buffer.allocUnsafe(pieces.length * 4);
  pieces.forEach((p, i) => out.writeUInt32BE(p, i * 4));
  return out;
}

/** Resolves when the response can take more bytes, or is gone. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done).off('close', done);
      resolve();
    };
    res.on('drain', done).on('close', done);
  });
}
