// link: shim/python/frames/pyverify.c shim/base/peek.c
/*
 * test_pyverify.c - pyfr_layout_verify on synthetic thread states laid out
 * as 3.13 lays them: a chain of frames with an entry frame owned by the
 * C stack between them passes, so does a thread with no frame yet; a
 * frame whose code is no code object, a layout whose code offset is
 * wrong, a frame chain into unmapped memory and an owner no version has
 * each fail (the shim then gives native frames only, never a walk).
 */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "pyframes.h"
#include "unit.h"

const struct pylay_layout *pylay_lay;
struct pylay_syms pylay_sym;

static const struct pylay_layout lay313 = {
    .version = 0x030d0000, .name = "3.13", .frames = PY_FRAMES_OWNER, .cstack = 3,
    .ob_type = 8, .ts_cframe = 0, .cf_current = 72,
    .fr_code = 0, .fr_previous = 8, .fr_instr = 56, .fr_entry = 70,
    .co_filename = 112,
};

static uint8_t *mem;
static uintptr_t code_type, str_type;

static void put(uintptr_t at, uintptr_t v)
{
    memcpy((void *)at, &v, sizeof v);
}

/* A frame at fr: code co (0: none), the previous frame, its owner. */
static void frame(uintptr_t fr, uintptr_t co, uintptr_t prev, uint8_t owner)
{
    put(fr, co);
    put(fr + 8, prev);
    ((uint8_t *)fr)[70] = owner;
}

/* ts at mem, three frames: f1 (thread) -> entry (C stack) -> f2 (thread). */
static uintptr_t setup(void)
{
    uintptr_t b = (uintptr_t)mem, ts = b, f1 = b + 256, entry = b + 384, f2 = b + 512;
    uintptr_t co = b + 1024, file = b + 1536;
    memset(mem, 0, 8192);
    code_type = b + 4096, str_type = b + 4096 + 512;
    pylay_sym.code_type = code_type, pylay_sym.str_type = str_type;
    put(file + 8, str_type);
    put(co + 8, code_type);
    put(co + 112, file);
    frame(f1, co | 1, entry, 0); /* a tagged _PyStackRef, as 3.14's */
    frame(entry, 0, f2, 3);
    frame(f2, co, 0, 0);
    put(ts + 72, f1);
    pylay_lay = &lay313;
    return ts;
}

TEST_BEGIN(verify_frames_that_read_as_the_layout_says)
{
    uintptr_t ts = setup();
    expect_eq_u64(pyfr_layout_verify((const char *)ts), 0);
}
TEST_END

TEST_BEGIN(verify_a_thread_without_frames_passes)
{
    uintptr_t ts = setup();
    put(ts + 72, 0);
    expect_eq_u64(pyfr_layout_verify((const char *)ts), 0);
}
TEST_END

TEST_BEGIN(verify_a_code_that_is_no_code_object_fails)
{
    uintptr_t ts = setup();
    put((uintptr_t)mem + 1024 + 8, str_type);
    expect_eq_u64(pyfr_layout_verify((const char *)ts), (uint64_t)-1);
}
TEST_END

TEST_BEGIN(verify_a_wrong_code_offset_fails)
{
    uintptr_t ts = setup();
    static struct pylay_layout moved;
    moved = lay313;
    moved.fr_code = 16; /* a point release moved it: the word there is no code */
    pylay_lay = &moved;
    expect_eq_u64(pyfr_layout_verify((const char *)ts), (uint64_t)-1);
}
TEST_END

TEST_BEGIN(verify_a_chain_into_unmapped_memory_fails)
{
    uintptr_t ts = setup();
    put((uintptr_t)mem + 512 + 8, 0xdead0000); /* f2's previous */
    expect_eq_u64(pyfr_layout_verify((const char *)ts), (uint64_t)-1);
}
TEST_END

TEST_BEGIN(verify_an_owner_no_version_has_fails)
{
    uintptr_t ts = setup();
    mem[384 + 70] = 9;
    expect_eq_u64(pyfr_layout_verify((const char *)ts), (uint64_t)-1);
}
TEST_END

int main(void)
{
    mem = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    verify_frames_that_read_as_the_layout_says();
    verify_a_thread_without_frames_passes();
    verify_a_code_that_is_no_code_object_fails();
    verify_a_wrong_code_offset_fails();
    verify_a_chain_into_unmapped_memory_fails();
    verify_an_owner_no_version_has_fails();
    return 0;
}
