# tests/report/symbols/test_stl.sh - the C++ standard library's headers (new_allocator.h,
# stl_vector.h, basic_string.h, shared_ptr_base.h...) are allocator machinery:
# containers and smart pointers of tests/fixtures/stl.cc are charged to the
# fixture's own lines (see its opening comment), whichever compiler and level
# built it, and a shared_ptr cycle names the user's line.
# (before: new_allocator.h:137, basic_string.h:659, unique_ptr.h:1065, and
# "cycle of 2 blocks: new_allocator.h:137 -> new_allocator.h:137 -> back")
. tests/fixtures/lib.sh
FX_TEST=stl fx_ready stl stl_O2 stl_clang_O2 || return 0
G=tests/golden

for fx in stl stl_O2 stl_clang_O2; do
  if ! HEAPSNAP_LEAKS=1 fx_profile "$T/$fx.hsnap" "$FX/$fx" || [ ! -s "$T/$fx.hsnap" ]; then
    t_fail "stl_${fx}_profiled" "exit $? or no snapshot: $(head -c 300 "$T/fx.err")"; continue
  fi
  fx_top "$fx.l" "$T/$fx.hsnap" --key lineno -n 0 &&
    fx_only stl.cc "$T/$fx.l.txt" >"$T/$fx.l.only" &&
    t_golden "stl_${fx}_charged_to_user_lines" "$G/top_stl_lineno.txt" "$T/$fx.l.only"
  fx_top "$fx.f" "$T/$fx.hsnap" --key function -n 0 && grep -q '^main: size=392 KiB, count=16,' "$T/$fx.f.txt" &&
    ! grep -q '^std::' "$T/$fx.f.txt" && t_pass "stl_${fx}_function_key_is_user_function" ||
    t_fail "stl_${fx}_function_key_is_user_function" "$(head -c 400 "$T/$fx.f.txt" | tr '\n' '|')"
  # at -O2 a stale copy of a pointer into the pair makes it "possibly lost"
  [ "$fx" = stl ] || continue
  "$HEAPSNAP" leaks "$T/$fx.hsnap" >"$T/$fx.leaks" 2>"$T/$fx.leaks.err"
  want='    cycle of 2 blocks: tests/fixtures/stl.cc:38 -> tests/fixtures/stl.cc:38 -> back'
  if grep -qxF -- "$want" "$T/$fx.leaks"; then t_pass "stl_${fx}_shared_ptr_cycle_names_user_line"
  else t_fail "stl_${fx}_shared_ptr_cycle_names_user_line" "$(grep 'cycle of' "$T/$fx.leaks")"; fi
done
