/*
 * cuindex.h - the scope chain of an address (the DIEs that contain it,
 * innermost first), found through an index of its compilation unit that is
 * built once, on the CU's first address, instead of libdw's walk of the
 * whole unit for every address.  Only the CUs that hold a command's
 * addresses are read.  One cux_mod per module file (sym_module's registry);
 * cux_fini releases it.
 */
#ifndef REPORT_CUINDEX_H
#define REPORT_CUINDEX_H

#include <elfutils/libdw.h>

struct cux_unit;

struct cux_mod {
    struct cux_unit *units;  /* uthash by the CU DIE's address */
    unsigned indexed;        /* CUs whose top level was read */
    unsigned walked;         /* CUs read whole (an inline's origin not at the top) */
    unsigned long dies;      /* DIEs the index looked at, for all of these */
    unsigned long fast;      /* addresses answered by the index */
    unsigned long slow;      /* addresses left to libdw's own walk (a DWARF error) */
    int check;               /* ask libdw's walk too and compare (HEAPSNAP_DEBUG) */
    unsigned long differ;    /* addresses where the two chains differ */
};

/* The scope chain of pc (a CU-relative DWARF address) in the unit cu:
 * the same DIEs, in the same order, as dwarf_getscopes' innermost scope
 * followed by dwarf_getscopes_die's chain of it, the CU last.  Returns how
 * many and points *out at a malloc'd array the caller frees (0: the chain
 * failed, *out NULL); -1 when no scope holds pc, or dwarf_getscopes would
 * fail. */
int cux_scopes(struct cux_mod *m, Dwarf_Die *cu, Dwarf_Addr pc, Dwarf_Die **out);

/* The number of CUs (compile, partial and skeleton units) in dw. */
unsigned cux_count_units(Dwarf *dw);

/* Releases m's index. */
void cux_fini(struct cux_mod *m);

#endif
