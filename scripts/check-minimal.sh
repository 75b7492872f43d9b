#!/usr/bin/env bash
# scripts/check-minimal.sh - runs `make check` on a minimal Debian 12, in a fresh
# clone, to prove that scripts/install-deps.sh installs every tool the scripts and
# tests call (issue 16's set-up item).  Not part of `make check`: it downloads about
# 1.5 GB of packages and runs the whole suite, 10-20 minutes.
#
# DIR/base-SUITE is a `debootstrap --variant=minbase SUITE` root (SUITE=bookworm,
# the default, is what the debian:12
# container image holds), made once and never changed; each run copies it to
# DIR/run, clones this repository's HEAD (committed work only; REF=) into
# DIR/run/heapsnap, and chroots there as root with /proc, a /dev/shm tmpfs and
# a /dev/pts of its own mounted, as a container has, its root a private mount
# of its own, but not /sys (so a tool that needs /sys, as lscpu does, fails
# here too).  Inside, it runs what the
# README tells a new user to: `scripts/install-deps.sh` (which installs make
# itself), then `make check`.
# Mounts are undone on exit, whatever happens.
#
# Usage: scripts/check-minimal.sh [DIR]    (default /var/tmp/heapsnap-minimal)
#   MIRROR=URL  the Debian mirror (default http://deb.debian.org/debian)
#   SUITE=NAME  the Debian release (default bookworm; trixie is Debian 13)
#   REF=COMMIT  check that commit instead of HEAD (the old code, to see a fix fail there)
#   KEEP=1      keep DIR/run afterwards (to look into it); by default it is removed
#   CMD='...'   what to run inside instead (default: scripts/install-deps.sh && make check;
#               e.g. CMD='scripts/install-deps.sh && make && tests/run.sh bench')
#   TEST_TIMEOUT=S  a test file's time limit inside (tests/run.sh; default 600)
#   AS=user     run make check as a normal user (made inside, owning the clone),
#               after root has run scripts/install-deps.sh test and npm
# Exit: make check's status; 2 trouble (not root, no debootstrap, no mirror).
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
DIR=${1:-/var/tmp/heapsnap-minimal}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SUITE=${SUITE:-bookworm}
if [ "${AS:-root}" = user ]; then
  CMD=${CMD:-'scripts/install-deps.sh bench && scripts/install-deps.sh npm;
    useradd -m checker && chown -R checker /heapsnap &&
    runuser -u checker -- env HOME=/home/checker make check'}
else
  CMD=${CMD:-scripts/install-deps.sh && make check}
fi
RUN=$DIR/run
die() { echo "check-minimal: $*" >&2; exit 2; }

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot, mount)"
"$SRC/scripts/install-deps.sh" minimal || die "cannot install debootstrap and git"
mkdir -p "$DIR" || die "cannot create $DIR"
DIR=$(cd "$DIR" && pwd) RUN=$DIR/run

# base: made once; a failed debootstrap leaves no half-made base behind.
BASE=$DIR/base-$SUITE
[ "$SUITE" = bookworm ] && [ -d "$DIR/base" ] && [ ! -e "$BASE" ] && mv "$DIR/base" "$BASE"
if [ ! -f "$BASE/etc/debian_version" ]; then
  echo "check-minimal: debootstrap --variant=minbase $SUITE into $BASE" >&2
  rm -rf "$BASE.new"
  debootstrap --variant=minbase "$SUITE" "$BASE.new" "$MIRROR" >"$DIR/debootstrap.log" 2>&1 ||
    die "debootstrap failed (is $MIRROR reachable?): $(tail -n 3 "$DIR/debootstrap.log" | tr '\n' ' ')"
  mv "$BASE.new" "$BASE"
fi

# Stops what still runs inside the root (a test's child that outlived its
# time-out), then undoes every mount under it (ours, and any a test left),
# deepest first.
cleanup() {
  local p
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" = "$RUN" ] && kill -9 "${p#/proc/}" 2>/dev/null
  done
  awk -v r="$RUN" 'index($2, r "/") == 1 || $2 == r {print $2}' /proc/self/mounts | sort -r |
    while read -r m; do umount -l "$m"; done
  [ "${KEEP:-0}" = 1 ] || rm -rf --one-file-system "$RUN" || echo "check-minimal: could not remove $RUN" >&2
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if grep -q -e " $RUN/" -e " $RUN " /proc/self/mounts; then die "something is still mounted under $RUN"; fi
rm -rf --one-file-system "$RUN"
cp -a "$BASE" "$RUN" || die "cannot copy $BASE"
cp /etc/resolv.conf "$RUN/etc/resolv.conf"            # apt-get inside needs names
# The host's own CAs (a site's TLS proxy, say) go in too: ca-certificates, once
# a level installs it, adds them, as it would on that site's machines.
mkdir -p "$RUN/usr/local/share/ca-certificates"
cp /usr/local/share/ca-certificates/*.crt "$RUN/usr/local/share/ca-certificates/" 2>/dev/null
git clone -q --no-hardlinks "$SRC" "$RUN/heapsnap" &&
  git -C "$RUN/heapsnap" checkout -q --detach "$(git -C "$SRC" rev-parse "${REF:-HEAD}")" ||
  die "cannot clone $SRC"
echo "check-minimal: $(git -C "$RUN/heapsnap" log -1 --format='%h %s' | head -c 80)" >&2

# The root is a mount point of its own, private, as a container's is: a
# test's `unshare -m` (util-linux makes / private in the new namespace)
# fails with EINVAL where / is a plain directory.
mount --bind "$RUN" "$RUN" && mount --make-private "$RUN" || die "cannot bind $RUN onto itself"
mount -t proc proc "$RUN/proc" || die "cannot mount /proc"
mkdir -p "$RUN/dev/shm" "$RUN/dev/pts"
mount -t tmpfs -o mode=1777 shm "$RUN/dev/shm" || die "cannot mount /dev/shm"
# a pseudo-terminal instance of the root's own (script(1), apt's log)
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$RUN/dev/pts" ||
  die "cannot mount /dev/pts"
rm -f "$RUN/dev/ptmx" && ln -s pts/ptmx "$RUN/dev/ptmx"
[ ! -e "$RUN/sys/kernel" ] || die "/sys is populated in the root"

chroot "$RUN" /usr/bin/env -i HOME=/root TEST_TIMEOUT="${TEST_TIMEOUT:-600}" PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  /bin/bash -c "cd /heapsnap && $CMD" 2>&1 | tee "$DIR/check.log"
rc=${PIPESTATUS[0]}
echo "check-minimal: '$CMD' in a minimal $SUITE root exited $rc (log: $DIR/check.log)" >&2
exit "$rc"
