# fewblocks.py - a program whose end holds few blocks but whose run made
# thousands of allocation stacks (each exec'd function its own), for
# test_python_exit.sh: its snapshot is compressed by its size.
for i in range(3000):
    exec("def f():\n    return bytearray(10)\nf()\n" + "\n" * i, {})
