#!/usr/bin/env python3
"""gotread.py - the GOT entries of the malloc family (and dlopen) in a
running process, read from /proc/PID/mem: what `heapsnap attach` rewrites
(shim/attach/got.c) and `heapsnap detach` must put back.

Each module mapped from a file (the loader, the vDSO and heapsnap's own
libraries aside, as got.c leaves them) is read from disk: its JUMP_SLOT and
GLOB_DAT relocations against those names, through its section headers; the
entry's address is the module's load address plus r_offset.  The reference
FILE keeps the entries and each module's relocations (read once).

Usage: gotread.py PID --save FILE    the entries now, as the reference
       gotread.py PID --hooked FILE  exit 0 when some entry points into the shim
       gotread.py PID --check FILE   exit 0 when none does and every entry holds
                                     FILE's value (an entry that held its own
                                     module's PLT stub and is bound since is not
                                     a difference: lazy binding)
       gotread.py PID --serve FILE   --save, then one line a request on stdin
                                     ("hooked" or "check"), each answered with
                                     "ok LINE" or "no LINE" (one start for many)
One line on stdout says what was found; exit 2 when the process cannot be read.
"""

import json
import os
import struct
import sys

NAMES = {"malloc", "free", "calloc", "realloc", "reallocarray", "posix_memalign",
         "aligned_alloc", "memalign", "valloc", "pvalloc", "malloc_usable_size", "dlopen"}
R_X86_64_GLOB_DAT, R_X86_64_JUMP_SLOT = 6, 7
SHT_RELA, PT_LOAD = 4, 1


def modules(pid):
    """{path: [first_address, [(lo, hi), ...]]} of the file-backed modules,
    and the ranges of heapsnap's libraries."""
    mods, shim = {}, []
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            parts = line.split(None, 5)
            if len(parts) < 6 or not parts[5].startswith("/"):
                continue
            path = parts[5].rstrip("\n")
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            base = os.path.basename(path)
            if base.startswith("libheapsnap"):
                shim.append((lo, hi))
                continue
            if path.endswith(" (deleted)") or base.startswith(("ld-linux", "ld64.so")):
                continue
            if path not in mods:
                if int(parts[2], 16) != 0:
                    continue  # its first mapping is the one at offset 0
                mods[path] = [lo, []]
            mods[path][1].append((lo, hi))
    return mods, shim


def relocs(path):
    """[(r_offset, name)] of the module's GOT relocations against NAMES, the
    first PT_LOAD's p_vaddr (to find the load address), and the ranges of its
    PLT sections (a lazy entry's first value); None: not ELF64."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return None
    phoff, shoff = struct.unpack_from("<QQ", data, 0x20)
    phentsize, phnum, shentsize, shnum = struct.unpack_from("<HHHH", data, 0x36)
    vaddr0 = None
    for i in range(phnum):
        p_type, _, p_offset, p_vaddr = struct.unpack_from("<IIQQ", data, phoff + i * phentsize)
        if p_type == PT_LOAD:
            vaddr0 = (p_vaddr - p_offset) & ~0xFFF
            break
    secs = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    shstrndx = struct.unpack_from("<H", data, 0x3E)[0]
    names = secs[shstrndx][4] if shstrndx < len(secs) else None
    plt = []
    for s in secs:
        if names is not None:
            n = data[names + s[0]:data.index(b"\0", names + s[0])]
            if n.startswith(b".plt"):
                plt.append((s[3], s[3] + s[5]))
    out = []
    for s in secs:
        if s[1] != SHT_RELA or s[6] >= len(secs):
            continue
        sym = secs[s[6]]
        if sym[6] >= len(secs):
            continue
        strtab = secs[sym[6]]
        for k in range(s[5] // 24):
            r_offset, r_info = struct.unpack_from("<QQ", data, s[4] + k * 24)
            if (r_info & 0xFFFFFFFF) not in (R_X86_64_GLOB_DAT, R_X86_64_JUMP_SLOT):
                continue
            st_name = struct.unpack_from("<I", data, sym[4] + (r_info >> 32) * 24)[0]
            end = data.index(b"\0", strtab[4] + st_name)
            name = data[strtab[4] + st_name:end].decode("latin-1")
            if name in NAMES:
                out.append((r_offset, name))
    return out, vaddr0 or 0, plt


def read(pid, cache):
    """{"path name offset": [value, is_a_plt_stub]}, and the shim's ranges.
    cache: {path: relocs(path)}, read once and kept in the reference file."""
    mods, shim = modules(pid)
    entries = {}
    with open(f"/proc/{pid}/mem", "rb") as mem:
        for path, (lo, _) in mods.items():
            if path not in cache:
                try:
                    cache[path] = relocs(path)
                except (OSError, struct.error, ValueError):
                    cache[path] = None
            r = cache[path]
            if not r:
                continue
            rel, vaddr0, plt = r
            base = lo - vaddr0
            for off, name in rel:
                mem.seek(base + off)
                v = struct.unpack("<Q", mem.read(8))[0]
                stub = any(base + a <= v < base + b for a, b in plt)
                entries[f"{path} {name} {off:#x}"] = [v, stub]
    return entries, shim


def judge(pid, mode, ref):
    """(status, line) of one reading: mode save, hooked or check."""
    entries, shim = read(pid, ref["modules"])
    hooked = sorted(k for k, (v, _) in entries.items() if any(a <= v < b for a, b in shim))
    if mode == "save":
        ref["entries"] = entries
        return (0 if not hooked else 1), f"got: {len(entries)} entries, {len(hooked)} into the shim"
    if mode == "hooked":
        return (0 if hooked else 1), f"got: {len(entries)} entries, {len(hooked)} into the shim"
    if mode != "check":
        return 2, f"unknown request '{mode}' (hooked or check)"
    old = ref["entries"]
    differ = sorted(k for k, (v, _) in entries.items()
                    if k in old and v != old[k][0] and not old[k][1])
    lazy = sum(1 for k, (v, _) in entries.items() if k in old and v != old[k][0] and old[k][1])
    line = (f"got: {len(entries)} entries, {len(hooked)} into the shim, {len(differ)} changed, "
            f"{lazy} bound lazily since" + (f"; first: {(hooked + differ)[0]}" if hooked or differ else ""))
    return (0 if not hooked and not differ else 1), line


def main():
    if len(sys.argv) != 4 or sys.argv[2] not in ("--save", "--hooked", "--check", "--serve"):
        print(__doc__.split("\n\n")[2], file=sys.stderr)
        return 2
    pid, mode, path = int(sys.argv[1]), sys.argv[2][2:], sys.argv[3]
    ref = {"entries": {}, "modules": {}}
    if mode in ("hooked", "check"):
        with open(path) as f:
            ref = json.load(f)
    try:
        rc, line = judge(pid, "save" if mode == "serve" else mode, ref)
        if mode in ("save", "serve"):
            with open(path, "w") as f:
                json.dump(ref, f)
        print(("ok " if rc == 0 else "no ") + line if mode == "serve" else line, flush=True)
        if mode != "serve":
            return rc
        for req in sys.stdin:
            rc, line = judge(pid, req.strip(), ref)
            print(("ok " if rc == 0 else "no ") + line, flush=True)
    except (OSError, KeyError) as e:
        print(f"gotread: process {pid}: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
