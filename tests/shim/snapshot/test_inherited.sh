# test_inherited.sh - a fork child's snapshot holds the blocks it made, and
# the heap it inherited as one sum (HEAPSNAP_INHERITED=summary, the
# default; snapinherit.c): a forked worker's exit costs what its own work
# does, not its parent's heap again.  inherit.c's parent keeps 20000
# blocks and forks; its child frees 5000 of them, reallocates 10, keeps 300
# of its own and leaks 7.  Pinned, counted: the child's BLOCKS hold its own
# blocks only (no parent_site block, fewer than 400 in all) and its top
# names only its own sites; INHERITED says how many inherited blocks are
# still live, exactly the blocks-mode child's live count less its own (an
# inherited block it freed is in neither); the books balance (META's
# current = the sites' bytes); HEAPSNAP_INHERITED=blocks gives every block
# as before; a crash's fatal snapshot sums them apart too; and under
# --leaks the child reads every block and reports its own leak.
. tests/shim/lib_shim.sh
s_dump_build
s_build inherit || { t_fail inherited_builds "cc failed"; return 0; }

# run_child DIR [ENV...]: inherit.c under heapsnap run into DIR; prints the
# child's snapshot (the one whose META ppid is another snapshot's pid)
run_child() {
  local d=$1; shift
  rm -rf "$d"; mkdir -p "$d"
  env "$@" "$HEAPSNAP" run -q -o "$d/i.%p.hsnap" -- "$T/inherit" ${MODE:-exit} >/dev/null 2>"$d.err"
  for f in "$d"/i.*.hsnap; do
    "$HEAPSNAP" info --format json "$f" 2>/dev/null |
      python3 -c 'import json,sys; j=json.load(sys.stdin)["snapshots"][0]; print(j["ppid"], j["pid"], sys.argv[1])' "$f"
  done >"$d.pids"
  awk 'NR==FNR { pid[$2] = 1; next } ($1 in pid) { print $3 }' "$d.pids" "$d.pids" | head -1
}

# facts SNAP: "blocks=N live=N current=N inh_blocks=N inh_bytes=N" from info's JSON
facts() {
  "$HEAPSNAP" info --format json "$1" 2>/dev/null | python3 -c '
import json, sys
j = json.load(sys.stdin)["snapshots"][0]
i = j.get("inherited", {})
print("blocks=%s live=%d current=%d inh_blocks=%d inh_bytes=%d" % (j["blocks"], j["live_blocks"],
      j["current_bytes"], i.get("blocks", -1), i.get("bytes", -1)))'
}
val() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
# sites SNAP: "function count" of inherit.c's sites in top --key function
sites() {
  "$HEAPSNAP" top --key function -n 0 "$1" 2>/dev/null |
    sed -n 's/^\(parent_site\|child_site\|child_realloc\|child_leak\)[^:]*: size=.*count=\([0-9]*\),.*/\1 \2/p' | sort
}

sum=$(run_child "$T/inh")
blk=$(run_child "$T/inhb" HEAPSNAP_INHERITED=blocks)
if [ -z "$sum" ] || [ -z "$blk" ]; then
  t_fail inherited_child_snapshot_written "summary '$sum', blocks '$blk': $(head -c 300 "$T/inh.err")"
  return 0
fi
fs=$(facts "$sum"); fb=$(facts "$blk")
ss=$(sites "$sum" | tr '\n' ' '); sb=$(sites "$blk" | tr '\n' ' ')

# the child's own blocks only: 300 + 10 + 7, a few of libc's; no parent_site
if [ "$ss" = "child_leak 7 child_realloc 10 child_site 300 " ] &&
   [ "$(val "$fs" blocks)" = "$(val "$fs" live)" ] && [ "$(val "$fs" blocks)" -lt 400 ]
then t_pass inherited_child_writes_its_own_blocks_only
else t_fail inherited_child_writes_its_own_blocks_only "sites '$ss'; $fs"; fi

# as before under HEAPSNAP_INHERITED=blocks: the 14990 inherited blocks
# still live are listed, the 5000 freed are not
if [ "$sb" = "child_leak 7 child_realloc 10 child_site 300 parent_site 14990 " ] &&
   [ "$(val "$fb" inh_blocks)" = -1 ]
then t_pass inherited_blocks_mode_lists_them_all
else t_fail inherited_blocks_mode_lists_them_all "sites '$sb'; $fb"; fi

# INHERITED: the blocks mode's live blocks less the child's own, exactly,
# at least parent_site's 14990 live (1499000 bytes); the bytes likewise
ib=$(( $(val "$fb" live) - $(val "$fs" live) ))
iy=$(( $(val "$fb" current) - $(val "$fs" current) ))
if [ "$(val "$fs" inh_blocks)" = "$ib" ] && [ "$ib" -ge 14990 ] && [ "$ib" -lt 15100 ] &&
   [ "$(val "$fs" inh_bytes)" = "$iy" ] && [ "$iy" -ge 1499000 ]
then t_pass inherited_sum_counts_the_live_inherited_blocks
else t_fail inherited_sum_counts_the_live_inherited_blocks "want $ib blocks, $iy bytes; $fs"; fi

# the books: allocs - frees = live blocks (the inherited ones count as
# freed), META's current = the sites' bytes
s_dump "$sum" >"$T/inh.dump" 2>"$T/inh.derr"
books=$(s_books "$T/inh.dump" 2>&1)
if [ "$books" = ok ]; then t_pass inherited_child_books_balance
else t_fail inherited_child_books_balance "$books $(head -c 200 "$T/inh.derr")"; fi

# info and top --by-process say it
pp=$(awk -v f="$sum" '$3 == f { print $1 }' "$T/inh.pids")
if "$HEAPSNAP" info "$sum" 2>/dev/null |
     grep -Eq "^inherited: +1[0-9]{3} KiB in $ib blocks from pid $pp at the fork" &&
   "$HEAPSNAP" top --by-process -n 1 "$T/inh"/i.*.hsnap 2>/dev/null |
     grep -Eq "^== pid [0-9]+ \(inherit\): child of pid $pp; inherited 1[0-9]{3} KiB in $ib blocks, not below ==\$"
then t_pass inherited_info_and_by_process_say_it
else t_fail inherited_info_and_by_process_say_it "$("$HEAPSNAP" info "$sum" 2>&1 | grep inherited) $("$HEAPSNAP" top --by-process -n 1 "$T/inh"/i.*.hsnap 2>&1 | grep '^==')"; fi

# a crash's fatal snapshot (the sorted copy) sums them apart as well
fat=$(MODE=abort run_child "$T/inhf")
ff=$([ -n "$fat" ] && facts "$fat"); sf=$([ -n "$fat" ] && sites "$fat" | tr '\n' ' ')
if [ "$sf" = "child_leak 7 child_realloc 10 child_site 300 " ] &&
   [ "$(val "$ff" inh_blocks)" = "$ib" ]
then t_pass inherited_fatal_snapshot_sums_them_apart
else t_fail inherited_fatal_snapshot_sums_them_apart "'$fat': sites '$sf'; $ff; $(head -c 200 "$T/inhf.err")"; fi

# --leaks: the check reads every block (the inherited ones are roots' and
# may be what a leak hangs from); the child's own leak is reported in it
rm -rf "$T/inhl"; mkdir -p "$T/inhl"
"$HEAPSNAP" run -q --leaks -o "$T/inhl/i.%p.hsnap" -- "$T/inherit" exit >/dev/null 2>"$T/inhl.err"
got=""
for f in "$T"/inhl/i.*.hsnap; do
  "$HEAPSNAP" leaks "$f" 2>/dev/null | grep -q 'child_leak' && got="$got child"
  "$HEAPSNAP" leaks "$f" 2>/dev/null | grep -q 'parent_site' && got="$got parent_site"
done
lf=$(for f in "$T"/inhl/i.*.hsnap; do facts "$f"; done | grep -c 'inh_blocks=-1')
if [ "$got" = " child" ] && [ "$lf" = 2 ]; then t_pass inherited_leak_check_reports_the_childs_own_leak
else t_fail inherited_leak_check_reports_the_childs_own_leak "leaks in:$got; $lf of 2 without INHERITED; $(head -c 300 "$T/inhl.err")"; fi
