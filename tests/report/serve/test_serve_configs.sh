# test_serve_configs.sh - the configurations dist/ ships for a fleet, checked
# where a tool here can: the systemd unit by systemd-analyze verify (not a
# warning; it keeps NoNewPrivileges and ProtectSystem=strict, and the agent
# on 127.0.0.1), Parca's as YAML with the keys Parca reads (Parca is not in
# Debian).  The Prometheus configuration and the alert rules are run by
# test_serve_prometheus.sh and test_serve_alerts.sh.
if command -v systemd-analyze >/dev/null; then
  sed "s|/usr/local/bin/heapsnap|$HEAPSNAP|" dist/heapsnap-serve.service >"$T/heapsnap-serve.service"
  if systemd-analyze verify "$T/heapsnap-serve.service" >"$T/verify" 2>&1 && [ ! -s "$T/verify" ]; then
    t_pass serve_systemd_unit_verifies
  else t_fail serve_systemd_unit_verifies "$(head -c 300 "$T/verify")"; fi
else t_fail serve_systemd_unit_verifies "systemd-analyze is not installed (scripts/install-deps.sh test installs systemd)"; fi
u=dist/heapsnap-serve.service
if grep -q '^NoNewPrivileges=yes$' $u && grep -q '^ProtectSystem=strict$' $u &&
   grep -q '^CapabilityBoundingSet=CAP_SYS_PTRACE CAP_DAC_READ_SEARCH$' $u &&
   grep -q '^ExecStart=.* serve --listen 127\.0\.0\.1:9464 ' $u; then
  t_pass serve_systemd_unit_is_hardened_on_loopback
else t_fail serve_systemd_unit_is_hardened_on_loopback "$(grep -E 'NoNew|ProtectSystem|Capab|ExecStart' $u | tr '\n' ' ')"; fi
if python3 - dist/parca.yaml <<'PY' >"$T/parca" 2>&1
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
job = c["scrape_configs"][0]
assert job["http_sd_configs"][0]["url"] == "http://127.0.0.1:9464/targets", job
mem = job["profiling_config"]["pprof_config"]["memory"]
assert mem == {"enabled": True, "path": "/debug/pprof/heap"}, mem
assert any(r["source_labels"] == ["__meta_heapsnap_pid"] for r in job["relabel_configs"])
PY
then t_pass serve_parca_config_is_yaml_for_the_agent
else t_fail serve_parca_config_is_yaml_for_the_agent "$(tail -c 300 "$T/parca")"; fi
