# test_python_clean.sh - no false alarms on a clean program: json, re,
# dataclasses, asyncio and a thread, run under the leak check, leave no
# direct leak, no cycle and nothing possibly lost, on every CPython
# 3.10-3.15 found (a SKIP line names each one absent; `info` reads no
# symbols: under a second a version), and `leaks` lists no garbage of
# the program's (the standard library's is the interpreter's own).  What the interpreter keeps is
# reached by its starts: a dead object on a free list (count 0; 3.14 on,
# its first word the link to the next: 151 blocks possibly lost on sid's
# 3.14 before, a dict, list or tuple whose link was an mmapped address)
# and a gc object past its PyGC_Head (547 blocks possibly lost on 3.10.13
# before).
# On 3.11 a class instance's values array whose prefix (never written but
# its last two bytes) holds a dead str's remains is still a values array:
# a FileFinder read "possibly lost" before.
. tests/shim/python/lib_py.sh

for v in $(py_versions_missing); do
  t_skip "python_clean_program_$v" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done
cat >"$T/clean.py" <<'PY'
import dataclasses, json, re, threading
import asyncio
@dataclasses.dataclass
class P:
    x: int
json.dumps({"a": [P(1).x]}); re.compile(r"a+b"); asyncio.run(asyncio.sleep(0))
t = threading.Thread(target=lambda: None); t.start(); t.join()
PY
ran=0
while read -r tag py; do
  ran=$((ran + 1))
  mkdir -p "$T/$tag"
  HEAPSNAP_LEAKS=1 LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/$tag/c.%p.hsnap" "$py" "$T/clean.py" \
    >"$T/$tag.out" 2>"$T/$tag.err"
  set -- "$T/$tag"/c.*.hsnap
  "$HEAPSNAP" info "$1" >"$T/$tag.info" 2>&1
  if [ "$#" = 1 ] && grep -q 'leak check: *yes, 0 blocks lost (0 B: 0 direct, 0 indirect, 0 in cycles), 0 possibly lost' "$T/$tag.info"; then
    t_pass "python_clean_program_no_leaks_nothing_possibly_lost_$tag"
  else t_fail "python_clean_program_no_leaks_nothing_possibly_lost_$tag" "$# snapshots; $(grep 'leak check' "$T/$tag.info") $(tail -c 200 "$T/$tag.err")"; fi
  # `leaks` as a user reads it: no garbage of the program's; what the
  # standard library made (pyenv's 3.11.7: an ssl enum class asyncio's
  # import drops) stands under its own head, the interpreter's own.
  "$HEAPSNAP" leaks "$1" >"$T/$tag.leaks" 2>/dev/null
  if [ -s "$T/$tag.leaks" ] && ! grep -q "garbage awaiting the collector" "$T/$tag.leaks"; then
    t_pass "python_clean_program_leaks_lists_no_program_garbage_$tag"
  else t_fail "python_clean_program_leaks_lists_no_program_garbage_$tag" "$(grep -A2 'Python objects' "$T/$tag.leaks" | head -3 | tr '\n' '|')"; fi
done < <(py_interpreters)
if [ "$ran" = 0 ]; then t_skip python_clean_program "no CPython 3.10-3.15 here"; fi
