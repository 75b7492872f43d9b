/*
 * unwritten.c - a library (no extension: loaded with ctypes) whose static
 * data is 8 MiB of zeros the program never writes, unwritten_zeros (its
 * .bss, page-aligned), and one pointer it does write, unwritten_held,
 * which holds a Python object alone: the roots' scan
 * (test_python_roots_unwritten) must name that object "static data of
 * libunwritten.so (unwritten_held)" and leave the zeros' pages untouched.
 */
#include <stddef.h>

char unwritten_zeros[8u << 20] __attribute__((aligned(4096)));
size_t unwritten_size = sizeof unwritten_zeros;
void *unwritten_held = &unwritten_size; /* in .data, apart from the zeros */
