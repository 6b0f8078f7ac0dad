-- Cluster membership and shard leases (supernode/cluster/sql-lease-store.ts, issue 4).
-- Applied by supernode/store/migrator.ts on PostgreSQL and PGlite alike.
-- Every time below is the database's own clock (now()): replicas compare nothing with their
-- local clocks, so clock skew between replica machines cannot make a lease look live or dead.

-- One row per replica that has ever heartbeated; live = heartbeat_at newer than the caller's TTL.
CREATE TABLE replicas (
  replica_id   text        PRIMARY KEY,
  address      text        NOT NULL,
  heartbeat_at timestamptz NOT NULL DEFAULT now(),
  started_at   timestamptz NOT NULL DEFAULT now()
);

-- One row per virtual shard, created by the first acquire. `owner` is NULL once released; a
-- lease whose expires_at has passed is free for anyone. `epoch` is the fencing token of the
-- current (or last) ownership term; appends to a stream carry it (streams.epoch).
CREATE TABLE shard_leases (
  shard      int         PRIMARY KEY CHECK (shard >= 0),
  owner      text        NULL,
  epoch      bigint      NOT NULL DEFAULT 0,
  expires_at timestamptz NULL
);

-- Epochs come from one sequence for all shards, so an epoch handed out now is higher than
-- every epoch handed out before, on any shard: a task that moves to another shard (if the
-- shard count ever changes) is still fenced against its previous owner. CACHE 1 (the default,
-- spelled out) keeps nextval monotonic in time across sessions; a per-session cache would not.
CREATE SEQUENCE shard_lease_epochs AS bigint START WITH 1 CACHE 1;
