#!/usr/bin/env bash
# The main job on real MNIST: set-up, the 30-run quickstart sweep, and its HTML report.
#   results/lenetlab.db            one row per epoch per run (query: build/release/lenetlab query runs)
#   reports/quickstart.html        leaderboard, learning curves, confusion matrix (works offline)
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/setup.sh
build/release/lenetlab run sweeps/quickstart.yaml "$@"
build/release/lenetlab query best --sweep quickstart --limit 5
build/release/lenetlab report --sweep quickstart -o reports/quickstart.html
