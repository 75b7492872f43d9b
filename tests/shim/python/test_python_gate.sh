# test_python_gate.sh - the gate's Python rule, --python-fail-on garbage,
# leaked-refs: it fails on the cyclic garbage of tests/shim/python/cycles.py
# (naming the Node site) and on the leaked references of
# tests/shim/python/leakref.c (naming the line that made them, and not the
# clean or kept ones), and a clean program (json, re, dataclasses, asyncio,
# a thread) passes with its leak check: the interpreter's own leftovers
# never fail it (the garbage its standard library made is counted apart),
# on every CPython 3.10-3.15 found (a SKIP line names each one absent; the
# extension needs the interpreter's Python.h).  A bad value is refused in
# one line (exit 2).  A child that never ran CPython (`true`, started by
# the program with subprocess) passes the rule as "not a Python process"
# (before, `run --gate` exited 2 on any Python program that ran a command:
# "cannot check Python objects ... no object graph"), while a Python
# process with HEAPSNAP_PYTHON=off is still trouble (exit 2).
. tests/shim/python/lib_py.sh

for v in $(py_versions_missing); do
  t_skip "python_gate_$v" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done
cat >"$T/clean.py" <<'PY'
import json, re, dataclasses, asyncio, threading
@dataclasses.dataclass
class P:
    x: int
json.dumps({"a": [P(1).x]}); re.compile(r"a+b")
async def f(): return 1
asyncio.run(f())
t = threading.Thread(target=lambda: None); t.start(); t.join()
PY

while read -r tag py; do
  rm -f "$T"/exit.*.hsnap
  HEAPSNAP_LEAKS=1 py_run "$py" "$T/clean-$tag" "$T/clean.py"
  s=$(ls "$T"/exit.*.hsnap 2>/dev/null | head -1)
  "$HEAPSNAP" gate "$s" --fail-on none --python-fail-on garbage,leaked-refs >"$T/g-$tag.txt" 2>&1; rc=$?
  if [ "$rc" = 0 ] && grep -Eq "^PASS python .*: 0 Python objects garbage awaiting the collector( \(and [0-9]+ of the interpreter's own code's\))?, 0 with leaked references$" "$T/g-$tag.txt"; then
    t_pass "python_gate_clean_program_passes_$tag"
  else t_fail "python_gate_clean_program_passes_$tag" "rc $rc: $(head -c 600 "$T/g-$tag.txt" | tr '\n' '|')"; fi

  # cyclic garbage (the API's snapshot, no leak check: --fail-on none)
  py_run "$py" "$T/cyc-$tag" tests/shim/python/cycles.py "$T/cyc-$tag.hsnap"
  # -n 0: every finding (the text groups a site's findings and shows its largest)
  "$HEAPSNAP" gate "$T/cyc-$tag.hsnap" --fail-on none --python-fail-on garbage -n 0 >"$T/gc-$tag.txt" 2>&1; rc=$?
  nodes=$(sed -n 's/^  \([0-9]*\) Python objects (__main__.Node, [0-9]* bytes) are garbage only the collector frees at tests\/shim\/python\/cycles.py:[0-9]* .*/\1/p' "$T/gc-$tag.txt" | awk '{ n += $1 } END { print n + 0 }')
  if [ "$rc" = 1 ] && [ "$nodes" = 100 ]; then
    t_pass "python_gate_fails_on_cyclic_garbage_per_site_$tag"
  else t_fail "python_gate_fails_on_cyclic_garbage_per_site_$tag" "rc $rc: $(head -c 600 "$T/gc-$tag.txt" | tr '\n' '|')"; fi

  # leaked references, from the extension
  lr=$(py_ext_build "$py" leakref)
  if [ $? = 2 ]; then
    t_skip "python_gate_fails_on_leaked_references_$tag" "no Python.h for $py (python3-dev, or a pyenv build)"; continue
  fi
  rm -f "$T"/exit.*.hsnap
  HEAPSNAP_LEAKS=1 py_run "$py" "$T/lr-run-$tag" tests/shim/python/leakref_user.py "$lr"
  s=$(ls "$T"/exit.*.hsnap 2>/dev/null | head -1)
  l_one=$(py_line tests/shim/python/leakref_user.py MARK_LEAKED)
  "$HEAPSNAP" gate "$s" --python-fail-on leaked-refs >"$T/gl-$tag.txt" 2>&1; rc=$?
  # both leaked at l_one, or one at least: a stale word (outside 3.10's
  # zombie frames; once on 3.14, in a full run under load) at times hides one, as
  # test_python_leakref allows
  one="(2 Python objects \(bytearray, 112 bytes\)|1 Python objects \(bytearray, 56 bytes\)) have leaked references"
  # 3.15: 64 bytes each, and the two are listed as two findings of the site
  case "$tag" in *-3.15) one="(2 findings, 128 bytes in 2 blocks|1 Python objects \(bytearray, 64 bytes\) have leaked references)" ;; esac
  if [ "$rc" = 1 ] && grep -Eq "^  $one at tests/shim/python/leakref_user.py:$l_one " "$T/gl-$tag.txt" &&
     [ "$(grep -c 'have leaked references at' "$T/gl-$tag.txt")" = 2 ]; then
    t_pass "python_gate_fails_on_leaked_references_$tag"
  else t_fail "python_gate_fails_on_leaked_references_$tag" "rc $rc: $(grep 'leaked references at' "$T/gl-$tag.txt" | head -4 | tr '\n' '|') $(head -c 300 "$T/gl-$tag.txt" | tr '\n' '|')"; fi
  bad=$s
done < <(py_interpreters)
if [ -n "${bad:-}" ]; then # the rule's value: the CLI's, once
  "$HEAPSNAP" gate "$bad" --python-fail-on leaked,refs >/dev/null 2>"$T/bad.err"; rc=$?
  if [ "$rc" = 2 ] && [ "$(wc -l <"$T/bad.err")" = 1 ]; then t_pass python_gate_bad_value_refused
  else t_fail python_gate_bad_value_refused "rc $rc: $(cat "$T/bad.err")"; fi
fi

# a child that is not Python, with Debian's python3 (any CPython would do)
if [ -x /usr/bin/python3 ]; then
  rm -f "$T"/exit.*.hsnap
  HEAPSNAP_LEAKS=1 py_run /usr/bin/python3 "$T/child" -c 'import subprocess; subprocess.run(["true"], check=True)'
  "$HEAPSNAP" gate "$T"/exit.*.hsnap --python-fail-on garbage,leaked-refs >"$T/child.txt" 2>&1; rc=$?
  if [ "$rc" = 0 ] && [ "$(ls "$T"/exit.*.hsnap | wc -l)" = 2 ] &&
     grep -Eq '^PASS python true\[[0-9]+\]: not a Python process \(no CPython in its snapshot\)$' "$T/child.txt" &&
     grep -Eq '^PASS python python3[.0-9]*\[[0-9]+\]: 0 Python objects garbage' "$T/child.txt"; then
    t_pass python_gate_child_not_python_passes
  else t_fail python_gate_child_not_python_passes "rc $rc: $(grep -E '^(PASS|FAIL) python|cannot' "$T/child.txt" | head -3 | tr '\n' '|')"; fi
  rm -f "$T"/exit.*.hsnap
  HEAPSNAP_PYTHON=off HEAPSNAP_LEAKS=1 py_run /usr/bin/python3 "$T/off" -c pass
  "$HEAPSNAP" gate "$T"/exit.*.hsnap --python-fail-on garbage >/dev/null 2>"$T/off.txt"; rc=$?
  if [ "$rc" = 2 ] && grep -q 'cannot check Python objects' "$T/off.txt"; then
    t_pass python_gate_python_off_still_trouble
  else t_fail python_gate_python_off_still_trouble "rc $rc: $(head -c 300 "$T/off.txt")"; fi
else
  t_skip python_gate_child_not_python_passes "no /usr/bin/python3"
  t_skip python_gate_python_off_still_trouble "no /usr/bin/python3"
fi
