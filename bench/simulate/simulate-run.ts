import { computeTaskId } from '../../core/ids/index.ts';
import { DEFAULT_POLICY, type SchedulingPolicy } from '../../core/scheduling/policy.ts';
import type { TaskEvent } from '../../core/events/index.ts';
import { applyTaskEventInPlace, decide, initialTaskState, syncResponse, type TaskCommand, type TaskState } from '../../core/task/index.ts';
import { linkBoundSeconds } from '../control-plane/control-plane-command.ts';
import { SimulatedSwarm, SwarmMember } from '../control-plane/simulated-swarm.ts';
import { VirtualClock } from './virtual-clock.ts';
import { mulberry32 } from '../seeded-random.ts';

const PROGRESS_MS = 1_000;

export interface SimulationOptions {
  peers: number;
  pieceCount: number;
  /** How long a piece transfer takes (virtual ms). */
  pieceMs: number;
  parallelism: number;
  policy?: SchedulingPolicy;
  /** Round-trip time of a sync (virtual ms): the answer reaches the peer this much later. */
  rttMs?: number;
  /**
   * The supernode as one event loop (one task is one actor on one replica): requests are served
   * one at a time, in arrival order, each taking this many virtual ms, and decided when their
   * turn comes. Undefined: every request is answered at once (only its CPU is counted).
   */
  serveMs?: number;
  /** Spread the joins evenly over this many virtual ms (0: all at once). */
  joinOverMs?: number;
  /** Seed of the peers' random piece walks. */
  seed?: number;
  /** Keep every event decided, and the final state (for `--relay`: append, relay and replay them). */
  keepHistory?: boolean;
  /** Called once a virtual second: how far the run got (a 100,000-peer run takes many minutes). */
  onProgress?: (p: SimulationProgress) => void;
}

export interface SimulationProgress {
  virtualSeconds: number;
  peersDone: number;
  transfers: number;
}

export interface SimulationResult {
  seconds: number;
  linkBoundSeconds: number;
  transfers: number;
  /** Commands the supernode decided: joins, syncs, leaves (each one request on the wire). */
  requests: number;
  events: number;
  /** CPU of core's decide and evolve for all of it, measured in this process (ms). */
  decideMs: number;
  /** Virtual ms from the start until each peer's first answer reached it. */
  firstAnswerMs: number[];
  cdnTransfers: number;
  /** With keepHistory: the task's events in order, and the state they fold to. */
  history?: { events: TaskEvent[]; state: TaskState };
}

/**
 * A discrete-event run of one task in virtual time: the real core policy (decide, evolve in
 * place, syncResponse) as the supernode, and `peers` SwarmMembers (the same peer logic as
 * `bench control-plane --protocol sync`) as the swarm. Every piece is seeded at the start (an
 * origin faster than the swarm). What takes no virtual time is the supernode: its cost is
 * measured as real CPU of decide and evolve, and the caller adds what a request costs beyond
 * that (HTTP, the durable append), measured by `bench control-plane`.
 */
export function runSimulation(o: SimulationOptions): SimulationResult {
  const policy = o.policy ?? DEFAULT_POLICY;
  const rttMs = o.rttMs ?? 2;
  const clock = new VirtualClock();
  const random = mulberry32(o.seed ?? 1);
  const url = 'https://origin.example/simulated.bin';
  let state: TaskState = initialTaskState(computeTaskId({ url, filter: [] }));
  let events = 0;
  let requests = 0;
  let decideMs = 0;
  const kept: TaskEvent[] = [];
  const exec = (command: TaskCommand) => {
    const started = performance.now();
    const decided = decide(command, state, { policy });
    for (const e of decided) state = applyTaskEventInPlace(state, e);
    decideMs += performance.now() - started;
    events += decided.length;
    if (o.keepHistory) kept.push(...decided);
  };
  const pieceSize = 4 << 20;
  exec({ type: 'CreateTask', at: 0, taskId: state.taskId, url, digest: null, identifier: null, range: null, filter: [] });
  exec({ type: 'RecordProbe', at: 0, contentLength: o.pieceCount * pieceSize, pieceSize, acceptRanges: true, etag: null, lastModified: null });
  exec({ type: 'RecordSeededPieces', at: 0, pieces: Array.from({ length: o.pieceCount }, (_, piece) => ({ piece, size: pieceSize, digest: piece.toString(16).padStart(64, '0') })) });
  exec({ type: 'CompleteSeed', at: 0 });

  const swarm = new SimulatedSwarm(o.pieceCount, policy.peerUploadSlots, policy.cdnUploadSlots);
  let done = 0;
  let doneAt = 0;
  const respond = { cdnAddress: 'cdn:1', waitRetryMs: policy.waitRetryMs, syncIntervalMs: policy.syncIntervalMs, syncsPerSecond: policy.syncsPerSecond, parentsPerPeer: policy.parentsPerPeer };
  const members: SwarmMember[] = [];
  const firstAnswerMs: number[] = [];
  /** With serveMs: when the supernode's event loop is done with every request so far. */
  let loopFreeAt = 0;
  for (let i = 0; i < o.peers; i++) {
    const peerId = `sim-${i}`;
    let generation = 0;
    const member = new SwarmMember(swarm, peerId, {
      parallelism: o.parallelism, pieceMs: o.pieceMs, clock, random,
      onComplete: () => {
        doneAt = Math.max(doneAt, clock.now()); // its file is whole; the sync below reports it
        sync();
      },
      onStarved: () => sync(),
    });
    members.push(member);
    const sync = (join?: { hostId: string; address: string }) => {
      const mine = ++generation;
      requests++;
      const ok = member.takeReports();
      const replace = member.starved();
      const serve = () => {
        exec({ type: 'Sync', at: clock.now(), peerId, ok, failed: [], replace, ...(join ? { join } : {}) });
        const reply = heard(syncResponse(state, peerId, member.knownDigests, respond));
        clock.after(rttMs, () => {
          if (join) firstAnswerMs.push(clock.now());
          if (reply === 'done') {
            done++;
            return;
          }
          member.update(reply.parents, reply.newDigests, reply.swarmAverage);
          clock.after(reply.syncAfterMs, () => mine === generation && !member.complete && sync());
        });
      };
      if (o.serveMs === undefined) return serve();
      loopFreeAt = Math.max(loopFreeAt, clock.now()) + o.serveMs;
      clock.after(loopFreeAt - clock.now(), serve);
    };
    const join = { hostId: peerId, address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:65000` };
    clock.after(o.joinOverMs ? Math.floor((i * o.joinOverMs) / o.peers) : 0, () => sync(join));
  }
  const progress = () => {
    let transfers = 0;
    for (const m of members) transfers += m.transfers;
    o.onProgress!({ virtualSeconds: clock.now() / 1000, peersDone: done, transfers });
    if (done < o.peers) clock.after(PROGRESS_MS, progress);
  };
  if (o.onProgress) clock.after(PROGRESS_MS, progress);
  clock.run(() => done === o.peers);
  if (done < o.peers) throw new Error(`${o.peers - done} simulated peers never finished`);
  return {
    seconds: doneAt / 1000,
    linkBoundSeconds: linkBoundSeconds({ peers: o.peers, tasks: 1, pieceCount: o.pieceCount, pieceMs: o.pieceMs, parallelism: o.parallelism }),
    transfers: o.peers * o.pieceCount,
    requests,
    events,
    decideMs,
    firstAnswerMs,
    cdnTransfers: state.cdnServed,
    ...(o.keepHistory ? { history: { events: kept, state } } : {}),
  };
}

/**
 * What a simulated peer keeps of a sync answer. The answer itself (a joining peer's carries
 * every digest) would stay reachable from the timer of the next sync, minutes away with 100,000
 * peers: 5,000 peers kept 13 MiB of digest lists alive for nothing.
 */
function heard(answer: ReturnType<typeof syncResponse>): 'done' | { parents: string[]; newDigests: number; swarmAverage: number; syncAfterMs: number } {
  if (answer.action === 'done') return 'done';
  if (answer.action !== 'sync') throw new Error(`unexpected sync answer ${answer.action}`);
  return { parents: answer.parents.map((p) => p.peerId), newDigests: answer.digests.length, swarmAverage: answer.swarmAverage, syncAfterMs: answer.syncAfterMs };
}
