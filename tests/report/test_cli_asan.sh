# tests/report/test_cli_asan.sh - the whole CLI built with AddressSanitizer and
# UndefinedBehaviorSanitizer, run over snapshots with leaks, retainers and a
# growing series: every command must exit as the normal build does and the
# sanitizers must report nothing (use after free, overflow, leaks of the
# CLI's own memory).  The gate once read its snapshots after freeing them.
# Sourced by tests/run.sh.
# tier: full (builds the whole CLI with ASan and UBSan)
asan=$T/heapsnap_asan
if ! ${CC:-gcc} -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
     -std=gnu11 -D_GNU_SOURCE $ROOM_INC -I"$BUILD/gen" $(find report -name '*.c' | sort) \
     "$BUILD/gen/profile.pb-c.c" report/html/assets.S "$BUILD"/obj/report/load/tomlread.o -o "$asan" \
     -liberty -ldw -lelf -lz -lzstd -lm -lprotobuf-c -ltomlplusplus -lncurses -Wl,--push-state,--no-as-needed -lstdc++ -Wl,--pop-state 2>"$T/ca.err"; then
  if grep -q "cannot find.*asan\|libasan" "$T/ca.err"; then
    t_skip cli_asan_build "no AddressSanitizer runtime: $(head -c 200 "$T/ca.err")"
  else
    t_fail cli_asan_build "$(head -c 300 "$T/ca.err" | tr '\n' ' ')"
  fi
  return 0 2>/dev/null || exit 0
fi

flags="-g -O0 -fno-omit-frame-pointer -fdebug-prefix-map=$PWD=. -Ishim"
for f in twoleaks chain cache; do
  gcc $flags "tests/report/gate/$f.c" -o "$T/ca_$f" || t_fail "cli_asan_${f}_build" gcc
done
"$HEAPSNAP" run --leaks -o "$T/ca_two.hsnap" -- "$T/ca_twoleaks" >/dev/null 2>&1
"$HEAPSNAP" run --leaks -o "$T/ca_chain.hsnap" -- "$T/ca_chain" >/dev/null 2>&1
(cd "$T" && LD_PRELOAD=$SHIM ./ca_cache "$T/ca_c.%d.hsnap") >/dev/null 2>&1
printf 'leak:lose_name\n' >"$T/ca.supp"
two=$T/ca_two.hsnap chain=$T/ca_chain.hsnap

# ca_same NAME ARGS...: the ASan build exits like the normal one, and clean
ca_same() {
  local name=$1; shift
  "$HEAPSNAP" "$@" >"$T/ca_plain.out" 2>&1; local want=$?
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
    "$asan" "$@" >"$T/ca_asan.out" 2>"$T/ca_asan.err"; local got=$?
  if grep -q "ERROR: \|runtime error" "$T/ca_asan.err"; then
    t_fail "cli_asan_$name" "$(grep -m1 -A4 'ERROR: \|runtime error' "$T/ca_asan.err" | tr '\n' ' ' | head -c 400)"
  elif [ "$got" != "$want" ]; then
    t_fail "cli_asan_$name" "exit $got, normal build $want: $(head -c 200 "$T/ca_asan.err")"
  else
    t_pass "cli_asan_$name"
  fi
}

ca_same top "top" -n 0 "$two"
ca_same top_traceback top --key traceback "$two" "$chain"
ca_same top_leaked_retainers top --leaked --retainers "$chain"
ca_same diff diff "$T/ca_c.0.hsnap" "$T/ca_c.4.hsnap"
ca_same info info "$two"
ca_same leaks leaks "$two"
ca_same leaks_json leaks --format json "$chain"
ca_same leaks_why leaks --why tests/report/gate/chain.c:19 "$chain"
ca_same leaks_suppressed leaks --suppressions "$T/ca.supp" "$two"
ca_same leaks_gen_suppressions leaks --gen-suppressions "$two"
ca_same gate_leaks gate "$two"
ca_same gate_max_bytes gate --max-leaked-bytes 228 "$two"
ca_same gate_suppressed gate --suppressions "$T/ca.supp" --format json "$two"
ca_same gate_formats gate --format junit -o "$T/ca.xml" --format sarif -o "$T/ca.sarif" \
  --format github "$two" "$chain"
ca_same gate_growth gate --fail-on none --baseline "$T/ca_c.3.hsnap" --max-growth 5% "$T/ca_c.4.hsnap"
ca_same gate_trend gate --fail-on none --max-trend-growth 1000 "$T"/ca_c.[0-4].hsnap
ca_same merge merge "$two" "$T/ca_c.4.hsnap" -o "$T/ca_merged.hsnap"
ca_same trend trend "$T"/ca_c.[0-4].hsnap
ca_same export_pprof export -f pprof -o "$T/ca.pb.gz" "$two" "$chain"
ca_same export_folded export -f folded "$T"/ca_c.[0-4].hsnap
ca_same export_speedscope export -f speedscope "$two"
ca_same export_massif export -f massif "$T"/ca_c.[0-4].hsnap
ca_same html html -o "$T/ca.html" "$T"/ca_c.[0-4].hsnap
ca_same html_leaks html -o "$T/ca2.html" "$two" "$chain"

# crafted STATS (tests/report/craft.c): refused at load, or summed without overflow
if gcc -Ishim tests/report/craft.c -o "$T/ca_craft" -lz; then
  "$T/ca_craft" stats "$T/ca_st.hsnap" 0x8000000000000000
  "$T/ca_craft" stats "$T/ca_st3.hsnap" 0x5555555555555
  ca_same stats_overflow top "$T/ca_st.hsnap"
  set --; for i in $(seq 3100); do set -- "$@" "$T/ca_st3.hsnap"; done
  ca_same stats_sums_saturate top "$@"
  ca_same stats_sums_saturate_export export -f folded "$T/ca_st.hsnap" "$T/ca_st3.hsnap"
  set --
  "$T/ca_craft" names "$T/ca_ev.hsnap" $'/x/e\n::v\xed\xa0\x80' $'c\e[1m' $'/x/\xff'
  ca_same hostile_names_gate gate --format json --format github --format junit -o "$T/ca_ev.xml" "$T/ca_ev.hsnap"
  ca_same hostile_names_info info "$T/ca_ev.hsnap"
  ca_same hostile_names_pprof export -f pprof -o "$T/ca_ev.pb.gz" "$T/ca_ev.hsnap"
  ca_same hostile_names_html html -o "$T/ca_ev.html" "$T/ca_ev.hsnap"
else
  t_fail cli_asan_craft_build gcc
fi
