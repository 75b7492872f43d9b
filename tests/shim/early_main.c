/* early_main.c - linked with early_lib.c; allocates nothing itself. */
extern void *early_keep;

int main(void)
{
    return early_keep ? 0 : 1;
}
