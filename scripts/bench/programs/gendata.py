# gendata.py - the inputs of the bench's workloads that read a file made
# for them (issue 68's LeakSanitizer set): jq's JSON document and gcc's
# generated C source.  Both come from a fixed linear congruential
# generator, so every run of the bench reads the same bytes, and the
# workloads' "checksum" lines (jqwork.jq's; the source's top-level asm,
# which `gcc -S -o -` copies to its output) are the same on every run.
#
# Usage: python3 gendata.py json PATH MB     about MB megabytes of records
#        python3 gendata.py csrc PATH N      N functions of loops, switches
#                                            and array arithmetic
import sys


def lcg(x):
    return (x * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF


def write_json(path, mb):
    """An array of records, each with nested objects, arrays and strings,
    until the file holds MB megabytes."""
    x, n, size = 12345, 0, 0
    with open(path, "w") as f:
        f.write("[")
        while size < mb * 1000000:
            x = lcg(x)
            rec = ('{"id":%d,"grp":"g%d","name":"name-%d-%s","val":%d,"tags":["t%d","t%d","t%d"],'
                   '"pos":{"x":%d,"y":%d,"ok":%s},"hist":[%d,%d,%d,%d]}'
                   % (n, x % 997, x % 50000, "abcdefghijklmnop"[: 1 + x % 16], x % 100000,
                      x % 31, (x >> 8) % 31, (x >> 16) % 31, (x >> 20) % 1000, (x >> 30) % 1000,
                      "true" if x & 1 else "false", x % 7, (x >> 3) % 11, (x >> 6) % 13, (x >> 9) % 17))
            f.write(("," if n else "") + rec)
            size += len(rec) + 1
            n += 1
        f.write("]\n")


def write_csrc(path, n):
    """N functions, each a few loops over arrays with a switch inside, and
    a top-level asm line "checksum = N": gcc -S copies it to its output."""
    x = 777
    out = ["#include <string.h>", ""]
    for i in range(n):
        x = lcg(x)
        k = 3 + x % 5
        cases = "\n".join("      case %d: acc += a[j] * %d - b[(j + %d) %% 64]; break;"
                          % (c, 1 + (x >> c) % 9, c) for c in range(k + 4))
        out.append("""\
long fn%d(const long *in, int n, long seed)
{
  long a[64], b[64], acc = seed;
  memset(b, 0, sizeof b);
  for (int j = 0; j < 64; j++)
    a[j] = in[j %% (n ? n : 1)] * %d + j;
  for (int r = 0; r < n; r++) {
    for (int j = 0; j < 64; j++) {
      switch ((a[j] + r) %% %d) {
%s
      default: acc ^= a[j] << (j %% 7); break;
      }
      b[j] += acc & 0xff;
    }
    if (acc > %d) acc = acc %% %d + fn%d(b, r %% 5, acc >> 3);
  }
  return acc;
}
""" % (i, 1 + x % 13, k + 5, cases, 100000 + x % 1000, 9973 + x % 100, max(i - 1, 0)))
    out.append('__asm__("\\nchecksum = %d\\n");' % n)
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main(argv):
    if len(argv) != 4 or argv[1] not in ("json", "csrc") or not argv[3].isdigit():
        sys.stderr.write("usage: gendata.py json PATH MB | csrc PATH N\n")
        return 2
    (write_json if argv[1] == "json" else write_csrc)(argv[2], int(argv[3]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
