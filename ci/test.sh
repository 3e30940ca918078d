#!/usr/bin/env bash
# Set-up, build and the whole test suite (doctest via ctest), as CI runs it (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
# The browser test (tests/browser, label service) loads the report in headless Chromium; only the
# tests need it, so it is installed here and not by ci/setup.sh.
if ! command -v chromium >/dev/null 2>&1; then
  echo "test: installing chromium (tests/browser)"
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
# Test-only packages: slurm-wlm and munge for tests/slurm (the ctest fixture starts a single-node
# cluster with ci/slurm-up.sh and stops it with ci/slurm-down.sh); skipped there when not installable.
bash ci/slurm-up.sh --install-only || echo "test: slurm-wlm/munge not installed: the Slurm cluster tests skip"
ctest --preset release -j 2 --timeout 900
