#!/usr/bin/env python3
"""symcites.py - the symbols and test names that comments cite, checked to exist.

Usage: scripts/symcites.py [FILE...]   (default: every file git tracks)
Run from the repository's root.

The house rules ask comments to cite symbols and test names rather than
paths (scripts/citations.py keeps the paths honest); this keeps the
symbols honest.  A citation is a snake_case name in a comment (the
comments citations.py reads: C, assembly, JavaScript, shell, Python,
Makefile) whose first word is one of the tree's own prefixes: the part
before the first "_" of at least four distinct names in the tree's code
("pyg_", "state_", "tbl_").  It must be a name the code still has: an
identifier outside comments in any tracked file (strings count: the
injector's labels live in assembly strings), a test file's base name, or
a test case a shell test prints (t_pass NAME, with ${...} as a wildcard).
Names of other projects that share a prefix (CPython's fields, glibc's,
libdw's) are in FOREIGN below, each group with its owner.  Prints each
stale citation as FILE:LINE: NAME; exits 1 when there is one, else 0.
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import citations  # noqa: E402  (its comment readers: one definition of "a comment")

FOREIGN = {
    # CPython's fields, functions and methods
    "ob_refcnt", "ob_hash", "ob_shash", "dk_size", "dk_refcnt", "dk_lookup", "dk_usable",
    "lv_tag", "gc_next", "tp_traverse", "frame_obj", "co_lines", "new_keys_object",
    "tracemalloc_start", "raw_malloc", "long_state", "dict_traverse",
    # glibc, the kernel and the C and C++ languages
    "heap_info", "last_remainder", "exit_group", "uc_sigmask", "pthread_key",
    "rt_sigreturn", "rt_sigreturns", "rt_sigprocmask",
    "pthread_unwind_buf", "thread_local", "bad_alloc", "read_ahead_kb",
    # DWARF's call frame instructions and libdw's parameters
    "set_loc", "same_value", "dwarf_cfi_addrframe", "add_p_vaddr",
    # other programs: LeakSanitizer's flags and tests, numpy, nginx, Rust,
    # massif's format, pprof's, pytest-memray
    "use_registers_extra", "exit_atexit_stale_stack", "add_docstring",
    "ngx_init_setproctitle", "ngx_init_signals", "to_owned", "time_unit", "is_folded",
    "parse_memory_string",
    # names a test or fixture makes, and a document's shape
    "rs_rc_cycle", "leak_4999", "first_address", "is_a_plt_stub",
}
IDENT = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\b")
CITED = re.compile(r"(?<![\w./$@-])([a-z][a-z0-9]*_[a-z0-9_]*[a-z0-9])(?![\w/$-]|\.\w)")
CASE = re.compile(r"\bt_(?:pass|fail|skip)\s+\"?([A-Za-z0-9_${}]+)")


def known(files):
    """The names the code has, and the test cases' patterns."""
    names, cases = set(), []
    for f in files:
        try:
            text = open(f, encoding="utf-8").read()
        except (UnicodeDecodeError, OSError):
            continue
        if os.path.basename(f).startswith("test_"):
            names.add(os.path.splitext(os.path.basename(f))[0])
        code = text
        for _, piece in citations.pieces(f, text):
            code = code.replace(piece, " ")
        names.update(IDENT.findall(code))
        if f.endswith(".sh"):
            for m in CASE.finditer(code):
                if len(re.sub(r"\$\{[^}]*\}|\$\w+", "", m.group(1))) < 6:
                    continue  # "$name": a case named elsewhere, no pattern
                pat = re.sub(r"\\\$\\\{[^}]*\\\}|\\\$\w+", ".+", re.escape(m.group(1)))
                # "case_$tag" is cited as "case" too: the case on every interpreter
                cases.append(re.compile(re.sub(r"_\.\+$", "(_.+)?", pat) + "$"))
    return names, cases


def main(argv):
    files = subprocess.run(["git", "ls-files"], capture_output=True, text=True,
                           check=True).stdout.split()
    files = [f for f in files if not f.startswith("tests/golden/") and os.path.isfile(f)]
    names, cases = known(files)
    count = {}
    for n in names:
        if re.fullmatch(r"[a-z][a-z0-9]*_[a-z0-9_]+", n):
            count[n.split("_")[0]] = count.get(n.split("_")[0], 0) + 1
    prefixes = {p for p, c in count.items() if c >= 4 and len(p) >= 2}
    stale = 0
    for f in argv[1:] or files:
        if f.endswith(".md") or not os.path.isfile(f):
            continue
        try:
            text = open(f, encoding="utf-8").read()
        except UnicodeDecodeError:
            continue
        for start, piece in citations.pieces(f, text):
            for m in CITED.finditer(piece):
                name = m.group(1)
                if (name.split("_")[0] not in prefixes or name in names or name in FOREIGN
                        or any(c.match(name) for c in cases)):
                    continue
                stale += 1
                print(f"{f}:{start + piece.count(chr(10), 0, m.start())}: {name}")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
