/* hiddenlib.c - a library that starts threads as jemalloc starts its
 * background ones: through the pthread_create dlsym(RTLD_NEXT) finds from
 * a library loaded after the shim (libc's, past the shim's hook). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>

int hidden_create(pthread_t *t, void *(*fn)(void *), void *arg)
{
    int (*create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *) =
        (int (*)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *))dlsym(RTLD_NEXT, "pthread_create");
    return create ? create(t, NULL, fn, arg) : -1;
}
