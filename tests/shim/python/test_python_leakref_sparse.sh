# test_python_leakref_sparse.sh - the leaked-reference scan (pyl_count: every
# word of the program's writable memory) reads a private mapping's written
# pages alone (pyl_scan_written): a page never written reads as zeros or as
# its file's bytes, names no object, and a read faults it in for good (in
# torch's process, libcodec2's 15 MB .data: the check's peak RSS 2.13x
# plain, 1.99x without). tests/shim/python/leakref_sparse.py keeps a pointer
# in the one written page of a 256 MiB private mapping: heapsnap_collect
# makes fewer than 16,384 minor faults (a quarter of the mapping's pages;
# 67,946 before, about 2,000 now on Debian's 3.11), and the exit snapshot
# names exactly the reference nothing points to, not the one the written
# page holds. On each CPython found.
. tests/shim/python/lib_py.sh

prog=tests/shim/python/leakref_sparse.py
l_leaked=$(py_line $prog MARK_LEAKED)
while read -r tag py; do
  name=python_leakref_scan_skips_unwritten_pages_$tag
  rm -f "$T"/exit.*.hsnap "$T/c-$tag.hsnap"
  if ! HEAPSNAP_LEAKS=1 py_run "$py" "$T/sp-$tag" $prog "$T/c-$tag.hsnap"; then
    t_fail "$name" "$(tail -c 300 "$T/sp-$tag.err")"; continue
  fi
  faults=$(sed -n 's/^collect [0-9]* faults \([0-9]*\)$/\1/p' "$T/sp-$tag.out")
  s=$(ls "$T"/exit.*.hsnap 2>/dev/null | head -1)
  "$HEAPSNAP" leaks "$s" >"$T/sp-$tag.txt" 2>/dev/null
  got=$(sed -n '/Python objects\{0,1\} ha[sv]e\{0,1\} leaked references/,/^$/p' "$T/sp-$tag.txt" |
    grep -E '^(  )?[0-9]+ ' | tr '\n' '|')
  if [ -z "$faults" ] || [ "$faults" -ge 16384 ]; then
    t_fail "$name" "heapsnap_collect: $(cat "$T/sp-$tag.out") (bound 16384 faults)"
  else
    case "$got" in
    "1 Python object has leaked references"*"|  1 bytearray"*"at $prog:$l_leaked: refcount 1, 0 references found|")
      t_pass "$name" ;;
    *) t_fail "$name" "faults $faults; leaked: $(printf %s "$got" | head -c 400)" ;;
    esac
  fi
done < <(py_interpreters)
