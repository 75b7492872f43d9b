# tests/shim/leak/test_leaks_json.sh - `heapsnap leaks --format json` parses
# (python3 -m json.tool and json.load) and carries the documented fields
# (docs/json.md) with the test writer's leak heap's exact numbers.

if ! ${CC:-gcc} -Ishim tests/fuzz/mkcorpus.c -o "$T/mkcorpus" -lz 2>"$T/cc.err"; then
  t_fail mkcorpus_builds "$(head -c 300 "$T/cc.err")"
fi
mkdir -p "$T/c" && "$T/mkcorpus" "$T/c"
rm -f "$T/c"/bomb_*.hsnap "$T/c"/*_bad_*.hsnap # the seeds the reader refuses: not for these tests
S=$T/c/leaks.hsnap
printf 'leak:prog+0x40103f\nleak:stale_one\n' >"$T/s.supp"

"$HEAPSNAP" leaks --format json --kinds all "$S" >"$T/all.json" 2>"$T/err"
t_check json_parses python3 -m json.tool "$T/all.json"

cat >"$T/check.py" <<'EOF2'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema"] == "heapsnap-leaks" and d["version"] == 1, d.get("schema")
assert [s["pid"] for s in d["snapshots"]] == [4242]
recs = d["records"]
assert len(recs) == 8, len(recs)
assert sorted(r["index"] for r in recs) == list(range(1, 9))
tot = [r["total_bytes"] for r in recs]
# site by site, the site of most bytes first, each site's largest first;
# index is the rank by size: 1, the largest, comes first
assert recs[0]["index"] == 1 and recs[0]["total_bytes"] == max(tot), tot
assert [r["total_bytes"] for r in sorted(recs, key=lambda r: r["index"])] == sorted(tot, reverse=True)
direct = [r for r in recs if r["class"] == "direct"]
assert sorted((r["bytes"], r["indirect_bytes"], r["indirect_blocks"], r["blocks"]) for r in direct) == [(32, 16, 2, 1), (40, 32, 2, 2)]
for r in recs:
    for k in ("class", "blocks", "bytes", "indirect_bytes", "indirect_blocks", "refcount_min", "refcount_max", "frames", "cycle", "site"):
        assert k in r, k
    assert r["refcount_min"] <= r["refcount_max"]
    sites = [f for f in r["frames"] if f["site"]]
    assert len(sites) == 1, r
    for f in r["frames"]:
        assert set(f) >= {"function", "file", "line", "module", "address", "site", "wrapper"}, f
        assert f["address"].startswith("0x")
cyc = [r for r in recs if r["class"] == "cycle" and not r["owned_by_another_leak"]]
assert len(cyc) == 1 and cyc[0]["cycle"]["blocks"] == 3 and cyc[0]["cycle"]["cycles"] == 2, cyc
assert cyc[0]["cycle"]["sites"] == ["prog+0x40102f", "prog+0x40102f", "prog+0x40100f"], cyc[0]["cycle"]
owned = [r for r in recs if r["owned_by_another_leak"]]
assert len(owned) == 1 and owned[0]["cycle"] is None and owned[0]["bytes"] == 16
s = d["summary"]
want = {"direct": (72, 3), "indirect": (32, 2), "cycle": (80, 6), "possibly_lost": (100, 1),
        "still_reachable": (4103, 2), "runtime": (0, 0), "suppressed": (0, 0)}
assert {k: (v["bytes"], v["blocks"]) for k, v in s.items()} == want, s
assert d["suppressions"] == []
EOF2
t_check json_fields_and_numbers python3 "$T/check.py" "$T/all.json"

"$HEAPSNAP" leaks --format json --suppressions "$T/s.supp" "$S" >"$T/supp.json" 2>"$T/err"
cat >"$T/supp.py" <<'EOF2'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["suppressions"]
assert [(x["name"], x["syntax"], x["line"], x["records"], x["bytes"], x["blocks"], x["stale"]) for x in s] == \
    [("leak:prog+0x40103f", "lsan", 1, 3, 128, 7, False), ("leak:stale_one", "lsan", 2, 0, 0, 0, True)], s
assert d["summary"]["suppressed"] == {"bytes": 128, "blocks": 7}, d["summary"]
assert all(r["class"] in ("direct", "cycle") for r in d["records"])
EOF2
t_check json_suppressions python3 "$T/supp.py" "$T/supp.json"

# Strings are escaped: a snapshot path with a quote and a tab stays valid JSON.
weird="$T/we\"ird	name.hsnap"
cp "$S" "$weird"
"$HEAPSNAP" leaks --format json "$weird" >"$T/weird.json" 2>/dev/null
t_check json_escapes_strings python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["snapshots"][0]["path"] == sys.argv[2]' "$T/weird.json" "$weird"
