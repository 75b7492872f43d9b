# test_gone.sh - gone blocks (shim/pending.c): another thread that gets a
# gone block's address back has its block live, and its free of a block
# main keeps fresh at that address finds that block, not the gone entry.
# The fixture's other thread is glibc's (a SIGEV_THREAD timer); the tcache
# off and one arena make the addresses come back (gone.c).
. tests/shim/lib_shim.sh
s_dump_build
if ! s_build gone; then t_fail gone_builds "cc failed"; return 0 2>/dev/null || exit 0; fi

GLIBC_TUNABLES=glibc.malloc.tcache_count=0:glibc.malloc.arena_max=1 LD_PRELOAD=$SHIM \
  HEAPSNAP_OUTPUT="$T/x.%p.hsnap" "$T/gone" "$T/gone.hsnap" >"$T/gone.out" 2>&1
printf 'callback got the gone addresses: 3\nmain got its gone address: 1\nsnapshot: 0\n' \
  >"$T/gone.want"
t_golden gone_addresses_come_back "$T/gone.want" "$T/gone.out"

# "site count bytes" of the fixture's four sites, 0 0 when none is live
gone_sites() {
  s_site_funcs "$T/gone" "$T/gone.dump" |
    awk '{ n[$1] += $2; b[$1] += $3 }
         END { split("gone_old gone_cb gone_mine gone_fill", s, " ")
               for (i = 1; i <= 4; i++) printf "%s %d %d\n", s[i], n[s[i]], b[s[i]] }'
}
printf 'gone_old 0 0\ngone_cb 3 264\ngone_mine 0 0\ngone_fill 991 87208\n' >"$T/sites.want"
if s_dump "$T/gone.hsnap" >"$T/gone.dump" 2>&1; then
  gone_sites >"$T/sites.got"
  t_golden gone_other_threads_blocks_exact "$T/sites.want" "$T/sites.got"
  if [ "$(s_books "$T/gone.dump")" = ok ] && grep -q ' foreign=0' "$T/gone.dump"; then
    t_pass gone_books_balance_no_foreign
  else t_fail gone_books_balance_no_foreign "$(s_books "$T/gone.dump" 2>&1) $(grep '^meta' "$T/gone.dump")"; fi
else t_fail gone_snapshot_loads "$(head -c 300 "$T/gone.dump")"; fi
