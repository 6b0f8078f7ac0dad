#!/usr/bin/env bash
# Start (installing if needed) a private PostgreSQL cluster for the tests on
# 127.0.0.1:${DAMSELFLY_PG_PORT:-55432}, or verify the one given in
# DAMSELFLY_DATABASE_URL. Idempotent: a running cluster is reused.
#
# stdout: exactly one line, DAMSELFLY_DATABASE_URL=postgres://...
# stderr: diagnostics.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_PORT="${DAMSELFLY_PG_PORT:-55432}"
PG_DB=damselfly
PG_URL="postgres://postgres@127.0.0.1:${PG_PORT}/${PG_DB}"
# Records that *this script* started the cluster, so postgres-down.sh only
# stops what we started (never a user's own server).
STATE_FILE="$DEV_DIR/pg.state"

# --- A user-provided database: only check it answers. -----------------------
if [ -n "${DAMSELFLY_DATABASE_URL:-}" ]; then
  if command -v psql >/dev/null; then
    psql "$DAMSELFLY_DATABASE_URL" -XqtAc 'SELECT 1' >/dev/null \
      || die "DAMSELFLY_DATABASE_URL is set but not reachable: $(printf '%s' "$DAMSELFLY_DATABASE_URL" | sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#')"
  else
    log "WARNING: no psql client; cannot verify DAMSELFLY_DATABASE_URL"
  fi
  log "using existing database from DAMSELFLY_DATABASE_URL"
  echo "DAMSELFLY_DATABASE_URL=$DAMSELFLY_DATABASE_URL"
  exit 0
fi

take_lock pg

# --- Install the server if missing. -------------------------------------------
# Debian puts the real binaries in /usr/lib/postgresql/<major>/bin (only
# wrappers are on PATH). The package also creates and may start its own
# "main" cluster on 5432; we ignore it - ours has its own port and data dir.
find_pg_bin() {
  local d
  # shellcheck disable=SC2012  # paths are /usr/lib/postgresql/<number>/bin
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
  done
  return 1
}
PG_BIN="$(find_pg_bin || true)"
if [ -z "$PG_BIN" ]; then
  apt_install postgresql
  PG_BIN="$(find_pg_bin)" || die "postgresql installed but initdb/pg_ctl not found"
fi

# --- Who runs the server, and where its files live. --------------------------
# PostgreSQL refuses to run as root, so as root we run it as the "postgres"
# user (created by the package); a normal user runs it as themself.
if [ "$(id -u)" -eq 0 ]; then
  PG_USER=postgres
  # cd / first: pg_ctl/initdb fail if they cannot read the caller's cwd.
  as_pg() { (cd / && runuser -u postgres -- "$@" 9>&-); }
else
  PG_USER="$(id -un)"
  as_pg() { "$@" 9>&-; }
fi
own_by_pg() { if [ "$(id -u)" -eq 0 ]; then chown "$PG_USER": "$@"; fi; }

mkdir -p "$DEV_DIR"
CLUSTER_DIR="${DAMSELFLY_PG_DIR:-$DEV_DIR/pg}"
# As root the cache dir usually sits under /root (mode 700), which the postgres
# user cannot enter. Rather than loosen /root's permissions, keep the cluster
# in postgres's own home and leave a symlink in the cache dir to find it.
if [ "$(id -u)" -eq 0 ] && [ -z "${DAMSELFLY_PG_DIR:-}" ] \
   && ! as_pg test -x "$DEV_DIR" 2>/dev/null; then
  CLUSTER_DIR="/var/lib/postgresql/damselfly-$(printf '%s' "$DEV_DIR" | md5sum | cut -c1-8)"
  [ -e "$DEV_DIR/pg" ] || ln -sfn "$CLUSTER_DIR" "$DEV_DIR/pg"
fi
DATA_DIR="$CLUSTER_DIR/data"
SOCK_DIR="$CLUSTER_DIR/run"   # not /var/run/postgresql: keep everything private
LOG_FILE="$CLUSTER_DIR/postgres.log"

mkdir -p "$CLUSTER_DIR" "$SOCK_DIR"
own_by_pg "$CLUSTER_DIR" "$SOCK_DIR"
as_pg test -w "$CLUSTER_DIR" || die "$PG_USER cannot write $CLUSTER_DIR"

# --- Create the cluster once. ---------------------------------------------------
if [ ! -s "$DATA_DIR/PG_VERSION" ]; then
  log "initdb $DATA_DIR (as $PG_USER)"
  rm -rf "$DATA_DIR"   # a half-made data dir from an interrupted initdb
  if ! as_pg "$PG_BIN/initdb" -D "$DATA_DIR" -U postgres -A trust -E UTF8 \
       --locale=C.UTF-8 >"$CLUSTER_DIR/initdb.log" 2>&1; then
    cat "$CLUSTER_DIR/initdb.log" >&2
    die "initdb failed"
  fi
  # Trust on loopback only: this is a throwaway test cluster.
  cat >"$DATA_DIR/pg_hba.conf" <<'EOF'
# Written by infra/dev/postgres-up.sh: test cluster, trust on loopback only.
local   all          all                 trust
host    all          all   127.0.0.1/32  trust
local   replication  all                 trust
host    replication  all   127.0.0.1/32  trust
EOF
  echo "include_if_exists = 'damselfly.conf'" >>"$DATA_DIR/postgresql.conf"
  own_by_pg "$DATA_DIR/pg_hba.conf" "$DATA_DIR/postgresql.conf"
fi

# Our settings, rewritten every time so a changed port applies on next start.
cat >"$DATA_DIR/damselfly.conf" <<EOF
# Written by infra/dev/postgres-up.sh on every run; edits here are lost.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$SOCK_DIR'
max_connections = 200
shared_buffers = 256MB
# Durability stays ON: the tests measure durable appends.
fsync = on
synchronous_commit = on
full_page_writes = on
EOF
own_by_pg "$DATA_DIR/damselfly.conf"

psql_admin() { "$PG_BIN/psql" -X -h 127.0.0.1 -p "$PG_PORT" -U postgres "$@"; }
can_connect() { psql_admin -d postgres -qtAc 'SELECT 1' >/dev/null 2>&1; }

write_state() {
  printf 'PG_BIN=%s\nDATA_DIR=%s\nPORT=%s\n' "$PG_BIN" "$DATA_DIR" "$PG_PORT" >"$STATE_FILE"
}

pg_running() { as_pg "$PG_BIN/pg_ctl" status -D "$DATA_DIR" >/dev/null 2>&1; }

# --- Start, or reuse what is running. --------------------------------------------
# A server in crash recovery or shutting down (or a just-killed postmaster that
# is not yet reaped) neither answers nor is gone: give it up to 30 s to decide.
if pg_running && ! can_connect; then
  for _ in $(seq 1 60); do
    sleep 0.5
    if can_connect || ! pg_running; then break; fi
  done
fi
if pg_running; then
  if can_connect; then
    log "reusing running cluster $DATA_DIR on port $PG_PORT"
  elif [ -f "$STATE_FILE" ]; then
    # Ours but not answering on this port (e.g. the port was changed): restart.
    log "cluster $DATA_DIR runs but does not answer on $PG_PORT; restarting it"
    as_pg "$PG_BIN/pg_ctl" stop -D "$DATA_DIR" -m fast -w -t 60 >&2 \
      || as_pg "$PG_BIN/pg_ctl" stop -D "$DATA_DIR" -m immediate -w -t 60 >&2
    as_pg "$PG_BIN/pg_ctl" start -D "$DATA_DIR" -w -t 120 -l "$LOG_FILE" >&2 \
      || { tail -n 30 "$LOG_FILE" >&2; die "PostgreSQL failed to restart"; }
    write_state
  else
    die "cluster $DATA_DIR is running (not started by this script) but not reachable on port $PG_PORT"
  fi
elif can_connect; then
  # Someone else's server already answers as postgres@127.0.0.1:$PG_PORT; use it
  # but never stop it (no state file written).
  log "a PostgreSQL server already answers on 127.0.0.1:$PG_PORT; reusing it (will not stop it)"
else
  if port_open 127.0.0.1 "$PG_PORT"; then
    die "port $PG_PORT is taken by something that is not a usable PostgreSQL; set DAMSELFLY_PG_PORT"
  fi
  log "starting PostgreSQL ($PG_BIN) on 127.0.0.1:$PG_PORT, log $LOG_FILE"
  if ! as_pg "$PG_BIN/pg_ctl" start -D "$DATA_DIR" -w -t 120 -l "$LOG_FILE" >&2; then
    tail -n 30 "$LOG_FILE" >&2 || true
    die "PostgreSQL failed to start"
  fi
  write_state
fi

# --- The test database. -----------------------------------------------------------
if [ -z "$(psql_admin -d postgres -qtAc "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")" ]; then
  log "creating database $PG_DB"
  psql_admin -d postgres -qc "CREATE DATABASE $PG_DB" >&2
fi

echo "DAMSELFLY_DATABASE_URL=$PG_URL"
