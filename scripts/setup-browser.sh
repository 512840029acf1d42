#!/usr/bin/env bash
# Headless Chromium for the live page's browser tests and the latency benchmark, from
# Debian's packages (idempotent: installs only what is missing). Called by setup-system.sh.
set -euo pipefail
need=()
for pkg in chromium chromium-driver fonts-dejavu-core; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup-browser: need root to install: ${need[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if ! /usr/bin/chromium --version >/dev/null 2>&1; then
  echo "setup-browser: /usr/bin/chromium does not run" >&2
  exit 1
fi
echo "setup-browser: ok ($(/usr/bin/chromium --version 2>/dev/null | head -1))"
