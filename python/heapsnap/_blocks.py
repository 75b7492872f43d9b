"""heapsnap._blocks - a snapshot's raw traces as arrays, one per live block.

tracemalloc keeps a snapshot's traces as a list of tuples (domain, size,
traceback, total_nframe), about 120 bytes a block with the size's int;
on a real heap (numpy and pandas imported: 200,000 blocks) that list is
most of the snapshot's peak.  Here a block is its size (8 bytes), its
row (4) and, when some block has one, its tracemalloc domain (4); a row is
one trace: its frames (most recent first, a tuple shared by every row
with the same ones; None for a row whose blocks were left out), its
total_nframe and its key (what Trace.native is
made from: a trace id in the process, a stack's number in a loaded
.hsnap), shared by the trace's blocks.  A block's raw trace (domain,
size, frames, total_nframe, count, key) is made when asked
(_snapshot.Trace reads it); statistics sum the blocks per row first
(row_sums) and filters test a row once (select).
"""

import array
import bisect
import itertools
from collections.abc import Sequence


class Blocks(Sequence):
    """The raw traces of a snapshot: blocks (sizes, rows, domains or None:
    all 0; counts or None: one block each) over rows (frames, totals,
    keys)."""
    __slots__ = ("sizes", "rows", "domains", "counts", "frames", "totals", "keys")

    def __init__(self, sizes, rows, frames, totals, keys, domains=None, counts=None):
        self.sizes, self.rows, self.domains, self.counts = sizes, rows, domains, counts
        self.frames, self.totals, self.keys = frames, totals, keys

    def __len__(self):
        return len(self.sizes)

    def _raw(self, i):
        r = self.rows[i]
        return (self.domains[i] if self.domains is not None else 0, self.sizes[i],
                self.frames[r], self.totals[r],
                self.counts[i] if self.counts is not None else 1, self.keys[r])

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self._raw(i) for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("trace index out of range")
        return self._raw(index)

    def __iter__(self):
        fr, tot, keys = self.frames, self.totals, self.keys
        doms = self.domains if self.domains is not None else itertools.repeat(0)
        counts = self.counts if self.counts is not None else itertools.repeat(1)
        for d, s, r, c in zip(doms, self.sizes, self.rows, counts):
            yield (d, s, fr[r], tot[r], c, keys[r])

    def __eq__(self, other):
        if isinstance(other, Blocks):
            return list(self) == list(other)
        return list(self) == other if isinstance(other, list) else NotImplemented

    def __hash__(self):
        return id(self)

    def used_rows(self):
        """The rows some block names, ascending."""
        seen = bytearray(len(self.frames))
        for r in self.rows:
            seen[r] = 1
        return [r for r, s in enumerate(seen) if s]

    def row_sums(self):
        """(bytes, blocks) per row: two lists, a slot a row."""
        n = len(self.frames)
        size, count = [0] * n, [0] * n
        if self.counts is None:
            for r, s in zip(self.rows, self.sizes):
                size[r] += s
                count[r] += 1
        else:
            for r, s, c in zip(self.rows, self.sizes, self.counts):
                size[r] += s
                count[r] += c
        return size, count

    def drop_one(self, key, size):
        """Takes out one block of the row whose key is key (keys ascending)
        and of this size, if there is one: the last block takes its place."""
        r = bisect.bisect_left(self.keys, key)
        if r == len(self.keys) or self.keys[r] != key:
            return
        i = -1
        try:
            while True:
                i = self.rows.index(r, i + 1)
                if self.sizes[i] == size:
                    break
        except ValueError:
            return
        for a in (self.sizes, self.rows, self.domains, self.counts):
            if a is not None:
                a[i] = a[-1]
                del a[-1]

    def select(self, match):
        """A Blocks of the blocks for which match(raw) is true, raw a raw
        trace's domain and frames (domain, None, frames; a row of frames
        None has no block);
        match is called once per row (once per row and domain when the
        blocks have domains).  The rows' tables are shared."""
        fr = self.frames
        if self.domains is None:
            ok = [f is not None and bool(match((0, None, f))) for f in fr]
            keep = list(map(ok.__getitem__, self.rows))
        else:
            memo = {}

            def one(r, d):
                k = (r, d)
                v = memo.get(k)
                if v is None:
                    v = memo[k] = bool(match((d, None, fr[r])))
                return v
            keep = list(map(one, self.rows, self.domains))
        return Blocks(array.array("Q", itertools.compress(self.sizes, keep)),
                      array.array("I", itertools.compress(self.rows, keep)),
                      fr, self.totals, self.keys,
                      None if self.domains is None else
                      array.array("I", itertools.compress(self.domains, keep)),
                      None if self.counts is None else
                      array.array("Q", itertools.compress(self.counts, keep)))


def drop_items(arrays, keep):
    """Takes out of each array (None: none) the items whose byte in keep is
    0, in place: the runs kept move down (memmove), as few and as short
    as heapsnap's own blocks among the program's are, then the tail goes."""
    runs, i, n = [], 0, len(keep)
    while i < n:
        z = keep.find(0, i)
        z = n if z < 0 else z
        if z > i:
            runs.append((i, z))
        i = z + 1
    for a in arrays:
        if a is None:
            continue
        to = 0
        with memoryview(a) as mv:
            for lo, hi in runs:
                if lo != to:
                    mv[to:to + hi - lo] = mv[lo:hi]
                to += hi - lo
        del a[to:]
