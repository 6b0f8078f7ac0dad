#!/usr/bin/env bash
# Stop the Kafka broker that kafka-up.sh started (and only that one): SIGTERM
# for a clean shutdown, SIGKILL after 30 s. Keeps the data and the jar cache.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KAFKA_DIR="$DEV_DIR/kafka"
PID_FILE="$KAFKA_DIR/kafka.pid"
PROPS="$KAFKA_DIR/server.properties"
take_lock kafka

pid="$(cat "$PID_FILE" 2>/dev/null || true)"
if [ -z "$pid" ]; then
  log "kafka: nothing to stop (not started by kafka-up.sh)"
  exit 0
fi
# Only signal the pid if it is still our broker (pids get reused).
if ! pid_alive "$pid" \
   || ! tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "kafka.Kafka $PROPS"; then
  log "kafka: already stopped"
  rm -f "$PID_FILE"
  exit 0
fi

log "stopping Kafka (pid $pid)"
kill -TERM "$pid" 2>/dev/null || true
for _ in $(seq 1 60); do
  pid_alive "$pid" || break
  sleep 0.5
done
if pid_alive "$pid"; then
  log "Kafka did not stop within 30 s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
  while pid_alive "$pid"; do sleep 0.2; done
fi
rm -f "$PID_FILE"
