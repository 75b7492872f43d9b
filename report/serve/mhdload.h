/*
 * mhdload.h - libmicrohttpd, loaded by `heapsnap serve` alone (mhdload.c).
 * mhd_load: 0 when the library and every function httpd.c calls were
 * found (then libmicrohttpd's functions may be called), else -1 with why
 * in err.
 */
#ifndef HEAPSNAP_MHDLOAD_H
#define HEAPSNAP_MHDLOAD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <microhttpd.h>

int mhd_load(char *err, size_t errlen);

#endif
