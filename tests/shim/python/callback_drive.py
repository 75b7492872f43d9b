# callback_drive.py PROGRAM MODE OUT - runs PROGRAM's run(N) (warmed first
# with run(50), the collector off), for test_python_callback_lines.sh.
# MODE tm: under tracemalloc.start(1), statistics('lineno') into OUT as
# "FILE:LINE COUNT" lines; MODE hs: heapsnap snapshots OUT.0.hsnap and
# OUT.1.hsnap around it (the shim's C API through ctypes).
import ctypes
import gc
import importlib.util
import sys
import tracemalloc

spec = importlib.util.spec_from_file_location("program", sys.argv[1])
program = importlib.util.module_from_spec(spec)
spec.loader.exec_module(program)
program.run(50)
gc.collect()
gc.disable()
if sys.argv[2] == "tm":
    tracemalloc.start(1)
    kept = program.run(program.N)
    snap = tracemalloc.take_snapshot()
    tracemalloc.stop()
    with open(sys.argv[3], "w") as out:
        for st in snap.statistics("lineno"):
            frame = st.traceback[0]
            out.write("%s:%d %d\n" % (frame.filename, frame.lineno, st.count))
else:
    take = ctypes.CDLL(None).heapsnap_take_snapshot
    take((sys.argv[3] + ".0.hsnap").encode())
    kept = program.run(program.N)
    take((sys.argv[3] + ".1.hsnap").encode())
