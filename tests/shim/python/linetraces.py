# linetraces.py - bytearrays made by calls at instructions of their own,
# for test_python_line_traces.sh: `one` makes 40 on one line (40 call
# instructions, one line), `single` one on that line, `lines` 40 on 40
# lines.  The source is compiled here so that the three differ only there.
import sys

mode = sys.argv[1]
calls = ["bytearray(%d)" % (100 + i) for i in range(1 if mode == "single" else 40)]
if mode == "lines":
    src = "keep = [\n" + ",\n".join(calls) + "]\n"
else:
    src = "keep = [" + ", ".join(calls) + "]\n"
exec(compile(src, "linetraces-made", "exec"))
