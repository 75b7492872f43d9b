/* unwind_cxx_main.c - built WITHOUT frame pointers; drives unwind_cxx.cc. */
int cxx_run(int rounds);

int main(void)
{
    return cxx_run(60) == 20 ? 0 : 1;
}
