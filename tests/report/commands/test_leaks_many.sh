# tests/report/commands/test_leaks_many.sh - reports that scale to thousands of records
# (issue 65): a program with 5,000 leaking sites, generated here (5,000 tiny functions,
# each losing 16 + i bytes) plus one site, shared(), reached from three callers
# (30000, 20000, 10000 B): 5,003 records in 5,001 sites.  leaks and gate start with
# the summary and the largest sites, shared()'s three records one line and its
# largest record, 10 sites by default, then one line for the rest; -n 0 shows all;
# JSON keeps every record unless -n is given; run --leaks prints the 5 largest.
. tests/lib.sh
{
  echo '#include <stdlib.h>'
  echo '#include <string.h>'
  echo '__attribute__((noinline)) static void shared(size_t n) { char *volatile p = malloc(n); memset(p, 1, n); p = NULL; }'
  echo '__attribute__((noinline)) static void via_a(void) { shared(30000); }'
  echo '__attribute__((noinline)) static void via_b(void) { shared(20000); }'
  echo '__attribute__((noinline)) static void via_c(void) { shared(10000); }'
  awk 'BEGIN { for (i = 0; i < 5000; i++)
    printf "__attribute__((noinline)) static void leak_%d(void) { char *volatile p = malloc(%d); p = NULL; }\n", i, 16 + i }'
  echo 'int main(void) {'
  echo '  via_a(); via_b(); via_c();'
  awk 'BEGIN { for (i = 0; i < 5000; i++) printf "  leak_%d();\n", i }'
  echo '  return 0; }'
} >"$T/many.c"
t_build many "$T/many.c" || { t_fail leaks_many_build "many.c does not compile"; return 0; }
start=$(date +%s)
"$HEAPSNAP" run --leaks -o "$T/many.hsnap" -- "$T/many" >/dev/null 2>"$T/run.err"
[ -s "$T/many.hsnap" ] || { t_fail leaks_many_profiled "$(head -c 300 "$T/run.err")"; return 0; }
"$HEAPSNAP" leaks "$T/many.hsnap" >"$T/l.txt" 2>&1
took=$(( $(date +%s) - start ))
[ "$took" -lt 10 ] && t_pass leaks_many_run_and_report_under_10s || t_fail leaks_many_run_and_report_under_10s "$took s"

# leaks: the summary, then the largest site (3 records, one line), its largest
# record, then leak_4999's, ..., 10 sites, and one line for the rest.
first=$(grep -m1 -n '^LEAK SUMMARY:$' "$T/l.txt" | cut -d: -f1)
hdrs=$(grep 'in loss record' "$T/l.txt" | sed 's/ are definitely.*of / of /' | head -3 | tr '\n' '|')
if [ "$first" = 1 ] && [ "$(wc -l <"$T/l.txt")" -lt 100 ] &&
   grep -qx '   direct: 12637500 bytes in 5003 blocks' "$T/l.txt" &&
   grep -qx '5003 loss records in 5001 sites, largest first:' "$T/l.txt" &&
   grep -q "^3 records, 60000 bytes in 3 blocks at .*many.c:3 (3 direct)$" "$T/l.txt" &&
   [ "$hdrs" = "30000 bytes in 1 blocks of 5003|5015 bytes in 1 blocks of 5003|5014 bytes in 1 blocks of 5003|" ] &&
   [ "$(grep -c 'in loss record' "$T/l.txt")" = 10 ] &&
   [ "$(tail -1 "$T/l.txt")" = "... 4993 more records in 4991 more sites: -n 0 shows all" ]; then
  t_pass leaks_many_summary_first_largest_sites_bounded
else t_fail leaks_many_summary_first_largest_sites_bounded "$(wc -l <"$T/l.txt") lines; $hdrs; $(tail -1 "$T/l.txt")"; fi

"$HEAPSNAP" leaks -n 0 "$T/many.hsnap" >"$T/all.txt" 2>&1
"$HEAPSNAP" leaks -n 0 "$T/many.hsnap" | grep -o 'loss record [0-9]* of' | sed -n '1p;$p' | tr '\n' '|' >"$T/ends"
[ "$(grep -c 'in loss record' "$T/all.txt")" = 5003 ] && ! grep -q '^\.\.\. ' "$T/all.txt" &&
  [ "$(cat "$T/ends")" = "loss record 1 of|loss record 5003 of|" ] &&
  t_pass leaks_many_n0_shows_every_record ||
  t_fail leaks_many_n0_shows_every_record "$(grep -c 'in loss record' "$T/all.txt") records; $(cat "$T/ends")"

n_all=$("$HEAPSNAP" leaks --format json "$T/many.hsnap" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["records"]), d["records_total"], d["sites_total"])')
n_3=$("$HEAPSNAP" leaks --format json -n 3 "$T/many.hsnap" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["records"]), d["records"][0]["bytes"])')
[ "$n_all" = "5003 5003 5001" ] && [ "$n_3" = "5 30000" ] && t_pass leaks_many_json_every_record_unless_n ||
  t_fail leaks_many_json_every_record_unless_n "all: $n_all; -n 3: $n_3"

# gate: its verdict, the check, then the same 10 sites, then one line.
"$HEAPSNAP" gate "$T/many.hsnap" >"$T/g.txt" 2>&1; rc=$?
"$HEAPSNAP" gate -n 0 "$T/many.hsnap" >"$T/g0.txt" 2>&1
if [ "$rc" = 1 ] && [ "$(wc -l <"$T/g.txt")" -lt 100 ] &&
   [ "$(sed -n 3p "$T/g.txt" | sed 's/ at .*//')" = "  3 findings, 60000 bytes in 3 blocks" ] &&
   sed -n 4p "$T/g.txt" | grep -q '^  30000 bytes in 1 blocks leaked (direct) at ' &&
   [ "$(tail -1 "$T/g.txt")" = "  ... 4993 more findings in 4991 more sites: -n 0 shows all" ] &&
   [ "$(grep -c 'blocks leaked' "$T/g0.txt")" = 5003 ]; then
  t_pass gate_many_largest_sites_bounded
else t_fail gate_many_largest_sites_bounded "exit $rc, $(wc -l <"$T/g.txt") lines; $(sed -n 3,4p "$T/g.txt" | tr '\n' '|'); $(tail -1 "$T/g.txt")"; fi

# run --leaks: the summary and the 5 largest sites' records, as valgrind --leak-check=full
if grep -qx 'heapsnap:    direct: 12637500 bytes in 5003 blocks' "$T/run.err" &&
   [ "$(grep -c 'in loss record' "$T/run.err")" = 5 ] &&
   grep -q '^heapsnap:     at 0x[0-9a-f]*: shared (.*many.c:3)$' "$T/run.err" &&
   grep -qx "heapsnap: ... 4998 more records in 4996 more sites: $HEAPSNAP leaks -n 0 shows all" "$T/run.err" &&
   [ "$(wc -l <"$T/run.err")" -lt 60 ]; then
  t_pass run_leaks_many_prints_largest_records
else t_fail run_leaks_many_prints_largest_records "$(grep -c 'in loss record' "$T/run.err") records, $(wc -l <"$T/run.err") lines: $(tail -3 "$T/run.err" | tr '\n' '|')"; fi
