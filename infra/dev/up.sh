#!/usr/bin/env bash
# Bring up every local service the tests need (PostgreSQL and Kafka), installing
# what is missing, reusing what already runs. Safe to run again at any time.
#
# stdout: only KEY=VALUE lines, one per service, e.g.
#   DAMSELFLY_DATABASE_URL=postgres://postgres@127.0.0.1:55432/damselfly
#   DAMSELFLY_KAFKA_BROKERS=127.0.0.1:59092
# (a Node global setup parses them); diagnostics go to stderr.
# Honours DAMSELFLY_DATABASE_URL / DAMSELFLY_KAFKA_BROKERS: services a user
# already has are only checked, never started.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

# In parallel: a cold start is dominated by apt-get (postgres) and Maven/JVM
# start-up (kafka), which do not depend on each other.
"$INFRA_DEV_DIR/postgres-up.sh" >"$out/pg" &
pg=$!
"$INFRA_DEV_DIR/kafka-up.sh" >"$out/kafka" &
kafka=$!

failed=0
wait "$pg" || { log "postgres-up.sh failed"; failed=1; }
wait "$kafka" || { log "kafka-up.sh failed"; failed=1; }
[ "$failed" -eq 0 ] || exit 1

grep -E '^[A-Z_]+=' "$out/pg" "$out/kafka" -h
