#!/usr/bin/env bash
# Start (fetching its jars from Maven Central if needed) one Apache Kafka
# KRaft broker+controller for the tests on 127.0.0.1:${DAMSELFLY_KAFKA_PORT:-59092},
# or verify the brokers given in DAMSELFLY_KAFKA_BROKERS. Idempotent: a running
# broker started by this script is reused.
#
# stdout: exactly one line, DAMSELFLY_KAFKA_BROKERS=host:port[,host:port...]
# stderr: diagnostics.
#
# Knobs: DAMSELFLY_DEV_DIR (cache root), DAMSELFLY_KAFKA_PORT (59092),
# DAMSELFLY_KAFKA_CONTROLLER_PORT (59093), DAMSELFLY_KAFKA_VERSION (space-separated
# versions to try, default "3.9.1 3.9.0 4.1.0"), DAMSELFLY_KAFKA_START_TIMEOUT (120 s),
# DAMSELFLY_KAFKA_LIBS_DIR (jar cache, default $DEV_DIR/kafka-libs: a second broker
# with a DEV_DIR of its own points this at the first one's cache instead of
# resolving the jars again).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KAFKA_PORT="${DAMSELFLY_KAFKA_PORT:-59092}"
CONTROLLER_PORT="${DAMSELFLY_KAFKA_CONTROLLER_PORT:-59093}"
# 3.9 first: Kafka 4.x removed old protocol versions and kafkajs is verified
# against 3.x. 4.x is only a last resort if 3.9 cannot be resolved.
KAFKA_VERSIONS="${DAMSELFLY_KAFKA_VERSION:-3.9.1 3.9.0 4.1.0}"
START_TIMEOUT="${DAMSELFLY_KAFKA_START_TIMEOUT:-120}"
# A fixed cluster id (base64url of the 16 bytes "damselfly-dev-01"): the data
# dir is formatted once and reused, so the id only has to be valid and stable.
CLUSTER_ID="ZGFtc2VsZmx5LWRldi0wMQ"

# --- User-provided brokers: only check they accept TCP connections. ----------
if [ -n "${DAMSELFLY_KAFKA_BROKERS:-}" ]; then
  IFS=',' read -r -a brokers <<<"$DAMSELFLY_KAFKA_BROKERS"
  for hp in "${brokers[@]}"; do
    hp="${hp// /}"
    port_open "${hp%:*}" "${hp##*:}" || die "DAMSELFLY_KAFKA_BROKERS is set but $hp is not reachable"
  done
  log "using existing Kafka from DAMSELFLY_KAFKA_BROKERS"
  echo "DAMSELFLY_KAFKA_BROKERS=$DAMSELFLY_KAFKA_BROKERS"
  exit 0
fi

take_lock kafka

KAFKA_DIR="$DEV_DIR/kafka"          # config, logs, pid, data of the dev broker
DATA_DIR="$KAFKA_DIR/data"          # log.dirs (topic data + KRaft metadata)
LIBS_DIR="${DAMSELFLY_KAFKA_LIBS_DIR:-$DEV_DIR/kafka-libs}"  # flat jar cache, kept by kafka-down.sh
LIBS_MARKER="$LIBS_DIR/.complete"
PID_FILE="$KAFKA_DIR/kafka.pid"
PROPS="$KAFKA_DIR/server.properties"
SERVER_LOG="$KAFKA_DIR/server.log"  # written by log4j (see kafka/log4j*.{properties,xml})
OUT_LOG="$KAFKA_DIR/kafka.out"      # the JVM's own stdout/stderr (crashes, GC warnings)
POM="$INFRA_DEV_DIR/kafka/pom.xml"
mkdir -p "$KAFKA_DIR" "$DATA_DIR"

# --- Tools. ---------------------------------------------------------------------
need=()
command -v java >/dev/null || need+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || need+=(maven)
[ ${#need[@]} -eq 0 ] || apt_install "${need[@]}"

# --- Jars: resolve once, cache in $LIBS_DIR. -----------------------------------
# The marker records which pom and version list produced the cache, so editing
# the pom (or DAMSELFLY_KAFKA_VERSION) triggers a fresh resolve.
# The cache may be shared by brokers with different DEV_DIRs (hence different
# service locks), so resolving it takes a lock of its own, on fd 7, released
# once the jars are in place (before the JVM starts).
mkdir -p "$(dirname "$LIBS_DIR")"
exec 7>"$LIBS_DIR.lock"
flock -w 900 7 || die "timed out waiting for lock $LIBS_DIR.lock"
libs_key="pom=$(sha256sum "$POM" | cut -c1-16) candidates=$KAFKA_VERSIONS"
if [ -f "$LIBS_MARKER" ] && grep -qxF "$libs_key" "$LIBS_MARKER"; then
  KAFKA_VERSION="$(sed -n 's/^version=//p' "$LIBS_MARKER")"
else
  KAFKA_VERSION=""
  libs_changed=1
  for v in $KAFKA_VERSIONS; do
    log "resolving org.apache.kafka:kafka_2.13:$v from Maven Central into $LIBS_DIR"
    extra=()
    if [ "${v%%.*}" -ge 4 ]; then extra+=(-Dkafka4); fi   # log4j2 binding, not reload4j
    tmp="$LIBS_DIR.tmp.$$"
    rm -rf "$tmp"
    # (sed strips the colour codes Maven 3.8 prints even in batch mode)
    if mvn -B -q -f "$POM" dependency:copy-dependencies \
         -Dkafka.version="$v" "${extra[@]}" -DincludeScope=runtime \
         -DoutputDirectory="$tmp" 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >&2; then
      # Swap in the complete directory only after success, then mark it.
      rm -rf "$LIBS_DIR"
      mv "$tmp" "$LIBS_DIR"
      printf '%s\nversion=%s\n' "$libs_key" "$v" >"$LIBS_MARKER"
      KAFKA_VERSION="$v"
      break
    fi
    rm -rf "$tmp"
    log "could not resolve Kafka $v"
  done
  [ -n "$KAFKA_VERSION" ] || die "could not resolve any of: $KAFKA_VERSIONS"
  if [ "${KAFKA_VERSION%%.*}" -ge 4 ]; then
    log "WARNING: using Kafka $KAFKA_VERSION (4.x): kafkajs is only verified against 3.x"
  fi
fi
[ -n "$KAFKA_VERSION" ] || die "corrupt marker $LIBS_MARKER; delete $LIBS_DIR and retry"
exec 7>&-
CP="$LIBS_DIR/*"
libs_changed="${libs_changed:-0}"

# Kafka 3.x logs through log4j 1.x (reload4j), 4.x through log4j2.
if [ "${KAFKA_VERSION%%.*}" -ge 4 ]; then
  LOG_OPTS=(-Dlog4j2.configurationFile="$INFRA_DEV_DIR/kafka/log4j2.xml")
else
  LOG_OPTS=(-Dlog4j.configuration="file:$INFRA_DEV_DIR/kafka/log4j.properties")
fi

# --- Is our broker already running? ---------------------------------------------
started() { grep -qF 'Kafka Server started' "$SERVER_LOG" 2>/dev/null; }

# Ready = the JVM logged "Kafka Server started" (KRaft controller elected, broker
# unfenced) and the client port accepts connections. Fails early if it died.
wait_ready() { # pid
  local pid="$1" deadline=$((SECONDS + START_TIMEOUT))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if ! pid_alive "$pid"; then
      log "Kafka (pid $pid) exited during startup"
      show_logs; return 1
    fi
    if started && port_open 127.0.0.1 "$KAFKA_PORT"; then return 0; fi
    sleep 0.5
  done
  log "Kafka not ready after ${START_TIMEOUT}s"
  show_logs; return 1
}

show_logs() {
  log "--- tail $SERVER_LOG"; tail -n 40 "$SERVER_LOG" >&2 2>/dev/null || true
  log "--- tail $OUT_LOG";    tail -n 20 "$OUT_LOG" >&2 2>/dev/null || true
  # Last, so that a caller keeping only the end of stderr still sees why.
  log "--- first errors of this start:"
  # A port taken by another socket is the usual culprit, and its line comes after unrelated
  # start-up ERRORs (a KRaft controller's NotControllerException is normal): name it first.
  grep -h -m 2 -E 'failed to bind|Address already in use' "$SERVER_LOG" "$OUT_LOG" >&2 2>/dev/null || true
  grep -h -m 5 -E 'FATAL|ERROR|Exception' "$SERVER_LOG" "$OUT_LOG" >&2 2>/dev/null || log "(none logged)"
}

LISTENERS="listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT"

# --- Config, rendered each run; a running broker with another config restarts. --
# Settings that only apply when an internal topic is created. A data dir made
# with other values keeps them (e.g. a 50-partition __consumer_offsets), so it
# is re-formatted below when this key changes.
DATA_KEY="offsets.topic.num.partitions=1 transaction.state.log.num.partitions=1"
render_props() {
cat <<EOF
# Written by infra/dev/kafka-up.sh on every start; edits here are lost.
# One KRaft node that is both broker and controller, loopback only.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
$LISTENERS
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DATA_DIR
num.partitions=8
auto.create.topics.enable=true
# A single node: every internal topic must live with replication factor 1.
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
# The first consumer group of a fresh broker creates __consumer_offsets and
# waits until every partition has a loaded coordinator: with the default 50
# partitions that is seconds on a small machine; one partition is enough here.
offsets.topic.num.partitions=1
transaction.state.log.num.partitions=1
# Tests join consumer groups constantly; do not wait 3 s for more members.
group.initial.rebalance.delay.ms=0
# One broker: there is no other leader to move partitions back to.
auto.leader.rebalance.enable=false
EOF
}
WANT_PROPS="$(render_props)"

pid="$(kafka_pid "$PID_FILE" "$PROPS")"
if [ -n "$pid" ]; then
  # $PROPS is only rewritten on start, so it tells how the running broker was started.
  if [ "$libs_changed" = 1 ] || [ "$(cat "$PROPS")" != "$WANT_PROPS" ]; then
    log "restarting Kafka (pid $pid): its config or jars changed"
    stop_pid "$pid" 30
  else
    log "reusing running Kafka $KAFKA_VERSION (pid $pid) on 127.0.0.1:$KAFKA_PORT"
    wait_ready "$pid" || die "the running Kafka (pid $pid) is not healthy; run kafka-down.sh"
    echo "DAMSELFLY_KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT"
    exit 0
  fi
fi
rm -f "$PID_FILE"
for p in "$KAFKA_PORT" "$CONTROLLER_PORT"; do
  if port_open 127.0.0.1 "$p"; then
    die "port $p is in use by something else; set DAMSELFLY_KAFKA_PORT/DAMSELFLY_KAFKA_CONTROLLER_PORT or DAMSELFLY_KAFKA_BROKERS"
  fi
done
printf '%s\n' "$WANT_PROPS" >"$PROPS"

# The dev broker's data is disposable (tests make fresh topics per run); wiping
# it is the only way to shrink an internal topic created with other settings.
DATA_KEY_FILE="$KAFKA_DIR/data.key"
if [ -f "$DATA_DIR/meta.properties" ] && ! grep -qxF "$DATA_KEY" "$DATA_KEY_FILE" 2>/dev/null; then
  log "re-formatting $DATA_DIR: it was created with other internal-topic settings"
  rm -rf "$DATA_DIR"
  mkdir -p "$DATA_DIR"
fi

JAVA_OPTS=(-Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20
  -Djava.awt.headless=true -Dkafka.logs.dir="$KAFKA_DIR" "${LOG_OPTS[@]}")

# --- Format the storage once. -----------------------------------------------------
if [ ! -f "$DATA_DIR/meta.properties" ]; then
  # StorageTool is Scala (kafka.tools) up to at least 4.1; look for a Java port in
  # case a later version moves it. Zip entry names are stored uncompressed, so
  # grep finds them without unzip.
  storage_tool=org.apache.kafka.tools.StorageTool
  if grep -qF 'kafka/tools/StorageTool.class' "$LIBS_DIR"/kafka_2.13-*.jar; then
    storage_tool=kafka.tools.StorageTool
  fi
  log "formatting KRaft storage $DATA_DIR (cluster id $CLUSTER_ID)"
  java "${JAVA_OPTS[@]}" -cp "$CP" "$storage_tool" format \
    -t "$CLUSTER_ID" -c "$PROPS" --ignore-formatted >&2
  echo "$DATA_KEY" >"$DATA_KEY_FILE"
fi

# --- Start in the background. ------------------------------------------------------
# A JVM that dies during start-up is given one more try (its errors are printed first): in CI
# a chaos scenario's broker once exited ~8 s into its start and the cause was lost with the log.
start_broker() {
  # Move the old log aside first so we can only see *this* start's "started" line.
  if [ -f "$SERVER_LOG" ]; then mv -f "$SERVER_LOG" "$SERVER_LOG.prev"; fi
  log "starting Kafka $KAFKA_VERSION on 127.0.0.1:$KAFKA_PORT (controller $CONTROLLER_PORT), log $SERVER_LOG"
  # setsid: own session, so a Ctrl-C to the test runner's process group does not
  # kill the shared broker; 9>&-: do not inherit (and hold) our lock fd.
  setsid nohup java "${JAVA_OPTS[@]}" -cp "$CP" kafka.Kafka "$PROPS" \
    </dev/null >"$OUT_LOG" 2>&1 9>&- &
  pid=$!
  echo "$pid" >"$PID_FILE"
  if wait_ready "$pid"; then return 0; fi
  stop_pid "$pid" 10
  rm -f "$PID_FILE"
  cp -f "$SERVER_LOG" "$SERVER_LOG.failed" 2>/dev/null || true
  return 1
}

if ! start_broker; then
  log "Kafka failed to start (log kept in $SERVER_LOG.failed); trying once more"
  start_broker || die "Kafka failed to start twice"
fi
log "Kafka ready (pid $pid)"
echo "DAMSELFLY_KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT"
