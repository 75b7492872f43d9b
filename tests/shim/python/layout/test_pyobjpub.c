// link: shim/python/layout/layout.c
/*
 * test_pyobjpub.c - pylay_obj_layout_publish on a synthetic _Py_DebugOffsets
 * of 3.14's shape: the fields the interpreter publishes (its threads and
 * modules, a frame's locals and their names, a tuple's items) are the
 * row's: 1, and pylay_obj_layout_find gives them; one that differs is the
 * interpreter's: 0; no cookie, another version, a shape without those
 * fields (3.13) or an offset out of range leave the row as it is: -1.
 */
#include <stdint.h>
#include <string.h>

#include "pylayout.h"
#include "unit.h"

static uint64_t d[128]; /* the struct's head, a word a field */

static void put(uint16_t at, uint64_t v)
{
    memcpy((char *)d + at, &v, sizeof v);
}

/* 3.14's _Py_DebugOffsets with the row's values. */
static void fake(uint32_t version)
{
    const struct pylay_debug_format *f = pylay_debug_format_find(0x030e0000u);
    memset(d, 0, sizeof d);
    memcpy(d, "xdebugpy", 8);
    put(8, version);
    put(f->interp_threads, 7344);
    put(f->interp_modules, 7688);
    put(f->fr_localsplus, 80);
    put(f->co_localsplusnames, 96);
    put(f->tuple_ob_item, 32);
}

TEST_BEGIN(objpub_refused_leaves_the_row)
{
    const struct pylay_obj_layout *row = pylay_obj_layout_find(0x030e0000u);
    fake(0x030e0000u);
    d[0] = 0; /* no cookie */
    expect_eq_u64(pylay_obj_layout_publish(d, 0x030e0000u), (uint64_t)-1);
    fake(0x030d0000u); /* another version than the interpreter's */
    expect_eq_u64(pylay_obj_layout_publish(d, 0x030e0000u), (uint64_t)-1);
    fake(0x030d0000u); /* 3.13's shape publishes none of them */
    expect_eq_u64(pylay_obj_layout_publish(d, 0x030d0000u), (uint64_t)-1);
    fake(0x030e0000u);
    put(pylay_debug_format_find(0x030e0000u)->tuple_ob_item, 1u << 20); /* out of range */
    expect_eq_u64(pylay_obj_layout_publish(d, 0x030e0000u), (uint64_t)-1);
    fake(0x030e0000u);
    put(pylay_debug_format_find(0x030e0000u)->interp_modules, 1u << 17);
    expect_eq_u64(pylay_obj_layout_publish(d, 0x030e0000u), (uint64_t)-1);
    expect_eq_u64((uintptr_t)pylay_obj_layout_find(0x030e0000u), (uintptr_t)row);
}
TEST_END

TEST_BEGIN(objpub_the_same_as_the_row)
{
    fake(0x030e000au); /* 3.14.10: major.minor compared */
    expect_eq_u64(pylay_obj_layout_publish(d, 0x030e0000u), 1);
    const struct pylay_obj_layout *l = pylay_obj_layout_find(0x030e0000u);
    expect_eq_u64(l->tuple_items, 32);
    expect_eq_u64(l->interp_modules, 7688);
    expect_eq_u64(l->ht_qualname, 872); /* the row's own */
}
TEST_END

TEST_BEGIN(objpub_the_interpreters_own_taken)
{
    fake(0x030e0000u);
    put(pylay_debug_format_find(0x030e0000u)->fr_localsplus, 88);
    expect_eq_u64(pylay_obj_layout_publish(d, 0x030e0000u), 0);
    expect_eq_u64(pylay_obj_layout_find(0x030e0000u)->fr_localsplus, 88);
    expect_eq_u64(pylay_obj_layout_find(0x030d0000u)->fr_localsplus, 72); /* 3.13's row */
}
TEST_END

int main(void)
{
    objpub_refused_leaves_the_row();
    objpub_the_same_as_the_row();
    objpub_the_interpreters_own_taken();
    return 0;
}
