import type { Logger } from '../../edge/log/logger.ts';
import type { Metrics } from '../metrics.ts';
import { nextExpiryAt, stateOf } from '../../core/task/index.ts';
import type { SchedulingPolicy } from '../../core/scheduling/policy.ts';
import type { TaskRuntime } from './task-runtime.ts';
import { RepeatLimiter } from '../../edge/log/repeat-limiter.ts';

/**
 * The durable timers' clock. Deadlines are data in the task state (assignment deadlines, peer
 * last-seen times); this loop only notices when one has passed and sends the task an
 * ExpireAssignments command carrying the time, so replay never depends on when it ran.
 */
export function startTimers(o: { runtime: TaskRuntime; policy: SchedulingPolicy; clock: () => number; metrics: Metrics; logger: Logger; tickMs?: number; idleMs?: number }) {
  // During a store outage every due task fails every tick: log each reason once per 10 s.
  const quiet = new RepeatLimiter(10_000);
  const tick = setInterval(() => {
    const now = o.clock();
    for (const taskId of o.runtime.liveTaskIds()) {
      void o.runtime.snapshot(taskId).then((snapshot) => {
        const due = nextExpiryAt(stateOf(snapshot), o.policy);
        if (due !== null && due <= now) {
          return o.runtime.execute(taskId, { type: 'ExpireAssignments', at: now });
        }
        return undefined;
      }).catch((err: Error) => {
        const heldBack = quiet.pass(err.message);
        if (heldBack !== undefined) o.logger.warn({ taskId, err: err.message, heldBack }, 'expiry failed');
      });
    }
    o.runtime.passivateIdle(o.idleMs ?? 10 * 60_000, now);
    o.metrics.actorsLive.set(o.runtime.liveActors);
  }, o.tickMs ?? 500);
  tick.unref();
  return { stop: () => clearInterval(tick) };
}
