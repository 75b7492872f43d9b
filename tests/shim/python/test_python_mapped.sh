# test_python_mapped.sh - pymalloc's arenas under the documented rule
# (docs/python.md): with the allocator domains wrapped (HEAPSNAP_PYTHON=auto,
# the default) the objects in the arenas are traced as malloc kind at their
# Python line and the arenas themselves are not counted (pymalloc maps them
# inside the wrapped call); with HEAPSNAP_PYTHON=off they are the mmap kind,
# and hold the 200,000 objects of tests/shim/python/arenas.py.  Either way the
# script's own mmap.mmap(-1, 4 MiB) is the mmap kind, its Python line in
# its traceback, untouched (no page resident: top's [untouched]).
. tests/shim/python/lib_py.sh

kinds() { # SNAP: "MALLOC_BYTES MMAP_BYTES MMAP_RANGES" from info's JSON
  "$HEAPSNAP" info "$1" --format json 2>/dev/null | python3 -c '
import json, sys
k = json.load(sys.stdin)["snapshots"][0].get("kinds")
print(*((k["malloc"]["bytes"], k["mmap"]["bytes"], k["mmap"]["ranges"]) if k else (0, 0, 0)))'
}

while read -r tag py; do
  for mode in auto off; do
    HEAPSNAP_PYTHON=$mode LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/x.%p.hsnap" \
      "$py" tests/shim/python/arenas.py "$T/a-$tag-$mode.hsnap" >"$T/a.out" 2>&1
    read -r mb pb pn <<<"$(kinds "$T/a-$tag-$mode.hsnap")"
    name=python_arenas_${mode}_$tag
    if [ -z "$pn" ]; then
      t_fail "$name" "no snapshot: $(head -c 300 "$T/a.out")"
    elif [ "$mode" = auto ]; then
      # no arena counted: the mmap kind is the script's mapping alone, at
      # its line; the objects are malloc kind at theirs
      line=$("$HEAPSNAP" top "$T/a-$tag-$mode.hsnap" -n 0 --kind malloc --include '*arenas.py' 2>/dev/null |
             grep 'arenas\.py:8:')
      count=$(echo "$line" | sed -n 's/.*count=\([0-9]*\),.*/\1/p')
      "$HEAPSNAP" top "$T/a-$tag-$mode.hsnap" -n 0 --kind mmap --key traceback >"$T/m.txt" 2>/dev/null
      mline=$(grep -m1 '^tests/shim/python/arenas.py:9: ' "$T/m.txt")
      # 3.14 on: importing _ctypes maps two pages of its own (libffi's),
      # at ctypes' import line, beside the script's mapping
      want_b=$((4 << 20)) want_n=1
      case "$tag" in *-3.1[45])
        grep -qF 'File "/usr/lib/python3.1'"${tag##*-3.1}"'/ctypes/__init__.py", line' "$T/m.txt" &&
          want_b=$(((4 << 20) + 8192)) want_n=3 ;;
      esac
      if [ "$pb" = "$want_b" ] && [ "$pn" = "$want_n" ] && [ "${count:-0}" -ge 200000 ] &&
         [ "${mline#*: }" = "size=4096 KiB, count=1, average=4096 KiB [untouched]" ] &&
         grep -qF 'File "tests/shim/python/arenas.py", line 9, in <module>' "$T/m.txt"; then
        t_pass "$name"
      else t_fail "$name" "mmap kind $pb bytes in $pn ranges ('$mline'); line 8: '$line'"; fi
    else
      # the arenas are the mmap kind: at least the objects' 3.2 MB, and
      # the script's 4 MiB
      if [ "$pb" -ge $((3200000 + (4 << 20))) ] && [ "$pb" -lt $((64 << 20)) ]; then t_pass "$name"
      else t_fail "$name" "mmap kind $pb bytes in $pn ranges (malloc $mb)"; fi
    fi
  done
done < <(py_interpreters)
