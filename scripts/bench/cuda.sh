#!/usr/bin/env bash
# scripts/bench/cuda.sh - issue 70's checks on a machine with an NVIDIA GPU
# and PyTorch (never part of make check; docs/performance-python.md holds
# the figures).  Each step is bounded by `timeout` and prints what it
# measured (wall, CPU and peak RSS of the process tree from wait4's rusage):
#   train     programs/cudatrain.py (a transformer, 40 steps on the GPU)
#             plain, under `run` and under `run --leaks`: the traced peak
#             against the process's peak anonymous+shared RSS (item 1), the
#             reserved address space apart, one peak (item 2), the stop;
#   attach    `heapsnap attach` to programs/cudaloop.py for 6 s: the top
#             sites must be Python lines (item 5);
#   imports   `import torch` plain, `-X tracemalloc=1` and under `run`,
#             with tracemalloc's and the shim's own memory (item 3);
#   loader    programs/cudaloader.py, a DataLoader of 4 forked workers,
#             plain and under `run` (item 6).
# Usage: scripts/bench/cuda.sh OUTDIR [STEP...]   (BUILD=dir holding
# heapsnap, libheapsnap.so and libheapsnap-attach.so, default build;
# LIBS=dir of their shared libraries for a host that lacks them;
# PY=python3).  OUTDIR gets the snapshots.
set -u
out=${1:?usage: cuda.sh OUTDIR [STEP...]}; shift
steps=${*:-train attach imports loader}
build=$(cd "${BUILD:-build}" && pwd)
progs=$(cd "$(dirname "$0")/programs" && pwd)
py=${PY:-python3}
mkdir -p "$out"
export PYTHONUNBUFFERED=1 HEAPSNAP_SHIM=$build/libheapsnap.so
[ -n "${LIBS:-}" ] && export LD_LIBRARY_PATH=$(cd "$LIBS" && pwd)
cat >"$out/measure.py" <<'PY'
import resource, subprocess, sys, time
t = time.time()
rc = subprocess.run(sys.argv[1:]).returncode
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print("measured: wall %.2f s, cpu %.2f s, maxrss %d MiB, rc %d"
      % (time.time() - t, ru.ru_utime + ru.ru_stime, ru.ru_maxrss >> 10, rc), flush=True)
PY
m() { timeout "${T:-300}" "$py" "$out/measure.py" "$@"; }
hs() { "$build/heapsnap" "$@"; }
facts() {   # the newest snapshot matching $1: info's figures and top's sites
  local f; f=$(ls -t "$out"/$1 2>/dev/null | head -1)
  [ -n "$f" ] || { echo "no snapshot $1"; return; }
  hs info "$f" 2>&1 | grep -E "^(traced|peak|reserved|mmap|shim memory|traces|leak|python objects|runs|attached)" | head -14
  hs top "$f" -n "${2:-6}" 2>&1 | head -$(( ${2:-6} + 2 ))
}
for s in $steps; do case $s in
train)
  echo "== train plain"; m "$py" "$progs/cudatrain.py" 40
  echo "== train run"; m "$build/heapsnap" run -o "$out/train.%p.hsnap" -- "$py" "$progs/cudatrain.py" 40
  facts 'train.*.hsnap' 8
  echo "== train run --leaks"
  T=400 m "$build/heapsnap" run --leaks -o "$out/leaks.%p.hsnap" -- "$py" "$progs/cudatrain.py" 40
  facts 'leaks.*.hsnap' 4 ;;
attach)
  echo "== attach"
  "$py" "$progs/cudaloop.py" 40 >"$out/loop.log" 2>&1 & lp=$!
  for _ in $(seq 600); do grep -q READY "$out/loop.log" && break; sleep 0.1; done
  sleep 1
  m "$build/heapsnap" attach "$lp" --duration 6 -o "$out/attach.%p.hsnap"
  kill "$lp" 2>/dev/null; wait "$lp" 2>/dev/null
  facts 'attach.*.hsnap' 6 ;;
imports)
  for r in 1 2 3; do echo "== import torch plain ($r)"; m "$py" -c "import torch"; done
  for r in 1 2; do echo "== import torch tracemalloc=1 ($r)"
    m "$py" -X tracemalloc=1 -c "import torch, tracemalloc; print('tracemalloc memory', tracemalloc.get_tracemalloc_memory() >> 20, 'MiB')"; done
  for r in 1 2; do echo "== import torch run ($r)"
    m "$build/heapsnap" run -q -o "$out/imp$r.%p.hsnap" -- "$py" -c "import torch"
    facts "imp$r.*.hsnap" 3; done ;;
loader)
  echo "== loader plain"; m "$py" "$progs/cudaloader.py"
  echo "== loader run"; m "$build/heapsnap" run -o "$out/loader.%p.hsnap" -- "$py" "$progs/cudaloader.py"
  for f in "$out"/loader.*.hsnap; do hs info "$f" 2>&1 | grep -E "^(pid|runs|traced peak|command|inherited)"; done | head -30 ;;
*) echo "unknown step $s"; exit 2 ;;
esac; done
