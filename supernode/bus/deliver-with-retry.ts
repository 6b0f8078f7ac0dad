import type { StoredEvent } from '../../core/events/index.ts';
import type { LogSink } from '../../edge/log/log-sink.ts';

export type BatchHandler = (events: StoredEvent[]) => Promise<void>;

export interface DeliveryControl {
  /** False once the subscription is stopping: give up without acknowledging the batch. */
  isRunning(): boolean;
  /** Keeps a group membership alive while a failing handler is retried. */
  heartbeat?(): Promise<void>;
  log: LogSink;
  where: string;
  /** How many events the batch holds (for the log). */
  events: number;
  maxBackoffMs?: number;
}

/**
 * Hands one batch to a subscriber (`deliver` decodes it and calls the handler), retrying it in place (capped backoff) until it succeeds or
 * the subscription stops. Returns true when the batch was handled and may be committed.
 *
 * Both buses retry here rather than relying on the client's crash-and-rejoin behaviour, so a
 * failing handler sees the same batch again (at-least-once), the offsets after it are never
 * committed, and a stopped subscription leaves the batch for the next member of the group.
 */
export async function deliverWithRetry(deliver: () => Promise<void>, ctl: DeliveryControl): Promise<boolean> {
  const maxBackoffMs = ctl.maxBackoffMs ?? 5_000;
  for (let attempt = 0; ; attempt++) {
    if (!ctl.isRunning()) return false;
    try {
      await deliver();
      return true;
    } catch (err) {
      const waitMs = Math.min(maxBackoffMs, 50 * 2 ** Math.min(attempt, 16));
      ctl.log.warn({ err, where: ctl.where, attempt, events: ctl.events, waitMs }, 'event handler failed; retrying the batch');
      await sleepWhile(waitMs, ctl);
    }
  }
}

async function sleepWhile(ms: number, ctl: DeliveryControl): Promise<void> {
  const until = Date.now() + ms;
  while (ctl.isRunning() && Date.now() < until) {
    await new Promise((r) => setTimeout(r, Math.min(200, until - Date.now())));
    await ctl.heartbeat?.();
  }
}
