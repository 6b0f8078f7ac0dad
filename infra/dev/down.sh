#!/usr/bin/env bash
# Stop the local services that up.sh started (only those). Keeps data dirs,
# installed packages and the Kafka jar cache, so the next up.sh is fast.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

failed=0
"$INFRA_DEV_DIR/kafka-down.sh" || { log "kafka-down.sh failed"; failed=1; }
"$INFRA_DEV_DIR/postgres-down.sh" || { log "postgres-down.sh failed"; failed=1; }
exit "$failed"
