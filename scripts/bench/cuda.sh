#!/usr/bin/env bash
# scripts/bench/cuda.sh - issue 70's check on a machine with an NVIDIA GPU
# and PyTorch (not part of make check): a chain of 4096x4096 matrix
# products on the GPU, plain, under an older shim (OLD=path, optional) and
# under this build's, then `run --leaks`.  Prints each run's own line
# (device memory, ru_maxrss, loop seconds) and, for the shims, `info`'s
# peak and reserved lines and `top`'s first sites: the CUDA driver's
# PROT_NONE reservations (~14 GiB) must be reported apart, never as heap.
# Usage: scripts/bench/cuda.sh OUTDIR   (BUILD=build, OLD=old libheapsnap.so)
set -u
out=${1:?usage: cuda.sh OUTDIR}
build=${BUILD:-build}
mkdir -p "$out"
prog=$out/cuda_chain.py
cat >"$prog" <<'PY'
import resource, time, torch
t0 = time.time()
x = torch.randn(4096, 4096, device="cuda")
w = [torch.randn(4096, 4096, device="cuda") for _ in range(8)]
for i in range(40):
    y = x
    for m in w:
        y = torch.relu(y @ m)
torch.cuda.synchronize()
print("device", torch.cuda.memory_allocated(), "maxrss_kib",
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "secs", round(time.time() - t0, 2))
PY
echo "== plain"; python3 "$prog"
for v in ${OLD:+old} new; do
  shim=$PWD/$build/libheapsnap.so
  [ "$v" = old ] && shim=$OLD
  echo "== $v ($shim)"
  LD_PRELOAD=$shim HEAPSNAP_OUTPUT="$out/$v.%p.hsnap" python3 "$prog"
  f=$(ls -S "$out"/$v.*.hsnap | head -1)
  "$build/heapsnap" info "$f" 2>/dev/null | grep -E "^(traced|peak sites|reserved|mmap resident)"
  "$build/heapsnap" top "$f" -n 6 2>/dev/null
done
echo "== run --leaks"
HEAPSNAP_SHIM=$PWD/$build/libheapsnap.so "$build/heapsnap" run --leaks -o "$out/leaks.%p.hsnap" \
  -- python3 "$prog" 2>&1 | grep -E "^heapsnap: (peak|reserved|leak|LEAK)" | head -8
