# test_python_exit_reads.sh - the exit snapshot's object passes read the
# fields of the program's objects (a global's name, a dict's keys, a type's
# flags) from a page copied once (pypage.c), not by a process_vm_readv a
# field: between a program with 5,000 globals and one with 45,000
# (exit_reads.py, each a str under a name of its own), the calls (counted
# by strace) grow by fewer than one per ten globals added, and an empty
# program's exit takes fewer than 3,000.  A call a field grew them by two
# a global, and an empty program's exit took 9,600 (3.10) to 14,400.  On
# Debian's python3 and the first pyenv CPython found; the exit snapshot
# must hold the graph (info's "python objects" line).
. tests/shim/python/lib_py.sh

command -v strace >/dev/null || { t_skip python_exit_reads_a_page_once "strace not installed (scripts/install-deps.sh)"; exit 0; }
strace -f -qq -o /dev/null true 2>/dev/null || { t_skip python_exit_reads_a_page_once "strace cannot trace here (ptrace refused)"; exit 0; }

# calls PY NAME ARGS...: process_vm_readv calls of one run, or "" when the
# run failed or its exit snapshot has no objects' graph.
calls() {
  local py=$1 name=$2 s
  shift 2
  rm -f "$T/$name.hsnap"
  strace -f -qq -e trace=process_vm_readv -c -o "$T/strace-$name.txt" \
    -E LD_PRELOAD="$SHIM" -E HEAPSNAP_OUTPUT="$T/$name.hsnap" \
    "$py" "$@" >"$T/run-$name.out" 2>&1 || return 0
  s=$T/$name.hsnap
  [ -s "$s" ] && "$HEAPSNAP" info "$s" 2>/dev/null | grep -Eq '^python objects: +[0-9]' || return 0
  awk '$NF == "process_vm_readv" { print $4 }' "$T/strace-$name.txt"
}

n=0
while read -r tag py; do
  case "$tag" in debian) ;; pyenv-*) [ "$n" = 0 ] || continue ;; *) continue ;; esac
  [ "$tag" = debian ] || n=1
  small=$(calls "$py" small tests/shim/python/exit_reads.py 5000)
  big=$(calls "$py" big tests/shim/python/exit_reads.py 45000)
  empty=$(calls "$py" empty -c pass)
  if [ -n "$small" ] && [ -n "$big" ] && [ $((big - small)) -lt 4000 ]; then
    t_pass "python_exit_reads_a_page_once_per_global_$tag"
  else t_fail "python_exit_reads_a_page_once_per_global_$tag" "calls: ${small:-none} with 5000 globals, ${big:-none} with 45000 $(tail -c 300 "$T/run-big.out")"; fi
  if [ -n "$empty" ] && [ "$empty" -lt 3000 ]; then
    t_pass "python_exit_reads_of_an_empty_program_under_3000_$tag"
  else t_fail "python_exit_reads_of_an_empty_program_under_3000_$tag" "calls: ${empty:-none} $(tail -c 300 "$T/run-empty.out")"; fi
done < <(py_interpreters)
