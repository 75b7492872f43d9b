# test_python_callback_lines.sh - Python code that C code calls back
# (callbacks.py: json's C scanner with hooks, sorted's key, map and filter,
# a C library's callback through ctypes, __init__ from type_call, a
# property and a descriptor, generators resumed by list() and sum(),
# operator overloads) and the objects a free list hands out again in such
# callbacks (reborn.py: the caller's dead float, tuple and dict, and from
# 3.14 its int, json.loads' number): `diff` between snapshots around
# run(N) charges each line what tracemalloc's statistics('lineno') charges
# it in another run of the same program (callback_drive.py), within 1% or
# 3 blocks, on every line of 100 blocks or more either way, the lines
# marked CHARGED among them.  On every CPython found, the Debian roots'
# 3.14 and 3.15 too.  Before 3.13 there is no reference tracer
# (pyreborn.c): reborn.py's heapsnap run has tracemalloc traced from
# start-up (PYTHONTRACEMALLOC=1), whose trace of each block heapsnap takes
# at a snapshot (pytmline.c).
. tests/shim/python/lib_py.sh

# "NAME COUNT" per line (NAME: FILE's base name:LINE) of `diff`'s text.
diff_lines() {
  "$HEAPSNAP" diff "$1" "$2" -n 0 2>/dev/null |
    sed -n 's/^\(.*\): size=.*, count=[0-9,]* (\([-+]*[0-9,]*\)),.*/\1 \2/p' | tr -d ',+' |
    awk '{ n = split($1, p, "/"); print p[n], $2 }'
}

# compare TAG PY PROGRAM [TM]: empty when every line agrees, else the
# reasons; TM: heapsnap's run has PYTHONTRACEMALLOC=TM.
compare() {
  local tag=$1 py=$2 prog=tests/shim/python/$3.py out=$T/$3-$1 tm=${4:-}
  if ! "$py" tests/shim/python/callback_drive.py "$prog" tm "$out.tm" 2>"$out.tm.err"; then
    echo "tracemalloc's run: $(tail -c 300 "$out.tm.err")"; return
  fi
  if ! LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/x.%p.hsnap" PYTHONTRACEMALLOC=$tm "$py" tests/shim/python/callback_drive.py \
       "$prog" hs "$out" 2>"$out.hs.err" || [ ! -s "$out.1.hsnap" ]; then
    echo "heapsnap's run: $(tail -c 300 "$out.hs.err")"; return
  fi
  diff_lines "$out.0.hsnap" "$out.1.hsnap" >"$out.hs"
  awk '{ n = split($1, p, "/"); print p[n], $2 }' "$out.tm" >"$out.tmb"
  grep -n "# CHARGED$" "$prog" | cut -d: -f1 | sed "s/^/$3.py:/" >"$out.marked"
  awk 'FILENAME == ARGV[1] { marked[$1] = 1; next }
       FILENAME == ARGV[2] { tm[$1] += $2; next }
       { hs[$1] += $2 }
       END {
         for (k in hs) if (!(k in tm)) tm[k] = 0
         for (k in tm) {
           t = tm[k]; h = hs[k] + 0; d = t - h; if (d < 0) d = -d
           if (t < 100 && h < 100) continue
           if (k ~ /^_?tracemalloc\.c:/) continue # the tables of tracemalloc itself, in a TM run
           if (k in marked) seen[k] = 1
           if (d > 3 && d > t / 100) printf "%s: heapsnap %d, tracemalloc %d; ", k, h, t
         }
         for (k in marked) if (!(k in seen)) printf "%s: under 100 blocks; ", k
       }' "$out.marked" "$out.tmb" "$out.hs"
}

while read -r tag py; do
  v=$("$py" -c 'import sys; print("%d%02d" % sys.version_info[:2])')
  bad=$(compare "$tag" "$py" callbacks)
  if [ -z "$bad" ]; then t_pass "python_callback_lines_match_tracemalloc_$tag"
  else t_fail "python_callback_lines_match_tracemalloc_$tag" "$bad"; fi
  tm=
  [ "$v" -ge 313 ] || tm=1
  bad=$(compare "$tag" "$py" reborn "$tm")
  if [ -z "$bad" ]; then t_pass "python_reborn_lines_match_tracemalloc_$tag"
  else t_fail "python_reborn_lines_match_tracemalloc_$tag" "$bad"; fi
done < <(py_interpreters; py_root_interpreters unread)
