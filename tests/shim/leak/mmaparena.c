/*
 * mmaparena.c - blocks whose only pointers sit in memory the program
 * mapped itself: 10 malloc'd blocks of 1,000 bytes pointed to from an
 * anonymous mmap'd arena, 3 of 500 from a System V shared segment
 * (shmat), and 1 of 77 lost (its pointer overwritten).  valgrind
 * --leak-check=full: definitely lost 77 bytes in 1 blocks; still
 * reachable 11,500 bytes in 13 blocks (the arena and the segment are
 * roots for memcheck).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>

int main(void)
{
    void **arena = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (int i = 0; i < 10; i++)
        arena[100 + i * 7] = memset(malloc(1000), 1, 1000);
    int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    void **seg = id >= 0 ? shmat(id, NULL, 0) : NULL;
    if (id >= 0)
        shmctl(id, IPC_RMID, NULL); /* gone with the last detach */
    for (int i = 0; seg && seg != (void *)-1 && i < 3; i++)
        seg[i * 3] = memset(malloc(500), 2, 500);
    void *volatile lost = malloc(77);
    lost = NULL;
    return 0;
}
