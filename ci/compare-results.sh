#!/usr/bin/env bash
# Usage: bash ci/compare-results.sh A.db B.db
# Compares every stored result of two lenetlab results databases: per run key its configuration,
# status, epoch counts, test metrics, weights hash, model size, thread count and dataset checksum;
# every epoch's metrics; every class-metrics row and confusion cell. Times, hosts and ids are not
# compared (they differ between any two trainings). E.g. a merged sharded sweep against the same
# sweep run in one process. Prints one line per table (table, rows in A, rows in B, rows of either
# missing from the other) and SAME (exit 0) or DIFFERENT (exit 1).
set -euo pipefail
if [[ $# -ne 2 || ! -f $1 || ! -f $2 ]]; then
  echo "usage: bash ci/compare-results.sh A.db B.db (two existing results databases)" >&2
  exit 2
fi
# One entry per table: its name, then the rows compared, "S." standing for the database's schema.
tables=(
  "runs|r.key, r.config_json, r.status, r.epochs_completed, r.diverged_epoch, r.best_epoch,
   r.best_val_accuracy, r.test_loss, r.test_accuracy, r.test_images, r.weights_hash, r.parameters,
   r.trainable_parameters, r.macs_per_image, r.threads, r.dataset_sha256 FROM S.runs r"
  "epochs|r.key, e.epoch, e.train_loss, e.train_accuracy, e.val_loss, e.val_accuracy,
   e.learning_rate FROM S.epochs e JOIN S.runs r ON r.id = e.run_id"
  "class_metrics|r.key, c.label, c.precision, c.recall, c.f1, c.support
   FROM S.class_metrics c JOIN S.runs r ON r.id = c.run_id"
  "confusion|r.key, c.true_label, c.predicted_label, c.count
   FROM S.confusion c JOIN S.runs r ON r.id = c.run_id"
)
sql=""
for entry in "${tables[@]}"; do
  name=${entry%%|*}
  rows=${entry#*|}
  a="SELECT ${rows//S./main.}"
  b="SELECT ${rows//S./other.}"
  sql+="SELECT '$name', (SELECT count(*) FROM ($a)), (SELECT count(*) FROM ($b)),
    (SELECT count(*) FROM ($a EXCEPT $b)) + (SELECT count(*) FROM ($b EXCEPT $a));
"
done
other=${2//\'/\'\'}
out=$(sqlite3 -readonly -separator ' ' "$1" "ATTACH DATABASE 'file:$other?mode=ro' AS other" \
  "$sql")
echo "table rows-in-A rows-in-B differing"
echo "$out"
if awk '$4 != 0 || ($1 == "runs" && $2 == 0) { bad = 1 } END { exit bad ? 0 : 1 }' <<<"$out"; then
  echo DIFFERENT
  exit 1
fi
echo SAME
