# tests/report/symbols/test_shorten_templates.sh - --shorten-templates (heaptrack's
# option; off by default) on tests/fixtures/stl.cc: the standard library's
# frames of every loss record (--all-frames: the folded ones too) read
# std::__new_allocator<>::allocate(...),
# std::shared_ptr<> std::make_shared<>()..., golden over the function names
# of the fixture's and the C++ headers' frames; every command that prints
# frames takes the option, and .heapsnap.toml can set it.
# (before: an unknown option; names such as std::__shared_count<(__gnu_cxx::
# _Lock_policy)2>::__shared_count<Node, std::allocator<Node>>(...) in full)
. tests/fixtures/lib.sh
FX_TEST=shorten_templates fx_ready stl || return 0
G=tests/golden
if ! HEAPSNAP_LEAKS=1 fx_profile "$T/stl.hsnap" "$FX/stl" || [ ! -s "$T/stl.hsnap" ]; then
  t_fail shorten_templates_profiled "exit $? or no snapshot: $(head -c 300 "$T/fx.err")"; return 0
fi
S=$T/stl.hsnap

# names FILE: the records of stl.cc's lines (not the runtime's own pool), each
# as its header (without its number) and the function names of its frames in
# stl.cc, the C++ headers and libstdc++ (libc's frames differ between machines)
names() {
  awk 'BEGIN { RS = ""; ORS = "\n" } /stl\.cc/' "$1" |
    grep -E '^[0-9]+ bytes|stl\.cc|include/c\+\+|in libstdc\+\+' |
    sed -E 's/ in loss record [0-9]+ of [0-9]+$//; s/^    (at|by) 0x[0-9a-f]+: /  /;
            s/ \([^()]*\)( \[wrapper\])?$//'
}

"$HEAPSNAP" leaks "$S" -n 0 --kinds all --all-frames --shorten-templates >"$T/short.txt" 2>/dev/null
names "$T/short.txt" >"$T/short.names"
t_golden shorten_templates_leaks_stl "$G/shorten_templates_leaks_stl.txt" "$T/short.names"

# off by default: the same records with the arguments in full
"$HEAPSNAP" leaks "$S" -n 0 --kinds all --all-frames >"$T/long.txt" 2>/dev/null
grep -q 'std::__new_allocator<std::_Sp_counted_ptr_inplace<Node, ' "$T/long.txt" &&
  ! grep -q 'std::__new_allocator<>::allocate' "$T/long.txt" &&
  [ "$(grep -c 'bytes in' "$T/long.txt")" = "$(grep -c 'bytes in' "$T/short.txt")" ] &&
  t_pass shorten_templates_off_by_default ||
  t_fail shorten_templates_off_by_default "$(grep -m3 'allocate' "$T/long.txt" | tr '\n' '|')"

# from the rules file, as the gate reads it (top level or [gate])
mkdir -p "$T/cfg" && printf '[gate]\nshorten-templates = true\n' >"$T/cfg/.heapsnap.toml"
(cd "$T/cfg" && "$HEAPSNAP" leaks "$S" --kinds all --all-frames >"$T/cfg.txt" 2>/dev/null)
(cd "$T/cfg" && "$HEAPSNAP" leaks "$S" --kinds all --all-frames --rules none >"$T/none.txt" 2>/dev/null)
grep -q 'std::__new_allocator<>::allocate' "$T/cfg.txt" &&
  ! grep -q 'std::__new_allocator<>::allocate' "$T/none.txt" &&
  t_pass shorten_templates_from_rules_file ||
  t_fail shorten_templates_from_rules_file "$(grep -m2 'allocate' "$T/cfg.txt" | tr '\n' '|')"
printf 'shorten-templates = "yes"\n' >"$T/bad.toml"
"$HEAPSNAP" top "$S" --rules "$T/bad.toml" >/dev/null 2>"$T/bad.err"; rc=$?
[ $rc -eq 2 ] && grep -qx "heapsnap: top: $T/bad.toml:1: bad value for shorten-templates: 'yes' (true or false)" \
  "$T/bad.err" && t_pass shorten_templates_rules_file_wants_bool ||
  t_fail shorten_templates_rules_file_wants_bool "exit $rc: $(cat "$T/bad.err")"

# every frame-printing command takes it; the JSON names are shortened too
ok=1; why=
for cmd in "top" "diff $S" "gate --fail-on none" "trend $S" "export --format folded" \
           "html -o $T/r.html"; do
  set -- $cmd
  c=$1; shift
  if ! "$HEAPSNAP" "$c" "$S" "$@" --shorten-templates >"$T/cmd.out" 2>"$T/cmd.err"; then
    ok=0; why="$why $c: exit $? $(head -c 200 "$T/cmd.err");"
  fi
done
[ $ok = 1 ] && t_pass shorten_templates_every_command || t_fail shorten_templates_every_command "$why"
"$HEAPSNAP" leaks "$S" --kinds all --all-frames --shorten-templates --format json | python3 -c '
import json, sys
names = [f["function"] for r in json.load(sys.stdin)["records"] for f in r["frames"]]
assert "std::__new_allocator<>::allocate(unsigned long, void const*)" in names, names
assert not [n for n in names if "<std::" in n], names
' 2>"$T/json.err" && t_pass shorten_templates_json || t_fail shorten_templates_json "$(tail -c 300 "$T/json.err")"
