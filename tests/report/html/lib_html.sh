# lib_html.sh - helpers of the tests that load heapsnap html's page in a
# real browser (tests/report/html, and the Python reports' tests): headless
# Chromium's rendered DOM and console log, and checks over the DOM.
# Sourced after tests/lib.sh.

# chr_ready NAME: chromium is installed; else NAME fails (the test package
# list has it) and the caller returns.
chr_ready() {
  command -v chromium >/dev/null && return 0
  t_fail "$1" "chromium is not installed (scripts/install-deps.sh test installs it)"
  return 1
}

# chr NAME HTML: loads HTML headless; the DOM in $T/NAME.dom, the log in $T/NAME.log
# (CHR_SIZE=W,H: the window's size, else Chromium's default)
chr() {
  timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync ${CHR_SIZE:+--window-size=$CHR_SIZE} \
    --user-data-dir="$T/chr" --enable-logging=stderr --v=0 --dump-dom "file://$2" \
    >"$T/$1.dom" 2>"$T/$1.log"
}

# dom NAME FILE PATTERN [MIN]: FILE holds at least MIN (1) matches of the ERE
dom() {
  local n; n=$(grep -oE -- "$3" "$2" | wc -l)
  if [ "$n" -ge "${4:-1}" ]; then t_pass "$1"
  else t_fail "$1" "$n matches of /$3/ in $2, want ${4:-1}"; fi
}

# nodom NAME FILE PATTERN: FILE is not empty and holds no match of PATTERN
nodom() {
  if [ -s "$2" ] && ! grep -qE -- "$3" "$2"; then t_pass "$1"
  else t_fail "$1" "$(grep -oE -m2 -- "$3" "$2" | head -2 | tr '\n' ' ')"; fi
}

# quiet NAME LOG: the console printed nothing, and the page counted no error
quiet() {
  if grep -q 'CONSOLE' "$2"; then t_fail "$1" "$(grep -m3 CONSOLE "$2" | tr '\n' ' ' | head -c 400)"
  else t_pass "$1"; fi
}

# html_load NAME DOM HTML SNAP...: heapsnap html of the SNAPs written to
# HTML and loaded (chr DOM); NAME_written fails, and 1 is returned, when
# html refuses them; NAME_no_console_messages: the console said nothing.
html_load() {
  local name=$1 dom=$2 html=$3; shift 3
  if ! "$HEAPSNAP" html -o "$html" "$@" 2>"$T/$dom.err"; then
    t_fail "${name}_written" "$(head -c 300 "$T/$dom.err")"; return 1
  fi
  chr "$dom" "$html"
  quiet "${name}_no_console_messages" "$T/$dom.log"
}

# html_data HTML EXPR [ARG]: prints the Python expression EXPR over the
# page's embedded data document d (Debian's python3; ARG is sys.argv[2]).
html_data() {
  /usr/bin/python3 - "$1" "${3:-}" "$2" <<'PY'
import json, re, sys
m = re.search(r'<script type="application/json"[^>]*>(.*?)</script>', open(sys.argv[1]).read(), re.S)
d = json.loads(m.group(1))
print(eval(sys.argv[3]))
PY
}

# html_drawn NAME HTML WHY ERE...: HTML loaded in Chromium (chr NAME) holds
# every ERE in its DOM: NAME passes, else fails with WHY; a SKIP when
# chromium is not installed.
html_drawn() {
  local name=$1 html=$2 why=$3 re
  shift 3
  if ! command -v chromium >/dev/null; then t_skip "$name" "chromium is not installed"; return 0; fi
  chr "$name" "$html"
  for re in "$@"; do
    grep -qE -- "$re" "$T/$name.dom" || { t_fail "$name" "$why"; return 0; }
  done
  t_pass "$name"
}

# shot NAME HTML [WIDTH,HEIGHT]: headless Chromium photographs HTML into
# $T/NAME.png (the test's scratch dir, which tests/run.sh removes; with
# HTML_SHOTS=DIR a copy stays in DIR); NAME_screenshot passes when a PNG came out.
shot() {
  timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$T/chr" --hide-scrollbars --force-device-scale-factor=1 \
    --window-size="${3:-1200,4000}" --screenshot="$T/$1.png" "file://$2" >/dev/null 2>&1
  if [ "$(head -c 8 "$T/$1.png" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; then
    t_pass "${1}_screenshot"
    [ -z "${HTML_SHOTS:-}" ] || { mkdir -p "$HTML_SHOTS" && cp "$T/$1.png" "$HTML_SHOTS/"; }
  else t_fail "${1}_screenshot" "no PNG in $T/$1.png"; fi
}
