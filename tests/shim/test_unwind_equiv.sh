# test_unwind_equiv.sh - recorded stacks stay as complete and correct as
# libunwind's: a program built WITHOUT frame pointers allocating through a
# library built WITHOUT frame pointers is recorded with HEAPSNAP_UNWIND=auto
# (the default) and =libunwind, and every trace is compared frame by frame
# (symbolized: function, file and line of each frame, outermost included).
# The stacks must reach through the library into main.  (fp alone cannot
# do this; auto may only pick it where it is known to be right.)
. tests/shim/lib_shim.sh
flags="-g -O1 -fomit-frame-pointer -fdebug-prefix-map=$PWD=."
cc $flags -fPIC -shared tests/shim/unwind_lib.c -o "$T/libunwind_lib.so" &&
  cc $flags tests/shim/unwind_main.c -o "$T/unwind_main" -L"$T" -lunwind_lib -Wl,-rpath,"$T" ||
  t_fail unwind_equiv_builds "cc failed"

for m in auto libunwind; do
  HEAPSNAP_UNWIND=$m HEAPSNAP_OUTPUT="$T/uw_$m.hsnap" LD_PRELOAD="$SHIM" "$T/unwind_main"
  "$HEAPSNAP" top --key traceback -n 0 "$T/uw_$m.hsnap" >"$T/uw_$m.txt" 2>&1
done
if [ -s "$T/uw_libunwind.txt" ] && cmp -s "$T/uw_auto.txt" "$T/uw_libunwind.txt"; then
  t_pass unwind_auto_equals_libunwind_frame_by_frame
else
  t_fail unwind_auto_equals_libunwind_frame_by_frame \
    "$(diff "$T/uw_libunwind.txt" "$T/uw_auto.txt" | head -6 | tr '\n' ' ')"
fi
# Completeness: the deepest library stack (7 lib_inner frames) reaches main.
if grep -q 'lib_inner' "$T/uw_auto.txt" && grep -q 'lib_outer' "$T/uw_auto.txt" &&
   grep -q 'app_loop' "$T/uw_auto.txt" && grep -q 'main' "$T/uw_auto.txt"; then
  t_pass unwind_auto_reaches_main_through_the_library
else
  t_fail unwind_auto_reaches_main_through_the_library "$(head -c 300 "$T/uw_auto.txt")"
fi
