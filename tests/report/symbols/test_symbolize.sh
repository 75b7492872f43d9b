# tests/report/symbols/test_symbolize.sh - the CLI's symbolizer on a program built here:
# inlined functions become frames of their own (with the call line), C++ names
# are demangled (a static function has no linkage name: plain "grab"), `new` is charged to the user's line, a stripped binary falls
# back to the symbol table ("[module]" file) or, with none, the address in the module, and a binary that disappeared
# after the run falls back to module+0xoffset with one warning, never an error.
src=$T/inl.cc
cat >"$src" <<'CC'
#include <cstdlib>
#include <new>
static void *volatile keep[4];
static inline __attribute__((always_inline)) void *grab(unsigned n)
{
    return std::malloc(n);                          // line 6: inlined site
}
namespace shop {
struct Cart { long items[6]; };
__attribute__((noinline)) void fill(int i) { keep[i] = grab(1000); }   // line 10
__attribute__((noinline)) Cart *make() { return new Cart; }           // line 11
}
int main()
{
    shop::fill(0);                                  // line 15
    keep[1] = shop::make();                         // line 16
    return 0;
}
CC
if ! ${CXX:-g++} -O2 -g -fno-omit-frame-pointer -fno-optimize-sibling-calls "$src" -o "$T/inl" 2>"$T/cc.err"; then
  t_fail sym_fixture_builds "$(head -c 300 "$T/cc.err")"; return 0
fi
(cd "$T" && HEAPSNAP_OUTPUT=$T/inl.hsnap LD_PRELOAD=$SHIM ./inl) || t_fail sym_fixture_runs "exit $?"
if [ ! -s "$T/inl.hsnap" ]; then t_fail sym_snapshot_written "no $T/inl.hsnap"; return 0; fi

# has NAME FILE LINE: passes when FILE contains LINE exactly (as a whole line)
has() {
  if grep -qxF -- "$3" "$2"; then t_pass "$1"
  else t_fail "$1" "no line '$3' in: $(head -c 600 "$2" | tr '\n' '|')"; fi
}

(cd "$T" && "$HEAPSNAP" top inl.hsnap --key traceback -n 0) >"$T/tb.txt" 2>"$T/tb.err"
has sym_inlined_frame_has_its_own_line "$T/tb.txt" '  File "inl.cc", line 6, in grab'
has sym_inline_caller_gets_call_line "$T/tb.txt" '  File "inl.cc", line 10, in shop::fill(int)'
has sym_outer_frame "$T/tb.txt" '  File "inl.cc", line 15, in main'
has sym_new_charged_to_user_line "$T/tb.txt" 'inl.cc:11: size=48 B, count=1, average=48 B'
(cd "$T" && "$HEAPSNAP" top inl.hsnap --key function -n 0) >"$T/fn.txt" 2>&1
has sym_demangled_function "$T/fn.txt" 'shop::make(): size=48 B, count=1, average=48 B'
has sym_inlined_function_key "$T/fn.txt" 'grab: size=1000 B, count=1, average=1000 B'
"$HEAPSNAP" top "$T/inl.hsnap" --key lineno --cumulative -n 0 >"$T/cum.txt" 2>&1
has sym_cumulative_counts_caller "$T/cum.txt" "$T/inl.cc:15: size=1000 B, count=1, average=1000 B"

# Without DWARF (strip -g keeps .symtab): symbol-table names, file "[inl]", line 0.
cp "$T/inl" "$T/inl.full" && strip -g "$T/inl"
"$HEAPSNAP" top "$T/inl.hsnap" --key traceback -n 0 >"$T/strip.txt" 2>"$T/strip.err"; rc=$?
if [ $rc -eq 0 ] && grep -q '^  File "\[inl\]", line 0, in shop::make()$' "$T/strip.txt"; then
  t_pass sym_no_debuginfo_uses_symtab
else t_fail sym_no_debuginfo_uses_symtab "exit $rc: $(head -c 400 "$T/strip.txt" | tr '\n' '|')"; fi
# One note for the whole run, naming every module without debug information.
n=$(grep -c "no debug information in .*inl" "$T/strip.err")
[ "$n" -eq 1 ] && [ "$(grep -c . "$T/strip.err")" -eq 1 ] && grep -q 'DEBUGINFOD_URLS' "$T/strip.err" \
  && t_pass sym_no_debuginfo_one_note || t_fail sym_no_debuginfo_one_note "$n notes: $(cat "$T/strip.err")"
# The default key names a lineless site by its function and module.
"$HEAPSNAP" top "$T/inl.hsnap" -n 0 >"$T/stripl.txt" 2>/dev/null
has sym_no_debuginfo_keyed_by_function "$T/stripl.txt" 'shop::make() (inl): size=48 B, count=1, average=48 B'
! grep -q '^\[inl\]:0' "$T/stripl.txt" && t_pass sym_no_debuginfo_no_module_row || t_fail sym_no_debuginfo_no_module_row "$(cat "$T/stripl.txt")"
# Without any symbol (strip --strip-all: main and shop:: are not exported), a
# site is keyed by its address in the module, one row per site, never one
# row for the whole program ("[inl]:0").
strip --strip-all "$T/inl"
"$HEAPSNAP" top "$T/inl.hsnap" -n 0 >"$T/nosym.txt" 2>/dev/null
if grep -Eq '^inl\+0x[0-9a-f]+: size=1000 B, count=1, ' "$T/nosym.txt" &&
   grep -Eq '^inl\+0x[0-9a-f]+: size=48 B, count=1, ' "$T/nosym.txt" && ! grep -q '^\[inl\]:0' "$T/nosym.txt"; then
  t_pass sym_no_symbols_keyed_by_address
else t_fail sym_no_symbols_keyed_by_address "$(head -c 300 "$T/nosym.txt" | tr '\n' '|')"; fi

rm -f "$T/inl"
"$HEAPSNAP" diff "$T/inl.hsnap" "$T/inl.hsnap" --key function -n 0 >"$T/gone.txt" 2>"$T/gone.err"; rc=$?
if [ $rc -eq 0 ] && grep -q '^inl+0x[0-9a-f]*: size=' "$T/gone.txt"; then
  t_pass sym_missing_binary_module_offset
else t_fail sym_missing_binary_module_offset "exit $rc: $(head -c 300 "$T/gone.txt" | tr '\n' '|')"; fi
n=$(grep -c "inl: No such file" "$T/gone.err")
[ "$n" -eq 1 ] && t_pass sym_missing_binary_warns_once || t_fail sym_missing_binary_warns_once "$n warnings: $(cat "$T/gone.err")"

# A merged snapshot of a non-PIE program (load bias 0, relocated by merge to a
# synthetic range) symbolizes as the inputs do: modules are looked up by file
# address (before: every frame "[np]:0").
if ${CXX:-g++} -O2 -g -no-pie -fno-omit-frame-pointer -fno-optimize-sibling-calls "$src" \
     -o "$T/np" 2>"$T/np.err"; then
  for i in 1 2; do (cd "$T" && HEAPSNAP_OUTPUT=$T/np.$i.hsnap LD_PRELOAD=$SHIM ./np); done
  "$HEAPSNAP" merge "$T/np.1.hsnap" "$T/np.2.hsnap" -o "$T/np.m.hsnap" 2>"$T/npm.err"
  "$HEAPSNAP" top "$T/np.m.hsnap" --key function -n 0 >"$T/npm.txt" 2>&1
  has sym_merged_non_pie_keeps_symbols "$T/npm.txt" 'shop::make(): size=96 B, count=2, average=48 B'
else t_fail sym_non_pie_fixture_builds "$(head -c 300 "$T/np.err")"; fi
