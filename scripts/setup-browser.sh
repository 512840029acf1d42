#!/usr/bin/env bash
# Headless Chromium for the live page's browser tests and the latency benchmark, from
# Debian's packages (idempotent: installs only what is missing). Called by setup-system.sh.
set -euo pipefail
bash "$(dirname "$0")/apt-install-missing.sh" chromium chromium-driver fonts-dejavu-core
if ! /usr/bin/chromium --version >/dev/null 2>&1; then
  echo "setup-browser: /usr/bin/chromium does not run" >&2
  exit 1
fi
echo "setup-browser: ok ($(/usr/bin/chromium --version 2>/dev/null | head -1))"
