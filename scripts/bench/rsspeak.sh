#!/usr/bin/env bash
# scripts/bench/rsspeak.sh - peak RSS (GNU time's %M) of each bench workload at
# its quick size (workloads.py) plain and under heapsnap's default mode, the
# median of RUNS rounds (a round runs plain, then heapsnap: a drift of the
# machine's page cache or load falls on both), and the leak check of
# 2,000,000 live blocks (HEAPSNAP_LEAKS=1) beside them: issue 50's memory
# marks (1.25x; the leak check 1.5x) in a few minutes, where bench.py --quick
# takes most of an hour.  The kept rows are issue 68's: 1,000,000 and
# 4,000,000 small blocks kept to the end from 64 stacks, and 1,000,000 from
# 100,000 stacks (kept_16m, 16,000,000 blocks, only when RSSPEAK_ONLY names
# it: a minute a run).  Memory only: wall times here mean nothing.  Prints
# one Markdown row a workload.
#
# usage: scripts/bench/rsspeak.sh [SHIM] [RUNS] [PYTHON]
#   SHIM:   libheapsnap.so (default build/libheapsnap.so)
#   RUNS:   runs of each (default 3)
#   PYTHON: the interpreter of the Python workload (default /usr/bin/python3)
# RSSPEAK_ONLY="churn1_25k python" runs only the rows named there.
# RSSPEAK_RUN=1 runs each under `heapsnap run -o` (the heapsnap beside SHIM),
# as bench.py does: the peak is then the larger of the program's and the
# CLI's own (its load and summary of the snapshot).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
shim=$(readlink -f "${1:-$root/build/libheapsnap.so}")
runs=${2:-3}
py=${3:-/usr/bin/python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
p=$root/scripts/bench/programs
for c in churn deep realloc leakcheck kept; do cc -O2 -o "$work/$c" "$p/$c.c" -lpthread; done
g++ -O2 -o "$work/cxx" "$p/cxx.cc"
sed 's/@ROWS@/50000/g' "$p/sqlite.sql" >"$work/sqlite.sql"

# median of the numbers on stdin
med() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
# row NAME CMD...: the median peak RSS plain and under the shim (in rounds
# of one run each), and their ratio
row() {
  local name=$1 plain hs; shift
  case " ${RSSPEAK_ONLY:-$name} " in *" $name "*) ;; *) return 0 ;; esac
  rm -f "$work/plain.all" "$work/hs.all"
  for _ in $(seq "$runs"); do
    for mode in plain hs; do
      pre=()
      if [ "$mode" = plain ]; then :
      elif [ -n "${RSSPEAK_RUN:-}" ]; then pre=("$(dirname "$shim")/heapsnap" run -o "$work/$name.%p.hsnap" --)
      else pre=(env LD_PRELOAD="$shim" HEAPSNAP_OUTPUT="$work/$name.hsnap"); fi
      /usr/bin/time -f %M -o "$work/t" "${pre[@]}" "$@" >/dev/null 2>&1 </dev/null || true
      tail -n 1 "$work/t" >>"$work/$mode.all"
      rm -f "$work/$name".hsnap* "$work/$name".*.hsnap* "$work/$name".*.state
    done
  done
  plain=$(med <"$work/plain.all") hs=$(med <"$work/hs.all")
  awk -v n="$name" -v a="$plain" -v b="$hs" \
    'BEGIN { printf "| %s | %.1f MB | %.1f MB | %.3fx |\n", n, a / 1000, b / 1000, b / a }'
}
echo "| workload | plain | heapsnap | ratio |"
echo "|---|--:|--:|--:|"
row churn1 "$work/churn" 3000000 100000 1
row deep "$work/deep" 250000 100000
row churn2 "$work/churn" 4000000 100000 2
row churn4 "$work/churn" 4000000 100000 4
row churn1_25k "$work/churn" 2000000 25000 1
row realloc "$work/realloc" 60000 20000
row cxx "$work/cxx" 300000 50000
row python env PYTHONMALLOC=malloc PYTHONHASHSEED=0 "$py" "$p/dicts.py" 50
row sqlite sqlite3 -init "$work/sqlite.sql" :memory:
row leakcheck_2M env HEAPSNAP_LEAKS=1 "$work/leakcheck" 2000000 1000
row kept_1m "$work/kept" 1000000 64
row kept_4m "$work/kept" 4000000 64
row kept_1m_100k "$work/kept" 1000000 100000
if [ -n "${RSSPEAK_ONLY:-}" ]; then row kept_16m "$work/kept" 16000000 64; fi
