-- The hosts daemons announce (supernode/hosts/sql-host-store.ts, issue 11).
-- Applied by supernode/store/migrator.ts on PostgreSQL and PGlite alike.
-- As in 0002_cluster.sql, every time is the database's own clock (now()): replicas pass TTLs,
-- never timestamps, so clock skew between them cannot make a host look alive or dead.

-- One row per host that announced itself and has not left (DELETE) or been forgotten (a full
-- table drops hosts unseen for long). Live = last_seen newer than the caller's TTL.
CREATE TABLE hosts (
  host_id          text        PRIMARY KEY,
  hostname         text        NOT NULL,
  upload_address   text        NOT NULL,
  proxy_port       int         NULL,
  free_disk_bytes  bigint      NOT NULL CHECK (free_disk_bytes >= 0),
  total_disk_bytes bigint      NOT NULL CHECK (total_disk_bytes >= 0),
  version          text        NULL,
  registered_at    timestamptz NOT NULL DEFAULT now(),
  last_seen        timestamptz NOT NULL DEFAULT now()
);

-- The live count (the metrics gauge) and forgetting stale hosts read by last_seen.
CREATE INDEX hosts_last_seen ON hosts (last_seen);
