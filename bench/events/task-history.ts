import { createHash } from 'node:crypto';
import type { TaskEvent } from '../../core/events/index.ts';
import { computeTaskId } from '../../core/ids/index.ts';
import { pieceRange } from '../../core/pieces/index.ts';
import { applyTaskEvent, decide, initialTaskState, type PeerState, type TaskCommand, type TaskState } from '../../core/task/index.ts';
import { mulberry32 } from '../seeded-random.ts';

export interface TaskHistoryOptions {
  /** How many events to produce (the history is cut there: a prefix is a valid history too). */
  events: number;
  /** Content length of the task; the piece count follows core's piece size rule. */
  contentLength?: number;
  /** Peers downloading at the same time; a finished peer leaves and a new one joins. */
  concurrentPeers?: number;
  /** One report in `failEvery` carries a failed piece (a timeout against its source). */
  failEvery?: number;
  seed?: number;
}

export interface TaskHistory {
  taskId: string;
  events: TaskEvent[];
  pieceCount: number;
  peers: number;
}

const GiB = 1024 ** 3;

/**
 * A realistic history of one popular task, produced by core's own `decide` (so every event is
 * one the supernode would write): created, probed, seeded in chunks while the first peers
 * already fetch, then peers that join, run rounds (PiecesReported + PiecesAssigned, up to 8
 * pieces each), finish and leave, while new peers keep arriving: the shape of a layer pulled
 * by a whole cluster over time. Deterministic for a given seed; times advance a few ms per step.
 */
export function buildTaskHistory(opts: TaskHistoryOptions): TaskHistory {
  const random = mulberry32(opts.seed ?? 1);
  const failEvery = opts.failEvery ?? 50;
  const contentLength = opts.contentLength ?? GiB;
  const concurrent = opts.concurrentPeers ?? 20;
  const digest = `sha256:${sha256(`bench-layer-${opts.seed ?? 1}`)}`;
  const url = `https://registry.example.com/v2/library/bench/blobs/${digest}`;
  const taskId = computeTaskId({ url, digest });

  let state: TaskState = initialTaskState(taskId);
  const events: TaskEvent[] = [];
  let at = 1_700_000_000_000;
  const run = (command: TaskCommand) => {
    for (const event of decide(command, state)) {
      events.push(event);
      state = applyTaskEvent(state, event);
    }
  };

  run({ type: 'CreateTask', at, taskId, url, digest, identifier: null, range: null, filter: [] });
  run({ type: 'RecordProbe', at: (at += 40), contentLength, acceptRanges: true, etag: `"${sha256(url).slice(0, 16)}"`, lastModified: null });
  const pieceCount = state.pieceCount!;
  let seeded = 0;
  let joined = 0;
  const active: string[] = [];

  while (events.length < opts.events) {
    at += 3;
    if (seeded < pieceCount) {
      // The CDN announces pieces in chunks as it stores them; peers start before it finishes.
      const chunk = Array.from({ length: Math.min(16, pieceCount - seeded) }, (_, i) => seeded + i);
      run({ type: 'RecordSeededPieces', at, pieces: chunk.map((piece) => seededPiece(piece, state)) });
      seeded += chunk.length;
      if (seeded === pieceCount) run({ type: 'CompleteSeed', at });
    }
    while (active.length < concurrent) {
      const n = ++joined;
      const peerId = `peer-${String(n).padStart(5, '0')}`;
      run({ type: 'Join', at, peerId, hostId: `node-${n % 500}`, address: `10.${(n >> 8) & 255}.${n & 255}.7:65002` });
      active.push(peerId);
    }
    for (const peerId of [...active]) {
      at += 1;
      run(roundOf(state.peers.get(peerId)!, at, random, failEvery));
      if (state.peers.get(peerId)!.haveCount === pieceCount) {
        run({ type: 'Leave', at, peerId, outcome: 'succeeded' });
        active.splice(active.indexOf(peerId), 1);
      }
      if (events.length >= opts.events) break;
    }
  }
  return { taskId, events: events.slice(0, opts.events), pieceCount, peers: joined };
}

/** A peer's round trip: everything in flight is reported (rarely one fails), and it wants 8 more. */
function roundOf(peer: PeerState, at: number, random: () => number, failEvery: number): TaskCommand {
  const ok: { piece: number; source: string; ms: number }[] = [];
  const failed: { piece: number; source: string; reason: 'timeout' }[] = [];
  for (const [piece, { source }] of Object.entries(peer.inflight)) {
    if (random() * failEvery < 1) failed.push({ piece: Number(piece), source, reason: 'timeout' });
    else ok.push({ piece: Number(piece), source, ms: 20 + Math.floor(random() * 400) });
  }
  return { type: 'Round', at, peerId: peer.peerId, ok, failed, want: 8 };
}

function seededPiece(piece: number, state: TaskState) {
  const size = pieceRange(piece, state.pieceSize!, state.contentLength!).length;
  return { piece, size, digest: sha256(`${state.taskId}/${piece}`) };
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
