# test_python_edges.sh - edges held by builtin and C-extension objects
# count, each step named as Python names it (issue 67, "every edge the
# interpreter has"): edges.py's 200 finished asyncio Tasks in a set are
# held through Task.result(), its exception's local through
# __traceback__, tb_next, tb_frame and f_locals['big'], its partial's
# bytearray through partial.args (an untracked tuple) and [0], a pending
# Future's callback's closure through Future._callbacks; each step
# is one the type's own tp_traverse visits (the program checks with
# gc.get_referents).  `top --retained` charges each holder (the set, the
# exception, the partial, the Future, at their lines) within 5% of the bytes
# tracemalloc sees freed when the program drops it; a Holder's 2.5 MB
# buffer stays its own though a ctypes.c_void_p holds an address inside it
# (a word inside a big block is no holder: pyg_scan).  On every CPython
# 3.10-3.15 found; a SKIP line names each one absent.  numpy's views:
# test_python_edges_numpy.sh.
. tests/shim/python/lib_py.sh

script=tests/shim/python/edges.py
l_tasks=$(py_line $script MARK_TASKS) l_result=$(py_line $script MARK_RESULT)
l_held=$(py_line $script MARK_HELD) l_big=$(py_line $script MARK_BIG) l_err=$(py_line $script MARK_ERR) l_part=$(py_line $script MARK_PART)
l_fut=$(py_line $script MARK_FUT) l_stray=$(py_line $script MARK_STRAY)
for v in $(py_versions_missing); do
  t_skip "python_edges_$v" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done

# retained LINE TYPE JSON: the retained bytes of LINE's TYPE group, or 0
retained() {
  python3 - "$3" "$1" "$2" <<'PY'
import json, sys
line, ty = int(sys.argv[2]), sys.argv[3]
g = [x for x in json.load(open(sys.argv[1]))["groups"] if x.get("type") == ty
     and x["frames"][0]["line"] == line and x["frames"][0]["file"].endswith("edges.py")]
print(g[0]["retained_bytes"] if g else 0)
PY
}
# within5 A B: A within 5% of B (B > 0)
within5() { [ "$2" -gt 0 ] && [ $(($1 * 100)) -ge $(($2 * 95)) ] && [ $(($1 * 100)) -le $(($2 * 105)) ]; }

ran=0
while read -r tag py; do
  ran=$((ran + 1))
  s=$T/e-$tag.hsnap
  if ! HEAPSNAP_LEAKS=1 py_run "$py" "$T/run-$tag" $script "$s" || [ ! -s "$s" ]; then
    t_fail "python_edges_run_$tag" "$(tail -c 300 "$T/run-$tag.err")"; continue
  fi
  declare -A freed=() truth=()
  while read -r k f t; do freed[$k]=$f truth[$k]=$t; done <"$T/run-$tag.out"

  "$HEAPSNAP" leaks --why "edges.py:$l_result" "$s" >"$T/r-$tag.txt" 2>&1
  if [ "${truth[tasks]}" = 1 ] &&
     grep -Fqx "  200 objects: module __main__, global TASKS (set) -> _asyncio.Task -> Task.result() (bytes)" "$T/r-$tag.txt"; then
    t_pass "python_edges_task_result_named_$tag"
  else t_fail "python_edges_task_result_named_$tag" "gc: ${truth[tasks]:-?}; $(grep -v '^heapsnap: note' "$T/r-$tag.txt" | head -c 400 | tr '\n' '|')"; fi

  "$HEAPSNAP" leaks --why "edges.py:$l_big" "$s" >"$T/b-$tag.txt" 2>&1
  if [ "${truth[error]}" = 1 ] &&
     grep -Fqx "  1 object: module __main__, global ERR (ValueError) -> ValueError.__traceback__ (traceback) -> traceback.tb_next (traceback) -> traceback.tb_frame (frame) -> frame.f_locals['big'] (bytearray)" "$T/b-$tag.txt"; then
    t_pass "python_edges_traceback_frame_local_named_$tag"
  else t_fail "python_edges_traceback_frame_local_named_$tag" "gc: ${truth[error]:-?}; $(grep -v '^heapsnap: note' "$T/b-$tag.txt" | head -c 400 | tr '\n' '|')"; fi

  "$HEAPSNAP" leaks --why "edges.py:$l_part" "$s" >"$T/p-$tag.txt" 2>&1
  if [ "${truth[partial]}" = 1 ] &&
     grep -Fqx "  1 object: module __main__, global PART (functools.partial) -> partial.args (tuple) -> [0] (bytearray)" "$T/p-$tag.txt"; then
    t_pass "python_edges_partial_args_item_named_$tag"
  else t_fail "python_edges_partial_args_item_named_$tag" "gc: ${truth[partial]:-?}; $(grep -v '^heapsnap: note' "$T/p-$tag.txt" | head -c 400 | tr '\n' '|')"; fi

  "$HEAPSNAP" leaks --why "edges.py:$l_held" "$s" >"$T/c-$tag.txt" 2>&1
  if [ "${truth[future]}" = 1 ] &&
     grep -Fq "  1 object: module __main__, global FUT (_asyncio.Future) -> Future._callbacks (function) -> " "$T/c-$tag.txt"; then
    t_pass "python_edges_future_callback_named_$tag"
  else t_fail "python_edges_future_callback_named_$tag" "gc: ${truth[future]:-?}; $(grep -v '^heapsnap: note' "$T/c-$tag.txt" | head -c 400 | tr '\n' '|')"; fi

  "$HEAPSNAP" top "$s" --retained --key lineno,type -n 0 --format json >"$T/l-$tag.json" 2>"$T/l-$tag.err"
  r_tasks=$(retained "$l_tasks" set "$T/l-$tag.json") r_err=$(retained "$l_err" ValueError "$T/l-$tag.json")
  r_part=$(retained "$l_part" functools.partial "$T/l-$tag.json")
  r_fut=$(retained "$l_fut" _asyncio.Future "$T/l-$tag.json")
  if within5 "$r_tasks" "${freed[tasks]:-0}" && within5 "$r_err" "${freed[error]:-0}" &&
     within5 "$r_part" "${freed[partial]:-0}" && within5 "$r_fut" "${freed[future]:-0}"; then
    t_pass "python_edges_retained_within_5pct_of_freed_$tag"
  else t_fail "python_edges_retained_within_5pct_of_freed_$tag" "retained/freed: tasks $r_tasks/${freed[tasks]:-?}, error $r_err/${freed[error]:-?}, partial $r_part/${freed[partial]:-?}, future $r_fut/${freed[future]:-?} $(head -c 200 "$T/l-$tag.err")"; fi
  # a word inside a big buffer is no holder of it: the list that holds the
  # bytearray (a Holder) retains its 2.5 MB though a c_void_p points into the buffer
  r_stray=$(retained "$l_stray" __main__.Holder "$T/l-$tag.json")
  if [ "${truth[stray]}" = 1 ] && within5 "$r_stray" "${freed[stray]:-0}"; then
    t_pass "python_edges_stray_word_holds_nothing_$tag"
  else t_fail "python_edges_stray_word_holds_nothing_$tag" "retained/freed: $r_stray/${freed[stray]:-?}"; fi
  unset freed truth
done < <(py_interpreters)
if [ "$ran" = 0 ]; then t_skip python_edges "no CPython 3.10-3.15 here"; fi
