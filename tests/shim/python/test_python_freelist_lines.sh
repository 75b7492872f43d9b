# test_python_freelist_lines.sh - an object a CPython free list hands out
# again is charged to the line that reused it, as tracemalloc charges it,
# on every CPython found: freelist_lines.py run once under the shim with
# -X tracemalloc, tracemalloc's statistics('lineno') and a heapsnap
# snapshot taken at the same point of the same run.  Per line of 50
# blocks or more either way: counts within 1% or 3 blocks.  The issue's
# shape (1,000 dicts, lists, tuples of 1-3 items, floats made and freed,
# 2,000 made at the next line and kept) on every version.  The service
# (serve): from 3.13 on the reference tracer tells each birth (pyreborn.c)
# and its lines agree one by one; before, the free lists are watched at
# each allocation (pyfreewatch.c), so an object reborn in handle() is
# charged at the next allocation, the expiry's in serve(): the SESSION
# and NEXT lines agree with tracemalloc's summed, the others one by one.
. tests/shim/python/lib_py.sh

prog=tests/shim/python/freelist_lines.py
session=$(grep -n "# SESSION$" "$prog" | cut -d: -f1)
next=$(grep -n "# NEXT" "$prog" | cut -d: -f1)
n=0
while read -r tag py; do
  v=$("$py" -c 'import sys; print("%d%02d" % sys.version_info[:2])')
  n=$((n + 1))
  if ! LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/x.%p.hsnap" "$py" -X tracemalloc "$prog" "$T/f-$tag.hsnap" \
       >"$T/tm-$tag.txt" 2>"$T/err-$tag.txt" || [ ! -s "$T/f-$tag.hsnap" ]; then
    t_fail "python_freelist_lines_match_tracemalloc_$tag" "$(tail -c 300 "$T/err-$tag.txt")"
    continue
  fi
  "$HEAPSNAP" top "$T/f-$tag.hsnap" -n 0 --include '*/freelist_lines.py' 2>/dev/null |
    sed -n 's/^.*freelist_lines.py:\([0-9]*\): size=.*, count=\([0-9]*\),.*/\1 \2/p' >"$T/hs-$tag.txt"
  # joined: with a tracer (3.13 on) no line; else the SESSION and NEXT lines as one
  joined=$([ "$v" -lt 313 ] && echo "$session $next")
  bad=$(awk -v joined="$joined" -v kept="$(grep -n '# KEPT$' "$prog" | cut -d: -f1 | tr '\n' ' ')" '
    BEGIN { split(joined, j, " "); if (j[1]) { as[j[1]] = j[1]; as[j[2]] = j[1] } }
    NR == FNR { k = ($1 in as) ? as[$1] : $1; hs[k] += $2; next }
    { k = ($1 in as) ? as[$1] : $1; tm[k] += $2 }
    END {
      for (k in hs) if (!(k in tm)) tm[k] = 0
      for (k in tm) {
        t = tm[k]; h = hs[k] + 0; d = t - h; if (d < 0) d = -d
        if (t < 50 && h < 50) continue
        seen++
        if (d > 3 && d > t / 100) printf "line %d: heapsnap %d, tracemalloc %d; ", k, h, t
      }
      split(kept, kl, " ")
      for (i in kl) if (tm[kl[i]] < 2000) printf "KEPT line %d: tracemalloc %d; ", kl[i], tm[kl[i]]
      if (seen < 6) printf "only %d lines compared", seen
    }' "$T/hs-$tag.txt" "$T/tm-$tag.txt")
  if [ -z "$bad" ]; then t_pass "python_freelist_lines_match_tracemalloc_$tag"
  else t_fail "python_freelist_lines_match_tracemalloc_$tag" "$bad"; fi
done < <(py_interpreters)
if [ "$n" -ge 1 ]; then t_pass python_freelist_lines_interpreters_found
else t_fail python_freelist_lines_interpreters_found "no CPython 3.10 or later"; fi
