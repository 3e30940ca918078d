#!/usr/bin/env bash
# Writes the binary and CSV seed inputs of the fuzz targets into tests/fuzz/corpus/ (the YAML seeds
# there are hand-written; ci/fuzz.sh also seeds the YAML targets with sweeps/ and
# experiments/architectures/). Idempotent; the output is committed, rerun only to change the seeds.
# Input layouts: the header comments of fuzz_idx.cpp and fuzz_csv.cpp.
set -euo pipefail
cd "$(dirname "$0")/corpus"

# printf with \x escapes of a hex string: hex "0008" -> bytes 00 08.
bytes() { printf "$(sed 's/\(..\)/\\x\1/g' <<<"$1")"; }
u32() { printf '%08x' "$1"; }
# idx3 COUNT ROWS COLS PIXELHEX / idx1 COUNT LABELHEX: hex of an IDX file.
idx3() { echo "00000803$(u32 "$1")$(u32 "$2")$(u32 "$3")$4"; }
idx1() { echo "00000801$(u32 "$1")$2"; }
# idx_seed NAME NUM_CLASSES GZIP IMAGES_HEX LABELS_HEX
idx_seed() {
  local images=$4 labels=$5 flags=0
  if [[ $3 == 1 ]]; then
    flags=1
    images=$(bytes "$images" | gzip -n -9 | xxd -p | tr -d '\n')
    labels=$(bytes "$labels" | gzip -n -9 | xxd -p | tr -d '\n')
  fi
  bytes "$(printf '%02x%02x%04x' $(($2 - 1)) "$flags" $((${#images} / 2)))$images$labels" \
    >"fuzz_idx/$1"
}
mkdir -p fuzz_idx fuzz_csv
px6=00ff107f8001       # 2x3 pixels
idx_seed valid-2x2x3 10 0 "$(idx3 2 2 3 "$px6$px6")" "$(idx1 2 0307)"
idx_seed valid-gz 10 1 "$(idx3 2 2 3 "$px6$px6")" "$(idx1 2 0307)"
idx_seed valid-28x28 10 0 "$(idx3 1 28 28 "$(printf '%01568d' 0)")" "$(idx1 1 05)"
idx_seed valid-256-classes 256 0 "$(idx3 1 1 1 ff)" "$(idx1 1 ff)"
idx_seed label-out-of-range 5 0 "$(idx3 2 2 3 "$px6$px6")" "$(idx1 2 0307)"
idx_seed count-mismatch 10 0 "$(idx3 2 2 3 "$px6$px6")" "$(idx1 3 030701)"
idx_seed swapped-magic 10 0 "$(idx1 2 0307)" "$(idx3 2 2 3 "$px6$px6")"
idx_seed truncated 10 0 "$(idx3 2 2 3 "$px6")" "$(idx1 2 0307)"
idx_seed trailing 10 0 "$(idx3 1 2 3 "${px6}00")" "$(idx1 1 03)"
idx_seed zero-rows 10 0 "$(idx3 1 0 3 "")" "$(idx1 1 03)"
idx_seed huge-count 10 0 "$(idx3 4294967295 4096 4096 "$px6")" "$(idx1 4294967295 03)"

# csv_seed NAME SIZE_BYTE NUM_CLASSES TEXT (printf escapes allowed in TEXT)
csv_seed() { { printf '%b' "$(printf '\\x%02x\\x%02x' "$2" $(($3 - 1)))"; printf '%b' "$4"; } >"fuzz_csv/$1"; }
h22='label,pixel0,pixel1,pixel2,pixel3'
csv_seed valid-2x2 9 10 "$h22\n3,0,255,17,4\n9,1,2,3,4\n"
csv_seed valid-crlf-bom 9 10 "\xef\xbb\xbf$h22\r\n3,0,255,17,4\r\n9,1,2,3,4\r\n\r\n"
csv_seed valid-blanks 9 10 "$h22\n 3 , 0,255 ,17,\t4\n"
csv_seed valid-1x1 0 2 "label,pixel0\n1,200\n0,0\n"
csv_seed missing-column 9 10 "$h22\n3,0,255,17\n"
csv_seed extra-column 9 10 "$h22\n3,0,255,17,4,5\n"
csv_seed pixel-256 9 10 "$h22\n3,0,256,17,4\n"
csv_seed label-10 9 10 "$h22\n10,0,255,17,4\n"
csv_seed non-numeric 9 10 "$h22\n3,0,x,17,4\n"
csv_seed negative 9 10 "$h22\n3,-1,2,17,4\n"
csv_seed blank-between 9 10 "$h22\n3,0,255,17,4\n\n9,1,2,3,4\n"
csv_seed no-header 9 10 "3,0,255,17,4\n"
csv_seed header-only 9 10 "$h22\n"
header784="label$(for i in $(seq 0 783); do printf ',pixel%d' "$i"; done)"
row784="7$(for i in $(seq 0 783); do printf ',%d' $((i % 256)); done)"
csv_seed valid-28x28 255 10 "$header784\n$row784\n"
