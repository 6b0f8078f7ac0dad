import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { TaskView } from '../../core/wire/peer-api.ts';
import { SupernodeClient } from '../../peer/dfget/supernode-client.ts';
import { startSupernodeProcess, stopProcess } from '../processes.ts';
import { startCpuMeter } from '../process-cpu.ts';
import { startOrigin } from '../swarm/origin-server.ts';
import { DEFAULT_POLICY } from '../../core/scheduling/policy.ts';
import { runSimulatedPeer, type SimulatedPeerResult } from './simulated-peer.ts';
import { SimulatedSwarm } from './simulated-swarm.ts';
import { runSyncPeer } from './sync-peer.ts';

/** `rounds`: the supernode assigns every piece (peer/dfget today); `sync`: it assigns parents and peers report in batches. */
export type ControlPlaneProtocol = 'rounds' | 'sync';

export interface ControlPlaneOptions {
  peers: number;
  /** Tasks the peers spread over (peer i joins task i mod tasks), each a file of `fileBytes`. */
  tasks: number;
  fileBytes: number;
  /** How long a simulated piece transfer takes. */
  pieceMs: number;
  parallelism: number;
  protocol: ControlPlaneProtocol;
  databaseUrl?: string;
  kafkaBrokers?: string;
}

export interface ControlPlaneResult {
  /** Until every peer held every piece verified. */
  seconds: number;
  /** Until the supernode had acknowledged every peer's last report (the same as seconds on rounds). */
  acknowledgedSeconds: number;
  pieceCount: number;
  /** Until each peer's first answer (its join): a peer fetches nothing before it. */
  firstAnswerMs: number[];
  /** Until the first peer held every piece. */
  firstDoneSeconds: number;
  /** Rounds not held by a long poll: their latency is the supernode's (HTTP, scheduling, durable append). */
  roundMs: number[];
  rounds: number;
  pieceTransfers: number;
  errors: number;
  /** Sync protocol: how long a simulated transfer took on average by the bench's clock (pieceMs if its timers were never late). */
  meanTransferMs: number | null;
  /** Events appended to every task's stream (their versions at the end). */
  events: number;
  cpu: { supernodeSeconds: number | null; benchSeconds: number; machineBusy: number };
}

/**
 * A supernode process (real: HTTP API, scheduling, event store, CDN seeding from a real origin)
 * under `peers` simulated peers in this process (simulated-peer.ts, sync-peer.ts): the control
 * plane's cost with hundreds of peers, which real peer processes could not show on two cores.
 * The clock and the CPU meter run from the first join (once every task is seeded) to the last "done".
 */
export async function runControlPlane(o: ControlPlaneOptions): Promise<ControlPlaneResult> {
  const dir = mkdtempSync(join(tmpdir(), 'damselfly-control-plane-'));
  const origin = await startOrigin({ content: randomBytes(o.fileBytes) });
  let supernode: ChildProcess | undefined;
  let sn: SupernodeClient | undefined;
  try {
    const started = await startSupernodeProcess({ dataDir: join(dir, 'supernode'), databaseUrl: o.databaseUrl, kafkaBrokers: o.kafkaBrokers });
    supernode = started.proc;
    sn = new SupernodeClient([started.address]);
    const client = sn;
    // Distinct URLs, distinct tasks (the origin ignores the query).
    // Registered until seeded: registering again (idempotent) touches the task, which restarts
    // a seed that failed, e.g. one begun before this replica held its shard leases; and on
    // PostgreSQL a replica just started may answer NOT_OWNER for a moment (the leases of one
    // stopped just before are still being handed over), which is asked again too.
    const register = (t: number) => client.registerTask({ url: `${origin.url}?task=${t}`, headers: {}, filter: [] }).catch(() => undefined);
    const viewOf = async (id: string) => {
      const res = await fetch(`http://${started.address}/api/v1/tasks/${id}`);
      // A replica still taking its shard leases answers 503: asked again.
      return res.ok ? TaskView.parse(await res.json()) : undefined;
    };
    // The CDN seeds every task before the clock starts: its cost (origin fetch, hashing, disk)
    // is the bytes path's, measured by `bench throughput`, not the control plane's.
    const swarms = new Map<string, SimulatedSwarm>();
    await Promise.all(Array.from({ length: o.tasks }, (_, t) => register(t))); // every seed starts at once
    for (let t = 0; t < o.tasks; t++) {
      const view = await seeded(() => register(t));
      swarms.set(view.taskId, new SimulatedSwarm(view.pieceCount!, DEFAULT_POLICY.peerUploadSlots, DEFAULT_POLICY.cdnUploadSlots));
    }
    const taskIds = [...swarms.keys()];

    const stopCpuMeter = startCpuMeter({ supernode: [supernode.pid] });
    const benchBefore = process.cpuUsage();
    const startedAt = performance.now();
    const results: SimulatedPeerResult[] = await Promise.all(
      Array.from({ length: o.peers }, (_, i) => {
        const taskId = taskIds[i % o.tasks]!;
        const peer = { client, taskId, peerId: `sim-${i}`, address: `127.0.0.${1 + (i >> 16)}:${1 + (i & 0xffff)}`, pieceMs: o.pieceMs, parallelism: o.parallelism };
        return o.protocol === 'sync' ? runSyncPeer({ ...peer, swarm: swarms.get(taskId)! }) : runSimulatedPeer(peer);
      }),
    );
    const cpu = stopCpuMeter();
    const bench = process.cpuUsage(benchBefore);
    const seconds = (Math.max(...results.map((r) => r.doneAt)) - startedAt) / 1000;
    const acknowledgedSeconds = (Math.max(...results.map((r) => r.acknowledgedAt)) - startedAt) / 1000;
    const pieceTransfers = results.reduce((s, r) => s + r.pieces, 0);
    const finalViews = await Promise.all(taskIds.map((id) => seeded(() => viewOf(id))));
    return {
      seconds,
      acknowledgedSeconds,
      firstAnswerMs: results.map((r) => r.firstAnswerAt - startedAt),
      firstDoneSeconds: (Math.min(...results.map((r) => r.doneAt)) - startedAt) / 1000,
      pieceCount: finalViews[0]!.pieceCount ?? 0,
      roundMs: results.flatMap((r) => r.roundMs),
      rounds: results.reduce((s, r) => s + r.rounds, 0),
      pieceTransfers,
      errors: results.reduce((s, r) => s + r.errors, 0),
      meanTransferMs: meanTransferMs([...swarms.values()], pieceTransfers),
      events: finalViews.reduce((s, v) => s + v.version, 0),
      cpu: { supernodeSeconds: cpu.seconds.supernode, benchSeconds: (bench.user + bench.system) / 1e6, machineBusy: cpu.machineBusy },
    };
  } finally {
    await sn?.close();
    if (supernode) await stopProcess(supernode, 15_000);
    await origin.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Sync protocol only: its peers move their pieces through the simulated swarms (a round-protocol peer's never touch them). */
function meanTransferMs(swarms: readonly SimulatedSwarm[], transfers: number): number | null {
  const totalMs = swarms.reduce((ms, s) => ms + s.transferMsTotal, 0);
  return totalMs === 0 ? null : totalMs / transfers;
}

/** The task's view once it is seeded (asked every 20 ms; no answer, or one that is not a view, is asked again). */
async function seeded(view: () => Promise<TaskView | undefined>): Promise<TaskView> {
  for (;;) {
    const v = await view();
    if (v?.status === 'failed') throw new Error(`task ${v.taskId} failed: ${v.failure}`);
    if (v?.status === 'seeded') return v;
    await new Promise((r) => setTimeout(r, 20));
  }
}
