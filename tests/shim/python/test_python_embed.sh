# test_python_embed.sh - a C program that embeds CPython (libpython3.X.so:
# python3-dev's, and each pyenv build's shared library): its Python code's
# blocks are charged to its Python lines ("<string>", line 2: 600 blocks,
# and from 3.13 the few objects the line takes again from free lists), the
# interpreter found in the library.
. tests/shim/python/lib_py.sh

while read -r tag py; do
  if [ -n "$(py_root "$py")" ]; then
    # embed.c is built here, against this machine's libc: a root's
    # libpython needs the root's own (its python binary is tested instead)
    t_skip "python_embedded_interpreter_$tag" "a root's libpython is not linked from this machine"; continue
  fi
  cfg=$("$py" -c 'import sysconfig as s; print(s.get_paths()["include"], s.get_config_var("LIBDIR"), s.get_config_var("LDVERSION"))')
  read -r inc libdir ldver <<<"$cfg"
  if [ ! -e "$libdir/libpython$ldver.so" ]; then
    t_skip "python_embedded_interpreter_$tag" "no libpython$ldver.so in $libdir (a static build)"; continue
  fi
  if ! t_build "embed-$tag" tests/shim/python/embed.c -I"$inc" -L"$libdir" -lpython"$ldver" \
       -Wl,-rpath,"$libdir" 2>"$T/cc-$tag.err"; then
    t_fail "python_embedded_interpreter_$tag" "cannot build: $(head -c 300 "$T/cc-$tag.err")"; continue
  fi
  PYTHONHOME=$("$py" -c 'import sys; print(sys.base_prefix)') LD_PRELOAD=$SHIM \
    HEAPSNAP_OUTPUT="$T/x.%p.hsnap" "$T/embed-$tag" "$T/e-$tag.hsnap" >"$T/e-$tag.out" 2>&1
  if "$HEAPSNAP" top "$T/e-$tag.hsnap" -n 0 2>/dev/null | grep -q '^<string>:2: size=8[0-9][0-9] KiB, count=60[0-3],'; then
    t_pass "python_embedded_interpreter_$tag"
  else t_fail "python_embedded_interpreter_$tag" "$("$HEAPSNAP" top "$T/e-$tag.hsnap" -n 2 2>&1 | tr '\n' ' ') $(head -c 200 "$T/e-$tag.out")"; fi
done < <(py_interpreters)
