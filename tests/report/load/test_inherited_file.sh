# test_inherited_file.sh - INHERITED read from a file: tests/fuzz/mkcorpus.c's
# inherited.hsnap is a fork child of pid 4241 that still holds 123 blocks
# (45678 bytes) of its parent's heap, summed apart; info says so in its
# text and JSON, top --by-process in the header, and top's lines are the
# file's own blocks only.  A payload of the wrong length refuses the file
# with the section's name (exit 2, one line); the committed fuzz seed is
# this file.
if ! ${CC:-gcc} -Ishim tests/fuzz/mkcorpus.c -o "$T/mkcorpus" -lz 2>"$T/cc.err"; then
  t_fail inherited_mkcorpus_builds "$(head -c 300 "$T/cc.err")"; return 0
fi
mkdir -p "$T/c" && "$T/mkcorpus" "$T/c"
f=$T/c/inherited.hsnap
if "$HEAPSNAP" info "$f" 2>/dev/null |
     grep -qx 'inherited:        44.6 KiB in 123 blocks from pid 4241 at the fork, still live (not in the sums above nor in top: HEAPSNAP_INHERITED=blocks lists them)' &&
   [ "$("$HEAPSNAP" info --format json "$f" 2>/dev/null |
        python3 -c 'import json,sys; i=json.load(sys.stdin)["snapshots"][0]["inherited"]; print(i["ppid"], i["blocks"], i["bytes"])')" = "4241 123 45678" ]
then t_pass inherited_file_info_says_it
else t_fail inherited_file_info_says_it "$("$HEAPSNAP" info "$f" 2>&1 | grep -i inherit)"; fi
got=$("$HEAPSNAP" top --by-process -n 1 "$f" 2>/dev/null | head -1)
if [ "$got" = "== pid 4242 (prog): inherited 44.6 KiB in 123 blocks, not below ==" ] &&
   [ "$("$HEAPSNAP" top -n 0 "$f" 2>/dev/null | md5sum)" = "$("$HEAPSNAP" top -n 0 "$T/c/blocks.hsnap" 2>/dev/null | md5sum)" ]
then t_pass inherited_file_by_process_header
else t_fail inherited_file_by_process_header "'$got'"; fi
"$HEAPSNAP" info "$T/c/inherited_bad_short.hsnap" >/dev/null 2>"$T/bad.err"; rc=$?
if [ $rc = 2 ] && [ "$(wc -l <"$T/bad.err")" = 1 ] &&
   grep -q "section INHERITED: 32 bytes, want 40" "$T/bad.err"; then
  t_pass inherited_file_short_refused
else t_fail inherited_file_short_refused "rc $rc: $(cat "$T/bad.err")"; fi
if cmp -s "$f" tests/fuzz/corpus/inherited.hsnap; then t_pass inherited_fuzz_seed_current
else t_fail inherited_fuzz_seed_current "tests/fuzz/corpus/inherited.hsnap differs from mkcorpus' (copy it)"; fi
