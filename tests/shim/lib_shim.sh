# tests/shim/lib_shim.sh - helpers shared by the shim's shell tests (sourced
# after tests/lib.sh).  Fixtures are built into $T with t_build (tests/lib.sh);
# hsnap_dump is the tests' own strict reader of .hsnap files (independent of
# report/).

# s_build NAME [cc flags...]: NAME.c of tests/shim/ or of one of its rooms'
# folders (tests/shim/record/, ...) -> $T/NAME
s_build() {
  local name=$1 src; shift
  src=tests/shim/$name.c
  [ -e "$src" ] || src=$(find tests/shim -name "$name.c" | head -1)
  t_build "$name" "${src:-tests/shim/$name.c}" "$@" -pthread
}

s_dump_build() {
  [ -x "$T/hsnap_dump" ] || t_build hsnap_dump tests/shim/hsnap_dump.c -O1 -lz -lzstd
}

# s_dump FILE: validated summary on stdout (see hsnap_dump.c)
s_dump() { "$T/hsnap_dump" "$1"; }

# s_books DUMP [bytes]: "ok" when the books balance - allocs - frees = the
# sites' live blocks, META's current = their live bytes - else what does
# not.  With "bytes", only the second (allocs - frees is no identity across
# a clear_traces: they count from the start, and the frees of the blocks it
# forgot are foreign).
s_books() {
  awk -v only_bytes="${2:-}" '
       $1=="meta" { for (i = 2; i <= NF; i++) { split($i, kv, "="); m[kv[1]] = kv[2] } }
       $1=="site" { n += $2; b += $3 }
       END { if (m["current"] == "") print "no meta line";
             else if (only_bytes == "" && m["allocs"] - m["frees"] != n) print "allocs-frees", m["allocs"] - m["frees"], "live blocks", n;
             else if (m["current"] != b) print "current", m["current"], "live bytes", b;
             else print "ok" }' "$1"
}

# s_same NAME CMD...: runs CMD plainly and under the shim (with HEAPSNAP_*
# from the caller's environment); passes when stdout, stderr and exit status
# are identical.  The shim's run leaves its output in $T/shim.{out,err}.
s_same() {
  local name=$1; shift
  "$@" >"$T/plain.out" 2>"$T/plain.err"; local want=$?
  LD_PRELOAD="$SHIM${LD_PRELOAD:+:$LD_PRELOAD}" HEAPSNAP_OUTPUT="${HEAPSNAP_OUTPUT:-$T/same.%p.hsnap}" \
    "$@" >"$T/shim.out" 2>"$T/shim.err"; local got=$?
  if [ "$want" -ne "$got" ]; then t_fail "$name" "exit $got under the shim, $want without"; return 1; fi
  if ! cmp -s "$T/plain.out" "$T/shim.out"; then
    t_fail "$name" "stdout differs: $(diff "$T/plain.out" "$T/shim.out" | head -5 | tr '\n' ' ')"; return 1; fi
  if ! cmp -s "$T/plain.err" "$T/shim.err"; then
    t_fail "$name" "stderr differs: $(diff "$T/plain.err" "$T/shim.err" | head -5 | tr '\n' ' ')"; return 1; fi
  t_pass "$name"
}

# s_func EXE OFFSET: the function addr2line finds at a module-0 offset
s_func() { addr2line -f -e "$1" "$2" | head -1; }

# s_site_funcs EXE DUMP_OUTPUT: "function live_count live_bytes" per site
s_site_funcs() {
  local exe=$1 dump=$2
  grep '^site ' "$dump" | while read -r _ lc lb tc tb off; do
    [ "$off" = - ] && continue
    echo "$(s_func "$exe" "$off") $lc $lb"
  done
}
