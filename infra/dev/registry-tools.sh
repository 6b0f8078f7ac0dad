#!/usr/bin/env bash
# Install (once) the real container tooling the registry tests and `damselfly bench image` run:
# Debian's docker-registry (CNCF distribution), skopeo, containerd (+ ctr), runc and
# apache2-utils (htpasswd). Only what is missing is installed, so a machine that has them all
# costs one dpkg-query. Nothing is started here: the fixtures in bench/registry/ start private
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

PACKAGES=(docker-registry skopeo containerd runc apache2-utils)

take_lock registry-tools

package_installed() { # package
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = installed ]
}

missing=()
for p in "${PACKAGES[@]}"; do
  package_installed "$p" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  # The packages' postinst may try to start their services; without an init system
  # (containers, CI) that fails harmlessly, and our fixtures never use those services.
  apt_install "${missing[@]}"
fi

# path KEY binary: the binary must now be on PATH (runc lives in /usr/sbin, which a
# non-login shell may lack).
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
