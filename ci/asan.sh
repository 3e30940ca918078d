#!/usr/bin/env bash
# Builds the `asan` CMake preset (AddressSanitizer + UndefinedBehaviorSanitizer, RelWithDebInfo,
# -fno-sanitize-recover=undefined; build/asan/, the lenetlab executable included, which the e2e test
# runs) and runs the doctest suite on it. Any sanitizer report fails the test that triggered it.
#
#   ASAN_TESTS    ctest -R regex of the tests to run (default: all)
#   ASAN_EXCLUDE  ctest -E regex of tests to leave out (default: none)
#   ASAN_EXCLUDE_LABELS  ctest -LE regex of labels to leave out (default: service, the tests that drive
#                 outside programs, a Slurm cluster or a browser, which the release run already covers)
#
# Needs the build dependencies of ci/setup.sh (CI runs ci/test.sh first). oneDNN, oneTBB and the
# other system libraries are not instrumented: ASan checks lenetlab's own code and every call into
# the C library; oneDNN's JIT kernels run uninstrumented.
set -euo pipefail
cd "$(dirname "$0")/.."

start=$SECONDS
cmake --preset asan >/dev/null
# GCC 12's -Wmaybe-uninitialized false positives inside <regex>/<functional> under ASan are noise.
cmake --build --preset asan -j "$(nproc)" 2>&1 | grep -E "error:|Error [0-9]" || true
test -x build/asan/lenetlab || { echo "asan: build failed"; cmake --build --preset asan -j 1; exit 1; }
built=$SECONDS
echo "asan: built in $((built - start)) s"

# halt_on_error: stop at the first report (the build already makes UBSan reports fatal).
# detect_leaks: LeakSanitizer works here (it needs ptrace, which root has); oneDNN, oneTBB and the
# OpenMP runtime free their thread pools and caches at exit, so leaks reported are lenetlab's.
# check_initialization_order / strict_init_order: static-initialisation-order bugs.
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

args=(--preset asan -j 2 --timeout 1800)
[[ -n ${ASAN_TESTS:-} ]] && args+=(-R "$ASAN_TESTS")
[[ -n ${ASAN_EXCLUDE:-} ]] && args+=(-E "$ASAN_EXCLUDE")
[[ -n ${ASAN_EXCLUDE_LABELS-service} ]] && args+=(-LE "${ASAN_EXCLUDE_LABELS-service}")
rc=0
ctest "${args[@]}" || rc=$?
echo "asan: tests took $((SECONDS - built)) s (total $((SECONDS - start)) s); ASAN_OPTIONS=$ASAN_OPTIONS"
exit $rc
