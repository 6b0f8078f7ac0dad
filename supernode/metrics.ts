import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The supernode's Prometheus metrics, on a registry of its own (so several supernodes in one
 * test process do not collide). Names follow Prometheus conventions: unit suffixes, _total.
 */
export function createMetrics(o: { liveHosts?: () => Promise<number> } = {}) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    appendSeconds: new Histogram({
      name: 'damselfly_append_seconds',
      help: 'Time from deciding a batch of commands to its events being committed',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    appendBatchEvents: new Histogram({
      name: 'damselfly_append_batch_events',
      help: 'Events per task append (commands of one task batched while an append was in flight)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers: [registry],
    }),
    appendBatchCommands: new Histogram({
      name: 'damselfly_append_batch_commands',
      help: 'Commands per task append',
      buckets: [1, 2, 4, 8, 16, 32, 64],
      registers: [registry],
    }),
    storeCommitAppends: new Histogram({
      name: 'damselfly_store_commit_appends',
      help: 'Appends (of any tasks) group-committed in one store transaction',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
      registers: [registry],
    }),
    storeCommitSeconds: new Histogram({
      name: 'damselfly_store_commit_seconds',
      help: 'Duration of one group-commit transaction',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
    eventsAppended: new Counter({ name: 'damselfly_events_appended_total', help: 'Events committed', registers: [registry] }),
    relayPublished: new Counter({ name: 'damselfly_relay_published_total', help: 'Events published to the bus', registers: [registry] }),
    relayLag: new Gauge({ name: 'damselfly_relay_lag_events', help: 'Committed events not yet published to the bus', registers: [registry] }),
    actorsLive: new Gauge({ name: 'damselfly_actors_live', help: 'Task actors in memory', registers: [registry] }),
    rounds: new Counter({ name: 'damselfly_rounds_total', help: 'Peer report-and-schedule round trips', labelNames: ['action'], registers: [registry] }),
    piecesAssigned: new Counter({ name: 'damselfly_pieces_assigned_total', help: 'Piece assignments', labelNames: ['source'], registers: [registry] }),
    reportsRefused: new Counter({
      name: 'damselfly_reports_refused_total',
      help: 'Pieces a peer reported as verified that were never assigned to it (unassigned), not from the source it named (wrong_source), or from a source that was never its parent (not_parent): not recorded',
      labelNames: ['reason'],
      registers: [registry],
    }),
    rehydratedEvents: new Counter({
      name: 'damselfly_rehydrated_events_total',
      help: 'Events read from the store to bring a task actor up to date (the tail after its snapshot or warm copy)',
      labelNames: ['start'],
      registers: [registry],
    }),
    shardsAcquired: new Counter({ name: 'damselfly_shards_acquired_total', help: 'Shard leases this replica took (start-up, rebalancing, takeover)', registers: [registry] }),
    shardsHeld: new Gauge({ name: 'damselfly_shards_held', help: 'Shard leases this replica holds', registers: [registry] }),
    hostsLive: new Gauge({
      name: 'damselfly_hosts_live',
      help: 'Hosts whose daemon announced itself within the TTL (any replica counts all of them: the hosts are in the shared store)',
      registers: [registry],
      // Read at scrape time (one indexed count), so the gauge is the cluster's, not this replica's.
      async collect() {
        if (!o.liveHosts) return;
        // A store that is down must not fail the whole scrape: the gauge keeps its last value.
        this.set(await o.liveHosts().catch(() => this.get().then((g) => g.values[0]?.value ?? 0)));
      },
    }),
    cdnOriginBytes: new Counter({ name: 'damselfly_cdn_origin_bytes_total', help: 'Bytes the CDN fetched from origins', registers: [registry] }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
