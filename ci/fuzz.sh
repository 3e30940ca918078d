#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (CMake preset `fuzz`: clang++ 14, ASan + UBSan, every
# lenetlab library instrumented for coverage) and runs them. Fails (exit 1) when a target crashes,
# hangs (> 10 s on one input), runs out of memory (> 2 GB) or reports a sanitizer error; the input
# that did it is kept in build/fuzz/artifacts/ (reproduce: build/fuzz/tests/fuzz/TARGET FILE).
#
# Two modes:
#   fuzzing (default)  each target mutates inputs for FUZZ_SECONDS (default 60) and grows its corpus
#                      in build/fuzz/corpus/TARGET, reused by the next run. Finds new bugs, but what
#                      it tries depends on timing, address layout and paths, so it is not a CI gate.
#   FUZZ_REPLAY=1      each target runs once on every committed input: the seeds and the corpus
#                      that earlier fuzzing runs reached (tests/fuzz/corpus/TARGET), plus sweeps/,
#                      experiments/architectures/ and experiments/bench/ for the YAML targets. The
#                      same inputs on every machine: what CI runs.
#   FUZZ_TARGETS       space-separated subset (default: all six)
#
# To keep what a fuzzing run reached (new inputs, regression inputs from fixed crashes), merge it
# into the committed corpus, which keeps only inputs that add coverage:
#   build/fuzz/tests/fuzz/TARGET -merge=1 tests/fuzz/corpus/TARGET build/fuzz/corpus/TARGET
#
# Needs the build dependencies that ci/setup.sh installs (CI runs ci/test.sh first); installs clang
# and the libFuzzer/sanitizer runtimes (libclang-rt-14-dev) itself when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

replay=${FUZZ_REPLAY:-0}
seconds=${FUZZ_SECONDS:-60}
read -r -a targets <<<"${FUZZ_TARGETS:-fuzz_sweep_yaml fuzz_arch_yaml fuzz_bench_matrix fuzz_idx fuzz_csv fuzz_checkpoint}"

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
if ((replay)); then
  echo "fuzz: built in $((SECONDS - start)) s; replaying the committed inputs"
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
    fuzz_bench_matrix) seeds+=(experiments/bench) ;;
  esac
  log=build/fuzz/logs/$t.log
  # A scratch working directory: relative paths a sweep names resolve there, not in the tree.
  work=$(mktemp -d)
  if ((replay)); then
    # -runs=0: execute every input once, mutate nothing. The first directory is where libFuzzer
    # writes inputs it finds interesting: a scratch one, so the tree is never written.
    corpus=$work/corpus
    mkdir -p "$corpus"
    inputs=(-runs=0 "$corpus" "${seeds[@]/#/$root/}")
  else
    corpus=build/fuzz/corpus/$t
    mkdir -p "$corpus"
    inputs=(-max_total_time="$seconds" "$root/$corpus" "${seeds[@]/#/$root/}")
  fi
  rc=0
  (cd "$work" && "$root/build/fuzz/tests/fuzz/$t" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$root/build/fuzz/artifacts/$t-" \
    "${inputs[@]}") >"$log" 2>&1 || rc=$?
  corpus_files=$(find "$corpus" -type f | wc -l)
  rm -rf "$work"
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  cov=$(grep -oE '(DONE|#[0-9]+ +(NEW|REDUCE|pulse|INITED)) +cov: [0-9]+' "$log" | tail -1 | grep -o '[0-9]*$' || echo "?")
  if ((rc == 0 && replay)); then
    printf 'fuzz: %-16s ok      %9s inputs replayed, coverage %s\n' "$t" "$runs" "$cov"
  elif ((rc == 0)); then
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
