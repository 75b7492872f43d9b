# tests/report/symbols/test_cxx_wrappers.sh - the C++ standard library's
# allocator and container templates (operator new, __new_allocator,
# allocator_traits, _Vector_base::_M_allocate, vector::_M_realloc_insert,
# basic_string::_M_construct, _Rb_tree, _Hashtable, _Deque_base,
# __shared_count, std::function's _Base_manager) fold into the first frame
# of the program's own in every view: a loss record's first frame, its site,
# run --leaks's summary, top's lines, the folded export's leaf, the HTML
# page's stacks, the gate's finding; `leaks --all-frames` lists them, marked [wrapper].  A template of
# the program's own instantiated with std types, its lambdas called through
# std::for_each and std::function, and its functions named like the
# library's internals (user::_M_allocate, user::vector<int>::push_back) stay
# its frames.  tests/fixtures/cxxwrappers.cc at g++ -O0 -g and -O2 -g (lines
# by its "@NAME" markers), and at -O0 without DWARF (by name alone).
# (before: records opened with up to eight [wrapper] frames; without DWARF
# the site was std::__new_allocator<long>::allocate)
. tests/fixtures/lib.sh
FX_TEST=cxx_wrappers fx_ready cxxwrappers cxxwrappers_O2 cxxwrappers_nodebug || return 0
src=tests/fixtures/cxxwrappers.cc
# NAME=LINE for every marker, on one line
marks=$(grep -n '/\* @[a-z_]*[ :]' "$src" | sed 's|^\([0-9]*\):.*/\* @\([a-z_]*\).*|\2=\1|' | tr '\n' ' ')
line_of() { echo "$marks" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

cat >"$T/check.py" <<'EOF2'
# check.py MODE JSON ALLJSON SRC MARKS: the records of leaks --format json
# (folded) and of leaks --all-frames --format json, against the markers.
import json, re, sys
mode, folded, full, src = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3])), sys.argv[4]
marks = dict(m.split("=") for m in sys.argv[5].split())
lines = {int(v) for v in marks.values()}
exe_mod = sys.argv[6]
def fail(why):
    print(why); sys.exit(1)
mine = []
for r in folded["records"]:
    f0 = r["frames"][0]
    if any(f["wrapper"] for f in r["frames"]):
        fail("a wrapper frame without --all-frames: %s" % r["frames"][0]["function"])
    if not f0["site"]:
        fail("first frame is not the site: %s" % f0["function"])
    if f0["module"] != exe_mod:
        continue
    mine.append(r)
    fn = f0["function"]
    if re.match(r"([A-Za-z_][\w:]*[&*]* )?(std::|__gnu_cxx::|operator new)", fn):
        fail("first frame is the library's: %s" % fn)
    if mode == "dwarf":
        if f0["file"] != src or f0["line"] not in lines:
            fail("first frame %s at %s:%s, not a marked line" % (fn, f0["file"], f0["line"]))
        if r["site"] != "%s:%d" % (src, f0["line"]):
            fail("site %s, first frame %s:%d" % (r["site"], src, f0["line"]))
if mode == "dwarf":
    got = {r["frames"][0]["line"] for r in mine}
    want = {int(marks[k]) for k in ("vec_push_back", "string", "map_insert", "umap_insert",
            "deque_push_back", "make_shared", "lambda", "function", "bag_put",
            "user_m_allocate", "user_vector_push_back", "leak_string")}
    if want - got:
        fail("no record at lines %s (%s)" % (sorted(want - got), marks))
firsts = {r["frames"][0]["function"].split("(")[0] for r in mine}
for own in ("user::_M_allocate", "user::vector<int>::push_back"):
    if own not in firsts:
        fail("%s is not a record's first frame: %s" % (own, sorted(firsts)))
# --all-frames: the same records, the wrappers first and marked
grow = []
for r in full["records"]:
    fr = r["frames"]
    k = [f["site"] for f in fr].index(True)
    if any(not f["wrapper"] for f in fr[:k]) or any(f["wrapper"] for f in fr[k:]):
        fail("wrappers not exactly the frames before the site: %s" % [f["function"][:40] for f in fr])
    if any("_M_realloc_" in f["function"] for f in fr[:k]) and fr[k]["module"] == exe_mod:
        grow.append(r)
if not grow:
    fail("no record with vector's _M_realloc_insert among its wrappers")
for r in grow:
    names = [f["function"] for f in r["frames"] if f["wrapper"]]
    if not names[0].startswith("operator new") or not any("allocator" in n for n in names):
        fail("vector growth's wrappers: %s" % names)
if mode == "dwarf" and int(marks["vec_push_back"]) not in \
        {[f for f in r["frames"] if f["site"]][0]["line"] for r in grow}:
    fail("no vector growth at line %s" % marks["vec_push_back"])
if len(folded["records"]) != len(full["records"]):
    fail("%d records folded, %d with --all-frames" % (len(folded["records"]), len(full["records"])))
EOF2

for fx in cxxwrappers cxxwrappers_O2 cxxwrappers_nodebug; do
  if ! "$HEAPSNAP" run --leaks -o "$T/$fx.hsnap" "$FX/$fx" >"$T/$fx.out" 2>"$T/$fx.err" ||
     [ ! -s "$T/$fx.hsnap" ]; then
    t_fail "cxx_${fx}_profiled" "$(head -c 300 "$T/$fx.err" | tr '\n' ' ')"; continue
  fi
  mode=dwarf; [ "$fx" = cxxwrappers_nodebug ] && mode=names
  "$HEAPSNAP" leaks -n 0 --kinds all --format json "$T/$fx.hsnap" >"$T/$fx.json" 2>/dev/null
  "$HEAPSNAP" leaks -n 0 --kinds all --all-frames --format json "$T/$fx.hsnap" >"$T/$fx.all.json" 2>/dev/null
  t_check "cxx_${fx}_records_open_at_user_frame" python3 "$T/check.py" $mode "$T/$fx.json" "$T/$fx.all.json" "$src" "$marks" "$fx"
  # text: no [wrapper] by default; --all-frames marks std::'s frames
  "$HEAPSNAP" leaks -n 0 --kinds all "$T/$fx.hsnap" >"$T/$fx.txt" 2>/dev/null
  "$HEAPSNAP" leaks -n 0 --kinds all --all-frames "$T/$fx.hsnap" >"$T/$fx.all.txt" 2>/dev/null
  if ! grep -q '\[wrapper\]' "$T/$fx.txt" && grep -q 'std::vector<.*_M_realloc_.*\[wrapper\]$' "$T/$fx.all.txt" &&
     grep -q ': user::_M_allocate(unsigned long) (.*[^]]$' "$T/$fx.all.txt"; then
    t_pass "cxx_${fx}_all_frames_shows_wrappers"
  else
    t_fail "cxx_${fx}_all_frames_shows_wrappers" "$(grep -m3 -E 'wrapper|_M_realloc|user::' "$T/$fx.all.txt" | cut -c1-120 | tr '\n' '|')"
  fi
  # run --leaks's summary: the leaked string's record opens at its line
  first=$(grep -A1 'definitely lost in loss record' "$T/$fx.err" | sed -n '2s/^heapsnap: *//p')
  case $mode:$first in
    dwarf:"at 0x"*": leak_string ($src:$(line_of leak_string))" | names:"at 0x"*": leak_string() (in $fx)") t_pass "cxx_${fx}_run_summary_at_user_frame" ;;
    *) t_fail "cxx_${fx}_run_summary_at_user_frame" "$first" ;;
  esac
  [ $mode = dwarf ] || continue
  # top's lines and the folded export's leaves are the marked lines
  fx_top "$fx.top" "$T/$fx.hsnap" --key lineno -n 0 || continue
  bad=$(sed -n "s|^$src:\([0-9]*\): size=.*|\1|p" "$T/$fx.top.txt" | while read -r l; do
          case " $marks " in *"=$l "*) ;; *) echo "$l" ;; esac; done | tr '\n' ' ')
  [ -z "$bad" ] && grep -q "^$src:$(line_of vec_push_back): " "$T/$fx.top.txt" &&
    t_pass "cxx_${fx}_top_sites_at_user_lines" || t_fail "cxx_${fx}_top_sites_at_user_lines" "lines $bad"
  "$HEAPSNAP" export --format folded "$T/$fx.hsnap" 2>/dev/null | grep "$src" >"$T/$fx.folded"
  leaves=$(sed 's/ [0-9]*$//; s/.*;//' "$T/$fx.folded" | grep -v "($src:[0-9]*)$" | head -3 | tr '\n' '|')
  [ -s "$T/$fx.folded" ] && [ -z "$leaves" ] && t_pass "cxx_${fx}_folded_leaf_is_user_frame" ||
    t_fail "cxx_${fx}_folded_leaf_is_user_frame" "$leaves"
  # the HTML page: its loss records' stacks and its flame graph hold no wrapper
  "$HEAPSNAP" html -o "$T/$fx.html" "$T/$fx.hsnap" 2>/dev/null
  grep -qF "\"stack\":[[\"leak_string\",\"$src\",$(line_of leak_string)," "$T/$fx.html" &&
    ! grep -qE '__new_allocator|_M_realloc_|allocator_traits' "$T/$fx.html" &&
    t_pass "cxx_${fx}_html_stacks_at_user_frame" ||
    t_fail "cxx_${fx}_html_stacks_at_user_frame" "$(grep -o '"stack":\[\[[^]]*\]' "$T/$fx.html" | head -2 | tr '\n' '|')"
  "$HEAPSNAP" gate "$T/$fx.hsnap" >"$T/$fx.gate" 2>&1
  grep -A1 'leaked (direct' "$T/$fx.gate" | grep -qx "    File \"$src\", line $(line_of leak_string), in leak_string" &&
    t_pass "cxx_${fx}_gate_finding_at_user_frame" ||
    t_fail "cxx_${fx}_gate_finding_at_user_frame" "$(head -c 300 "$T/$fx.gate" | tr '\n' '|')"
done
