#!/usr/bin/env bash
# System packages the tests need, from Debian's packages (idempotent): PostgreSQL for the
# history tests, strace for the network test, software OpenGL for the renderer, ffmpeg for the
# phone-format tests, npm for the lite and heavy pose models, and headless Chromium
# (setup-browser.sh) for the browser tests.
set -euo pipefail
here="$(dirname "$0")"
bash "$here/apt-install-missing.sh" postgresql strace libegl1 libegl-mesa0 libgl1-mesa-dri libgl1 fonts-dejavu-core
bash "$here/apt-install-missing.sh" iproute2  # network namespaces: the phone-mode browser test
# ffmpeg: phone formats and degraded copies of the evaluation clips
bash "$here/apt-install-missing.sh" ffmpeg
# npm: the lite and heavy pose models. Many machines have Node.js (and npm) from elsewhere than
# Debian, and Debian's npm would conflict with it: only install it when there is none.
command -v npm >/dev/null 2>&1 || bash "$here/apt-install-missing.sh" npm
bash "$here/setup-browser.sh"
echo "setup-system: ok"
