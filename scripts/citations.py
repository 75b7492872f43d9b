#!/usr/bin/env python3
"""citations.py - the files that comments and docs cite, checked to exist.

Usage: scripts/citations.py [FILE...]   (default: every file git tracks)
Run from the repository's root.

A citation is a path that starts at one of the tree's top folders
("report/base/json.c", "tests/layout/", "docs/json.md#top"), found in a
comment of a source file (C, C++, assembly, JavaScript, CSS: /* */ and //;
shell, Python, Makefile, YAML: #, and Python's docstrings), or anywhere in
a Markdown page.  It must name a file or folder git tracks, from the root
or, in shim/ and report/ and their tests, from that tree ("python/NAME.c"
in shim/ is shim/python/NAME.c).  A path with a placeholder (NAME, ROOM,
*, %p, <x>, {x}) is a pattern, not a citation, and build/ is made by make.
A bare file name ("snap.c") is not checked: examples ("file.c:12") and
other projects' files ("malloc.c") read the same.  Prints each stale
citation as FILE:LINE: PATH; exits 1 when there is one, else 0.

Files move; symbols and test names move with them.  So the house rules ask for
symbols and test names in comments, and this keeps the paths that remain
honest.
"""
import os
import re
import subprocess
import sys

TOPS = ("shim", "report", "tests", "scripts", "docs", "python", "debian", "dist")
PATH_RE = re.compile(r"(?<![\w./$~@-])((?:%s)/[\w.+/-]*)([*<{%%$]?)" % "|".join(TOPS))
CODE_C = (".c", ".h", ".cc", ".S", ".js", ".css", ".proto")
CODE_HASH = (".sh", ".py", ".yml", ".yaml", ".mk", ".river", ".service", ".toml", ".cfg")
PLACEHOLDER = re.compile(r"[*<>{}%]|\.\.\.|(?<![A-Za-z])[A-Z]{3,}(?![a-z])")


def c_comments(text):
    """(line, comment text) of each /* */ and // comment, past strings."""
    out, i, n, line = [], 0, len(text), 1
    while i < n:
        ch = text[i]
        if ch == "\n":
            line += 1
        elif ch in "\"'":
            j = i + 1
            while j < n and text[j] != ch and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            line += text.count("\n", i, j)
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j
            out.append((line, text[i:j]))
            line += text.count("\n", i, j)
            i = j + 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append((line, text[i:j]))
            i = j - 1
        i += 1
    return out


def hash_comments(text, docstrings):
    """(line, text) of each # comment (and, for Python, triple-quoted strings)."""
    out = []
    for m in re.finditer(r'"""(.*?)"""', text, re.S) if docstrings else []:
        out.append((text.count("\n", 0, m.start()) + 1, m.group(1)))
    for no, l in enumerate(text.splitlines(), 1):
        k = l.find("#")
        while k >= 0 and (l.count('"', 0, k) % 2 or l.count("'", 0, k) % 2 or
                          (k > 0 and l[k - 1] in "$({")):
            k = l.find("#", k + 1)
        if k >= 0:
            out.append((no, l[k:]))
    return out


def pieces(path, text):
    if path.endswith(".md"):
        return [(1, text)]
    base = os.path.basename(path)
    if path.endswith(CODE_C):
        return c_comments(text)
    if path.endswith(CODE_HASH) or base in ("Makefile", "rules") or base.startswith("."):
        return hash_comments(text, path.endswith(".py"))
    return []


def cited(path, text):
    """(line, path) of each citation in path's comments."""
    for start, piece in pieces(path, text):
        for m in PATH_RE.finditer(piece):
            tok = m.group(1).split("#")[0].rstrip(".,:;)'`/-")
            if m.group(2) or PLACEHOLDER.search(tok) or tok in TOPS:
                continue
            yield start + piece.count("\n", 0, m.start()), tok


def main(argv):
    files = subprocess.run(["git", "ls-files"], capture_output=True, text=True,
                           check=True).stdout.split()
    tracked = set(files)
    dirs = {os.path.dirname(f) for f in files}
    for d in list(dirs):
        while d:
            d = os.path.dirname(d)
            dirs.add(d)
    stale = 0
    for f in argv[1:] or files:
        if f.startswith("tests/golden/") or not os.path.isfile(f):
            continue
        try:
            text = open(f, encoding="utf-8").read()
        except UnicodeDecodeError:
            continue
        for line, tok in cited(f, text):
            under = [""] + [t + "/" for t in ("shim", "report")
                            if f.startswith((t + "/", "tests/" + t + "/"))]
            ok = any(u + tok in tracked or u + tok in dirs for u in under)
            if not ok:
                stale += 1
                print(f"{f}:{line}: {tok}")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
