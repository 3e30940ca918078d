#!/usr/bin/env bash
# Usage: bash ci/compare-results.sh A.db B.db
# Compares every stored result of two lenetlab results databases (ci/compare-results.sql: per run
# key the configuration, status, test metrics, weights hash, every epoch's metrics, class metrics
# and confusion cells; not times, hosts or ids), e.g. a merged sharded sweep against the same
# sweep run in one process. Prints one line per table and SAME (exit 0) or DIFFERENT (exit 1).
set -euo pipefail
if [[ $# -ne 2 || ! -f $1 || ! -f $2 ]]; then
  echo "usage: bash ci/compare-results.sh A.db B.db (two existing results databases)" >&2
  exit 2
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
other=${2//\'/\'\'}
out=$(sqlite3 -readonly -separator ' ' "$1" "ATTACH DATABASE 'file:$other?mode=ro' AS other" \
  ".read $here/compare-results.sql")
echo "table rows-in-A rows-in-B differing"
echo "$out"
if awk '$4 != 0 || ($1 == "runs" && $2 == 0) { bad = 1 } END { exit bad ? 0 : 1 }' <<<"$out"; then
  echo DIFFERENT
  exit 1
fi
echo SAME
