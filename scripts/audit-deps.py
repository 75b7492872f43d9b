#!/usr/bin/env python3
"""scripts/audit-deps.py - lists the external commands that the scripts and tests
call, each with the Debian package that provides it and what installs that
package: a level of scripts/install-deps.sh (the level's packages or what they
depend on: "via" names the listed one), or a minimal Debian itself (debootstrap
--variant=minbase: the Priority: required packages, and apt).  A command that
neither installs is MISSING: add its package to the level of install-deps.sh
that needs it, or give its caller a fallback.

It over-approximates, then keeps only words that name a program on this
machine's PATH (not a shell builtin or keyword), so run it where
`scripts/install-deps.sh all` has run.  Candidates: in shell, every word
outside comments, heredoc bodies, single-quoted strings (awk and sed programs)
and double-quoted strings with a space (messages), but including the inside
of every $(...); in Python, the first word of a string that opens a list, a
call's arguments or a value (["make", ...], which("heaptrack"), x = "/usr/bin/time");
in C, a string that is one word.  IGNORE lists the words that remain and are
never run.  scripts/check-minimal.sh is the real test: `make check` in a
minimal root.

Usage: scripts/audit-deps.py [-v] [FILE...]   (default: scripts/ tests/ Makefile)
  -v  also list the commands that a minimal Debian provides
Exit: 0 every command is installed by something, 1 some are MISSING.
"""

import ast
import io
import os
import re
import shutil
import subprocess
import sys
import tokenize

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LEVELS = ["build", "test", "bench", "npm", "minimal"]
# Words that name a program here but are not run as one: everywhere ("*"),
# heapsnap's subcommands and shell words; elsewhere, in the files where each was
# read and found to be a name, an argument or C code (a call added to another
# file is still reported).
IGNORE = {
    "*": {"top", "info", "size", "file", "ld", "as", "link", "script", "last", "dir", "opt",
          "python"},
    "free": {"tests/shim/test_hooks.sh"},                # a list of hooked names
    "tc": {"tests/shim/lib_shim.sh"},                    # read's variables
    "col": {"tests/shim/record/test_sample.sh"},                # awk's variable
    "open": {"tests/shim/leak/test_leaks_real.sh"},            # Python in a heredoc'd string
    "write": {"tests/report/load/test_snap.c"},                 # a message
    "POST": {"tests/report/serve/test_serve.sh"},               # curl -X's method
}
WORD = re.compile(r"(?:/usr)?/s?bin/[\w.+-]+|[A-Za-z_][\w.+-]*")    # a program's name or path
KEYWORDS = set("if then else elif fi case esac for while until do done in function select time "
               "return local export set unset shift exit break continue true false test echo "
               "printf read cd eval exec source type command wait trap declare mapfile".split())


# ---------------------------------------------------------------- candidates
def shell_code(text):
    """TEXT with what is not code blanked out: comments, heredoc bodies,
    single-quoted strings (awk and sed programs), and double-quoted strings
    that hold a space but no $( (messages).  Multi-line strings included."""
    out, i, n, heredocs = [], 0, len(text), []
    while i < n:
        c = text[i]
        if c == "\\":
            out.append(text[i:i + 2])
            i += 2
        elif c == "'":
            j = text.find("'", i + 1)
            i = n if j < 0 else j + 1
            out.append(" ")
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            body = text[i + 1:j]
            out.append(" " + shell_code(body) + " " if "$(" in body or not re.search(r"\s", body) else " ")
            i = j + 1
        elif c == "#" and (i == 0 or text[i - 1] in " \t\n;"):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif c == "\n" and heredocs:
            end = re.compile(r"^\s*%s\s*$" % re.escape(heredocs.pop(0)), re.M).search(text, i + 1)
            i = n if end is None else end.end()
            out.append("\n")
        else:
            m = re.match(r"<<(?!<)-?\s*['\"]?([A-Za-z_]\w*)['\"]?", text[i:i + 80])
            if m and text[i - 1:i] != "<":
                heredocs.append(m.group(1))
                i += m.end()
            else:
                out.append(c)
                i += 1
    return "".join(out)


def shell_words(text):
    """The words of a shell script's code, but for loop variables, the names
    that are assigned, expanded, or used in arithmetic, and parts of paths."""
    code = shell_code(text)
    code = re.sub(r"\$\(\([^)]*\)\)|\$\{?\w+", " ", code)
    code = re.sub(r"\bfor\s+\w+\s+in\b", " ", code)
    code = re.sub(r"\b[A-Za-z_]\w*=", " ", code)
    return re.findall(r"(?<![\w./-])(?:%s)" % WORD.pattern, code)     # not inside a path


def python_words(text):
    words, prev = [], None
    for t in tokenize.generate_tokens(io.StringIO(text).readline):
        if t.type == tokenize.STRING and prev in ("[", "(", "=") and t.string[0] in "'\"":
            first = str(ast.literal_eval(t.string)).split()
            words += first[:1] if first and WORD.fullmatch(first[0]) else []
        if t.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT):
            prev = t.string
    return words


def file_words(path):
    with open(path, errors="replace") as f:
        text = f.read()
    if path.endswith((".c", ".cc", ".h")):
        return [w for w in re.findall(r'"([\w./+-]+)"', text) if WORD.fullmatch(w)]
    if path.endswith(".py"):
        return python_words(text)
    return shell_words(text)


def default_files():
    out = []
    for top in ("scripts", "tests"):
        for d, _, names in os.walk(os.path.join(ROOT, top)):
            out += [os.path.join(d, n) for n in names if n.endswith((".sh", ".py", ".c", ".cc"))]
    return sorted(out) + [os.path.join(ROOT, "Makefile")]


# ---------------------------------------------------------------- packages
def out(cmd):
    return subprocess.run(cmd, capture_output=True, text=True).stdout


def level_packages():
    """{level: {package: listed package}}: what each level of install-deps.sh
    installs, with what its packages depend on."""
    text = open(os.path.join(ROOT, "scripts/install-deps.sh")).read()
    listed = dict(re.findall(r'^(\w+)_pkgs="([^"]*)"', text, re.M))
    listed.setdefault("npm", "nodejs npm")
    # the test level installs the services' packages too (not started)
    listed["test"] = listed.get("test", "") + " " + listed.get("service", "")
    levels = {}
    for lv in LEVELS:
        got = {}
        for p in listed.get(lv, "").split():
            deps = out(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
                        "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances", p])
            for d in [p] + re.findall(r"^([a-z0-9][^\s<>]*)$", deps, re.M):
                got.setdefault(d, p)
        levels[lv] = got
    return levels


def package(word):
    """The Debian package that owns the program WORD runs ("" if none):
    alternatives and usrmerge resolved; /usr/bin's when PATH finds an
    unpackaged one first (a /usr/local python, say)."""
    base = os.path.basename(word)
    for p in (shutil.which(word), "/usr/bin/" + base, "/bin/" + base):
        if not p or not os.path.exists(p):
            continue
        for q in (os.path.realpath(p), p, p[4:] if p.startswith("/usr/") else p):
            for line in out(["dpkg", "-S", q]).splitlines():
                if not line.startswith("diversion by"):
                    return line.split(":")[0].split(",")[0]
    return ""


def provider(pkg, levels):
    """What installs PKG: "minimal Debian", "install-deps.sh LEVEL [(via P)]", or ""."""
    prio = out(["dpkg-query", "-W", "-f=${Priority}", pkg]) if pkg else ""
    if prio == "required" or pkg == "apt":
        return "minimal Debian"
    for lv in LEVELS:
        if pkg in levels[lv]:
            via = levels[lv][pkg]
            return "install-deps.sh %s%s" % (lv, "" if via == pkg else " (via %s)" % via)
    return ""


def is_program(word, users):
    """Whether WORD names a program, used by USERS not all excused by IGNORE."""
    if word in KEYWORDS or word in IGNORE["*"] or set(users) <= IGNORE.get(word, set()):
        return False
    if "/" in word:
        return os.access(word, os.X_OK)
    r = subprocess.run(["bash", "-c", 'type -t "$1"', "-", word], capture_output=True, text=True)
    return r.stdout.strip() == "file"


def main(argv):
    verbose = bool(argv) and argv[0] == "-v"
    files = argv[1:] if verbose else argv
    users = {}
    for f in files or default_files():
        for w in set(file_words(f)):
            users.setdefault(w, []).append(os.path.relpath(f, ROOT))
    levels = level_packages()
    missing = 0
    for w in sorted(users):
        if not is_program(w, users[w]):
            continue
        pkg = package(w)
        by = provider(pkg, levels)
        if not by:
            missing = 1
            by = "MISSING" + ("" if pkg else " (no package)")
        elif by == "minimal Debian" and not verbose:
            continue
        print(("%-14s %-26s %-36s %s" % (w, pkg or "?", by, " ".join(users[w])))[:160])
    return missing


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
