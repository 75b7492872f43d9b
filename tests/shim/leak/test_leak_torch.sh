# tests/shim/leak/test_leak_torch.sh - the leak check at PyTorch's size
# (issue 70 item 4): `heapsnap run --leaks` on Debian's python3 running
# scripts/bench/programs/torchtrain.py (import torch, a 2-layer MLP
# trained 20 steps on the CPU, seeded) leaves the program's output as a
# plain run prints it, finds nothing lost (0 direct, 0 indirect, 0 in
# cycles: torch's and the interpreter's memory is reachable or the
# runtime's), and prints the stop the program saw ("leak check: the
# program stopped ..."), which the snapshot keeps (hsnap_leaks_head's
# stop_ns).  Its cost is the bench's, not this test's:
# scripts/bench/pyimports.py --leaks.  python3-torch comes from
# scripts/install-deps.sh pyml.
# Cases: leak_torch_deps, leak_torch_output_unchanged,
# leak_torch_nothing_lost, leak_torch_stop_printed.
# tier: full (it may apt-get install python3-torch; import torch under the leak check takes minutes)
PY=/usr/bin/python3
PROG=scripts/bench/programs/torchtrain.py

if ! "$PY" -c 'import torch' 2>/dev/null; then
  BUILD=$BUILD scripts/install-deps.sh pyml >"$T/deps.log" 2>&1
fi
if ! "$PY" -c 'import torch' 2>"$T/import.err"; then
  t_fail leak_torch_deps "Debian's python3 cannot import torch and scripts/install-deps.sh pyml did not help: $(tail -n 1 "$T/import.err")"
  return 0 2>/dev/null || exit 0
fi
t_pass leak_torch_deps

"$PY" "$PROG" >"$T/plain.out" 2>"$T/plain.err"
mkdir -p "$T/o"
"$HEAPSNAP" run --leaks --output-dir "$T/o" -- "$PY" "$PROG" >"$T/run.out" 2>"$T/run.err"
rc=$?
if [ "$rc" = 0 ] && grep -q '^loss [0-9.]*$' "$T/plain.out" && cmp -s "$T/plain.out" "$T/run.out"; then
  t_pass leak_torch_output_unchanged
else
  t_fail leak_torch_output_unchanged "rc $rc; plain '$(head -c 80 "$T/plain.out")', under run --leaks '$(head -c 80 "$T/run.out")': $(tail -n 2 "$T/run.err" | tr '\n' ' ')"
fi
if grep -q '^heapsnap:    direct: 0 bytes in 0 blocks$' "$T/run.err" &&
   grep -q '^heapsnap:    indirect: 0 bytes in 0 blocks$' "$T/run.err" &&
   grep -q '^heapsnap:    cycle: 0 bytes in 0 blocks$' "$T/run.err" &&
   grep -Eq '^heapsnap:    still reachable: [0-9]{7,} bytes in [0-9]{5,} blocks$' "$T/run.err"; then
  t_pass leak_torch_nothing_lost
else
  t_fail leak_torch_nothing_lost "$(grep -A6 'LEAK SUMMARY' "$T/run.err" | tr '\n' '|')"
fi
if grep -Eq '^heapsnap: leak check: [0-9.]+ (ms|s) \(the program.s exit waited for it\); the program.s threads were stopped [0-9.]+ (ms|s) of it$' "$T/run.err"; then
  t_pass leak_torch_stop_printed
else
  t_fail leak_torch_stop_printed "$(grep 'leak check' "$T/run.err" | head -2 | tr '\n' '|')"
fi
