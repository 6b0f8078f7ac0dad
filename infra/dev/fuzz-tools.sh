#!/usr/bin/env bash
# Install (once) the API fuzzer the e2e fuzz suite runs: schemathesis, pinned, from PyPI into
# a virtual environment of its own under $DEV_DIR, so neither the system's Python nor the
# user's is touched. Idempotent: a venv that already has the pinned version is reused.
# Debian's python3-venv is installed with apt-get when the venv module is missing.
#
# stdout: exactly one line, DAMSELFLY_SCHEMATHESIS=<path of the st executable>
# stderr: diagnostics.
#
# Knobs: DAMSELFLY_DEV_DIR (cache root), DAMSELFLY_SCHEMATHESIS_VERSION (default below).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VERSION="${DAMSELFLY_SCHEMATHESIS_VERSION:-4.32.5}"
VENV="$DEV_DIR/fuzz-venv"
ST="$VENV/bin/st"

take_lock fuzz-tools

installed_version() { "$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null || true; }

if [ -x "$ST" ] && [ "$(installed_version)" = "$VERSION" ]; then
  echo "DAMSELFLY_SCHEMATHESIS=$ST"
  exit 0
fi

# Debian's interpreter first: it is the one apt-get can complete with its venv module.
PY="$(command -v /usr/bin/python3 || command -v python3 || true)"
if [ -z "$PY" ]; then
  apt_install python3 python3-venv
  PY=/usr/bin/python3
fi
# `venv` without ensurepip (Debian ships it in python3-venv) makes a venv without pip.
if ! "$PY" -c 'import venv, ensurepip' 2>/dev/null; then
  apt_install python3-venv
fi

log "installing schemathesis $VERSION into $VENV (pip, once)"
rm -rf "$VENV"   # a half-made venv from an interrupted install, or another version
"$PY" -m venv "$VENV" >&2
"$VENV/bin/python" -m pip install --quiet "schemathesis==$VERSION" >&2 9>&- \
  || { rm -rf "$VENV"; die "pip could not install schemathesis==$VERSION"; }
[ -x "$ST" ] || die "schemathesis installed but $ST is missing"

echo "DAMSELFLY_SCHEMATHESIS=$ST"
