#!/usr/bin/env bash
# Benchmark of the export reader against `gzip -dc` and against the
# load-everything Python approach it replaces.
#
#   bench/ingest.sh [SIZE]      # SIZE: JSON before compression, default 1GiB
#
# Builds the release binary, generates synthetic ChatGPT gzip exports of SIZE
# and of 100MiB under target/bench/ (once; later runs reuse them), then times
# each reader with /usr/bin/time and prints a Markdown table of wall time,
# CPU time and peak RSS. RUNS=n (default 3) repeats the fast rows and keeps
# the fastest run; the Python row runs once (it needs ~9x SIZE of memory;
# SKIP_PYTHON=1 leaves it out).
set -euo pipefail
cd "$(dirname "$0")/.."

size="${1:-1GiB}"
runs="${RUNS:-3}"
dir=target/bench
bin=target/release/fullpass

if [ ! -x /usr/bin/time ]; then
  echo "bench/ingest.sh needs GNU time at /usr/bin/time (package: time)" >&2
  exit 1
fi

cargo build --release --quiet
mkdir -p "$dir"
big="$dir/export-$size.json.gz"
small="$dir/export-100MiB.json.gz"
for spec in "$big:$size" "$small:100MiB"; do
  file="${spec%%:*}"
  if [ ! -s "$file" ]; then
    echo "generating $file ..." >&2
    "$bin" gen-export --bytes "${spec##*:}" --seed 42 --out "$file" > /dev/null
  fi
done

# measure RUNS CMD...: sets wall, cpu, rss_mib and status from the fastest run.
measure() {
  local repeat=$1
  shift
  wall="" cpu="" rss_mib="" status=ok
  local i w u s m
  for ((i = 0; i < repeat; i++)); do
    if ! /usr/bin/time -f '%e %U %S %M' -o "$dir/time.out" "$@" > /dev/null 2> "$dir/stderr.out"; then
      status="failed: $(grep -m1 . "$dir/stderr.out" | cut -c1-80)"
    fi
    read -r w u s m < <(tail -n1 "$dir/time.out")
    if [ -z "$wall" ] || awk -v a="$w" -v b="$wall" 'BEGIN { exit !(a < b) }'; then
      wall=$w
      cpu=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
      rss_mib=$(awk -v k="$m" 'BEGIN { printf "%.1f", k / 1024 }')
    fi
  done
}

stat_of() { # stat_of FILE FIELD: a number from `fullpass inspect` output
  "$bin" inspect "$1" | awk -F'[:,]' -v f="\"$2\"" '$1 ~ f { gsub(/ /, "", $2); print $2 }'
}

mib() { awk -v b="$1" 'BEGIN { printf "%.0f MiB", b / 1048576 }'; }

big_json=$(stat_of "$big" decompressed_bytes)
small_json=$(stat_of "$small" decompressed_bytes)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

rows=()
row() { # row LABEL INPUT
  local ratio=""
  if [ -n "${gzip_wall:-}" ]; then
    ratio=$(awk -v a="$wall" -v b="$gzip_wall" 'BEGIN { printf "%.2fx", a / b }')
  fi
  rows+=("| $1 | $2 | $wall | $cpu | $rss_mib | $ratio | $status |")
}

measure "$runs" gzip -dc "$big"
gzip_wall=$wall
row '`gzip -dc FILE`' "$(mib "$big_json")"
measure "$runs" "$bin" inspect "$big"
row '`fullpass inspect FILE` (reader only)' "$(mib "$big_json")"
measure "$runs" "$bin" process "$big"
row '`fullpass process FILE` (reader + extraction)' "$(mib "$big_json")"
if [ -z "${SKIP_PYTHON:-}" ]; then
  measure 1 python3 bench/reference.py "$big"
  row '`python3 bench/reference.py FILE`' "$(mib "$big_json")"
fi
unset gzip_wall
measure "$runs" "$bin" inspect "$small"
row '`fullpass inspect FILE` (reader only)' "$(mib "$small_json")"
measure "$runs" "$bin" process "$small"
row '`fullpass process FILE` (reader + extraction)' "$(mib "$small_json")"

echo
echo "Exports: $big ($(mib "$(stat -c %s "$big")") gzip, $(mib "$big_json") JSON)," \
  "$small ($(mib "$(stat -c %s "$small")") gzip, $(mib "$small_json") JSON)."
echo "$(nproc) CPUs; load average $load_before before, $(cut -d' ' -f1-3 /proc/loadavg) after." \
  "Fastest of $runs runs (Python: 1)."
echo
echo "| command | JSON size | wall s | CPU s | peak RSS MiB | wall vs gzip -dc | status |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
