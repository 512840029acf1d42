#!/usr/bin/env bash
# The whole test suite (what CI runs through `make test`).
set -uo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "run-tests: no tests were collected" >&2
  exit 1
fi
exit "$rc"
