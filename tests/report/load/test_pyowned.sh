# test_pyowned.sh - PYOWNED read from a file and used: tests/fuzz/mkcorpus.c's
# pytypes.hsnap has a list (the 100-byte block) owning the 4096-byte block;
# `top --key type` shows the two apart, `--owner` charges the item array to
# the list (bytes, not count); `merge` writes PYTYPES and PYOWNED back (the
# merged file reads the same), and the committed fuzz seed is this file.
if ! ${CC:-gcc} -Ishim tests/fuzz/mkcorpus.c -o "$T/mkcorpus" -lz 2>"$T/cc.err"; then
  t_fail pyowned_mkcorpus_builds "$(head -c 300 "$T/cc.err")"; return 0
fi
mkdir -p "$T/c" && "$T/mkcorpus" "$T/c"
f=$T/c/pytypes.hsnap
plain=$("$HEAPSNAP" top "$f" --key type 2>&1 | tr '\n' '|')
owner=$("$HEAPSNAP" top "$f" --key type --owner 2>&1 | tr '\n' '|')
if [ "$plain" = "[no object]: size=4103 B, count=2, average=2052 B|list: size=100 B, count=1, average=100 B|" ] &&
   [ "$owner" = "list: size=4196 B, count=1, average=4196 B|[no object]: size=7 B, count=1, average=7 B|" ]
then t_pass pyowned_owner_charges_the_list
else t_fail pyowned_owner_charges_the_list "plain: $plain owner: $owner"; fi
if "$HEAPSNAP" merge -o "$T/m.hsnap" "$f" 2>"$T/m.err" &&
   [ "$("$HEAPSNAP" top "$T/m.hsnap" --key type --owner 2>&1 | tr '\n' '|')" = "$owner" ]
then t_pass pyowned_merge_writes_it_back
else t_fail pyowned_merge_writes_it_back "$(head -c 200 "$T/m.err")"; fi
if cmp -s "$f" tests/fuzz/corpus/pytypes.hsnap; then t_pass pyowned_fuzz_seed_current
else t_fail pyowned_fuzz_seed_current "tests/fuzz/corpus/pytypes.hsnap differs from mkcorpus' (copy it)"; fi
