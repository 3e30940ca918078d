#!/bin/bash
# Training speed of lenetlab against the peers of ../shared/bench/peers, measured back to back in one
# sitting, with the ratios (issue 16 sec. 2). Usage:
#   ci/bench-peers.sh [OUT_DIR]          (default results/bench-peers-<date>)
# Writes OUT_DIR/raw.tsv (one row per measurement) and OUT_DIR/summary.md (per case: lenetlab, each
# peer, the best peer and lenetlab's lead; the fp32 FMA peak of `lenetlab bench --fma-peak` and the
# fraction of it lenetlab reaches), and prints the summary.
# env: PEERS (default "pytorch-steps caffe dlib"; empty: lenetlab only), ARCHS ("lenet-relu lenet5-relu"), BATCHES ("64 128"),
#      THREADS_LIST ("1 2"), LENETLAB (build/release/lenetlab), PEERS_DIR (../shared/bench/peers),
#      MNIST (~/.cache/lenetlab/datasets/mnist, fetched by `lenetlab data fetch mnist`), STEPS (lenetlab
#      steps per repetition, 40), PEER_OPENBLAS_CORETYPE (default SkylakeX: OpenBLAS's AVX-512 kernels,
#      the fastest setting of the BLAS peers on this machine kind; see the peers' README), ENGINE
#      (lenetlab's training engine, 1 or 2: `bench --engine`; default 1), MICRO_BATCH (engine 2's
#      micro-batch size, `bench --micro-batch`; default the run setting's, 32).
# The peers install their Debian packages on first use (apt-get, as root). Run it on an otherwise idle
# machine and compare only ratios measured in the same sitting: absolute figures from different
# sittings or machines are not comparable. BLAS caveat: a PyTorch, Caffe or dlib on Debian's reference
# BLAS is several times slower (PyTorch lenet-relu: 369 vs 1,571 images/s); these peers run OpenBLAS.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$root/results/bench-peers-$(date +%Y%m%d-%H%M%S)}
LENETLAB=${LENETLAB:-$root/build/release/lenetlab}
PEERS_DIR=${PEERS_DIR:-$root/../shared/bench/peers}
MNIST=${MNIST:-$HOME/.cache/lenetlab/datasets/mnist}
export PEER_OPENBLAS_CORETYPE=${PEER_OPENBLAS_CORETYPE:-SkylakeX}
[ -x "$LENETLAB" ] || { echo "bench-peers: no lenetlab binary at $LENETLAB (build it, or set LENETLAB)" >&2; exit 2; }
[ -d "$PEERS_DIR" ] || { echo "bench-peers: no peers directory at $PEERS_DIR (set PEERS_DIR)" >&2; exit 2; }
[ -e "$MNIST/train-images-idx3-ubyte" ] || [ -e "$MNIST/train-images-idx3-ubyte.gz" ] ||
  { echo "bench-peers: no MNIST in $MNIST (run: $LENETLAB data fetch mnist)" >&2; exit 2; }
mkdir -p "$OUT"
raw=$OUT/raw.tsv db=$OUT/lenetlab-bench.db
printf 'program\tarch\tbatch\tthreads\timages_per_s\tgflops\n' > "$raw"

# lenetlab ARCH BATCH THREADS: training images/s (median of 5 repetitions) and GFLOP/s, from the
# bench tables of $db (framework/store/migrations/3_published_bench.sql).
lenetlab_case() {
  "$LENETLAB" --db "$db" bench --arch "$1" --batch-size "$2" --threads "$3" --warmup-steps 5 \
    --steps "${STEPS:-40}" --repetitions 5 --engine "${ENGINE:-1}" ${MICRO_BATCH:+--micro-batch "$MICRO_BATCH"} \
    > "$OUT/lenetlab-$1-$2-$3.log" 2>&1 ||
    { echo "bench-peers: lenetlab bench failed, see $OUT/lenetlab-$1-$2-$3.log" >&2; return 1; }
  sqlite3 -separator $'\t' "$db" "SELECT 'lenetlab', architecture, batch_size, threads,
      printf('%.0f', images_per_second_median),
      printf('%.1f', 6.0 * macs_per_image * images_per_second_median / 1e9)
    FROM bench_results WHERE mode = 'training' AND bench_run_id = (SELECT max(id) FROM bench_runs)"
}

# peer NAME ARCH BATCH THREADS: the peer's own run.sh (last line images_per_s=N), steps as run_all.sh.
peer_case() {
  local steps=120 log="$OUT/$1-$2-$3-$4.log" ips
  [ "$2" != lenet5-relu ] || steps=400
  steps=$(( steps * 128 / $3 ))
  [ "$steps" -le $(( 60000 / $3 - 3 )) ] || steps=$(( 60000 / $3 - 3 ))
  if "$PEERS_DIR/$1/run.sh" "$MNIST" "$2" "$3" "$4" "$steps" > "$log" 2>&1; then
    ips=$(sed -n 's/^images_per_s=//p' "$log" | tail -1)
  else
    ips=FAILED
  fi
  printf '%s\t%s\t%s\t%s\t%.0f\t\n' "$1" "$2" "$3" "$4" "${ips/FAILED/0}"
}

for arch in ${ARCHS:-lenet-relu lenet5-relu}; do
  for batch in ${BATCHES:-64 128}; do
    for threads in ${THREADS_LIST:-1 2}; do
      echo "bench-peers: $arch batch $batch threads $threads" >&2
      lenetlab_case "$arch" "$batch" "$threads" | tee -a "$raw"
      for peer in ${PEERS-pytorch-steps caffe dlib}; do peer_case "$peer" "$arch" "$batch" "$threads" | tee -a "$raw"; done
    done
  done
done
"$LENETLAB" bench --fma-peak --threads 1 --threads 2 > "$OUT/fma-peak.txt"
# Summary: per case, lenetlab, every peer, the best peer and the lead; then the FMA peak and the
# fraction of it lenetlab's training reaches (per-thread peak x threads).
awk -F'\t' -v load="$(cut -d' ' -f1-3 /proc/loadavg)" -v engine="${ENGINE:-1}" -v mb="${MICRO_BATCH:-32}" -v peakfile="$OUT/fma-peak.txt" '
  BEGIN { while ((getline line < peakfile) > 0) { split(line, f, " +");
            if (line ~ /^ *[0-9]+ /) { n = (f[1] == "" ? f[2] : f[1]); g = (f[1] == "" ? f[3] : f[2]); peak[n] = g } } }
  NR == 1 { next }
  { key = $2 " | " $3 " | " $4; if (!(key in seen)) { seen[key] = 1; order[++k] = key; thr[key] = $4 }
    if ($1 == "lenetlab") { ours[key] = $5; gf[key] = $6 }
    else { cell[key] = cell[key] (cell[key] == "" ? "" : ", ") sprintf("%s %s", $1, ($5 > 0 ? $5 : "failed"));
           if ($5 > best[key]) { best[key] = $5; bestname[key] = $1 } } }
  END {
    print "| arch | batch | threads | lenetlab images/s | peers images/s | best peer | lead | lenetlab GFLOP/s | % of FMA peak |"
    print "|---|---|---|---|---|---|---|---|---|"
    for (i = 1; i <= k; i++) { key = order[i]; t = thr[key]
      lead = (best[key] > 0 ? sprintf("%.2fx", ours[key] / best[key]) : "n/a")
      pct = (peak[t] > 0 ? sprintf("%.0f%%", 100 * gf[key] / peak[t]) : "n/a")
      printf "| %s | %s | %s | %s | %s | %s | %s |\n", key, ours[key], cell[key], bestname[key], lead, gf[key], pct }
    printf "\nlenetlab: engine %s%s.\n", engine, (engine == 2 ? " (micro-batches of " mb ")" : "")
    printf "\nfp32 FMA peak (lenetlab bench --fma-peak): 1 thread %s GFLOP/s, 2 threads %s GFLOP/s. Load average at the end: %s.\n", peak[1], peak[2], load
  }' "$raw" | tee "$OUT/summary.md"
