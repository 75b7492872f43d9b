#!/usr/bin/env python3
"""tests/report/model/jsonnorm.py - reads a heapsnap JSON document on stdin with
Python's strict json module (any syntax error, NaN or duplicate key fails
with exit 1) and prints it with the fields that change from run to run
(snapshot paths, pids, times, executables, and any key given as an argument)
replaced by their type's name, indented one space: the form of the JSON
goldens in tests/golden/*.json."""
import json
import sys

VOLATILE = {"path", "pid", "ppid", "time_ns", "start_ns", "exe", "cmdline", "shim_bytes"}


def no_dups(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key in %r" % keys)
    return dict(pairs)


def bad_constant(name):
    raise ValueError("not JSON: %s" % name)


def scrub(v, extra):
    if isinstance(v, dict):
        return {k: ("<%s>" % type(x).__name__ if k in VOLATILE | extra else scrub(x, extra))
                for k, x in v.items()}
    if isinstance(v, list):
        return [scrub(x, extra) for x in v]
    return v


def main():
    try:
        doc = json.loads(sys.stdin.read(), object_pairs_hook=no_dups,
                         parse_constant=bad_constant)
    except ValueError as e:
        print("jsonnorm: %s" % e, file=sys.stderr)
        return 1
    json.dump(scrub(doc, set(sys.argv[1:])), sys.stdout, indent=1)
    print()
    return 0


sys.exit(main())
