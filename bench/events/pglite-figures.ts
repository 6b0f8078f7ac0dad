import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TaskEvent } from '../../core/events/index.ts';
import { openPgliteEventStore } from '../../supernode/store/index.ts';
import { AppendWorkload } from './append-workload.ts';
import type { Throughput } from './throughput.ts';

export interface PgliteFigures {
  append: Throughput;
  appendConcurrent: Throughput;
}

/**
 * The embedded store (the default when no database URL is given): PGlite on disk in a
 * temporary data dir, removed afterwards. Same workloads as on PostgreSQL.
 */
export async function measurePglite(
  history: readonly TaskEvent[],
  runId: string,
  counts: { sequential: number; concurrent: number; writers: number; batch: number },
): Promise<PgliteFigures> {
  const dir = await mkdtemp(join(tmpdir(), 'damselfly-bench-pglite-'));
  try {
    const store = await openPgliteEventStore(join(dir, 'pglite'));
    try {
      const w = new AppendWorkload(store, history, runId);
      const sequentialStream = w.streamId('pglite-sequential');
      const append = await w.sequential(sequentialStream, w.slice(sequentialStream, 0, counts.sequential), 1);
      const appendConcurrent = await w.concurrent('pglite-concurrent', counts.concurrent, counts.writers, counts.batch);
      return { append, appendConcurrent };
    } finally {
      await store.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
