# test_tiers.sh - the two tiers of tests: tests/run.sh --quick (make
# check-fast) leaves out the heavy folders and the files whose opening says
# "tier: full", each with its reason; the last line stays "N passed, N
# failed, N skipped" in both tiers (CI reads it).
out=$(tests/run.sh --quick layout/test_version.sh report/test_unix.sh services/test_redis.sh 2>&1)
if echo "$out" | grep -q '^quick: 1 of 3 test files' && echo "$out" | grep -q '^PASS version_shim_agrees' &&
   ! echo "$out" | grep -qE '^(PASS|FAIL|SKIP) (version_prints|redis)' &&
   echo "$out" | tail -1 | grep -qE '^[0-9]+ passed, 0 failed, 0 skipped$'; then
  t_pass quick_tier_leaves_out_full_tier_and_heavy_folders
else t_fail quick_tier_leaves_out_full_tier_and_heavy_folders "$(echo "$out" | tail -4 | tr '\n' ' ' | head -c 300)"; fi

# A file of the full tier says why, in parentheses.
bare=$(grep -rhE --include='test_*' '^(#|//| \*) tier: full' tests | grep -vE 'tier: full \(.+\)$')
if [ -z "$bare" ]; then t_pass full_tier_files_say_why
else t_fail full_tier_files_say_why "a tier line without its reason in parentheses: $bare"; fi
