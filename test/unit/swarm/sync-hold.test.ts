import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../../core/scheduling/policy.ts';
import { stateOf } from '../../../core/task/index.ts';
import { SyncRequest } from '../../../core/wire/peer-api.ts';
import { SwarmService } from '../../../supernode/swarm/swarm-service.ts';
import { TaskSignals } from '../../../supernode/swarm/task-signals.ts';
import type { TaskRuntime } from '../../../supernode/runtime/task-runtime.ts';
import type { OriginCredentials } from '../../../supernode/swarm/origin-credentials.ts';
import { createCommand, digestOf, TASK_ID } from '../core/task/fixtures.ts';
import { MemoryRuntime } from './memory-runtime.ts';

/** A task of 4 pieces of which `seeded` are seeded, with peer `p` joined by its first sync. */
async function service(seeded: number) {
  const runtime = new MemoryRuntime();
  const signals = new TaskSignals();
  const execute = runtime.execute.bind(runtime);
  // Every commit wakes the held syncs, as the real runtime's commits do.
  runtime.execute = async (taskId, command) => {
    const out = await execute(taskId, command);
    signals.notify(taskId, stateOf(out.snapshot).version);
    return out;
  };
  const svc = new SwarmService({
    runtime: runtime as unknown as TaskRuntime, credentials: {} as OriginCredentials, policy: DEFAULT_POLICY, cdnAddress: () => '127.0.0.1:9000', clock: () => Date.now(), signals,
  });
  await runtime.execute(TASK_ID, createCommand(1));
  await runtime.execute(TASK_ID, { type: 'RecordProbe', at: 2, contentLength: 400, pieceSize: 100, acceptRanges: true, etag: null, lastModified: null });
  await seed(runtime, 0, seeded);
  return { runtime, svc };
}

function seed(runtime: MemoryRuntime, from: number, to: number) {
  const pieces = Array.from({ length: to - from }, (_, i) => ({ piece: from + i, size: 100, digest: digestOf(from + i) }));
  return runtime.execute(TASK_ID, { type: 'RecordSeededPieces', at: 3, pieces });
}

const request = (o: Partial<SyncRequest>) => SyncRequest.parse({ join: { hostId: 'h', address: '127.0.0.1:7000' }, ...o });

describe('a held sync (SyncRequest.holdMs)', () => {
  it('waits for a piece to be seeded when the peer knows every digest there is, then brings it', async () => {
    const { runtime, svc } = await service(2);
    const started = Date.now();
    const answer = svc.sync(TASK_ID, 'p', request({ knownDigests: 2, holdMs: 3000 }));
    setTimeout(() => void seed(runtime, 2, 3), 150);
    const r = await answer;
    expect(r.action === 'sync' && r.digests).toEqual([digestOf(2)]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('answers at once when there are new digests, or when it is not asked to wait', async () => {
    const { svc } = await service(2);
    const started = Date.now();
    const fresh = await svc.sync(TASK_ID, 'p', request({ knownDigests: 0, holdMs: 3000 }));
    expect(fresh.action === 'sync' && fresh.digests).toEqual([digestOf(0), digestOf(1)]);
    const unheld = await svc.sync(TASK_ID, 'p', request({ knownDigests: 2, holdMs: 0 }));
    expect(unheld.action === 'sync' && unheld.digests).toEqual([]);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('gives up waiting after holdMs and answers with nothing new', async () => {
    const { svc } = await service(2);
    const started = Date.now();
    const r = await svc.sync(TASK_ID, 'p', request({ knownDigests: 2, holdMs: 200 }));
    expect(r.action === 'sync' && r.digests).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });
});
