/*
 * dying_tl.cc - a C++ thread_local's destructor runs after the thread's
 * start routine returned (__call_tls_dtors, before the pthread_key
 * destructors): a detached thread's thread_local holds the only pointer to
 * a 6101-byte block in its destructor's local while main runs
 * heapsnap_collect(argv[1]); prints "collect N" (0: the thread's stack was
 * scanned).  Pipes order the steps, as in dying.c.
 */
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <pthread.h>
#include <unistd.h>

extern "C" long heapsnap_collect(const char *path) __attribute__((weak));

static int to_main[2], to_thread[2];

static void say(int fd, char c)
{
    while (write(fd, &c, 1) != 1 && errno == EINTR)
        ;
}

static char hear(int fd)
{
    char c = 0;
    while (read(fd, &c, 1) != 1 && errno == EINTR)
        ;
    return c;
}

struct Holder {
    int used = 0;
    ~Holder()
    {
        void *volatile p = malloc(6101);
        say(to_main[1], 'r');
        hear(to_thread[0]);
        free((void *)p);
    }
};

static thread_local Holder holder;

static void *body(void *)
{
    holder.used = 1; /* constructs it, registers its destructor */
    return nullptr;
}

int main(int argc, char **argv)
{
    pthread_t t;
    pthread_attr_t a;
    if (!heapsnap_collect) {
        puts("no shim");
        return 0;
    }
    if (argc < 2 || pipe(to_main) || pipe(to_thread))
        return 2;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &a, body, nullptr) != 0)
        return 1;
    hear(to_main[0]);
    long n = heapsnap_collect(argv[1]);
    say(to_thread[1], 'g');
    printf("collect %ld\n", n);
    return 0;
}
