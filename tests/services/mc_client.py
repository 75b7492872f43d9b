#!/usr/bin/env python3
"""mc_client.py - a small client of memcached's text protocol for
tests/services/test_memcached.sh (no memcached client in Debian 12 sends a
fixed command list and prints the raw replies; memtier_benchmark is not
packaged there).

  mc_client.py replies PORT   sends a fixed command sequence, prints every reply
                              byte for byte (CAS values included: they are the
                              same on any fresh server given the same commands)
  mc_client.py stat PORT NAME prints one counter of `stats` (e.g. cmd_get)

Every read has a 20 s timeout; a reply is read up to its known terminator.
"""
import socket
import sys

BIG = b"v" * 100000  # lands in its own slab class: one more 1 MiB page


def sequence():
    """(command bytes, reply terminator) pairs: 'line' is one line,
    'end' ends with END, a storage command carries its data block."""
    def store(verb, key, value, flags=0, exp=0, extra=b""):
        head = b"%s %s %d %d %d%s\r\n" % (verb, key, flags, exp, len(value), extra)
        return (head + value + b"\r\n", "line")

    seq = [(b"version\r\n", "line")]
    seq.append(store(b"set", b"k1", b"hello"))
    seq.append((b"get k1\r\n", "end"))
    seq.append(store(b"append", b"k1", b" world"))
    seq.append(store(b"prepend", b"k1", b">> "))
    seq.append((b"gets k1\r\n", "end"))
    seq.append(store(b"add", b"k1", b"nope"))
    seq.append(store(b"replace", b"k1", b"again", flags=42))
    seq.append(store(b"set", b"n", b"10"))
    seq.append((b"incr n 5\r\n", "line"))
    seq.append((b"decr n 20\r\n", "line"))
    seq.append((b"incr missing 1\r\n", "line"))
    for i in range(200):
        seq.append(store(b"set", b"key:%d" % i, b"value-%d-" % i * (i % 7 + 1), flags=i))
    seq.append((b"get " + b" ".join(b"key:%d" % i for i in range(0, 200, 7)) + b"\r\n", "end"))
    seq.append(store(b"set", b"big", BIG))
    seq.append((b"get big\r\n", "end"))
    seq.append((b"gets n k1 big\r\n", "end"))
    seq.append(store(b"cas", b"n", b"99", extra=b" 1"))
    seq.append((b"delete key:3\r\n", "line"))
    seq.append((b"delete key:3\r\n", "line"))
    seq.append((b"touch k1 100\r\n", "line"))
    seq.append((b"get key:3 key:4\r\n", "end"))
    return seq


def read_reply(sock, buf, kind):
    """Reads one reply of KIND from sock (buf: bytes already read); returns
    (reply, rest)."""
    while True:
        if kind == "line":
            i = buf.find(b"\r\n")
            if i >= 0:
                return buf[:i + 2], buf[i + 2:]
        else:
            i = buf.find(b"END\r\n")
            if i >= 0 and (i == 0 or buf[i - 2:i] == b"\r\n"):
                return buf[:i + 5], buf[i + 5:]
        chunk = sock.recv(65536)
        if not chunk:
            raise SystemExit("mc_client: connection closed")
        buf += chunk


def connect(port):
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=20)
    s.settimeout(20)
    return s


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "replies":
        s, buf, out = connect(sys.argv[2]), b"", sys.stdout.buffer
        for cmd, kind in sequence():
            s.sendall(cmd)
            reply, buf = read_reply(s, buf, kind)
            out.write(reply)
        return 0
    if len(sys.argv) == 4 and sys.argv[1] == "stat":
        s = connect(sys.argv[2])
        s.sendall(b"stats\r\n")
        reply, _ = read_reply(s, b"", "end")
        for line in reply.decode().splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] == sys.argv[3]:
                print(parts[2])
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
