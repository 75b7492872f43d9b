# test_serve_alerts.sh - the shipped alerting rules (dist/heapsnap-alerts.yml:
# a heap growing steadily, a process near its memory limit) check with
# promtool and pass its unit test on recorded series (alerts_test.yml here:
# steady growth fires, a flat heap, one jump and slow growth do not; 95% of
# a limit fires, 50% and no limit do not).
if ! command -v promtool >/dev/null; then
  t_fail serve_alert_rules "promtool is not installed (scripts/install-deps.sh test installs prometheus)"
  return 0
fi
if promtool check rules dist/heapsnap-alerts.yml >"$T/check" 2>&1; then t_pass serve_alert_rules_check
else t_fail serve_alert_rules_check "$(head -c 300 "$T/check")"; fi
if promtool test rules tests/report/serve/alerts_test.yml >"$T/test" 2>&1; then
  t_pass serve_alert_rules_pass_promtool_test_on_recorded_series
else t_fail serve_alert_rules_pass_promtool_test_on_recorded_series "$(tail -c 400 "$T/test" | tr '\n' ' ')"; fi
