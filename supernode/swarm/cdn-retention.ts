import type { Logger } from '../../edge/log/logger.ts';
import type { Cdn } from '../cdn/index.ts';
import type { TaskRuntime } from '../runtime/task-runtime.ts';
import type { Seeding } from './seeding.ts';

/**
 * Garbage-collects the CDN's disk by age and quota (least recently served first), skipping
 * tasks that are live here or being seeded. A collected task is evicted (TaskEvicted), so the
 * swarm is never sent to pieces that are gone; the next peer that asks for it re-creates it
 * and the seed starts again from the origin.
 */
export function startCdnRetention(o: {
  cdn: Cdn;
  runtime: TaskRuntime;
  seeding: Seeding;
  maxAgeMs?: number;
  maxBytes?: number;
  clock: () => number;
  logger: Logger;
  everyMs?: number;
}) {
  if (o.maxAgeMs === undefined && o.maxBytes === undefined) return { stop: () => {} };
  let running = false;
  const tick = setInterval(() => {
    if (running) return;
    running = true;
    const live = new Set(o.runtime.liveTaskIds());
    void o.cdn
      .gc({ maxAgeMs: o.maxAgeMs, maxBytes: o.maxBytes, now: o.clock(), inUse: (id) => live.has(id) || o.seeding.isRunning(id) })
      .then(async (r) => {
        for (const taskId of r.removed) await o.runtime.execute(taskId, { type: 'Evict', at: o.clock() });
        if (r.removed.length > 0) o.logger.info({ removed: r.removed.length, freedBytes: r.freedBytes }, 'CDN cache collected');
      })
      .catch((err: Error) => o.logger.warn({ err: err.message }, 'CDN garbage collection failed'))
      .finally(() => {
        running = false;
      });
  }, o.everyMs ?? 60_000);
  tick.unref();
  return { stop: () => clearInterval(tick) };
}
