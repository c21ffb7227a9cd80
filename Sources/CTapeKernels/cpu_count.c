#define _GNU_SOURCE
#include "tapevm_kernels.h"
#include <unistd.h>
#if defined(__linux__)
#include <sched.h>
#endif

int tv_cpu_count(void) {
#if defined(__linux__)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return n;
    }
#endif
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}
