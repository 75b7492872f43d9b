# snapblocks_made.py - the blocks snapblocks.py's snapshots hold: imported
# after heapsnap.start(), so every block made at these lines is since
# start() (in the process's snapshot and in the .hsnap alike).
strs = [str(i) * 3 for i in range(20000)]
dicts = {i: [i] for i in range(5000)}


def made(n):
    return [bytearray(100 + i % 7) for i in range(n)]


some = made(3000)
half = [some[i] for i in range(0, 3000, 2)]
del some
