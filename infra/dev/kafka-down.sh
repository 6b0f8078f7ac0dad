#!/usr/bin/env bash
# Stop the Kafka broker that kafka-up.sh started (and only that one): SIGTERM
# for a clean shutdown, SIGKILL after 30 s. Keeps the data and the jar cache.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KAFKA_DIR="$DEV_DIR/kafka"
PID_FILE="$KAFKA_DIR/kafka.pid"
take_lock kafka

if [ ! -f "$PID_FILE" ]; then
  log "kafka: nothing to stop (not started by kafka-up.sh)"
  exit 0
fi
pid="$(kafka_pid "$PID_FILE" "$KAFKA_DIR/server.properties")"
if [ -z "$pid" ]; then
  log "kafka: already stopped"
else
  log "stopping Kafka (pid $pid)"
  stop_pid "$pid" 30
fi
rm -f "$PID_FILE"
