# test_python_codes.sh - code objects outlive nothing: a trace keeps
# (code id, offset) words and each code object is copied the first time it
# is seen, so 200 functions that die one after another, their code objects'
# addresses reused, each keep their own file and line (genI.py, line I + 2)
# in the snapshot, written after they are all gone.
. tests/shim/python/lib_py.sh

while read -r tag py; do
  LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/x.%p.hsnap" "$py" tests/shim/python/codes.py "$T/c-$tag.hsnap" \
    >"$T/c-$tag.out" 2>&1
  "$HEAPSNAP" top "$T/c-$tag.hsnap" -n 0 --include 'gen*.py' 2>/dev/null >"$T/c-$tag.txt"
  bad=$(awk -F'[:.]' '/^gen[0-9]*\.py:[0-9]*: size=/ {
               i = substr($1, 4); n++
               if ($3 != i + 2 || $0 !~ /count=2,/) { printf "%s; ", $0 } }
             END { if (n != 200) printf "%d sites, want 200", n }' "$T/c-$tag.txt")
  if [ -z "$bad" ]; then t_pass "python_dead_code_objects_keep_their_lines_$tag"
  else t_fail "python_dead_code_objects_keep_their_lines_$tag" "$(echo "$bad" | head -c 400)"; fi
done < <(py_interpreters)
