import { mkdirSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { DamselflyError } from '../core/errors.ts';
import type { SupernodeConfig } from './config.ts';
import type { Logger } from '../edge/log/logger.ts';
import { createMetrics } from './metrics.ts';
import { createApp } from './http/server.ts';
import { registerTaskRoutes } from './http/routes/task-routes.ts';
import { registerHistoryRoutes } from './http/routes/history-routes.ts';
import { registerTaskListRoutes } from './http/routes/task-list-routes.ts';
import { followTaskFeed, TaskReadModel } from './read-model/index.ts';
import { TaskRuntime } from './runtime/task-runtime.ts';
import { OriginCredentials } from './swarm/origin-credentials.ts';
import { Seeding } from './swarm/seeding.ts';
import { SwarmService } from './swarm/swarm-service.ts';
import { TaskSignals } from './swarm/task-signals.ts';
import { stateOf } from '../core/task/index.ts';
import { openEventStore, openEventBus, openHostStore, openLeaseStore } from './wiring/open-ports.ts';
import { loadFromStore, ownerRouting, ShardOwnership, WarmCopies } from './cluster/index.ts';
import { registerClusterRoutes } from './http/routes/cluster-routes.ts';
import { registerHostRoutes } from './http/routes/host-routes.ts';
import { HOST_TTL_MS } from '../core/wire/host-api.ts';
import { randomUUID } from 'node:crypto';
import { OutboxRelay } from './relay/outbox-relay.ts';
import { Cdn } from './cdn/index.ts';
import { startTimers } from './runtime/timers.ts';
import { startCdnRetention } from './swarm/cdn-retention.ts';
import { settlesWithin } from './settles-within.ts';

/** The shard whose owner runs the cluster's outbox relay (any fixed shard would do). */
const RELAY_SHARD = 0;

export interface RunningSupernode {
  address: string;
  port: number;
  replicaId: string;
  stop(): Promise<void>;
}

/**
 * Wires one supernode replica: store (Postgres or embedded PGlite), bus (Kafka or in-process),
 * the outbox relay between them, the task runtime, the CDN, and the HTTP API. Start-up fails
 * with one clear error if the database cannot be reached; SIGTERM (stop()) stops taking
 * commands, drains the actors, flushes the relay and closes everything in order.
 */
export async function startSupernode(config: SupernodeConfig, logger: Logger): Promise<RunningSupernode> {
  mkdirSync(config.dataDir, { recursive: true });
  // The host store opens with the event store below; the gauge reads it at scrape time only,
  // once the HTTP server (and so /metrics) is up.
  const metrics = createMetrics({ liveHosts: () => hosts.countLive(HOST_TTL_MS) });
  const store = await openEventStore(config, metrics).catch((err: Error) => {
    throw new DamselflyError('DF_ERR_UNAVAILABLE', `cannot open the event store: ${err.message}`);
  });
  const bus = await openEventBus(config, logger).catch(async (err: Error) => {
    await store.close();
    throw new DamselflyError('DF_ERR_UNAVAILABLE', `cannot open the event bus: ${err.message}`);
  });
  // Embedded (PGlite), this process is the only writer there can be and wakes the relay on
  // every append: its poll is only a safety net, and four idle reads a second cost the PGlite
  // worker more than the whole control plane of a small swarm (measured: 37 ms of CPU a second
  // idle, against ~210 ms a second for 200 peers).
  const alone = !config.databaseUrl;
  const relay = new OutboxRelay({
    store,
    bus,
    name: 'kafka-relay',
    ...(alone ? { pollMs: 5_000 } : {}),
    logger: logger.child({ component: 'relay' }),
    // One relay per cluster: the holder of shard 0 (ownership is declared below; read lazily).
    active: () => ownership.holds(RELAY_SHARD),
    metrics: {
      onPublished: (n) => metrics.relayPublished.inc(n),
      onLag: (lag) => {
        relayLag = lag;
        metrics.relayLag.set(lag);
      },
    },
  });
  let relayLag = 0;

  const clock = () => Date.now();
  // The address and replica id are final once listening (the port may be 0 = any free port).
  let address = '';
  // A stable default id (from host:port) lets a restarted replica find its own leases again.
  const replicaId = config.replicaId ?? (config.port ? `sn-${config.host}-${config.port}` : `sn-${config.host}-${randomUUID().slice(0, 8)}`);
  const { leases, close: closeLeases } = openLeaseStore(store, config.databaseUrl);
  const hosts = openHostStore(store);
  const warm = new WarmCopies(loadFromStore(store));
  // Embedded (PGlite), this is the only replica there can be (`alone`): nothing can take its
  // shards, and a lease round every 500 ms would only load the PGlite worker that the appends need.
  const leaseTtlMs = alone ? 30_000 : config.leaseTtlMs;
  const ownership = new ShardOwnership({
    leases,
    replicaId,
    address: () => address,
    shardCount: config.shards,
    alone,
    leaseTtlMs,
    tickMs: alone ? 10_000 : Math.round(leaseTtlMs / 4),
    logger: logger.child({ component: 'cluster' }),
    onAcquired: (shard) => {
      metrics.shardsAcquired.inc();
      metrics.shardsHeld.inc();
      takeOver(shard);
    },
    onLost: (shard) => {
      metrics.shardsHeld.dec();
      runtime.evictShard((id) => ownership.shardOf(id), shard);
      seeding.stopWhere((id) => ownership.shardOf(id) === shard);
    },
  });
  /**
   * A shard granted to this replica: forget any live state of its tasks (reloaded from warm
   * copy + store tail on first use), then touch every running task of the shard at once, so
   * that the new term starts (OwnershipAcquired), assignments the old owner gave out that
   * have passed their deadline are re-issued, and an unfinished seed resumes here.
   */
  function takeOver(shard: number): void {
    runtime.evictShard((id) => ownership.shardOf(id), shard);
    for (const taskId of warm.runningTasks((id) => ownership.shardOf(id) === shard)) {
      runtime
        .execute(taskId, { type: 'ExpireAssignments', at: clock() })
        .then((outcome) => seeding.ensure(taskId, stateOf(outcome.snapshot).status))
        .catch((err: Error) => logger.warn({ taskId, err: err.message }, 'could not resume a task taken over'));
    }
  }
  const credentials = new OriginCredentials();
  // What it keeps follows the live actors (read lazily: the runtime is declared next).
  const signals = new TaskSignals(() => runtime.liveTaskIds());
  const runtime = new TaskRuntime({
    store,
    policy: config.policy,
    ownership,
    warmStart: (taskId) => warm.get(taskId),
    clock,
    onRehydrated: (start, tailEvents) => metrics.rehydratedEvents.inc({ start }, tailEvents),
    cdnPiecesFor: (taskId, state) => cdn.heldPieces(taskId, state),
    snapshotEvery: config.snapshotEvery,
    onBatch: (events, commands, seconds) => {
      metrics.appendSeconds.observe(seconds);
      metrics.appendBatchEvents.observe(events);
      metrics.appendBatchCommands.observe(commands);
      metrics.eventsAppended.inc(events);
    },
    onCommitted: (taskId, events, snapshot) => {
      relay.wake(events.length);
      signals.notify(taskId, stateOf(snapshot).version);
      for (const e of events) {
        if (e.type === 'TaskCreated') seeding.ensure(taskId, 'created');
        if (e.type === 'TaskEvicted') credentials.release(taskId);
        if (e.type === 'PiecesAssigned') for (const a of e.data.assignments) metrics.piecesAssigned.inc({ source: a.source === 'cdn' ? 'cdn' : 'peer' });
      }
    },
  });

  const cdn = new Cdn({
    dataDir: config.dataDir,
    logger: logger.child({ component: 'cdn' }),
    uploadRate: config.cdnUploadRate,
    uploadSlots: config.policy.cdnUploadSlots * 2,
    allowPrivateOrigins: config.allowPrivateOrigins,
    onOriginBytes: (n) => metrics.cdnOriginBytes.inc(n),
  });
  // Declared after the runtime that its callbacks reach: they run only once commands flow.
  const seeding = new Seeding({
    runtime, cdn, credentials, clock, logger: logger.child({ component: 'seeding' }), maxFileSize: config.maxFileSize,
    replicaCdns: () => ownership.status().replicas.filter((r) => r.replicaId !== replicaId && r.address).map((r) => r.address),
  });

  let draining = false;
  let starting = true;
  const unavailable = () => (draining ? 'the supernode is shutting down' : starting ? 'the supernode is starting' : undefined);
  const app = await createApp({ logger, metrics, token: config.token, unavailable });
  const swarm = new SwarmService({
    runtime,
    credentials,
    policy: config.policy,
    cdnAddress: () => address,
    clock,
    signals,
    onTaskTouched: (taskId, status) => seeding.ensure(taskId, status),
    onReportsRefused: (taskId, peerId, refused) => {
      for (const r of refused) metrics.reportsRefused.inc({ reason: r.reason });
      logger.warn({ taskId, peerId, refused: refused.length, first: refused[0] }, 'refused reports of pieces never assigned so (or from no parent)');
    },
  });
  const routing = ownerRouting({ ownership, selfAddress: () => address, peerAddress: config.peerAddress });
  registerTaskRoutes(app, swarm, routing);
  registerHistoryRoutes(app, store);
  const taskList = new TaskReadModel({ store });
  registerTaskListRoutes(app, taskList);
  registerClusterRoutes(app, { leases, ownership, leaseTtlMs, relayLag: () => relayLag, warmCopies: () => warm.size });
  registerHostRoutes(app, hosts, { peerAddressOf: routing.peerAddressOf });
  cdn.registerRoutes(app as unknown as FastifyInstance);
  await app.listen({ port: config.port, host: config.host });
  const port = (app.server.address() as { port: number }).port;
  address = config.advertise ?? `${config.host}:${port}`;
  // Warm copies: every event of the cluster from now on, in a consumer group of this process's
  // own (each replica must see every partition); a task first seen mid-stream is loaded from
  // the store once. Joining a Kafka group takes seconds: not awaited, the store is the truth
  // meanwhile.
  const stopWarm = alone
    ? Promise.resolve(async () => undefined) // nobody to take over from
    : bus.subscribe(`damselfly-warm-${replicaId}-${randomUUID().slice(0, 8)}`, (events) => warm.apply(events), { from: 'end', ephemeral: true })
    .catch((err: Error) => {
      logger.warn({ err: err.message }, 'warm copies unavailable; takeovers read the store only');
      return async () => undefined;
    });
  // The task list: every committed event of the cluster (the whole bus, in a group of this
  // process's own, plus the store's history); not awaited, the list fills as it is read.
  const taskFeed = followTaskFeed(taskList, { bus, store, groupId: `damselfly-tasks-${replicaId}-${randomUUID().slice(0, 8)}`, log: logger.child({ component: 'task-list' }) });
  await ownership.start();
  relay.start();
  starting = false;
  const timers = startTimers({ runtime, policy: config.policy, clock, metrics, logger });
  const retention = startCdnRetention({ cdn, runtime, seeding, maxAgeMs: config.cdnMaxAgeMs, maxBytes: config.cdnMaxBytes, clock, logger });
  logger.info({ address, replicaId, store: config.databaseUrl ? 'postgres' : 'pglite', bus: config.kafkaBrokers.length ? 'kafka' : 'memory' }, 'supernode started');

  return {
    address,
    port,
    replicaId,
    async stop() {
      logger.info('supernode stopping');
      draining = true;
      timers.stop();
      retention.stop();
      seeding.stopAll();
      signals.wakeAll();
      await runtime.drain();
      // Publish what is committed while this replica still runs the relay, then hand the
      // shards (and the relay) over at once, so the others take over without waiting a TTL.
      await relay.flush().catch((err: Error) => logger.warn({ err: err.message }, 'relay flush failed; the next relay publishes the rest'));
      await relay.stop();
      await ownership.stop();
      // The Kafka clients cut their own connections when a disconnect lingers (a consumer's
      // JoinGroup held by the broker after a restart): these bounds are the last guard.
      await Promise.all([
        bounded((async () => (await stopWarm)())(), 5000, 'stopping the warm-copy consumer', logger),
        bounded(taskFeed.stop(), 5000, 'stopping the task list feed', logger),
      ]);
      await routing.close();
      await app.close();
      await cdn.close();
      await bounded(bus.close(), 5000, 'closing the Kafka client', logger);
      await closeLeases();
      await store.close();
      logger.info('supernode stopped');
    },
  };
}

/** Waits for `work` at most `ms`; past that, logs and goes on (shutdown must not hang on one client). */
async function bounded(work: Promise<unknown>, ms: number, what: string, logger: Logger): Promise<void> {
  const outcome = await settlesWithin(work, ms);
  if (outcome === 'late') logger.warn(`${what} took longer than ${ms} ms; going on`);
  else if (outcome instanceof Error) logger.warn({ err: outcome.message }, `${what} failed`);
}
