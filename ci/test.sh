#!/usr/bin/env bash
# Set-up, build and the whole test suite (doctest via ctest), as CI runs it (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
ctest --preset release -j 2 --timeout 900
