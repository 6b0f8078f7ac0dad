# shellcheck shell=bash
# Shared helpers for the infra/dev/*.sh scripts. Source it; do not run it.
#
# Conventions every script follows:
#   - stdout carries only the final KEY=VALUE line(s), so callers (the Node global
#     test setup) can parse it; every diagnostic goes to stderr via `log`.
#   - all state lives under $DEV_DIR (default ~/.cache/damselfly), overridable
#     with DAMSELFLY_DEV_DIR, so several checkouts can share one cache.

DEV_DIR="${DAMSELFLY_DEV_DIR:-${HOME:-/root}/.cache/damselfly}"
# shellcheck disable=SC2034  # used by the scripts that source this file
INFRA_DEV_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

log() { printf '[damselfly-dev] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Serialise the scripts that touch one service: up/down may be called at the
# same time by parallel test runners. The lock is held until the script exits
# (fd 9 stays open in this shell). Every daemon we start must be given `9>&-`:
# a server that inherits fd 9 would hold the lock for as long as it runs.
take_lock() { # name
  mkdir -p "$DEV_DIR"
  exec 9>"$DEV_DIR/$1.lock"
  if ! flock -w 600 9; then
    die "timed out waiting for lock $DEV_DIR/$1.lock"
  fi
}

# True when something accepts TCP connections on host:port (bash's /dev/tcp,
# so no extra tools are needed).
port_open() { # host port
  # shellcheck disable=SC2016  # $1/$2 expand in the inner bash, on purpose
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

# A killed process can linger as a zombie until init reaps it (seconds on some
# machines); kill -0 still succeeds on a zombie, so check its state too.
pid_alive() { # pid
  [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null \
    && [ "$(ps -o stat= -p "$1" 2>/dev/null | cut -c1)" != Z ]
}

# SIGTERM (clean shutdown), then SIGKILL after timeout_s; returns once it is gone.
stop_pid() { # pid timeout_s
  local pid="$1" i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < $2 * 2; i++)); do
    pid_alive "$pid" || return 0
    sleep 0.5
  done
  log "pid $pid did not stop within $2 s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
  while pid_alive "$pid"; do sleep 0.2; done
}

# Print the pid from pid_file if it is still a kafka.Kafka JVM running with
# this server.properties (pids get reused, so the pid alone proves nothing).
kafka_pid() { # pid_file props
  local pid cmd
  pid="$(cat "$1" 2>/dev/null || true)"
  pid_alive "$pid" || return 0
  cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
  if [[ "$cmd" == *"kafka.Kafka $2"* ]]; then echo "$pid"; fi
}

# Root may install missing Debian packages; anyone else gets told what to do.
# up.sh runs the postgres and kafka scripts in parallel, and two apt-get runs at
# once fail on dpkg's lock, so installs are serialised on a lock of their own.
apt_install() { # packages...
  if [ "$(id -u)" -ne 0 ]; then
    die "missing packages ($*); install them with: sudo apt-get install -y $*"
  fi
  mkdir -p "$DEV_DIR"
  (
    flock -w 900 8 || die "timed out waiting for $DEV_DIR/apt.lock"
    log "installing Debian packages: $* (apt-get update + install, may take a minute)"
    # 8>&- 9>&-: services the packages start (postinst) must not hold our locks.
    apt-get update -qq >&2 8>&- 9>&-
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2 8>&- 9>&-
  ) 8>"$DEV_DIR/apt.lock"
}
