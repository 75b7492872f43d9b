#!/usr/bin/env python3
# scripts/docwalk.py - runs the command blocks of README.md and docs/*.md in order,
# in one directory, as a reader would after the README's set-up, and says of each
# block whether it printed what the page shows.  The pages are walked in the
# order of the README's documentation table (README.md first; a page the table
# does not list comes after, by name), the blocks of a page from top to bottom,
# all in the same directory, so that a snapshot one section leaves behind and
# another section's glob catches is found, as a reader would find it.
#
# A block's kind is its fence's info string:
#   ```sh       commands: every line (a line ending in "\" joins the next) must exit 0
#   ```console  "$ COMMAND" lines are run; the lines under one are what it prints
#               (stdout and stderr): each must be printed, in order, with others
#               between; "..." stands for any lines; numbers, addresses and runs of
#               blanks are masked ("numbers aside")
#   ```text, json, yaml, toml, make, cmake, python, c: not commands, not run
#   ``` (no kind): a failure, so that no example escapes the walk
# A block that cannot run here says why on the line above its fence:
#   <!-- not run: REASON -->
# and is counted, with its reason, in the last lines.  The docs' plain
# `heapsnap` is the installed command: in the walk it is a shell function that
# runs build/heapsnap under the name "heapsnap" (as an installed one names itself
# in `run`'s "next:" line); `build/heapsnap` is run as written.
#
# Usage: scripts/docwalk.py [--dir DIR] [--timeout S] [PAGE...]
#   DIR: where the blocks run (default: the repository root); its build/ must be
#   built (make demo, the README's set-up).  Prints "PASS NAME", "FAIL NAME: WHY"
#   and "SKIP NAME: not run: REASON" lines (NAME: docwalk_<page>_<line>), then
#   "docwalk: N blocks run, N passed, N failed, N not run, N not commands".
#   Exits 1 when a block failed, 2 on bad usage.
import argparse
import os
import re
import subprocess
import sys

NOT_COMMANDS = {"text", "json", "yaml", "toml", "make", "cmake", "python", "c", "ini"}
MARK = re.compile(r"^<!-- not run: (.+?) -->\s*$")


def page_order(root):
    """README.md, then the pages its documentation table links, then the rest."""
    pages = ["README.md"]
    readme = open(os.path.join(root, "README.md")).read()
    for m in re.finditer(r"^\| \[(docs/[a-z-]+\.md)\]", readme, re.M):
        if m.group(1) not in pages:
            pages.append(m.group(1))
    rest = sorted("docs/" + f for f in os.listdir(os.path.join(root, "docs")) if f.endswith(".md"))
    return pages + [p for p in rest if p not in pages]


def blocks(path):
    """(line, kind, body lines, not-run reason or None) for each fenced block."""
    lines = open(path).read().split("\n")
    i, out = 0, []
    while i < len(lines):
        m = re.match(r"^(\s*)```(\w*)\s*$", lines[i])
        if m:
            indent = len(m.group(1))
            j = i + 1
            while j < len(lines) and not lines[j].strip().startswith("```"):
                j += 1
            mark = MARK.match(lines[i - 1].strip()) if i > 0 else None
            body = [l[indent:] if l[:indent].strip() == "" else l for l in lines[i + 1:j]]
            out.append((i + 1, m.group(2) or "none", body, mark.group(1) if mark else None))
            i = j
        i += 1
    return out


def mask(s):
    s = re.sub(r"0x[0-9a-fA-F]+", "X", s)
    s = re.sub(r"[0-9]+(\.[0-9]+)?", "N", s)
    return re.sub(r"\s+", " ", s).strip()


def joined(body):
    """Lines with a trailing backslash joined to the next."""
    out, cur = [], ""
    for l in body:
        if l.endswith("\\"):
            cur += l[:-1] + " "
            continue
        out.append(cur + l)
        cur = ""
    if cur:
        out.append(cur)
    return out


def run(cmd, cwd, env, timeout):
    try:
        p = subprocess.run(["bash", "-c", cmd], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
        return p.returncode, p.stdout.decode(errors="replace")
    except subprocess.TimeoutExpired as e:
        return 124, (e.stdout or b"").decode(errors="replace") + "\n(over %d s)" % timeout


def expected_in(want, got):
    """None when every line of want is printed in order in got, else the first missing."""
    got = [mask(l) for l in got.split("\n")]
    k = 0
    for w in want:
        w = mask(w)
        if w in ("...", ""):
            continue
        while k < len(got) and got[k] != w:
            k += 1
        if k == len(got):
            return w
        k += 1
    return None


def run_sh(body, cwd, env, timeout):
    for cmd in joined(body):
        if not cmd.strip() or cmd.lstrip().startswith("#"):
            continue
        rc, out = run(cmd, cwd, env, timeout)
        if rc != 0:
            return "'%s' exited %d: %s" % (cmd, rc, out[-300:].strip())
    return None


def run_console(body, cwd, env, timeout):
    steps, cur = [], None
    for l in joined(body):
        if l.startswith("$ "):
            cur = [l[2:], []]
            steps.append(cur)
        elif cur is not None:
            cur[1].append(l)
        elif l.strip():
            return "output before the first \"$ \" line: " + l
    if not steps:
        return "no \"$ \" line"
    for cmd, want in steps:
        rc, out = run(cmd, cwd, env, timeout)
        if rc != 0:
            return "'%s' exited %d: %s" % (cmd, rc, out[-300:].strip())
        miss = expected_in(want, out)
        if miss is not None:
            return "'%s' did not print (numbers aside, in this order): %s; it printed: %s" % (
                cmd, miss, out[-400:].strip().replace("\n", " | "))
    return None


def main():
    ap = argparse.ArgumentParser(description="runs the docs' command blocks in order")
    ap.add_argument("--dir", default=None)
    ap.add_argument("--timeout", type=int, default=120)
    ap.add_argument("pages", nargs="*")
    try:
        a = ap.parse_args()
    except SystemExit:
        sys.exit(2)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    cwd = os.path.abspath(a.dir or root)
    if not os.access(os.path.join(cwd, "build", "heapsnap"), os.X_OK):
        print("docwalk: %s has no build/heapsnap: run make demo there first" % cwd, file=sys.stderr)
        sys.exit(2)
    env = dict(os.environ)
    fn = os.path.join(cwd, "build", "docwalk.bashrc")
    with open(fn, "w") as f:
        f.write('heapsnap() { (exec -a heapsnap "%s/build/heapsnap" "$@"); }\n' % cwd)
    env["BASH_ENV"] = fn
    pages = a.pages or page_order(cwd)
    counts = {"run": 0, "pass": 0, "fail": 0, "notrun": 0, "text": 0}
    for page in pages:
        for line, kind, body, reason in blocks(os.path.join(cwd, page)):
            name = "docwalk_%s_%d" % (re.sub(r"[^A-Za-z0-9]+", "_", page.replace(".md", "")), line)
            if reason:
                counts["notrun"] += 1
                print("SKIP %s: not run: %s" % (name, reason))
                continue
            if kind in NOT_COMMANDS:
                counts["text"] += 1
                continue
            if kind == "none":
                why = "a block without a kind (sh, console, text...): " + (body[0] if body else "")
            elif kind == "sh":
                why = run_sh(body, cwd, env, a.timeout)
            elif kind == "console":
                why = run_console(body, cwd, env, a.timeout)
            else:
                why = "an unknown kind: " + kind
            counts["run"] += 1
            if why is None:
                counts["pass"] += 1
                print("PASS " + name, flush=True)
            else:
                counts["fail"] += 1
                print("FAIL %s: %s:%d: %s" % (name, page, line, why), flush=True)
    print("docwalk: %(run)d blocks run, %(pass)d passed, %(fail)d failed, %(notrun)d not run, "
          "%(text)d not commands" % counts)
    sys.exit(1 if counts["fail"] else 0)


if __name__ == "__main__":
    main()
