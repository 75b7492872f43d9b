# tests/report/symbols/test_no_debuginfo.sh - a useful first answer on a Debian program
# without debug information (sqlite3, scripts/install-deps.sh bench): under the default
# key (lineno) a lineless site reads as its function and module, "sqlite3BtreeInsert
# (libsqlite3.so.0)", never one row per library ("[libsqlite3.so.0]:0"); a nameless
# static helper is keyed by its nearest named caller in its module; and the missing debug
# information is one note for the whole run, naming the -dbgsym packages and debuginfod.
# (A fixture stripped with strip -g: tests/report/symbols/test_symbolize.sh.)
if ! command -v sqlite3 >/dev/null; then
  t_skip nodbg_sqlite3 "sqlite3 is not installed (scripts/install-deps.sh bench)"
  return 0 2>/dev/null || exit 0
fi
unset DEBUGINFOD_URLS # no network: libdw would ask a debuginfod server
sql="create table t(a, b);
with recursive c(x) as (select 1 union all select x + 1 from c where x < 20000)
insert into t select x, hex(randomblob(20)) from c;
create index i on t(b);
select count(*) from t;"
echo "$sql" | "$HEAPSNAP" run -o "$T/sq.hsnap" -- sqlite3 :memory: >"$T/run.out" 2>&1
if [ ! -s "$T/sq.hsnap" ]; then
  t_fail nodbg_sqlite3 "no snapshot: $(tail -c 300 "$T/run.out")"; return 0 2>/dev/null || exit 0
fi
"$HEAPSNAP" top --peak -n 10 "$T/sq.hsnap" >"$T/top.txt" 2>"$T/top.err"
if grep -q 'sqlite3\.c:[1-9]' "$T/top.txt"; then
  t_skip nodbg_sqlite3 "libsqlite3 has debug information here (its -dbgsym is installed)"
  return 0 2>/dev/null || exit 0
fi
if head -1 "$T/top.txt" | grep -Eq '^[A-Za-z_][A-Za-z0-9_]* \(libsqlite3\.so\.0\): size=[0-9.]+ [KM]iB'; then
  t_pass nodbg_first_row_is_a_function
else t_fail nodbg_first_row_is_a_function "$(head -3 "$T/top.txt" | tr '\n' '|')"; fi
if ! grep -q '^\[libsqlite3\.so\.0\]:0' "$T/top.txt" && [ "$(grep -c '(libsqlite3\.so\.0):' "$T/top.txt")" -ge 5 ]; then
  t_pass nodbg_no_row_per_library
else t_fail nodbg_no_row_per_library "$(tr '\n' '|' <"$T/top.txt" | head -c 400)"; fi
# the sort's buffer, allocated through sqlite3's own wrappers (sqlite3Malloc...)
if grep -q '^sqlite3VdbeSorterWrite (libsqlite3\.so\.0): size=' "$T/top.txt"; then
  t_pass nodbg_sqlite_wrappers_skipped
else t_fail nodbg_sqlite_wrappers_skipped "$(tr '\n' '|' <"$T/top.txt" | head -c 400)"; fi
# one note for the run: both modules, their -dbgsym packages, debuginfod
if [ "$(grep -c . "$T/top.err")" = 1 ] &&
   grep -q '^heapsnap: note: no debug information in .*libsqlite3\.so\.0' "$T/top.err" &&
   grep -q 'libsqlite3-0-dbgsym' "$T/top.err" && grep -q 'DEBUGINFOD_URLS' "$T/top.err"; then
  t_pass nodbg_one_note_naming_packages
else t_fail nodbg_one_note_naming_packages "$(tr '\n' '|' <"$T/top.err")"; fi
# JSON's key is the text's
"$HEAPSNAP" top --peak -n 1 --format json "$T/sq.hsnap" 2>/dev/null |
  python3 -c 'import json,sys; k=json.load(sys.stdin)["groups"][0]["key"]; sys.exit(0 if k == sys.argv[1] else 1)' \
    "$(head -1 "$T/top.txt" | sed 's/: size=.*//')" && t_pass nodbg_json_key_same || t_fail nodbg_json_key_same "see top.txt"
# libdw's debuginfod client (libcurl and ~30 libraries) is not loaded for the
# modules without debug information unless DEBUGINFOD_URLS asks for a server
# (sym_find_debuginfo); with one set (a closed port here: no network), the
# standard search asks it, and the note is the same
if command -v strace >/dev/null; then
  strace -f -qq -e trace=openat -o "$T/st.top" "$HEAPSNAP" top --peak -n 3 "$T/sq.hsnap" \
    >"$T/top3.txt" 2>/dev/null
  DEBUGINFOD_URLS=http://127.0.0.1:9/ DEBUGINFOD_CACHE_PATH="$T/dcache" DEBUGINFOD_TIMEOUT=2 \
    strace -f -qq -e trace=openat -o "$T/st.url" "$HEAPSNAP" top --peak -n 3 "$T/sq.hsnap" \
    >"$T/top3u.txt" 2>/dev/null
  if ! grep -q 'libdebuginfod\.so' "$T/st.top" && grep -q 'libdebuginfod\.so.* = [0-9]' "$T/st.url" &&
     cmp -s "$T/top3.txt" "$T/top3u.txt"; then
    t_pass nodbg_debuginfod_client_only_when_asked
  else t_fail nodbg_debuginfod_client_only_when_asked "without: $(grep -c libdebuginfod "$T/st.top"), with: $(grep -c libdebuginfod "$T/st.url") $(diff "$T/top3.txt" "$T/top3u.txt" | head -3 | tr '\n' '|')"; fi
else t_skip nodbg_debuginfod_client_only_when_asked "no strace (Debian package strace)"; fi
# a shell that hands run's name to its one command: the note names the
# modules of what the summary shows (sqlite3's), not those of the shell's
# snapshot, read ahead and dropped (dash's)
echo "$sql" >"$T/sql.txt"
"$HEAPSNAP" run -o "$T/hand.hsnap" -- sh -c "sqlite3 :memory: <'$T/sql.txt' >/dev/null; true" \
  >/dev/null 2>"$T/hand.err"
note=$(grep '^heapsnap: note: no debug information' "$T/hand.err")
if echo "$note" | grep -q 'libsqlite3\.so\.0' && ! echo "$note" | grep -Eq '(in|,) dash[ ,]' &&
   grep -q 'hands the name\|gets the name\|ran .* as its child\|-o' "$T/hand.err"; then
  t_pass nodbg_note_names_the_shown_snapshots_modules
else t_fail nodbg_note_names_the_shown_snapshots_modules "$(tr '\n' '|' <"$T/hand.err" | head -c 600)"; fi
