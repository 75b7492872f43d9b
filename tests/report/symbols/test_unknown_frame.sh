# tests/report/symbols/test_unknown_frame.sh - a frame outside every recorded module
# (JIT code, a module the snapshot lacks) reads "<unknown>" in every command:
# top's file and module keys and tracebacks, leaks' text and JSON.
# (before: "[??]:0" in top, "??" as top's module, "(in ??)" in leaks, "??" in JSON)
if ! gcc -Ishim tests/report/craft.c -o "$T/craft" -lz 2>"$T/cc.err"; then
  t_fail unknown_frame_craft_builds "$(head -c 300 "$T/cc.err")"; return 0
fi
"$T/craft" stray "$T/s.hsnap"
"$HEAPSNAP" top "$T/s.hsnap" >"$T/top.txt" 2>/dev/null
"$HEAPSNAP" top "$T/s.hsnap" --key module >"$T/mod.txt" 2>/dev/null
"$HEAPSNAP" top "$T/s.hsnap" --key traceback >"$T/tb.txt" 2>/dev/null
"$HEAPSNAP" leaks "$T/s.hsnap" --kinds all >"$T/leaks.txt" 2>/dev/null
"$HEAPSNAP" leaks "$T/s.hsnap" --kinds all --format json >"$T/leaks.json" 2>/dev/null
check() { # NAME FILE FIXED-STRING
  if grep -qF -- "$3" "$2" && ! grep -q '??' "$2"; then t_pass "$1"
  else t_fail "$1" "$(grep -E '0x7f|\?\?' "$2" | head -3 | tr '\n' '|')"; fi
}
check unknown_frame_top_lineno "$T/top.txt" '<unknown>:0: size=4196 B'
check unknown_frame_top_module "$T/mod.txt" '<unknown>: size=4196 B'
check unknown_frame_top_traceback "$T/tb.txt" '  File "<unknown>", line 0, in 0x7f0000000fff'
check unknown_frame_leaks_text "$T/leaks.txt" ': 0x7f0000000fff (in <unknown>)'
check unknown_frame_leaks_json "$T/leaks.json" '"module": "<unknown>"'
