# test_python_freelist_prewrap.sh - holders through containers the
# interpreter's free lists hand out again, made before the shim wrapped the
# allocator domains and alive then: tests/shim/python/freelist_prewrap.py
# makes nested dicts and lists as its first lines, without draining the
# free lists first (test_python_prewrap.sh's and heldout.py's programs
# do), and each item's path in `top --retainers` is the one
# gc.get_referrers builds (refpath.py): "module __main__, global BIG (dict)
# -> [...] (dict) -> [...] (list) -> [...] (bytes)", and CACHE's three
# dicts deep.  Before pyw_seed_live booked the live pre-wrap lists, dicts
# and keys tables at the wrap, one of them dead since and reused was no
# block, so no object: "outside (C code or the interpreter) -> list -> ..."
# on every version.  On every CPython 3.10-3.15 found (a SKIP line names
# each one absent).  3.10's BIG also needs the dead temporaries of
# pyexit_register's atexit registration (run with recording off: its
# import's globals dict) booked (dom_seed_again): BIG's inner dict was one.
. tests/shim/python/lib_py.sh

script=tests/shim/python/freelist_prewrap.py
for v in $(py_versions_missing); do
  t_skip "python_freelist_prewrap_$v" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done

while read -r tag py; do
  s=$T/f-$tag.hsnap
  if ! py_run "$py" "$T/run-$tag" $script "$s" || [ ! -s "$s" ]; then
    t_fail "python_freelist_prewrap_run_$tag" "$(tail -c 300 "$T/run-$tag.err")"; continue
  fi
  "$HEAPSNAP" top "$s" --retainers --key type -n 0 >"$T/r-$tag.txt" 2>"$T/r-$tag.err"
  n=0
  for want in "5000 bytes" "200 bytearray"; do
    n=$((n + 1)); count=${want% *}; type=${want#* }
    path=$(sed -n ${n}p "$T/run-$tag.out")
    name=python_freelist_prewrap_${type}_held_as_gc_get_referrers_$tag
    group=$(awk -v t="  $type: " 'index($0, t) == 1 { on = 1; next } /^  [^ ]/ { on = 0 } on' "$T/r-$tag.txt")
    if [ -n "$path" ] && grep -Fqx "    $count objects via $path" <<<"$group"; then
      t_pass "$name"
    else t_fail "$name" "want '$count objects via $path': $(tr '\n' '|' <<<"$group" | head -c 400)"; fi
  done
done < <(py_interpreters)
