/*
 * mhdload.c - libmicrohttpd loaded when `heapsnap serve` starts its HTTP
 * server, not when any heapsnap command starts: linked, it brought GnuTLS
 * and its nine libraries (nettle, gmp, p11-kit, ...) into every command's
 * start, `heapsnap run` included, whose cost is read against the program's
 * own.  mhd_load dlopens it and finds the functions httpd.c calls; the
 * functions here, under libmicrohttpd's own names and prototypes, call
 * them (httpd.c calls them only after mhd_load succeeded).
 */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>

#include "mhdload.h"

#define MHD_SONAME "libmicrohttpd.so.12" /* the ABI of the header built against */

static struct {
    enum MHD_Result (*add_response_header)(struct MHD_Response *, const char *, const char *);
    struct MHD_Response *(*create_response_from_buffer)(size_t, void *,
                                                        enum MHD_ResponseMemoryMode);
    void (*destroy_response)(struct MHD_Response *);
    const union MHD_ConnectionInfo *(*get_connection_info)(struct MHD_Connection *,
                                                           enum MHD_ConnectionInfoType, ...);
    const union MHD_DaemonInfo *(*get_daemon_info)(struct MHD_Daemon *,
                                                   enum MHD_DaemonInfoType, ...);
    enum MHD_Result (*get_timeout)(struct MHD_Daemon *, MHD_UNSIGNED_LONG_LONG *);
    const char *(*lookup_connection_value)(struct MHD_Connection *, enum MHD_ValueKind,
                                           const char *);
    enum MHD_Result (*lookup_connection_value_n)(struct MHD_Connection *, enum MHD_ValueKind,
                                                 const char *, size_t, const char **, size_t *);
    enum MHD_Result (*queue_response)(struct MHD_Connection *, unsigned int,
                                      struct MHD_Response *);
    void (*resume_connection)(struct MHD_Connection *);
    enum MHD_Result (*run)(struct MHD_Daemon *);
    struct MHD_Daemon *(*start_daemon_va)(unsigned int, uint16_t, MHD_AcceptPolicyCallback,
                                          void *, MHD_AccessHandlerCallback, void *, va_list);
    void (*stop_daemon)(struct MHD_Daemon *);
    void (*suspend_connection)(struct MHD_Connection *);
} mhd;

int mhd_load(char *err, size_t errlen)
{
#define MHD_FN(f) {"MHD_" #f, (void **)&mhd.f}
    const struct {
        const char *name;
        void **slot; /* dlsym's object pointer stored as POSIX has it */
    } fns[] = {MHD_FN(add_response_header), MHD_FN(create_response_from_buffer),
               MHD_FN(destroy_response), MHD_FN(get_connection_info), MHD_FN(get_daemon_info),
               MHD_FN(get_timeout),
               MHD_FN(lookup_connection_value), MHD_FN(lookup_connection_value_n),
               MHD_FN(queue_response), MHD_FN(resume_connection), MHD_FN(run),
               MHD_FN(start_daemon_va), MHD_FN(stop_daemon), MHD_FN(suspend_connection)};
#undef MHD_FN
    if (mhd.run)
        return 0;
    void *lib = dlopen(MHD_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(err, errlen, "serve: the HTTP server's library did not load: %s", dlerror());
        return -1;
    }
    for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
        if (!(*fns[i].slot = dlsym(lib, fns[i].name))) {
            snprintf(err, errlen, "serve: %s has no %s", MHD_SONAME, fns[i].name);
            for (size_t k = 0; k < i; k++)
                *fns[k].slot = NULL;
            dlclose(lib);
            return -1;
        }
    return 0;
}

enum MHD_Result MHD_add_response_header(struct MHD_Response *r, const char *h, const char *c)
{
    return mhd.add_response_header(r, h, c);
}

struct MHD_Response *MHD_create_response_from_buffer(size_t n, void *b,
                                                     enum MHD_ResponseMemoryMode m)
{
    return mhd.create_response_from_buffer(n, b, m);
}

void MHD_destroy_response(struct MHD_Response *r)
{
    mhd.destroy_response(r);
}

/* httpd_run asks only for kinds that take no argument (its descriptor, its
 * socket context) */
const union MHD_ConnectionInfo *MHD_get_connection_info(struct MHD_Connection *c,
                                                        enum MHD_ConnectionInfoType t, ...)
{
    return mhd.get_connection_info(c, t);
}

/* httpd_run asks only for kinds that take no argument (the epoll fd) */
const union MHD_DaemonInfo *MHD_get_daemon_info(struct MHD_Daemon *d,
                                                enum MHD_DaemonInfoType t, ...)
{
    return mhd.get_daemon_info(d, t);
}

enum MHD_Result MHD_get_timeout(struct MHD_Daemon *d, MHD_UNSIGNED_LONG_LONG *t)
{
    return mhd.get_timeout(d, t);
}

const char *MHD_lookup_connection_value(struct MHD_Connection *c, enum MHD_ValueKind k,
                                        const char *key)
{
    return mhd.lookup_connection_value(c, k, key);
}

enum MHD_Result MHD_lookup_connection_value_n(struct MHD_Connection *c, enum MHD_ValueKind k,
                                              const char *key, size_t kn, const char **v,
                                              size_t *vn)
{
    return mhd.lookup_connection_value_n(c, k, key, kn, v, vn);
}

enum MHD_Result MHD_queue_response(struct MHD_Connection *c, unsigned int s,
                                   struct MHD_Response *r)
{
    return mhd.queue_response(c, s, r);
}

void MHD_resume_connection(struct MHD_Connection *c)
{
    mhd.resume_connection(c);
}

enum MHD_Result MHD_run(struct MHD_Daemon *d)
{
    return mhd.run(d);
}

struct MHD_Daemon *MHD_start_daemon(unsigned int flags, uint16_t port,
                                    MHD_AcceptPolicyCallback apc, void *apc_cls,
                                    MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
    va_list ap;
    va_start(ap, dh_cls);
    struct MHD_Daemon *d = mhd.start_daemon_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
    va_end(ap);
    return d;
}

void MHD_stop_daemon(struct MHD_Daemon *d)
{
    mhd.stop_daemon(d);
}

void MHD_suspend_connection(struct MHD_Connection *c)
{
    mhd.suspend_connection(c);
}
