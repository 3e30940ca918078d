#!/usr/bin/env bash
# The report in a real browser (ctest label `service`): trains the small real sweep of
# tests/browser/sweep.yaml and the protocol of tests/browser/protocol.yaml (the search section's
# rungs and selection charts), runs two tiny benches, plants markup in an architecture and a sweep
# name (as anyone editing the database with sqlite3 could), renders the report, loads it in headless
# Chromium (Debian package `chromium`, installed by ci/test.sh) and checks the rendered DOM with
# check_dom.js: every chart drawn, no console message, the planted markup inert.
#   tests/browser/test_report_browser.sh path/to/lenetlab
# Exit 77 (ctest: skipped) when Chromium, node, sqlite3, real MNIST or the report assets are
# missing. Chromium runs in its own process group, stopped by that id when the test ends.
set -euo pipefail
lenetlab=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)

skip() { echo "lenetlab-test-skipped: $*"; exit 77; }
browser=$(command -v chromium || true)
[[ -n $browser ]] || skip "chromium not installed (ci/test.sh installs it: apt-get install chromium)"
command -v node >/dev/null || skip "node not installed"
command -v sqlite3 >/dev/null || skip "sqlite3 not installed"
"$lenetlab" data verify mnist >/dev/null 2>&1 || skip "real MNIST missing (lenetlab data fetch mnist)"

work=$(mktemp -d)
chrome_pid=""
cleanup() {
  if [[ -n $chrome_pid ]]; then kill -KILL -- "-$chrome_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
db="$work/results.db"
started=$SECONDS

echo "== sweep (24 runs on 300 MNIST images)"
"$lenetlab" --db "$db" run "$here/sweep.yaml" --jobs 1 >"$work/run.log" 2>&1 ||
  { tail -20 "$work/run.log"; exit 1; }
echo "== protocol (8 tuning runs by successive halving, then 4)"
"$lenetlab" --db "$db" run "$here/protocol.yaml" --jobs 1 >"$work/protocol.log" 2>&1 ||
  { tail -20 "$work/protocol.log"; exit 1; }
echo "== benches"
"$lenetlab" --db "$db" bench --arch lenet-relu --arch lenet5-relu --batch-size 16 --batch-size 32 \
  --threads 1 --threads 2 --warmup-steps 1 --steps 2 --repetitions 2 >"$work/bench.log" 2>&1 ||
  { tail -20 "$work/bench.log"; exit 1; }
"$lenetlab" --db "$db" bench --profile lenet5-relu --batch-size 16 --threads 1 --warmup-steps 1 \
  --steps 2 --repetitions 2 >>"$work/bench.log" 2>&1 || { tail -20 "$work/bench.log"; exit 1; }

# Two of the three seeds of one configuration failed: a configuration with one result (no
# interval) and the failures section are drawn too.
planted='<img src=x onerror="document.body.dataset.xss=1+1">'
sqlite3 "$db" "UPDATE runs SET status = 'failed', error = 'planted failure', test_accuracy = NULL,
                 test_loss = NULL
               WHERE architecture = 'lenet5-relu' AND optimizer = 'adam' AND learning_rate = 0.01
                 AND seed > 1;
               UPDATE runs SET architecture = '${planted}lenet-relu' WHERE architecture = 'lenet-relu';
               UPDATE sweeps SET name = '${planted}browser-check' WHERE name = 'browser-check';"
report="$work/report.html"
if ! "$lenetlab" --db "$db" report -o "$report" >"$work/report.log" 2>&1; then
  cat "$work/report.log"
  grep -q "assets" "$work/report.log" && skip "report assets missing (lenetlab report --fetch-assets)"
  exit 1
fi

for chart in chart-rungs- chart-selection-; do
  grep -q "id=\"$chart" "$report" || { echo "FAIL the report has no $chart chart"; exit 1; }
done

echo "== chromium"
# --virtual-time-budget lets the page's scripts finish (virtual time runs ahead when idle) before
# the DOM is dumped; console messages go to stderr with --enable-logging=stderr.
setsid "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$work/profile" --enable-logging=stderr --v=0 --window-size=1400,1000 \
  --virtual-time-budget=30000 --dump-dom "file://$report" >"$work/dom.html" 2>"$work/chromium.log" &
chrome_pid=$!
for ((waited = 0; waited < 180; ++waited)); do
  kill -0 "$chrome_pid" 2>/dev/null || break
  sleep 1
done
if kill -0 "$chrome_pid" 2>/dev/null; then
  echo "FAIL chromium did not finish within 180 s"
  exit 1
fi
wait "$chrome_pid" || { echo "FAIL chromium exited with $?"; tail -20 "$work/chromium.log"; exit 1; }
kill -KILL -- "-$chrome_pid" 2>/dev/null || true  # helpers left in its process group, if any
chrome_pid=""

node "$here/check_dom.js" "$report" "$work/dom.html" "$work/chromium.log"
echo "browser test passed in $((SECONDS - started)) s"
