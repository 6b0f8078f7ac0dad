-- The event store (supernode/store/sql-event-store.ts). Applied by supernode/store/migrator.ts,
-- on PostgreSQL and on PGlite alike: keep this file to SQL both understand.
-- Applied files are checksummed: never edit this file once released, add 0002_... instead.

-- One row per event. `version` is the event's 1-based place in its stream; the primary key
-- (stream_id, version) is what makes two writers with the same expected version collide.
-- `position` is a global order, but NOT a safe cursor on its own: bigserial values are taken at
-- insert time and transactions commit in another order, so a reader that has seen position 7
-- may later find position 5 committed. Readers page by (tx_id, position) instead, up to the
-- oldest transaction still running (see SqlEventStore.readAll).
CREATE TABLE events (
  position       bigserial   NOT NULL,
  tx_id          xid8        NOT NULL DEFAULT pg_current_xact_id(),
  stream_id      text        NOT NULL,
  version        int         NOT NULL CHECK (version > 0),
  event_id       uuid        NOT NULL UNIQUE,
  type           text        NOT NULL,
  schema_version int         NOT NULL,
  data           jsonb       NOT NULL,
  -- The writer's ownership epoch (fencing token), kept per event for audit and for consumers
  -- that drop stale epochs.
  epoch          bigint      NOT NULL,
  recorded_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream_id, version)
);

-- The global feed's order: readAll pages with (tx_id, position) > cursor.
CREATE INDEX events_tx_position ON events (tx_id, position);

-- The head of each stream, updated in the append's transaction: the expected-version and epoch
-- checks read (and lock) one small row instead of max(version) over the events.
-- `epoch` is the highest epoch that has written the stream; a lower one is stale.
-- Shard leases (one epoch per virtual shard, issue 4) will live in a table of their own in a
-- later migration; appends then check the lease's epoch too, in the same transaction.
CREATE TABLE streams (
  stream_id text   PRIMARY KEY,
  version   int    NOT NULL,
  epoch     bigint NOT NULL
);

-- The latest snapshot of a stream's state (canonical task state), replaced only by a newer one.
CREATE TABLE snapshots (
  stream_id text  PRIMARY KEY,
  version   int   NOT NULL,
  state     jsonb NOT NULL
);

-- Durable named cursors into the global feed (the Kafka relay's, read models').
CREATE TABLE cursors (
  name     text   PRIMARY KEY,
  tx_id    xid8   NOT NULL,
  position bigint NOT NULL
);
