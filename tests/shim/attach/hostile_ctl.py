#!/usr/bin/env python3
"""hostile_ctl.py - a socket someone else planted where a process's control
socket goes (tests/shim/attach/test_attach_ctl_dir.sh): it listens at PATH,
prints "listening" and answers any request with lines full of terminal
escapes, as a hostile user's process would, until killed."""
import os
import socket
import sys

path = sys.argv[1]
try:
    os.unlink(path)
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX)
s.bind(path)
os.chmod(path, 0o777)
s.listen(4)
print("listening", flush=True)
while True:
    c, _ = s.accept()
    c.recv(64)
    c.sendall(b"wrote /x\x1b]0;pwned\x07\nmore 1\x1b[5m\nerror \x1b[2Jgone\nok\n")
    c.close()
