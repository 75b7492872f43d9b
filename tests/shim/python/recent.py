# recent.py - a loop that takes turns through more Python contexts than
# the thread's recent splices held before (for test_python_recent.sh):
# CALLERS functions, each its own code object, call one leaf that makes a
# bytearray (an object and its buffer: two native stacks under the leaf's
# line), so a round asks 2 x CALLERS contexts (a native stack's name and
# the frames above the innermost), each once, in the same order.
# argv: CALLERS ROUNDS.
import sys

callers_n, rounds = int(sys.argv[1]), int(sys.argv[2])
src = "".join("def c%d(k):\n    return leaf(k)\n" % i for i in range(callers_n))


def leaf(k):
    return bytearray(64 + k % 2)


ns = {"leaf": leaf}
exec(compile(src, "recent_gen.py", "exec"), ns)
callers = [ns["c%d" % i] for i in range(callers_n)]
keep = []
for r in range(rounds):
    for c in callers:
        keep.append(c(r))
    del keep[:]
