# test_threads_file.sh - THREADS read from a file: tests/fuzz/mkcorpus.c's
# threads.hsnap has trace 0 of thread 1 (tid 101 "main", the main thread),
# trace 1 of thread 2 (tid 102 "worker", ended) and trace 2 of none; top
# --key thread sums each thread's traces under its name and tid, --thread
# keeps one; a trace naming a thread without a record refuses the file with
# the section's name (exit 2); the committed fuzz seed is this file.
if ! ${CC:-gcc} -Ishim tests/fuzz/mkcorpus.c -o "$T/mkcorpus" -lz 2>"$T/cc.err"; then
  t_fail threads_mkcorpus_builds "$(head -c 300 "$T/cc.err")"; return 0
fi
mkdir -p "$T/c" && "$T/mkcorpus" "$T/c"
f=$T/c/threads.hsnap
want="worker [tid 102]: size=4103 B, count=2, average=2052 B|main [tid 101, main]: size=100 B, count=1, average=100 B|"
got=$("$HEAPSNAP" top "$f" --key thread 2>/dev/null | tr '\n' '|')
if [ "$got" = "$want" ]; then t_pass threads_file_top_key_thread
else t_fail threads_file_top_key_thread "$got"; fi
got=$("$HEAPSNAP" top "$f" --thread 101 2>/dev/null | tr '\n' '|')
if [ "$got" = "prog+0x40100f: size=100 B, count=1, average=100 B|" ]; then t_pass threads_file_filter_by_tid
else t_fail threads_file_filter_by_tid "$got"; fi
"$HEAPSNAP" top "$T/c/threads_bad_index.hsnap" >/dev/null 2>"$T/bad.err"; rc=$?
if [ $rc = 2 ] && [ "$(wc -l <"$T/bad.err")" = 1 ] &&
   grep -q "section THREADS: trace 1 names thread 7, which has no record" "$T/bad.err"; then
  t_pass threads_file_bad_index_refused
else t_fail threads_file_bad_index_refused "rc $rc: $(cat "$T/bad.err")"; fi
if cmp -s "$f" tests/fuzz/corpus/threads.hsnap; then t_pass threads_fuzz_seed_current
else t_fail threads_fuzz_seed_current "tests/fuzz/corpus/threads.hsnap differs from mkcorpus' (copy it)"; fi
