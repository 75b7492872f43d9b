# jqwork.jq - the bench's jq workload (issue 68's LeakSanitizer set): over
# gendata.py's array of records, groups them, rebuilds an object per group
# and joins strings, then prints one "checksum jq ..." line (run with jq -r).
def digest: reduce .[] as $v (0; (. * 31 + $v) % 1000003);
(group_by(.grp) | map({n: length, s: (map(.val) | add), names: (map(.name[0:6]) | join(","))}))
  as $groups
| "checksum jq \(length) \($groups | length) \($groups | map(.s) | digest) \($groups | map(.names | length) | add)"
