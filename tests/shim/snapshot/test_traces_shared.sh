# tests/shim/snapshot/test_traces_shared.sh - a compressed snapshot (format 5 on)
# stores a trace's frames once: each trace keeps only the frames it does not
# share with the trace before (hsnap_format.h, TRACES' shared), so the
# exit snapshot of an empty Python program, tens of thousands of stacks
# about 50 frames deep that share their callers, holds under 128 bytes a
# trace in TRACES uncompressed (every frame written out, it took 420 on
# pyenv 3.11 and 19 MiB in all), is under 1 MiB on disk, and reads back:
# `top --peak` names the program's own start-up, as it did.  On Debian's
# python3 and the first pyenv CPython found.
. tests/shim/python/lib_py.sh

# traces_raw FILE: TRACES' payload bytes uncompressed (its zstd head's
# raw_len, or its length when stored raw), from the section headers.
traces_raw() {
  python3 - "$1" <<'EOF'
import struct, sys
d = open(sys.argv[1], 'rb').read()
off = 24
while off + 16 <= len(d):
    t, _, n = struct.unpack_from('<IIQ', d, off)
    if t & 0xffff == 3:
        print(struct.unpack_from('<Q', d, off + 16)[0] if t & 0x10000 else n)
        break
    if t & 0xffff == 0xffff:
        break
    off += 16 + n
EOF
}

n=0
while read -r tag py; do
  case "$tag" in debian) ;; pyenv-*) [ "$n" = 0 ] || continue ;; *) continue ;; esac
  [ "$tag" = debian ] || n=1
  s=$T/pass-$tag.hsnap
  rm -f "$s"
  LD_PRELOAD="$SHIM" HEAPSNAP_OUTPUT="$s" "$py" -c pass >"$T/run-$tag.out" 2>&1
  traces=$("$HEAPSNAP" info "$s" 2>/dev/null | awk '$1 == "traces:" { print $2 }')
  raw=$([ -s "$s" ] && traces_raw "$s")
  size=$(stat -c %s "$s" 2>/dev/null || echo 0)
  if [ -n "$traces" ] && [ "$traces" -gt 1000 ] && [ -n "$raw" ] &&
     [ $((raw / traces)) -lt 128 ] && [ "$size" -lt 1048576 ]; then
    t_pass "traces_stored_once_python_exit_$tag"
  else
    t_fail "traces_stored_once_python_exit_$tag" "traces ${traces:-none}, TRACES ${raw:-none} bytes raw, file $size bytes $(tail -c 300 "$T/run-$tag.out")"
  fi
  if "$HEAPSNAP" top --peak -n 40 "$s" >"$T/top-$tag.txt" 2>"$T/top-$tag.err" &&
     grep -q '<frozen ' "$T/top-$tag.txt"; then
    t_pass "traces_stored_once_read_back_$tag"
  else
    t_fail "traces_stored_once_read_back_$tag" "$(head -c 300 "$T/top-$tag.err") $(head -c 300 "$T/top-$tag.txt")"
  fi
done < <(py_interpreters)
