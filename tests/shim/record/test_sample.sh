# test_sample.sh - HEAPSNAP_SAMPLE: on a heap with a known distribution
# (sampled.c), the sampled snapshot's per-site estimates of live bytes and
# counts are within 5% of full tracking for every site holding more than 1%
# of the heap (fixed seed: deterministic); the program's output is unchanged;
# only a fraction of the blocks is recorded (so unweighted sums would be far
# off); sampled blocks that are freed are not live; with HEAPSNAP_LEAKS=1 as
# well, every block is in the table and the unsampled ones are charged to
# <unsampled>; and full tracking (no HEAPSNAP_SAMPLE) keeps every free exact.
. tests/shim/lib_shim.sh
s_dump_build
cc -g -O1 -fno-omit-frame-pointer tests/shim/record/sampled.c -o "$T/sampled" || t_fail sampled_builds "cc failed"

# sites FILE.hsnap: "function live_count live_bytes" per site
sites() { s_dump "$1" >"$1.dump" && s_site_funcs "$T/sampled" "$1.dump"; }

HEAPSNAP_OUTPUT="$T/full.hsnap" s_same sample_off_same_output "$T/sampled"
sites "$T/full.hsnap" >"$T/full.sites"
# Full tracking first: the free's fast path asks only the presence
# filter's group, and outside sampled mode every group must send it on to
# the careful path; a free that passed would leave the churn's blocks in the
# table (62203 = 62202 kept + one of libc's).
full_live=$(awk '$1 == "churn_site" { n += $2 } END { print n + 0 }' "$T/full.sites")
full_blk=$(sed -n '1s/.* blocks=\([0-9]*\) .*/\1/p' "$T/full.hsnap.dump")
if [ "$full_blk" = 62203 ] && [ "$full_live" = 0 ]; then t_pass full_mode_frees_leave_the_table
else t_fail full_mode_frees_leave_the_table "blocks=$full_blk churn_site live $full_live"; fi
HEAPSNAP_SAMPLE=512 HEAPSNAP_SAMPLE_SEED=7 HEAPSNAP_OUTPUT="$T/smp.hsnap" s_same sample_same_output "$T/sampled"
sites "$T/smp.hsnap" >"$T/smp.sites"

# compare FULL SAMPLED COLUMN: the worst relative error over the sites that
# hold > 1% of the full run's live bytes, and how many such sites
compare() {
  awk -v col="$3" 'NR == FNR { want[$1] = $col; bytes[$1] = $3; total += $3; next }
       { got[$1] = $col }
       END { worst = 0; n = 0
             for (f in want) if (bytes[f] > total / 100) {
               n++; e = (got[f] - want[f]) / want[f]; if (e < 0) e = -e; if (e > worst) worst = e }
             printf "%d %.4f\n", n, worst }' "$1" "$2"
}
read -r n worst <<<"$(compare "$T/full.sites" "$T/smp.sites" 3)"
if [ "$n" = 5 ] && awk -v w="$worst" 'BEGIN { exit !(w < 0.05) }'; then t_pass sample_bytes_within_5pct
else t_fail sample_bytes_within_5pct "$n sites > 1%, worst error $worst"; fi
read -r n worst <<<"$(compare "$T/full.sites" "$T/smp.sites" 2)"
if [ "$n" = 5 ] && awk -v w="$worst" 'BEGIN { exit !(w < 0.05) }'; then t_pass sample_counts_within_5pct
else t_fail sample_counts_within_5pct "$n sites > 1%, worst error $worst"; fi

# Every sampled block the churn freed left the table (a free's fast path
# passes only what the presence filter rules out): nothing of it is live.
churn_live=$(awk '$1 == "churn_site" { n += $2 } END { print n + 0 }' "$T/smp.sites")
if grep -q '^churn_site ' "$T/smp.sites" && [ "$churn_live" = 0 ]; then t_pass sample_freed_blocks_not_live
else t_fail sample_freed_blocks_not_live "churn_site live $churn_live: $(grep churn_site "$T/smp.sites")"; fi

# Only a sample is recorded (BLOCKS' count): unweighted sums would be
# several times too small.  META's live blocks are STATS' weighted counts
# summed (snap_live_blocks): an estimate of all of them, within 5%.
nblk=$(awk '$1 == "blocks" && $3 == "bytes" { print $2 }' "$T/smp.hsnap.dump")
if [ "${nblk:-0}" -gt 1000 ] && [ "$nblk" -lt 30000 ]; then t_pass sample_records_a_sample
else t_fail sample_records_a_sample "BLOCKS holds $nblk of 62203 live"; fi
est=$(sed -n '1s/.* blocks=\([0-9]*\) .*/\1/p' "$T/smp.hsnap.dump")
if [ -n "$est" ] && [ "$est" -gt 59092 ] && [ "$est" -lt 65313 ]; then t_pass sample_live_blocks_estimated
else t_fail sample_live_blocks_estimated "META's live blocks ${est:-?}, 62203 live"; fi

# The heap's whole estimate (current) is close as well.
cur_full=$(sed -n '1s/.* current=\([0-9]*\) .*/\1/p' "$T/full.hsnap.dump")
cur_smp=$(sed -n '1s/.* current=\([0-9]*\) .*/\1/p' "$T/smp.hsnap.dump")
if awk -v a="$cur_full" -v b="$cur_smp" 'BEGIN { e = (b - a) / a; if (e < 0) e = -e; exit !(e < 0.05) }'
then t_pass sample_current_estimate; else t_fail sample_current_estimate "$cur_smp vs $cur_full"; fi

# With the leak check on: every block in the table, exact sums, the rest
# charged to the <unsampled> trace (depth 0).
HEAPSNAP_SAMPLE=512 HEAPSNAP_SAMPLE_SEED=7 HEAPSNAP_LEAKS=1 HEAPSNAP_OUTPUT="$T/sl.hsnap" \
  s_same sample_leaks_same_output "$T/sampled"
s_dump "$T/sl.hsnap" >"$T/sl.dump"
nblk=$(sed -n '1s/.* blocks=\([0-9]*\) .*/\1/p' "$T/sl.dump")
cur=$(sed -n '1s/.* current=\([0-9]*\) .*/\1/p' "$T/sl.dump")
uns=$(awk '$1 == "site" && $6 == "-" { n += $2 } END { print n + 0 }' "$T/sl.dump")
if [ "$nblk" = 62203 ] && [ "$cur" = "$cur_full" ] && [ "$uns" -gt 30000 ] && [ "$uns" -lt 62203 ]; then
  t_pass sample_leaks_every_block_exact
else t_fail sample_leaks_every_block_exact "blocks=$nblk current=$cur (full $cur_full) unsampled=$uns"; fi
