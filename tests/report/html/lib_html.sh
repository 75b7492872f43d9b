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
chr() {
  timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
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
