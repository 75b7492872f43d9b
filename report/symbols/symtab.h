/*
 * symtab.h - a module's symbol-table names, by address, through libdwfl's
 * own choice remembered per interval (symtab.c).
 */
#ifndef HEAPSNAP_SYMTAB_H
#define HEAPSNAP_SYMTAB_H

#include <elfutils/libdwfl.h>
#include <stdint.h>

struct symtab;

/* The name dwfl_module_addrinfo gives addr in dm (NULL: none), asking it
 * once per interval of addresses it answers alike; *st is dm's cache,
 * made on need (NULL at first).  Names live as long as dm's Dwfl. */
const char *symtab_name(struct symtab **st, Dwfl_Module *dm, uint64_t addr);
void symtab_free(struct symtab *st);

#endif
