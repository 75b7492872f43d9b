# tests/report/commands/test_run_raw_exit.sh - a process that leaves past exit() and
# _exit() (a raw exit_group, as Go's runtime ends every Go program, cgo's included)
# writes no exit snapshot: run names it as such, not as killed, and its state file names
# its sites, their stacks written within STATE_STACKS_NS (20 ms) of their making even
# when the program then idles (a short program's sites all went without a name: the
# heartbeat that writes them came every 250 ms)
# tier: full (builds a Go program with cgo)
t_build rawexit tests/report/commands/rawexit.c
said='exited without writing its snapshot: it left past exit() and _exit()'
mkdir -p "$T/c"
"$HEAPSNAP" run -o "$T/c/r.%p.hsnap" -- "$T/rawexit" >/dev/null 2>"$T/c.err"; rc=$?
st=$(ls "$T/c" | grep '\.hsnap\.state$')
first=$([ -n "$st" ] && "$HEAPSNAP" top -n 1 "$T/c/$st" 2>/dev/null)
if [ "$rc" = 0 ] && [ "$(grep -cF "$said" "$T/c.err")" = 1 ] && ! grep -q killed "$T/c.err" &&
   [ "$first" = "tests/report/commands/rawexit.c:15: size=4883 KiB, count=100, average=48.8 KiB" ]
then t_pass run_names_a_raw_exit_and_its_states_sites
else t_fail run_names_a_raw_exit_and_its_states_sites "rc $rc, state '$st', top: $first; $(head -c 300 "$T/c.err")"; fi

# the same in a Go program with cgo: the C blocks it keeps are named by their line
if ! command -v go >/dev/null; then
  t_skip run_names_a_go_programs_c_sites "no go (scripts/install-deps.sh test installs golang-go)"; return 0
fi
mkdir -p "$T/gosrc" "$T/go"
cat >"$T/gosrc/main.go" <<'GO'
package main

/*
#include <stdlib.h>
#include <string.h>
static void *keep(int n) { void *p = malloc(n); memset(p, 1, n); return p; }
*/
import "C"
import (
	"fmt"
	"time"
)

func main() {
	var ps []uintptr
	for i := 0; i < 1000; i++ {
		ps = append(ps, uintptr(C.keep(C.int(100+i))))
	}
	time.Sleep(150 * time.Millisecond)
	fmt.Println(len(ps))
}
GO
(cd "$T/gosrc" && GOCACHE=$T/gocache GOPATH=$T/gopath GOFLAGS=-mod=mod GOTOOLCHAIN=local \
  timeout 300 sh -c 'go mod init example.com/keep && go build -o keep .') >"$T/gobuild.log" 2>&1 ||
  { t_fail run_names_a_go_programs_c_sites "go build: $(tail -c 300 "$T/gobuild.log")"; return 0; }
"$HEAPSNAP" run -o "$T/go/k.%p.hsnap" -- "$T/gosrc/keep" >"$T/go.out" 2>"$T/go.err"; rc=$?
st=$(ls "$T/go" | grep '\.hsnap\.state$')
line=$([ -n "$st" ] && "$HEAPSNAP" top -n 0 "$T/go/$st" 2>/dev/null | grep 'main.go:6: ')
if [ "$rc" = 0 ] && [ "$(cat "$T/go.out")" = 1000 ] && [ "$(grep -cF "$said" "$T/go.err")" = 1 ] &&
   case "$line" in *"main.go:6: size=585 KiB, count=1000, "*) true ;; *) false ;; esac
then t_pass run_names_a_go_programs_c_sites
else t_fail run_names_a_go_programs_c_sites "rc $rc, state '$st', line: $line; $(head -c 300 "$T/go.err")"; fi
