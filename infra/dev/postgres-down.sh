#!/usr/bin/env bash
# Stop the PostgreSQL cluster that postgres-up.sh started (and only that one).
# Keeps the data directory and the installed packages, so the next up is fast.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STATE_FILE="$DEV_DIR/pg.state"
take_lock pg

if [ ! -f "$STATE_FILE" ]; then
  log "postgres: nothing to stop (not started by postgres-up.sh)"
  exit 0
fi
PG_BIN="$(sed -n 's/^PG_BIN=//p' "$STATE_FILE")"
DATA_DIR="$(sed -n 's/^DATA_DIR=//p' "$STATE_FILE")"
if [ -z "$PG_BIN" ] || [ -z "$DATA_DIR" ]; then die "corrupt state file $STATE_FILE"; fi

if [ "$(id -u)" -eq 0 ]; then
  as_pg() { (cd / && runuser -u postgres -- "$@" 9>&-); }
else
  as_pg() { "$@" 9>&-; }
fi

if as_pg "$PG_BIN/pg_ctl" status -D "$DATA_DIR" >/dev/null 2>&1; then
  log "stopping PostgreSQL ($DATA_DIR)"
  # -m fast: roll back open sessions instead of waiting for test clients.
  as_pg "$PG_BIN/pg_ctl" stop -D "$DATA_DIR" -m fast -w -t 60 >&2
else
  log "postgres: already stopped"
fi
rm -f "$STATE_FILE"
