#!/usr/bin/env bash
# Install (once) the real container tooling the registry tests and `damselfly bench image` run:
# Debian's docker-registry (CNCF distribution), skopeo, containerd (+ ctr), runc and
# apache2-utils (htpasswd). Only what is missing is installed, so a machine that has them all
# costs a few PATH look-ups. Nothing is started here: the fixtures in bench/registry/ start private
# instances (own config, port, root and socket) and never use the packages' system services.
#
# stdout: KEY=VALUE lines, the paths of the binaries:
#   DAMSELFLY_DOCKER_REGISTRY DAMSELFLY_SKOPEO DAMSELFLY_CONTAINERD DAMSELFLY_CTR
#   DAMSELFLY_RUNC DAMSELFLY_HTPASSWD
# stderr: diagnostics.
#
# Safe to run from several test files at once: the check and the install are serialised on
# $DEV_DIR/registry-tools.lock (apt-get itself on lib.sh's apt.lock).
# Knobs: DAMSELFLY_DEV_DIR (where the locks live).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

take_lock registry-tools

# sbin too: runc lives in /usr/sbin, which a non-login shell may lack.
have() { PATH="$PATH:/usr/sbin:/sbin" command -v "$1" >/dev/null; }

# What is missing is judged by the binaries, not by dpkg: a machine with Docker's own
# containerd.io (it ships containerd, ctr and runc) must keep it, and installing Debian's
# containerd over it would make apt remove Docker.
missing=()
have docker-registry || missing+=(docker-registry)
have skopeo || missing+=(skopeo)
{ have containerd && have ctr; } || missing+=(containerd)
have runc || missing+=(runc)
have htpasswd || missing+=(apache2-utils)
if [ "${#missing[@]}" -gt 0 ]; then
  # The packages' postinst may start their system services (on a machine with an init
  # system); our fixtures never use them: they start private instances.
  apt_install "${missing[@]}"
fi

# print_path KEY binary: the binary must now be on PATH.
print_path() {
  local found
  found="$(PATH="$PATH:/usr/sbin:/sbin" command -v "$2" || true)"
  [ -n "$found" ] || die "$2 is missing although its package is installed"
  echo "$1=$found"
}
print_path DAMSELFLY_DOCKER_REGISTRY docker-registry
print_path DAMSELFLY_SKOPEO skopeo
print_path DAMSELFLY_CONTAINERD containerd
print_path DAMSELFLY_CTR ctr
print_path DAMSELFLY_RUNC runc
print_path DAMSELFLY_HTPASSWD htpasswd
