# test_text_order.sh - shim/text.order still names the hot path.  The
# Makefile links the functions it lists first, so those every workload runs
# share a few pages; one renamed (or inlined away) falls out of the list,
# is linked anywhere, and the resident text grows by 64 KiB windows with
# no test failing (as when hook_record was renamed).
#   shim_text_order_names_the_hot_functions  every function listed as run
#                               by every C workload is a function of the shim
. tests/lib.sh
if ! command -v nm >/dev/null; then
  t_skip shim_text_order_names_the_hot_functions "no nm (binutils) here"; return 0
fi
nm --defined-only "$SHIM" | awk '$2 ~ /^[tTwW]$/ {sub(/\..*/, "", $3); print $3}' | sort -u >"$T/syms"
awk '/^# run by every C workload/ {p = 1; next} /^#/ {p = 0} p && /^[A-Za-z_][A-Za-z0-9_]*$/ && !/^_sub_/' \
  shim/text.order >"$T/hot"
missing=$(grep -vxFf "$T/syms" "$T/hot" | tr '\n' ' ')
if [ -s "$T/hot" ] && [ -z "$missing" ]; then
  t_pass shim_text_order_names_the_hot_functions
else
  t_fail shim_text_order_names_the_hot_functions "listed in shim/text.order, not in the shim: ${missing:-(no list)}; run scripts/bench/textorder.py build/libheapsnap.so"
fi
