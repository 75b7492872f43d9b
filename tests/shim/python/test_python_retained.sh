# test_python_retained.sh - retained size: `top --retained` charges each
# group the memory its blocks would free if they went, by the dominator
# tree of the heap graph (Python objects and native blocks together).
# tests/shim/python/retained.py keeps 50 MiB of bytes in a module-level
# dict through a list, a class instance and a list; on every CPython
# 3.10-3.13 found (a SKIP line names each one absent), the instances'
# class and the dict's own line (JSON by line and type) are charged what
# tracemalloc sees freed when the program drops the dict, within 1%, and
# the dict's line holds under 1 KiB itself.  Once: in text by line, the
# bytes' line retains what it holds, no more; the HTML report's top table
# has it beside the live size.  Without the graph, --retained is refused
# in one line.
. tests/shim/python/lib_py.sh

script=tests/shim/python/retained.py
l_cache=$(py_line $script MARK_CACHE) l_blobs=$(py_line $script MARK_BLOBS)
for v in $(py_versions_missing); do
  t_skip "python_retained_$v" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done

# field JSON KEY FIELD: FIELD of the group whose key is KEY in JSON.
field() {
  python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(next((g[sys.argv[3]] for g in d["groups"] if g["key"] == sys.argv[2]), ""))' "$@"
}

first=1
while read -r tag py; do
  s=$T/r-$tag.hsnap
  if ! py_run "$py" "$T/run-$tag" $script "$s" || [ ! -s "$s" ]; then
    t_fail "python_retained_run_$tag" "$(tail -c 300 "$T/run-$tag.err")"; continue
  fi
  freed=$(cat "$T/run-$tag.out")
  "$HEAPSNAP" top "$s" --retained --key type -n 40 --format json >"$T/y-$tag.json" 2>"$T/y-$tag.err"
  got=$(field "$T/y-$tag.json" __main__.Holder retained_bytes)
  if [ -n "$got" ] && [ "$freed" -ge $((50 << 20)) ] &&
     [ $((got * 100)) -ge $((freed * 99)) ] && [ $((got * 100)) -le $((freed * 101)) ]; then
    t_pass "python_retained_instance_charged_what_del_frees_$tag"
  else t_fail "python_retained_instance_charged_what_del_frees_$tag" "del freed ${freed:-?}, Holder retains ${got:-none} $(head -c 300 "$T/y-$tag.err")"; fi

  "$HEAPSNAP" top "$s" --retained --key lineno,type -n 30 --format json >"$T/j-$tag.json" 2>"$T/j-$tag.err"
  got=$(field "$T/j-$tag.json" "$script:$l_cache (dict)" retained_bytes)
  own=$(field "$T/j-$tag.json" "$script:$l_cache (dict)" bytes)
  groups=$(python3 -c 'import json, sys
print(sum(g["key"] == sys.argv[2] for g in json.load(open(sys.argv[1]))["groups"]))' "$T/j-$tag.json" "$script:$l_cache (dict)" 2>/dev/null)
  if [ -n "$got" ] && [ "$groups" = 1 ] && [ $((got * 100)) -ge $((freed * 99)) ] &&
     [ $((got * 100)) -le $((freed * 101)) ] && [ "$own" -lt 1024 ]; then
    t_pass "python_retained_dict_line_charged_what_del_frees_$tag"
  else t_fail "python_retained_dict_line_charged_what_del_frees_$tag" "del freed ${freed:-?}, retained ${got:-none} (own ${own:-?}) $(head -c 300 "$T/j-$tag.err")"; fi

  if [ "$first" = 1 ]; then # text, by line and by type
    "$HEAPSNAP" top "$s" --retained -n 0 >"$T/t-$tag.txt" 2>&1
    "$HEAPSNAP" top "$s" --retained --key type -n 3 >"$T/ty-$tag.txt" 2>&1
    blobs=$(grep "^$script:$l_blobs: " "$T/t-$tag.txt")
    if grep -Eq "^$script:$l_cache: retained=50\.[0-9] MiB, size=[0-9]+ B, count=[0-9]+$" "$T/t-$tag.txt" &&
       [[ "$blobs" =~ retained=(.*),\ size=(.*),\ count ]] && [ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] &&
       grep -Eq '^dict: retained=5[0-9]\.[0-9] MiB, size=' "$T/ty-$tag.txt"; then
      t_pass "python_retained_text_by_line_and_by_type_$tag"
    else t_fail "python_retained_text_by_line_and_by_type_$tag" "$(grep -E "retained.py|^dict" "$T/t-$tag.txt" "$T/ty-$tag.txt" | head -c 500 | tr '\n' '|')"; fi
    # the HTML report's top table: retained beside the live size
    "$HEAPSNAP" html "$s" -n 0 -o "$T/r.html" >/dev/null 2>&1
    hret=$(python3 -c 'import json, re, sys
h = open(sys.argv[1]).read()
d = json.loads(re.search(r"<script type=\"application/json\" id=\"heapsnap-data\">(.*?)</script>", h, re.S).group(1))
print(next((r["retained"] for r in d["top"] if r["site"] == sys.argv[2]), ""))' "$T/r.html" "$script:$l_cache" 2>/dev/null)
    if [ -n "$hret" ] && [ $((hret * 100)) -ge $((freed * 99)) ] && [ $((hret * 100)) -le $((freed * 101)) ] &&
       grep -q "'retained'" "$T/r.html"; then
      t_pass python_retained_in_html_top_table
    else t_fail python_retained_in_html_top_table "retained ${hret:-none} at $script:$l_cache, del freed $freed"; fi
    # no graph (HEAPSNAP_PYTHON_OBJECTS=0): refused, one line, exit 2
    HEAPSNAP_PYTHON_OBJECTS=0 py_run "$py" "$T/run0-$tag" $script "$T/r0.hsnap"
    "$HEAPSNAP" top "$T/r0.hsnap" --retained >"$T/n.out" 2>"$T/n.err"; rc=$?
    if [ "$rc" = 2 ] && [ "$(wc -l <"$T/n.err")" = 1 ] && grep -q -- "--retained needs" "$T/n.err"; then
      t_pass python_retained_refused_without_graph
    else t_fail python_retained_refused_without_graph "rc $rc: $(head -c 200 "$T/n.err")"; fi
  fi
  first=0
done < <(py_interpreters)
