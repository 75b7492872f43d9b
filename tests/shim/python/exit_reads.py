"""exit_reads.py - N globals of __main__, each a str of its own under a
name of its own, then the program ends: the exit snapshot's passes read
each name and value.  The program of test_python_exit_reads.
usage: exit_reads.py N"""
import sys

for i in range(int(sys.argv[1])):
    globals()["g%d" % i] = "v%d" % i
