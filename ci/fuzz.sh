#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (CMake preset `fuzz`: clang++ 14, ASan + UBSan, every
# lenetlab library instrumented for coverage) and runs each for a bounded time. Fails (exit 1) when a
# target crashes, hangs (> 10 s on one input), runs out of memory (> 2 GB) or reports a sanitizer
# error; the input that did it is kept in build/fuzz/artifacts/ (reproduce: build/fuzz/tests/fuzz/
# TARGET FILE).
#
#   FUZZ_SECONDS  time per target (default 60)
#   FUZZ_RUNS     instead of a time: this many inputs per target, from the fixed FUZZ_SEED (default
#                 1), starting from the seed files alone (an empty corpus, the seeds listed in name
#                 order), so that the run is input for input the same on every machine however fast
#                 and whatever order its file system lists directories in (what CI uses; it passes
#                 on a clone exactly when it passes here). FUZZ_SECONDS then only caps the time
#                 (default 600)
#   FUZZ_TARGETS  space-separated subset (default: all four)
#
# Needs the build dependencies that ci/setup.sh installs (CI runs ci/test.sh first); installs clang
# and the libFuzzer/sanitizer runtimes (libclang-rt-14-dev) itself when missing. In time mode the
# corpus each target grows is kept in build/fuzz/corpus/TARGET and reused by the next run; the seeds are in
# tests/fuzz/corpus/TARGET (plus sweeps/ and experiments/architectures/ for the YAML targets).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

limit=()
if [[ -n ${FUZZ_RUNS:-} ]]; then
  seconds=${FUZZ_SECONDS:-600}
  limit=(-runs="$FUZZ_RUNS" -seed="${FUZZ_SEED:-1}")
else
  seconds=${FUZZ_SECONDS:-60}
fi
read -r -a targets <<<"${FUZZ_TARGETS:-fuzz_sweep_yaml fuzz_arch_yaml fuzz_idx fuzz_csv}"

packages=(clang libclang-rt-14-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "fuzz: installing ${missing[*]}"
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

start=$SECONDS
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)" 2>&1 | grep -E "error:|warning:|Error [0-9]" || true
for t in "${targets[@]}"; do
  test -x "build/fuzz/tests/fuzz/$t" || { echo "fuzz: build failed ($t missing)"; cmake --build --preset fuzz -j 1; exit 1; }
done
if ((${#limit[@]})); then
  echo "fuzz: built in $((SECONDS - start)) s; ${FUZZ_RUNS} inputs per target (seed ${FUZZ_SEED:-1}, at most ${seconds} s)"
else
  echo "fuzz: built in $((SECONDS - start)) s; ${seconds} s per target"
fi

# UBSan: stop at the first report with a stack (the build has -fno-sanitize-recover=undefined).
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1}
export OMP_NUM_THREADS=1

failed=()
mkdir -p build/fuzz/artifacts build/fuzz/logs
for t in "${targets[@]}"; do
  seeds=("tests/fuzz/corpus/$t")
  case $t in
    fuzz_sweep_yaml) seeds+=(sweeps tests/fuzz/corpus/fuzz_arch_yaml) ;;
    fuzz_arch_yaml) seeds+=(experiments/architectures) ;;
  esac
  log=build/fuzz/logs/$t.log
  # A scratch working directory: relative paths a sweep names resolve there, not in the tree.
  work=$(mktemp -d)
  if ((${#limit[@]})); then
    # libFuzzer reads corpus directories in readdir order, which differs between file systems
    # and clones; -seed_inputs keeps the order given (name order), so the run is reproducible.
    corpus=$work/corpus
    mkdir -p "$corpus"
    find "${seeds[@]/#/$root/}" -type f | LC_ALL=C sort | paste -sd, >"$work/seeds.txt"
    inputs=(-seed_inputs="@$work/seeds.txt" "$corpus")
  else
    corpus=build/fuzz/corpus/$t
    mkdir -p "$corpus"
    inputs=("$root/$corpus" "${seeds[@]/#/$root/}")
  fi
  rc=0
  (cd "$work" && "$root/build/fuzz/tests/fuzz/$t" "${limit[@]}" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$root/build/fuzz/artifacts/$t-" \
    "${inputs[@]}") >"$log" 2>&1 || rc=$?
  corpus_files=$(find "$corpus" -type f | wc -l)
  rm -rf "$work"
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  cov=$(grep -oE '(DONE|#[0-9]+ +(NEW|REDUCE|pulse|INITED)) +cov: [0-9]+' "$log" | tail -1 | grep -o '[0-9]*$' || echo "?")
  if ((rc == 0)); then
    printf 'fuzz: %-16s ok      %9s executions (%s/s), coverage %s, corpus %s files\n' \
      "$t" "$runs" "$speed" "$cov" "$corpus_files"
  else
    printf 'fuzz: %-16s FAILED  (exit %s) after %s executions; log %s\n' "$t" "$rc" "$runs" "$log"
    grep -E "ERROR:|SUMMARY:|runtime error|Test unit written|==[0-9]+== ?ERROR|deadly signal|timeout" "$log" | head -20 || true
    tail -40 "$log"
    failed+=("$t")
  fi
done

echo "fuzz: done in $((SECONDS - start)) s"
if ((${#failed[@]})); then
  echo "fuzz: FAILED: ${failed[*]} (inputs in build/fuzz/artifacts/)"
  exit 1
fi
