# tests/shim/snapshot/test_compress.sh - compressed snapshots (format 3, HSNAP_SEC_ZSTD):
# the shim compresses by default and not with HEAPSNAP_COMPRESS=0, every command
# reads the two alike (the leak check's sections too, on a fork and in place),
# files of formats 1 and 2 (the fuzz corpus, committed) still load, `info`
# gives the size on disk per live block, the shim's frames carry no content
# checksum, and a damaged compressed section is refused in one line that
# names it.  Damage is made by tests/shim/snapshot/zpack.c, an
# independent writer of compressed sections (its checksums right: only the
# decompression checks stand).
. tests/fixtures/lib.sh
FX_TEST=compress fx_ready sites demo || return 0
if ! ${CC:-gcc} -Ishim tests/shim/snapshot/zpack.c -o "$T/zpack" -lz -lzstd 2>"$T/cc.err" ||
   ! t_build leakcheck scripts/bench/programs/leakcheck.c 2>>"$T/cc.err" ||
   ! t_build hsnap_dump tests/shim/hsnap_dump.c -O1 -lz -lzstd 2>>"$T/cc.err"; then
  t_fail compress_tools_build "$(head -c 300 "$T/cc.err")"; return 0
fi

# scripts/bench/programs/leakcheck.c (5,000 reachable blocks, 10 leaked) by default and
# with HEAPSNAP_COMPRESS=0: the same report, the first compressed (info, and
# the independent reader), the second not.
LC="$T/leakcheck 5000 10"
fx_profile "$T/z.hsnap" $LC
HEAPSNAP_COMPRESS=0 fx_profile "$T/p.hsnap" $LC
"$HEAPSNAP" info "$T/z.hsnap" >"$T/z.info" 2>&1
"$HEAPSNAP" info "$T/p.hsnap" >"$T/p.info" 2>&1
if grep -qE '^on disk: +[0-9.]+ [KMG]?i?B, [0-9.]+ B per live block, compressed \(zstd\) from [0-9.]+ [KMG]?i?B$' "$T/z.info"; then
  t_pass compress_default_info_per_block
else
  t_fail compress_default_info_per_block "$(grep -E '^(on disk|live blocks)' "$T/z.info")"
fi
grep -qE '^on disk: +.*, [0-9.]+ B per live block, not compressed$' "$T/p.info" &&
  t_pass compress_off_plain || t_fail compress_off_plain "$(grep '^on disk' "$T/p.info")"
# a small snapshot (sites.c: 207 blocks, under 2048) is not compressed: the
# compressor would cost the process more memory than the file saves
fx_profile "$T/small.hsnap" "$FX/sites"
grep -q '^on disk: .*, not compressed$' <("$HEAPSNAP" info "$T/small.hsnap") &&
  t_pass compress_small_snapshot_plain || t_fail compress_small_snapshot_plain "$("$HEAPSNAP" info "$T/small.hsnap" 2>&1 | grep -E '^(on disk|live)')"
# format 7 when compressed (3 had no planes, 4 no shared frames in TRACES,
# 5 no packed BLOCKS, 6 no formed chunks), 2 (what readers before
# compression take) when not
v3=$(od -An -tu4 -j8 -N4 "$T/z.hsnap" | tr -d ' '); v2=$(od -An -tu4 -j8 -N4 "$T/p.hsnap" | tr -d ' ')
[ "$v3.$v2" = 7.2 ] && t_pass compress_format_versions || t_fail compress_format_versions "compressed $v3, plain $v2"
zs=$(stat -c %s "$T/z.hsnap"); ps=$(stat -c %s "$T/p.hsnap")
[ "$zs" -lt "$ps" ] && t_pass compress_smaller || t_fail compress_smaller "$zs bytes compressed, $ps plain"
"$T/hsnap_dump" "$T/z.hsnap" >"$T/z.dump" 2>&1 && "$T/hsnap_dump" "$T/p.hsnap" >"$T/p.dump" 2>&1 &&
  diff <(grep '^site' "$T/z.dump") <(grep '^site' "$T/p.dump") >/dev/null && grep -q '^site' "$T/z.dump" &&
  t_pass compress_independent_reader || t_fail compress_independent_reader "$(head -c 300 "$T/z.dump")"
# The shim's frames carry no content checksum (zsec.c: the section's crc32 is
# checked before a frame is read): every compressed section's frame header
# says so, and there is at least one.
nock=$(python3 - "$T/z.hsnap" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
off, frames, marked = 24, 0, 0
while off + 16 <= len(d):
    t, _, n = struct.unpack_from("<IIQ", d, off)
    off += 16
    if t & 0x10000:
        head = struct.unpack_from("<I", d, off + 8)[0]
        magic, fhd = struct.unpack_from("<IB", d, off + 16 + head)
        frames += magic == 0xFD2FB528
        marked += bool(fhd & 4)
    off += n
print("%d %d" % (frames, marked))
PY
)
case "$nock" in
  "0 "*|"") t_fail compress_frames_without_content_checksum "frames, with a checksum: '$nock'" ;;
  *" 0") t_pass compress_frames_without_content_checksum ;;
  *) t_fail compress_frames_without_content_checksum "frames, with a checksum: $nock" ;;
esac
for k in lineno traceback; do
  "$HEAPSNAP" top "$T/z.hsnap" --key $k >"$T/z.$k" 2>&1
  "$HEAPSNAP" top "$T/p.hsnap" --key $k >"$T/p.$k" 2>&1
  [ -s "$T/z.$k" ] && cmp -s "$T/z.$k" "$T/p.$k" && t_pass compress_round_trip_top_$k ||
    t_fail compress_round_trip_top_$k "$(diff "$T/z.$k" "$T/p.$k" | head -5 | tr '\n' ' ')"
done

# The leak check's BLOCKS, LEAKS and RETAINERS, on a fork and in place.
for fork in 1 0; do
  for c in 1 0; do
    HEAPSNAP_LEAKS=1 HEAPSNAP_LEAK_FORK=$fork HEAPSNAP_COMPRESS=$c fx_profile "$T/l$fork$c.hsnap" $LC
    "$HEAPSNAP" leaks "$T/l$fork$c.hsnap" --kinds all 2>&1 | sed 's/0x[0-9a-f]*/ADDR/g' >"$T/l$fork$c.txt"
  done
  if [ -s "$T/l${fork}1.txt" ] && cmp -s "$T/l${fork}1.txt" "$T/l${fork}0.txt" &&
     "$T/hsnap_dump" --leaks "$T/l${fork}1.hsnap" >/dev/null 2>"$T/ld.err" &&
     grep -q 'compressed (zstd)' <("$HEAPSNAP" info "$T/l${fork}1.hsnap"); then
    t_pass compress_leak_check_fork_$fork
  else
    t_fail compress_leak_check_fork_$fork "$(diff "$T/l${fork}1.txt" "$T/l${fork}0.txt" | head -4 | tr '\n' ' ') $(head -c 200 "$T/ld.err")"
  fi
done

# Files of formats 1 and 2 (committed, written before compression) still load.
bad=""
for f in minimal blocks leaks siteline real_sites real_true unknown; do
  "$HEAPSNAP" info "tests/fuzz/corpus/$f.hsnap" >"$T/old.txt" 2>&1 && grep -q 'not compressed$' "$T/old.txt" ||
    bad="$bad $f: $(head -c 120 "$T/old.txt")"
done
[ -z "$bad" ] && t_pass compress_old_files_read || t_fail compress_old_files_read "$bad"
# The fuzzer's compressed seeds (zpack's pack of blocks, leaks, siteline, its
# packed leaks, its formed leaks and blocks) load.
bad=""
for f in blocks leaks siteline packed formed formed_blocks; do
  "$HEAPSNAP" info "tests/fuzz/corpus/zstd_$f.hsnap" >"$T/seed.txt" 2>&1 &&
    grep -q 'compressed (zstd)' "$T/seed.txt" || bad="$bad $f: $(head -c 120 "$T/seed.txt")"
done
[ -z "$bad" ] && t_pass compress_fuzz_seeds_load || t_fail compress_fuzz_seeds_load "$bad"

# The independent writer's compressed files read as their plain originals,
# and so do they with BLOCKS packed (hsnap_packed.h; leaks' blocks carry the
# model's class, refcount and flags: the packing's longer form), format 6's
# chunks and 7's formed ones.  The shim's own packed BLOCKS:
# compress_independent_reader above.
for m in pack packed formed; do
  for f in blocks leaks; do
    c=; [ $m != pack ] && c=_$m
    "$T/zpack" "tests/fuzz/corpus/$f.hsnap" "$T/zp_$m$f.hsnap" $m
    "$HEAPSNAP" leaks "tests/fuzz/corpus/$f.hsnap" --kinds all >"$T/zp_$m$f.want" 2>&1
    "$HEAPSNAP" leaks "$T/zp_$m$f.hsnap" --kinds all >"$T/zp_$m$f.got" 2>&1
    "$HEAPSNAP" top "tests/fuzz/corpus/$f.hsnap" >>"$T/zp_$m$f.want" 2>&1
    "$HEAPSNAP" top "$T/zp_$m$f.hsnap" >>"$T/zp_$m$f.got" 2>&1
    sed -i 's|[^ ]*\.hsnap|FILE|g' "$T/zp_$m$f.want" "$T/zp_$m$f.got"
    cmp -s "$T/zp_$m$f.want" "$T/zp_$m$f.got" && t_pass compress_zpack${c}_reads_as_plain_$f ||
      t_fail compress_zpack${c}_reads_as_plain_$f "$(diff "$T/zp_$m$f.want" "$T/zp_$m$f.got" | head -4 | tr '\n' ' ')"
  done
done
# The shim's own BLOCKS are packed in formed chunks (flag 4 in the zstd
# head) in z.hsnap; real_kept_v6.hsnap's (format 6, committed) in the
# chunks before (flag 2).
blocks_flags() { # FILE: BLOCKS' zstd head flags, and its first chunk's form
  python3 - "$1" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
off = 24
while off + 16 <= len(d):
    t, _, n = struct.unpack_from("<IIQ", d, off)
    off += 16
    if t == 0x10005:
        print(struct.unpack_from("<I", d, off + 12)[0])
    off += n
PY
}
zflags=$(blocks_flags "$T/z.hsnap")
[ "$zflags" = 4 ] && t_pass compress_shim_blocks_packed || t_fail compress_shim_blocks_packed "BLOCKS' zstd head flags: '$zflags'"

# RETAINERS' pairs (40 bytes each: side_planes' widest run) go in planes
# (flag 1), on a fork and in place, and `leaks --why` names the same
# retainers as from them stored whole: a parser's AST of 2,000 statements
# from a hundred sites, each node kept by others.
# secplanes FILE TYPE: the section's zstd head flags and the stride of its
# planes' first chunk past a head kept as bytes ("stored": not compressed).
cat >"$T/secplanes.c" <<'EOF'
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>
int main(int argc, char **argv)
{
    FILE *f = argc == 3 ? fopen(argv[1], "rb") : NULL;
    static uint8_t d[1 << 24], out[1 << 26];
    size_t n = f ? fread(d, 1, sizeof d, f) : 0;
    uint32_t want = argc == 3 ? (uint32_t)atoi(argv[2]) : 0;
    for (size_t off = 24; off + 16 <= n;) {
        uint32_t t, head, flags, stride;
        uint64_t len;
        memcpy(&t, d + off, 4), memcpy(&len, d + off + 8, 8);
        if ((t & 0xffff) == want && !(t & 0x10000))
            return puts("stored"), 0;
        if ((t & 0xffff) == want) {
            memcpy(&head, d + off + 24, 4), memcpy(&flags, d + off + 28, 4);
            size_t got = ZSTD_decompress(out, sizeof out, d + off + 32 + head, len - 16 - head);
            if (ZSTD_isError(got) || got < 8)
                return puts("bad"), 1;
            uint32_t count, at = 0; /* past a head stored as bytes (stride 1) */
            memcpy(&stride, out, 4), memcpy(&count, out + 4, 4);
            if (stride == 1 && (size_t)8 + count + 8 <= got)
                at = 8 + count, memcpy(&stride, out + at, 4);
            return printf("%u %u\n", flags, stride), 0;
        }
        off += 16 + len;
    }
    return puts("none"), 1;
}
EOF
if t_build parser scripts/bench/programs/parser.c 2>"$T/cc.err" &&
   ${CC:-gcc} -O1 "$T/secplanes.c" -o "$T/secplanes" -lzstd 2>>"$T/cc.err"; then
  bad=""
  for fork in 1 0; do
    for c in 1 0; do
      HEAPSNAP_LEAKS=1 HEAPSNAP_LEAK_FORK=$fork HEAPSNAP_COMPRESS=$c fx_profile "$T/r$fork$c.hsnap" "$T/parser" 2000
      # the sites' lines (RETAINERS'), not the blocks' (their addresses move)
      "$HEAPSNAP" leaks --why parser.c:169 "$T/r$fork$c.hsnap" 2>&1 |
        sed '/block by block/q' >"$T/r$fork$c.why"
    done
    rf=$("$T/secplanes" "$T/r${fork}1.hsnap" 8) # RETAINERS: planes of 40-byte records
    [ "$rf" = "1 40" ] || bad="$bad fork $fork: RETAINERS' flags and first stride '$rf'"
    grep -q 'kept alive by:' "$T/r${fork}1.why" && cmp -s "$T/r${fork}1.why" "$T/r${fork}0.why" ||
      bad="$bad fork $fork: $(diff "$T/r${fork}1.why" "$T/r${fork}0.why" | head -4 | tr '\n' ' ')"
  done
  [ -z "$bad" ] && t_pass compress_retainers_in_planes || t_fail compress_retainers_in_planes "$bad"
else
  t_fail compress_retainers_in_planes "tools: $(head -c 200 "$T/cc.err")"
fi

# Format 6 and 7 snapshots of one run (scripts/bench/programs/kept.c, 2,500
# blocks from 64 stacks, under setarch -R: the same addresses), written by
# the shim before formed chunks and after, committed: every reader gives
# the same answers, the new file no bigger.
K6=tests/fuzz/corpus/real_kept_v6.hsnap K7=tests/fuzz/corpus/real_kept_v7.hsnap
kv="$(od -An -tu4 -j8 -N4 $K6 | tr -d ' ').$(blocks_flags $K6) $(od -An -tu4 -j8 -N4 $K7 | tr -d ' ').$(blocks_flags $K7)"
bad=""
[ "$kv" = "6.2 7.4" ] || bad="versions and BLOCKS' flags '$kv'"
for v in 6 7; do
  k=$(eval echo \$K$v)
  { "$HEAPSNAP" top "$k"; "$HEAPSNAP" top "$k" --key traceback --sort allocations
    "$HEAPSNAP" top "$k" --born-since 0; "$HEAPSNAP" export --format folded "$k"
    "$HEAPSNAP" info "$k" | grep -vE '^(pid|on disk):'; } >"$T/kept$v.cli" 2>&1
  "$T/hsnap_dump" "$k" >"$T/kept$v.dump" 2>&1 || bad="$bad hsnap_dump v$v: $(head -c 100 "$T/kept$v.dump")"
done
grep -q '^blocks 2502 ' "$T/kept7.dump" || bad="$bad dump: $(grep '^blocks' "$T/kept7.dump")"
[ "$(wc -l <"$T/kept7.cli")" -gt 20 ] || bad="$bad cli: $(head -c 100 "$T/kept7.cli")"
cmp -s "$T/kept6.cli" "$T/kept7.cli" || bad="$bad cli: $(diff "$T/kept6.cli" "$T/kept7.cli" | head -4 | tr '\n' ' ')"
cmp -s <(grep -v '^meta' "$T/kept6.dump") <(grep -v '^meta' "$T/kept7.dump") ||
  bad="$bad dump: $(diff "$T/kept6.dump" "$T/kept7.dump" | head -4 | tr '\n' ' ')"
"$HEAPSNAP" diff $K6 $K7 >"$T/kept.diff" 2>&1
# (kept's binary, at the path it ran from, may be gone: its frames then
# read as module+offset, and its 2,502 blocks make one line, not two)
grep -qE 'count=(1250|2502) \(\+0\)' "$T/kept.diff" && ! grep -qE '\(\+[1-9]|\(-' "$T/kept.diff" ||
  bad="$bad diff: $(head -c 200 "$T/kept.diff")"
[ "$(stat -c %s $K7)" -le "$(stat -c %s $K6)" ] || bad="$bad v7 $(stat -c %s $K7) bytes, v6 $(stat -c %s $K6)"
[ -z "$bad" ] && t_pass compress_formats_6_and_7_read_alike || t_fail compress_formats_6_and_7_read_alike "$bad"

# Damaged compressed sections: exit 2, one line, the section and the reason
# (info reads every section; top leaves BLOCKS stored: statsopt_skip).
damaged() { # MODE SECTION REASON
  "$T/zpack" "$T/p.hsnap" "$T/d_$1.hsnap" "$1"
  "$HEAPSNAP" info "$T/d_$1.hsnap" >"$T/d_$1.out" 2>&1; local rc=$?
  if [ "$rc" = 2 ] && [ "$(wc -l <"$T/d_$1.out")" = 1 ] && grep -qF "section $2: $3" "$T/d_$1.out"; then
    t_pass compress_damaged_$1_refused
  else
    t_fail compress_damaged_$1_refused "exit $rc: $(head -c 300 "$T/d_$1.out")"
  fi
}
damaged flip TRACES 'damaged compressed data (zstd: '
damaged more TRACES 'its zstd frame holds'
damaged less TRACES 'its zstd frame holds'
damaged trail TRACES '3 bytes after its zstd frame'
damaged cut TRACES 'damaged zstd frame'
damaged head TRACES 'bad compressed head'
damaged nosize BLOCKS 'its zstd frame holds more than the'
damaged huge BLOCKS 'declares ' # refused by the reader's budget (test_bombs), before the frame
damaged v2 MODULES 'compressed in a format 2 file'
damaged packbad BLOCKS 'its packed records hold 0 bytes and a bad chunk'
damaged formbad BLOCKS 'its packed records hold 0 bytes and a bad chunk'

# merge writes its snapshot compressed too, and reads compressed inputs.
"$HEAPSNAP" merge "$T/z.hsnap" "$T/z.hsnap" -o "$T/mz.hsnap" >"$T/m.err" 2>&1 &&
  "$HEAPSNAP" merge "$T/p.hsnap" "$T/p.hsnap" -o "$T/mp.hsnap" >>"$T/m.err" 2>&1 &&
  "$HEAPSNAP" top "$T/mz.hsnap" >"$T/mz.top" 2>&1 && "$HEAPSNAP" top "$T/mp.hsnap" >"$T/mp.top" 2>&1 &&
  cmp -s "$T/mz.top" "$T/mp.top" && grep -q 'compressed (zstd)' <("$HEAPSNAP" info "$T/mp.hsnap") &&
  t_pass compress_merge_output || t_fail compress_merge_output "$(head -c 200 "$T/m.err") $(grep '^on disk' <("$HEAPSNAP" info "$T/mp.hsnap"))"
