#!/usr/bin/env bash
# System packages the tests need, from Debian's packages (idempotent): headless Chromium for
# the browser tests, PostgreSQL for the history tests, software OpenGL for the renderer.
set -euo pipefail
need=()
for pkg in chromium chromium-driver postgresql strace libosmesa6 libegl1 libgl1 fonts-dejavu-core; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup-system: need root to install: ${need[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
echo "setup-system: ok"
bash "$(dirname "$0")/setup-browser.sh"
