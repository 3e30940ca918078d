#!/usr/bin/env bash
# One-time set-up of a Debian 12 machine for lenetlab (run as root, or with sudo available):
#   1. installs the Debian packages lenetlab builds against (only the missing ones; quiet when all present),
#   2. configures and builds the release preset (build/release/lenetlab),
#   3. fetches and verifies real MNIST into the dataset cache (`lenetlab data fetch mnist`),
#   4. fetches and verifies the pinned Vega-Lite scripts the HTML report inlines.
# Idempotent: a second run only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake git pkg-config
  libdnnl-dev ocl-icd-opencl-dev libtbb-dev libyaml-cpp-dev libsqlitecpp-dev libsqlite3-dev
  doctest-dev libbenchmark-dev libcli11-dev nlohmann-json3-dev libfmt-dev libxxhash-dev libssl-dev
  libboost-math-dev libutfcpp-dev zlib1g-dev sqlite3 nodejs npm
)
missing=()
for p in "${packages[@]}"; do
  # nodejs/npm may come from outside Debian on some images: accept any working npm.
  if [[ $p == nodejs || $p == npm ]] && command -v npm >/dev/null 2>&1; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

preset=${LENETLAB_PRESET:-release}
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$(nproc)" 2>&1 | grep -E "error:|warning:|Error [0-9]" || true
test -x "build/$preset/lenetlab" || { echo "setup: build failed (build/$preset/lenetlab missing)"; cmake --build --preset "$preset" -j "$(nproc)"; exit 1; }

"build/$preset/lenetlab" data fetch mnist
"build/$preset/lenetlab" report --fetch-assets
echo "setup: ready (build/$preset/lenetlab)"
