# test_python_sites.sh - a Python process's allocation sites as tracemalloc
# reads them: the innermost Python line, whatever C lies under it.
# tests/shim/python/sites.py keeps what json.loads (the _json extension), sqlite3's
# fetchall (_sqlite3) and libc's malloc through ctypes made: each is charged
# to its Python line (json/decoder.py's scan_once line, the script's), top
# --native gives the extension's own line back, --key module names Python
# modules, a traceback holds the Python frames and the C under the site but
# none of the interpreter's (--interpreter-frames: all of them), top
# --python-only and the exports follow.  On every CPython 3.10-3.15 found
# (tests/shim/python/lib_py.sh); a SKIP line names each one absent.
. tests/shim/python/lib_py.sh

script=tests/shim/python/sites.py
l_fetch=$(py_line $script MARK_FETCHALL) l_ctypes=$(py_line $script MARK_CTYPES)

for v in $(py_versions_missing); do
  t_skip "python_sites_$v" "no CPython $v here (pyenv install $v, or python$v on PATH)"
done

# has NAME FILE PATTERN / hasnt NAME FILE PATTERN: FILE has (has no) line matching PATTERN.
has() {
  if grep -qE -- "$3" "$2"; then t_pass "$1"
  else t_fail "$1" "no /$3/ in $(head -c 600 "$2" | tr '\n' '|')"; fi
}
hasnt() {
  if [ -s "$2" ] && ! grep -qE -- "$3" "$2"; then t_pass "$1"
  else t_fail "$1" "/$3/ in (or empty) $(grep -m3 -E -- "$3" "$2" | tr '\n' '|')"; fi
}
# group FILE MARK: the traceback group of `top --key traceback` whose first
# line has MARK (its frames), from FILE.
group() {
  awk -v s="$2" '/^[^ ]/ { on = index($0, s) == 1; next } on' "$1"
}
full=""
interp='\[python3|\[libpython|libpython3|Python/[a-z_]+\.c|Py_RunMain|PyEval_EvalCode'

while read -r tag py; do
  dec=$("$py" -c 'import json.decoder; print(json.decoder.__file__)')
  l_dec=$(grep -n 'obj, end = self.scan_once(s, idx)' "$(py_root "$py")$dec" | cut -d: -f1)
  # Debian 13 builds _json into the interpreter: its C is the interpreter's own
  json_builtin=$("$py" -c 'import sys; print(int("_json" in sys.builtin_module_names))')
  rm -f "$T/s-$tag.hsnap"
  if ! py_run "$py" "$T/run-$tag" $script "$T/s-$tag.hsnap" || [ ! -s "$T/s-$tag.hsnap" ]; then
    t_fail "python_sites_run_$tag" "$(tail -c 300 "$T/run-$tag.err")"; continue
  fi
  s=$T/s-$tag.hsnap
  # Every version: the sites and the tracebacks (a CLI run reads libpython's
  # debug information, seconds on pyenv's builds: two runs per version).
  "$HEAPSNAP" top "$s" -n 0 --key traceback >"$T/tb-$tag.txt" 2>/dev/null
  "$HEAPSNAP" top "$s" -n 0 --native >"$T/native-$tag.txt" 2>/dev/null
  grep '^[^ ]' "$T/tb-$tag.txt" >"$T/top-$tag.txt" # the groups' sites

  # json.loads: the decoder's line, never the extension's module
  has "python_json_site_is_decoder_line_$tag" "$T/top-$tag.txt" "json/decoder.py:$l_dec: size=[0-9.]+ [KM]iB"
  hasnt "python_json_site_not_extension_$tag" "$T/top-$tag.txt" '_json'
  if [ "$json_builtin" = 1 ]; then
    has "python_json_native_site_is_extension_$tag" "$T/native-$tag.txt" '^[^ ]*(python3[^ ]*\+0x[0-9a-f]+|_json\.c:[0-9]+|\(python3[.0-9]*\)): size='
  else
    has "python_json_native_site_is_extension_$tag" "$T/native-$tag.txt" '(_json[^ ]*\+0x[0-9a-f]+|_json\.c:[0-9]+): size='
  fi
  # sqlite3's fetchall: the script's line
  has "python_sqlite_fetchall_site_is_script_line_$tag" "$T/top-$tag.txt" "sites.py:$l_fetch: size=[0-9.]+ [KM]iB"
  hasnt "python_sqlite_site_not_extension_$tag" "$T/top-$tag.txt" '_sqlite3|sqlite3\.c'
  # ctypes: libc's malloc on the Python line, with or without --native
  has "python_ctypes_site_is_python_line_$tag" "$T/top-$tag.txt" "sites.py:$l_ctypes: size=11[78][0-9] KiB"
  has "python_ctypes_native_site_is_python_line_$tag" "$T/native-$tag.txt" "sites.py:$l_ctypes: size=11[78][0-9] KiB"
  # tracebacks: the C under the site and the Python frames, none of the interpreter's
  group "$T/tb-$tag.txt" "$dec:$l_dec:" >"$T/g-$tag.txt"
  group "$T/tb-$tag.txt" "tests/shim/python/sites.py:$l_ctypes:" >"$T/gc-$tag.txt"
  if [ "$json_builtin" = 1 ]; then
    t_skip "python_traceback_has_extension_frames_$tag" "_json is built into this interpreter: its frames are the interpreter's, trimmed"
  else
    has "python_traceback_has_extension_frames_$tag" "$T/g-$tag.txt" '^  File "(\[_json[^]]*\]|[^"]*_json\.c)"'
  fi
  has "python_traceback_reaches_module_$tag" "$T/g-$tag.txt" "File \"tests/shim/python/sites.py\", line [0-9]+, in <module>\$"
  hasnt "python_traceback_trimmed_$tag" "$T/g-$tag.txt" "$interp"
  hasnt "python_ctypes_traceback_trimmed_$tag" "$T/gc-$tag.txt" "$interp|libffi|\[_ctypes|Modules/_ctypes"
  has "python_ctypes_traceback_python_line_first_$tag" <(head -1 "$T/gc-$tag.txt") \
    "File \"tests/shim/python/sites.py\", line $l_ctypes, in through_ctypes"

  # One version (Debian's, else the first): the views that are the CLI's alone.
  [ -z "$full" ] || continue
  full=$tag
  "$HEAPSNAP" top "$s" -n 0 --key module >"$T/mod-$tag.txt" 2>/dev/null
  "$HEAPSNAP" top "$s" -n 0 --key module --format json >"$T/mod-$tag.json" 2>/dev/null
  "$HEAPSNAP" top "$s" -n 0 --key traceback --interpreter-frames >"$T/tball-$tag.txt" 2>/dev/null
  "$HEAPSNAP" top "$s" -n 0 --key traceback --python-only >"$T/tbpy-$tag.txt" 2>/dev/null
  "$HEAPSNAP" export "$s" --format folded -o "$T/folded-$tag.txt" 2>/dev/null
  # --key module: Python modules by name, in text and JSON
  has python_key_module_names_modules "$T/mod-$tag.txt" '^json\.decoder: size='
  has python_key_module_names_script "$T/mod-$tag.txt" '^sites: size='
  hasnt python_key_module_no_python_placeholder "$T/mod-$tag.txt" '^<python>'
  has python_key_module_json "$T/mod-$tag.json" '"module": ?"json\.decoder"'
  # --interpreter-frames: the whole stack back
  group "$T/tball-$tag.txt" "$dec:$l_dec:" >"$T/gall-$tag.txt"
  has python_traceback_interpreter_frames "$T/gall-$tag.txt" "$interp"
  # top --python-only: the Python frames alone
  group "$T/tbpy-$tag.txt" "$dec:$l_dec:" >"$T/gpy-$tag.txt"
  has python_only_traceback_python_frames <(head -1 "$T/gpy-$tag.txt") "File \"$dec\", line $l_dec,"
  hasnt python_only_traceback_no_native "$T/gpy-$tag.txt" "\[_json|_json\.c|$interp"
  # the folded export: the stack of json.loads without the interpreter
  grep 'load_json' "$T/folded-$tag.txt" >"$T/fl-$tag.txt"
  hasnt python_folded_export_trimmed "$T/fl-$tag.txt" "$interp"
done < <(py_interpreters)
