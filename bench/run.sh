#!/usr/bin/env bash
# Parquet benchmarks against DuckDB on one thread (issue 3), the Delta
# snapshot from a 100k-add checkpoint (issue 4) and RESTORE of a 100k-file
# table against its history and its difference (bench_restore.c; its tables
# are built under $build/data on the first run), and the pipeline (issue 5):
# discovery of 50,000 epoch folders, ingest of a 1,000,000-row folder against
# DuckDB, and a files-layout merge against ingesting the same file. Prints figures
# and ratios; it asserts nothing (speed is not a test). Figures go to
# docs/performance.md by hand, with the machine and the date.
#   BENCH_ROWS=1000000 bench/run.sh
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${BENCH_BUILD:-$src/build-bench}
rows=${BENCH_ROWS:-1000000}
cp_adds=${BENCH_CHECKPOINT_ADDS:-100000}
data=$build/data
mkdir -p "$data"
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$(nproc)" --target gen_orders bench_parquet_write \
      bench_parquet_read bench_checkpoint bench_restore bench_discovery >/dev/null

npm_dir=$build/npm
if ! cmp -s "$src/bench/npm/package.json" "$npm_dir/package.json" 2>/dev/null ||
   [ ! -d "$npm_dir/node_modules/@duckdb/node-api" ]; then
  mkdir -p "$npm_dir"
  cp "$src/bench/npm/package.json" "$npm_dir/"
  (cd "$npm_dir" && npm install --no-audit --no-fund >/dev/null)
fi
cp "$src/bench/duckdb_bench.mjs" "$npm_dir/"
one() { taskset -c 0 "$@"; } # one core for both sides

in=$data/orders-$rows.jsonl
[ -s "$in" ] || "$build/gen_orders" "$rows" "$in"
table=$data/checkpoint-$cp_adds
if [ ! -s "$table/_delta_log/00000000000000000010.checkpoint.parquet" ]; then
  mkdir -p "$table/_delta_log"
  (cd "$npm_dir" && node duckdb_bench.mjs checkpoint "$table/_delta_log/00000000000000000010.checkpoint.parquet" "$cp_adds" >/dev/null)
  printf '{"commitInfo":{"timestamp":1767225600000,"operation":"WRITE","operationParameters":{"mode":"Append"}}}\n' \
    > "$table/_delta_log/00000000000000000011.json"
fi

field() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p"; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
rounds=${BENCH_ROUNDS:-5}
echo "rows: $rows ($(stat -c %s "$in") bytes of JSON lines); checkpoint adds: $cp_adds; rounds: $rounds (medians, interleaved)"
cpf=$table/_delta_log/00000000000000000010.checkpoint.parquet
: > "$data/times"
for r in $(seq "$rounds"); do
  # Interleaved so that a noisy neighbour hits both sides alike.
  dw=$(cd "$npm_dir" && one node duckdb_bench.mjs write "$in" "$data/duck.parquet")
  sw=$(one "$build/bench_parquet_write" "$in" "$data/sluice.parquet" snappy)
  dr=$(cd "$npm_dir" && one node duckdb_bench.mjs read "$data/sluice.parquet")
  sr=$(one "$build/bench_parquet_read" "$data/sluice.parquet")
  sr2=$(one "$build/bench_parquet_read" "$data/duck.parquet")
  dc=$(cd "$npm_dir" && one node duckdb_bench.mjs read "$cpf")
  scr=$(one "$build/bench_parquet_read" "$cpf")
  sc=$(one "$build/bench_checkpoint" "$table")
  for k in dw sw dr sr sr2 dc scr sc; do echo "$k $(echo "${!k}" | field seconds)" >> "$data/times"; done
done
echo "last round:"
echo "  duckdb write:                 $dw"
echo "  sluice write:                 $sw"
echo "  duckdb read (sluice's file):  $dr"
echo "  sluice read (sluice's file):  $sr"
echo "  sluice read (duckdb's file):  $sr2"
echo "  duckdb read checkpoint:       $dc"
echo "  sluice read checkpoint:       $scr"
echo "  sluice snapshot (checkpoint + replay + sort): $sc"
m() { awk -v k="$1" '$1 == k {print $2}' "$data/times" | median; }
awk -v a="$(m dw)" -v b="$(m sw)" -v c="$(m dr)" -v d="$(m sr)" -v d2="$(m sr2)" \
    -v e="$(m dc)" -v f="$(m scr)" -v g="$(m sc)" -v mb="$(stat -c %s "$in")" 'BEGIN {
  printf "median seconds: duckdb write %.3f, sluice write %.3f; duckdb read %.3f, sluice read %.3f (duckdb file %.3f); duckdb checkpoint %.3f, sluice checkpoint decode %.3f, snapshot %.3f\n", a, b, c, d, d2, e, f, g
  printf "write throughput: sluice %.1f MB/s, duckdb %.1f MB/s, ratio %.2fx (target >= 1.0)\n", mb/1e6/b, mb/1e6/a, a/b
  printf "read time ratio sluice/duckdb: %.2fx (target <= 1.0)\n", d/c
  printf "checkpoint decode time ratio sluice/duckdb: %.2fx (target <= 1.0)\n", f/e
  printf "checkpoint snapshot time ratio sluice/duckdb decode: %.2fx (target <= 1.0 (issue 4))\n", g/e
}'

# RESTORE: its own interleaved rounds over the table variants, medians.
echo "restore (100,000 files, back to the checkpointed version; history H, difference D):"
BENCH_ROUNDS=$rounds one "$build/bench_restore" "$data"

# Discovery: 50,000 epoch folders (150,000 objects) listed and diffed against a checkpoint of
# 45,000 processed folders; its own interleaved rounds, medians, peak RSS.
echo "discovery (50,000 epoch folders, 45,000 processed in the checkpoint):"
BENCH_ROUNDS=$rounds one "$build/bench_discovery" "$data"

# Ingest (issue 5): one folder of $rows JSON-lines orders through ingest_run
# into a fresh lake (reader, rescue, one expectation, the system columns,
# the data file, creating bronze and quarantine, the bronze commit) against
# DuckDB's single-thread JSON -> Parquet of the same file, interleaved
# rounds, medians.
cmake --build "$build" -j "$(nproc)" --target bench_ingest >/dev/null
: > "$data/ingest_times"
for r in $(seq "$rounds"); do
  dw=$(cd "$npm_dir" && one node duckdb_bench.mjs write "$in" "$data/duck.parquet")
  rm -rf "$data/ingest-lake"
  si=$(one "$build/bench_ingest" "$in" "$data/ingest-lake")
  echo "dw $(echo "$dw" | field seconds)" >> "$data/ingest_times"
  echo "si $(echo "$si" | field seconds)" >> "$data/ingest_times"
done
echo "ingest (last round): $si"
mi() { awk -v k="$1" '$1 == k {print $2}' "$data/ingest_times" | median; }
awk -v a="$(mi dw)" -v b="$(mi si)" -v mb="$(stat -c %s "$in")" 'BEGIN {
  printf "ingest median seconds: duckdb %.3f, sluice ingest %.3f; throughput sluice %.1f MB/s, duckdb %.1f MB/s, ratio %.2fx (target >= 1.0)\n", a, b, mb/1e6/b, mb/1e6/a, a/b
}'

# Merge, files layout (issue 5): replacing one customer's file in tables of
# 100, 1,000 and 10,000 customers against ingesting that file alone
# (bench_merge.c; tables rebuilt under $data/merge-N on each run).
cmake --build "$build" -j "$(nproc)" --target bench_merge >/dev/null
echo "merge (files layout, one customer's file replaced vs ingested alone; target ratio <= 2, flat in customers):"
BENCH_ROUNDS=$rounds one "$build/bench_merge" "$data"
