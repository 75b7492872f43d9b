#!/usr/bin/env python3
"""statemin.py - a state file (shim/hsnap_state.h) laid out again small, for
the fuzzer's seeds (tests/fuzz/mkstate.sh): the header page, the chunks of
cells the directory names (none with --no-cells), the traces and the frame
tree's nodes in use, the published document in slot 0 and an empty slot 1
as large.  What a reader takes from it is unchanged: the regions move, the
bytes in use do not.  --doc-from OLDER takes the document (and its slot's
length, time and crc) from an earlier copy of the same process's file: the
state of a kill after new traces' stacks were written and before the next
document (the reader adds those traces from the records and the cells).
--zstd stores the document's sections but META compressed (format 3), as
the shim does for a document of many traces.

--covers IN exits 0 when IN's document counts all its traces' stacks.

Usage: statemin.py [--no-cells] [--doc-from OLDER] [--zstd] IN OUT
       statemin.py --covers IN
"""

import argparse
import struct
import subprocess
import sys
import zlib

PAGE, CHUNK, DIR_MAX, NO_DOC = 4096, 4096 * 16, 960, 0xFFFFFFFF
HEAD = struct.Struct("<8sIIQIIQQQIIQQ2QQ" + "QQII" * 2 + "IIQQQQIIQQ%dI" % DIR_MAX)
NAMES = ("magic version header_size file_size pid ppid start_ns beat_ns beats state flags "
         "cells_off cells_len doc_off0 doc_off1 doc_cap d0_len d0_t d0_crc d0_res d1_len d1_t "
         "d1_crc d1_res doc_slot ndir docs stacks_off stacks_cap stacks_len stacks_n doc_fresh "
         "traces_off traces_cap").split()


def head(data):
    v = HEAD.unpack_from(data, 0)
    h = dict(zip(NAMES, v[:len(NAMES)]))
    h["dir"] = list(v[len(NAMES):])
    if h["magic"] != b"HSNAPKS\0" or h["version"] != 2:
        sys.exit("statemin: not a state file of format 2")
    return h


def doc(h, data):
    k = h["doc_slot"]
    if k not in (0, 1):
        sys.exit("statemin: no document published")
    p = "d%d_" % k
    off = h["doc_off%d" % k]
    return data[off:off + h[p + "len"]], h[p + "len"], h[p + "t"], h[p + "crc"]


def zstd_doc(doc):
    """The document with every section but META and END as one zstd frame."""
    out, at = bytearray(doc[:24]), 24
    struct.pack_into("<I", out, 8, 3)
    while at + 16 <= len(doc):
        typ, crc, n = struct.unpack_from("<IIQ", doc, at)
        p = doc[at + 16:at + 16 + n]
        at += 16 + n
        if typ not in (1, 0xFFFF):
            frame = subprocess.run(["zstd", "-q", "-1", "-c"], input=p, capture_output=True,
                                   check=True).stdout
            p = struct.pack("<QII", len(p), 0, 0) + frame
            typ |= 0x10000
        out += struct.pack("<IIQ", typ, zlib.crc32(p), len(p)) + p
    struct.pack_into("<Q", out, 16, len(out))
    return bytes(out)


def covers(path):
    """Whether the published document's STATS count is stacks_n."""
    data = open(path, "rb").read()
    h = head(data)
    if h["doc_slot"] not in (0, 1):
        return 1
    d, at = doc(h, data)[0], 24
    while at + 16 <= len(d):
        typ, _, n = struct.unpack_from("<IIQ", d, at)
        if typ == 4:
            return 0 if struct.unpack_from("<I", d, at + 16)[0] == h["stacks_n"] else 1
        at += 16 + n
    return 1


def main():
    if sys.argv[1:2] == ["--covers"]:
        return covers(sys.argv[2])
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-cells", action="store_true")
    ap.add_argument("--doc-from")
    ap.add_argument("--zstd", action="store_true")
    ap.add_argument("inp")
    ap.add_argument("out")
    o = ap.parse_args()
    data = open(o.inp, "rb").read()
    h = head(data)
    d, dlen, dt, dcrc = doc(h, data)
    if o.doc_from:
        older = open(o.doc_from, "rb").read()
        d, dlen, dt, dcrc = doc(head(older), older)
    if o.zstd:
        d = zstd_doc(d)
        dlen, dcrc = len(d), zlib.crc32(d)
    chunks, dirs = [], []
    for i in range(h["ndir"]):
        if h["dir"][i] and not o.no_cells:
            off = h["cells_off"] + i * CHUNK
            chunks.append(data[off:off + CHUNK])
            dirs.append(h["dir"][i])
    traces = data[h["traces_off"]:h["traces_off"] + h["stacks_n"] * 8]
    nodes = data[h["stacks_off"]:h["stacks_off"] + h["stacks_len"]]
    cap = (dlen + 7) & ~7
    h.update(cells_off=PAGE, cells_len=len(chunks) * CHUNK, ndir=len(dirs),
             dir=dirs + [0] * (DIR_MAX - len(dirs)))
    h["traces_off"] = PAGE + h["cells_len"]
    h["traces_cap"] = len(traces)
    h["stacks_off"] = h["traces_off"] + h["traces_cap"]
    h["stacks_cap"] = len(nodes)
    h["doc_off0"] = h["stacks_off"] + h["stacks_cap"]
    h["doc_off1"] = h["doc_off0"] + cap
    h.update(doc_cap=cap, doc_slot=0, d0_len=dlen, d0_t=dt, d0_crc=dcrc, d1_len=0, d1_t=0,
             d1_crc=0)
    h["file_size"] = h["doc_off1"] + cap
    page = bytearray(PAGE)
    HEAD.pack_into(page, 0, *([h[n] for n in NAMES] + h["dir"]))
    out = bytes(page) + b"".join(chunks) + traces + nodes + d + bytes(2 * cap - dlen)
    assert len(out) == h["file_size"]
    open(o.out, "wb").write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
