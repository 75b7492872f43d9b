# test_python_freelists.sh - garbage that CPython's free lists still name
# is garbage: from 3.11 on the main interpreter is static data, which the
# roots' conservative scan of "the interpreter's own state" reads, and its
# free lists' slots past numfree keep the addresses of objects handed out
# since (pylay_borrowed_spans; 3.13's function version cache too).
# tests/shim/python/freelists.py drops 80 self-holding dicts made where
# the dicts' free list had slots, a dict that holds itself, and trees with
# parent pointers; `top --garbage` must count what gc.collect() then frees,
# and a self-holding dict alone (its own run) must be garbage.  A module's
# global dict (its module imported after the wrap: named one step past
# the module's dict) is named by the module, not by a stale slot of "the
# interpreter's own state" that reaches it a step sooner; a running
# frame's local list that a free list handed out from before the wrap (no
# object of the graph) names its items "frame F:L in main, local rows
# (list) -> [0]", as a global's such list does.  On every CPython 3.10-3.13
# found; a SKIP line names each one absent.
. tests/shim/python/lib_py.sh

script=tests/shim/python/freelists.py
for v in $(py_versions_missing); do
  t_skip "python_freelists_$v" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done

# count FILE KEY: the count of top's line for KEY in FILE (0: none).
count() { awk -v k="$2: " 'index($0, k) == 1 { sub(/.*count=/, ""); sub(/,.*/, ""); n += $0 } END { print n + 0 }' "$1"; }
total() { awk '/: size=/ { sub(/.*count=/, ""); sub(/,.*/, ""); n += $0 } END { print n + 0 }' "$1"; }

mkdir -p "$T/app"
cat >"$T/app/svc.py" <<'PY'
_cache = {}


class Result:
    def __init__(self, key):
        self.data = [key] * 50


def lookup(key):
    r = _cache.get(key)
    if r is None:
        r = _cache[key] = Result(key)
    return r
PY
cat >"$T/app/app.py" <<'PY'
import ctypes, sys
import svc
lib = ctypes.CDLL(None)
lib.heapsnap_take_snapshot.argtypes = [ctypes.c_char_p]
class Row:
    pass
def main():
    for i in range(20):
        svc.lookup("user%d" % i)
    rows = [Row() for _ in range(3)]
    lib.heapsnap_take_snapshot(sys.argv[1].encode())  # line 11
main()
PY

while read -r tag py; do
  s=$T/f-$tag.hsnap
  if ! py_run "$py" "$T/run-$tag" $script "$s" || [ ! -s "$s" ]; then
    t_fail "python_freelists_run_$tag" "$(tail -c 300 "$T/run-$tag.err")"; continue
  fi
  want=$(cat "$T/run-$tag.out")
  "$HEAPSNAP" top "$s" --garbage --key type -n 0 >"$T/t-$tag.txt" 2>"$T/t-$tag.err"
  got=$(total "$T/t-$tag.txt")
  if [ -n "$want" ] && [ "$got" = "$want" ] && [ "$(count "$T/t-$tag.txt" __main__.TreeNode)" = 200 ]; then
    t_pass "python_freelists_parent_tree_and_dicts_garbage_as_gc_collect_$tag"
  else t_fail "python_freelists_parent_tree_and_dicts_garbage_as_gc_collect_$tag" "gc.collect() $want, top --garbage $got: $(tr '\n' '|' <"$T/t-$tag.txt" | head -c 300)"; fi
  s=$T/s-$tag.hsnap
  if ! py_run "$py" "$T/self-$tag" $script "$s" self || [ ! -s "$s" ]; then
    t_fail "python_freelists_self_holding_dict_run_$tag" "$(tail -c 300 "$T/self-$tag.err")"; continue
  fi
  # (by type: a free list's dict keeps the site where its memory was made)
  "$HEAPSNAP" top "$s" --garbage --key type -n 0 >"$T/l-$tag.txt" 2>&1
  if [ "$(cat "$T/self-$tag.out")" = 1 ] && [ "$(total "$T/l-$tag.txt")" = 1 ] &&
     [ "$(count "$T/l-$tag.txt" dict)" = 1 ]; then
    t_pass "python_freelists_self_holding_dict_is_garbage_$tag"
  else t_fail "python_freelists_self_holding_dict_is_garbage_$tag" "$(tr '\n' '|' <"$T/l-$tag.txt" | head -c 400)"; fi
  s=$T/m-$tag.hsnap
  if ! py_run "$py" "$T/mod-$tag" "$T/app/app.py" "$s" || [ ! -s "$s" ]; then
    t_fail "python_freelists_module_global_run_$tag" "$(tail -c 300 "$T/mod-$tag.err")"; continue
  fi
  "$HEAPSNAP" top "$s" --retainers --key type -n 0 >"$T/r-$tag.txt" 2>&1
  res=$(awk '/^  svc.Result: / { on = 1; next } /^  [^ ]/ { on = 0 } on' "$T/r-$tag.txt")
  if grep -q '^  svc.Result: 20 objects' "$T/r-$tag.txt" &&
     grep -Fqx "    20 objects via module svc, global _cache (dict) -> [...] (svc.Result)" <<<"$res" &&
     [ "$(grep -Ec "^        (e\.g\.|    ) module svc, global _cache \(dict\) -> \['user[0-9]+'\] \(svc.Result\)$" <<<"$res")" = 3 ]; then
    t_pass "python_freelists_module_global_named_by_its_module_$tag"
  else t_fail "python_freelists_module_global_named_by_its_module_$tag" "$(tr '\n' '|' <<<"$res" | head -c 400)"; fi
  rows=$(awk '/^  __main__.Row: / { on = 1; next } /^  [^ ]/ { on = 0 } on' "$T/r-$tag.txt")
  if [ "$(grep -Ec "^    1 object: frame .*app.py:11 in main, local rows \(list\) -> \[[0-2]\] \(__main__.Row\)$" <<<"$rows")" = 3 ]; then
    t_pass "python_freelists_running_frame_local_list_named_$tag"
  else t_fail "python_freelists_running_frame_local_list_named_$tag" "$(tr '\n' '|' <<<"$rows" | head -c 400)"; fi
done < <(py_interpreters)
