# test_python_embed.sh - a C program that embeds CPython (libpython3.11.so,
# python3-dev's): its Python code's blocks are charged to its Python lines
# ("<string>", line 2), the interpreter found in the library.
. tests/python/lib_py.sh

inc=$(/usr/bin/python3 -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
libdir=$(/usr/bin/python3 -c 'import sysconfig; print(sysconfig.get_config_var("LIBDIR"))')
if ! t_build embed tests/python/embed.c -I"$inc" -L"$libdir" -lpython3.11 2>"$T/cc.err"; then
  t_fail python_embedded_interpreter "cannot build: $(head -c 300 "$T/cc.err")"
else
  LD_PRELOAD=$SHIM HEAPSNAP_OUTPUT="$T/x.%p.hsnap" "$T/embed" "$T/e.hsnap" >"$T/e.out" 2>&1
  if "$HEAPSNAP" top "$T/e.hsnap" -n 1 2>/dev/null | grep -q '^<string>:2: size=8[0-9][0-9] KiB, count=60[01],'; then
    t_pass python_embedded_interpreter
  else t_fail python_embedded_interpreter "$("$HEAPSNAP" top "$T/e.hsnap" -n 2 2>&1 | tr '\n' ' ')"; fi
fi
