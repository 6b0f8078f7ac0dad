import type { StoredEvent } from '../../core/events/index.ts';
import type { EventBus } from '../bus/event-bus.ts';
import { silentLog, type LogSink } from '../../edge/log/log-sink.ts';
import { RepeatLimiter } from '../../edge/log/repeat-limiter.ts';
import type { EventStore, GlobalCursor } from '../store/event-store.ts';
import { WakeableSleep } from './wakeable-sleep.ts';
import { DamselflyError } from '../../core/errors.ts';

/** Plain callbacks the supernode wires to prom-client (relayPublished, relayLag). */
export interface RelayMetrics {
  onPublished?(events: number): void;
  onBatch?(events: number): void;
  onLag?(lag: number): void;
  onError?(err: unknown): void;
}

export interface OutboxRelayOptions {
  store: Pick<EventStore, 'readAll' | 'loadCursor' | 'saveCursor'>;
  bus: Pick<EventBus, 'publish'>;
  /** The durable cursor's name in the store. */
  name?: string;
  batchSize?: number;
  /** Idle poll period; `wake()` cuts it short. */
  pollMs?: number;
  /**
   * Passes start at most this often (ms), woken or not. Under load appends arrive one at a time
   * (a swarm's report rounds), and a pass per wake would read the feed, publish and save the
   * cursor for every single append: in the embedded 20-peer benchmark that was a seventh of the
   * supernode's CPU. Waiting this long lets one pass carry every append of the window; it is
   * the most the relay adds to an event's way to the bus. Default 250 (docs/decisions.md).
   */
  coalesceMs?: number;
  maxBackoffMs?: number;
  /** While passes keep failing, a warning at most this often (the first failure always logs). */
  failureLogEveryMs?: number;
  logger?: LogSink;
  metrics?: RelayMetrics;
  /**
   * Whether this relay is the one that publishes now (a cluster runs one: the holder of shard
   * 0's lease). Replicas share the store's cursor; several relays publishing at once would
   * interleave each other's batches and break per-task order in the topic. Default: always.
   */
  active?: () => boolean;
}

interface FlushWaiter {
  afterPass: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Publishes every committed event to the bus, in the store's gap-free global order (so each
 * task's events in version order), and records how far it got in a durable cursor.
 *
 * At-least-once: the cursor is saved after the bus acknowledged the batch, so a crash between
 * the two re-publishes that batch on restart; consumers dedupe (read-model/deduplicator.ts).
 * Appends never wait for the relay: when the bus is down they keep committing, the relay
 * retries with capped backoff and catches up, in order, when the bus returns. A database
 * outage is the same to it (reads and saves fail with DF_ERR_UNAVAILABLE): it keeps running,
 * backs off, and resumes from the last batch the bus acknowledged once both are back. One
 * warning per outage, then one every `failureLogEveryMs`, and one line when it recovers.
 */
export class OutboxRelay {
  private readonly o: Required<Omit<OutboxRelayOptions, 'metrics'>> & { metrics: RelayMetrics };
  private readonly timer = new WakeableSleep();
  /** Where reading resumes: after the last batch the bus acknowledged (saved or not yet). */
  private cursor: GlobalCursor | undefined;
  /** The durable cursor as last saved (or loaded). */
  private saved: GlobalCursor | undefined;
  private readonly failureLog: RepeatLimiter;
  private loop: Promise<void> | undefined;
  private inline: Promise<void> = Promise.resolve();
  private stopping = false;
  /** Number of the last pass (read, publish and save batches until caught up) started. */
  private pass = 0;
  /** performance.now() when the last pass started (coalescing). */
  private passStartedAt = -Infinity;
  private flushWaiters: FlushWaiter[] = [];
  private backlog = 0;
  private hinted = 0;
  readonly stats = { published: 0, batches: 0, failures: 0 };

  constructor(opts: OutboxRelayOptions) {
    this.o = { name: 'kafka-relay', batchSize: 1000, pollMs: 250, coalesceMs: 250, maxBackoffMs: 5_000, failureLogEveryMs: 10_000, logger: silentLog, metrics: {}, active: () => true, ...opts };
    this.failureLog = new RepeatLimiter(this.o.failureLogEveryMs);
  }

  start(): this {
    if (!this.loop) {
      this.stopping = false;
      this.loop = this.run();
    }
    return this;
  }

  /** A nudge after an append (`appended` events), so they go out now rather than at the next poll. */
  wake(appended = 0): void {
    this.backlog += appended;
    this.hinted += appended;
    this.timer.wake();
  }

  /** Committed events not yet published: an estimate from the last read and the wake hints. */
  lag(): number {
    return this.backlog;
  }

  /**
   * Resolves once everything committed before the call is published (for SIGTERM), or at once
   * when another replica runs the relay. When the
   * relay is running the loop does the work; when it is not, the calling task does.
   */
  flush(timeoutMs = 10_000): Promise<void> {
    // Another replica runs the cluster's relay: it publishes what this one committed.
    if (!this.o.active()) return Promise.resolve();
    if (!this.loop) {
      // Serialised so two inline flushes never publish the same batch concurrently; a failed
      // earlier flush was reported to its caller and does not fail this one.
      const drain = () => this.drain();
      this.inline = this.inline.then(drain, drain);
      return this.inline;
    }
    return new Promise((resolve, reject) => {
      const timeout = setTimeout(() => {
        this.flushWaiters = this.flushWaiters.filter((w) => w !== waiter);
        reject(new DamselflyError('DF_ERR_UNAVAILABLE', `relay flush timed out after ${timeoutMs} ms with about ${this.backlog} events unpublished`));
      }, timeoutMs);
      const waiter: FlushWaiter = {
        afterPass: this.pass,
        resolve: () => (clearTimeout(timeout), resolve()),
        reject: (err) => (clearTimeout(timeout), reject(err)),
      };
      this.flushWaiters.push(waiter);
      this.timer.wake();
    });
  }

  /** Stops after the pass in progress (no flush): what is unpublished goes out on the next start. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.timer.interrupt();
    await this.loop;
    this.loop = undefined;
    for (const w of this.flushWaiters.splice(0)) w.reject(new DamselflyError('DF_ERR_UNAVAILABLE', 'relay stopped before the flush completed'));
  }

  private async run(): Promise<void> {
    let failures = 0;
    let failingSince = 0;
    while (!this.stopping) {
      if (!this.o.active()) {
        // Another replica publishes. Forget our position: when this one takes over it starts
        // from the durable cursor, which the other relay has moved on meanwhile.
        this.cursor = undefined;
        await this.timer.idle(this.o.pollMs);
        continue;
      }
      try {
        const { caughtUp, pass } = await this.step();
        if (failures > 0) {
          this.failureLog.reset('pass failed');
          this.o.logger.info({ relay: this.o.name, failures, outageMs: Date.now() - failingSince }, 'relay publishing again');
        }
        failures = 0;
        if (caughtUp) {
          for (const w of this.flushWaiters.filter((w) => w.afterPass < pass)) w.resolve();
          this.flushWaiters = this.flushWaiters.filter((w) => w.afterPass >= pass);
          if (!this.stopping) await this.timer.idle(this.o.pollMs);
          const early = this.passStartedAt + this.o.coalesceMs - performance.now();
          if (early > 0 && !this.stopping) await this.timer.backoff(early); // a wake meanwhile is kept for after it
        }
      } catch (err) {
        failures += 1;
        if (failures === 1) failingSince = Date.now();
        this.stats.failures += 1;
        this.o.metrics.onError?.(err);
        const waitMs = Math.min(this.o.maxBackoffMs, 100 * 2 ** Math.min(failures - 1, 16)) * (0.8 + 0.4 * Math.random());
        const held = this.failureLog.pass('pass failed');
        if (held !== undefined) {
          this.o.logger.warn({ err, relay: this.o.name, failures, lag: this.backlog, waitMs: Math.round(waitMs), ...(held > 0 ? { repeated: held } : {}) }, 'relay pass failed; backing off');
        }
        if (!this.stopping) await this.timer.backoff(waitMs);
      }
    }
  }

  /** Runs passes until one finds nothing more to read (used when the loop is not running). */
  private async drain(): Promise<void> {
    while (!(await this.step()).caughtUp);
  }

  /**
   * One pass: publish batch after batch until a read comes back short (caught up). Pipelined:
   * while batch n is on its way to the bus, batch n+1 is read and the cursor after batch n-1 is
   * saved, so reading (query, JSON, zod), publishing and saving overlap instead of waiting for
   * each other. The order rules stay: publishes are issued one at a time in feed order (so each
   * task's events stay in version order), and a cursor is saved only after the bus acknowledged
   * everything before it, saves in order. On a failure the read-ahead is dropped and the next
   * pass starts again after the last batch the bus acknowledged, saved or not (a save that
   * failed, the database being down, is retried by the next pass instead of re-publishing the
   * batch). At-least-once still: a publish that failed may have reached the bus, and a restart
   * begins at the saved cursor; never skipped.
   */
  private async step(): Promise<{ caughtUp: boolean; pass: number }> {
    const pass = ++this.pass;
    this.passStartedAt = performance.now();
    this.timer.clearPendingWake();
    const hintedBefore = this.hinted;
    if (!this.cursor) {
      this.saved = await this.o.store.loadCursor(this.o.name);
      this.cursor = this.saved;
    }
    let saving: Promise<void> = Promise.resolve();
    let next = this.readAhead(this.cursor);
    let caughtUp = false;
    let more = true;
    try {
      while (more) {
        const { events, cursor } = await next;
        caughtUp = events.length < this.o.batchSize;
        // stop() waits for the pass in progress: a long backlog must not keep it waiting, so a
        // stopping loop ends the pass after this batch (an inline flush has no loop to stop).
        more = !caughtUp && !(this.stopping && this.loop !== undefined);
        if (more) next = this.readAhead(cursor);
        // Leadership can move during a pass (this replica lost shard 0): stop before publishing
        // more, and start from the durable cursor should it come back.
        if (!this.o.active() && this.loop !== undefined) {
          // The new leader resumes from the durable cursor, saved or not: nothing to report.
          saving.catch(() => undefined);
          this.cursor = undefined;
          return { caughtUp: true, pass };
        }
        if (events.length > 0) await this.publish(events);
        this.cursor = cursor;
        await saving; // the previous save, in order, before this one starts
        saving = this.advance(cursor);
      }
      await saving;
    } catch (err) {
      // A save still in flight must not reject unobserved; the error that ends the pass is `err`.
      saving.catch(() => undefined);
      throw err;
    }
    // Caught up: only appends hinted during this pass can still be waiting.
    if (caughtUp) this.backlog = Math.min(this.backlog, this.hinted - hintedBefore);
    this.o.metrics.onLag?.(this.backlog);
    return { caughtUp, pass };
  }

  /** The next read, started now; marked handled so that a read dropped after a failure does not reject unobserved. */
  private readAhead(cursor: GlobalCursor): Promise<{ events: StoredEvent[]; cursor: GlobalCursor }> {
    const read = this.o.store.readAll(cursor, this.o.batchSize);
    read.catch(() => undefined);
    return read;
  }

  /** Saves `cursor` (everything before it is acknowledged) as the restart point of the next process. */
  private async advance(cursor: GlobalCursor): Promise<void> {
    if (cursor.txId === this.saved?.txId && cursor.position === this.saved.position) return;
    await this.o.store.saveCursor(this.o.name, cursor);
    this.saved = cursor;
  }

  private async publish(events: StoredEvent[]): Promise<void> {
    this.backlog = Math.max(this.backlog, events.length);
    await this.o.bus.publish(events);
    this.backlog = Math.max(0, this.backlog - events.length);
    this.stats.published += events.length;
    this.stats.batches += 1;
    this.o.metrics.onPublished?.(events.length);
    this.o.metrics.onBatch?.(events.length);
  }
}
