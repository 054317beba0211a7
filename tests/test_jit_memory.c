/* tests/test_jit_memory.c: compiling and releasing 10,000 distinct JIT kernels does not
 * grow the process: resident memory (/proc/self/statm) after a warm-up of 500 kernels
 * and at the end, with a generous bound on the growth. Skips when built without the JIT
 * and where /proc/self/statm does not exist. */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jit_api.h"
#include "jit_loader.h"
#include "plan.h"

enum { WARMUP = 500, KERNELS = 10000 };
#define GROWTH_LIMIT_MB 64.0

static const sj_jit_provider *P;

/* Resident bytes, or -1 when unknown. */
static double rss_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return -1;
    unsigned long size = 0, resident = 0;
    int n = fscanf(f, "%lu %lu", &size, &resident);
    fclose(f);
    return n == 2 ? (double)resident * (double)sysconf(_SC_PAGESIZE) : -1;
}

/* Distinct cheap kernels: a 3-byte copy between records whose offsets and strides come
 * from i (every i below 10,000 gives another plan). */
static void compile_run_release(unsigned i) {
    sj_move m;
    memset(&m, 0, sizeof m);
    m.kind = SJ_MOVE_COPY;
    m.len = 3;
    m.src_off = i % 50;
    m.dst_off = i / 50 % 40;
    sj_plan p;
    memset(&p, 0, sizeof p);
    p.op = SJ_PLAN_MOVE;
    p.src.used = p.dst.used = p.dst.writes = true;
    p.src.stride = 64 + i / 2000;
    p.dst.stride = 48;
    p.src.elem_align = p.dst.elem_align = 1;
    p.moves = &m;
    p.nmoves = 1;
    sj_loop_fn fn;
    sj_jit_code *code;
    char why[256] = "";
    if (P->compile(&p, &fn, &code, why, sizeof why) != 0)
        fail_msg("kernel %u declined: %s", i, why);
    uint8_t src[3 * 80], dst[3 * 48];
    for (unsigned k = 0; k < sizeof src; k++)
        src[k] = (uint8_t)(k + i);
    memset(dst, 0, sizeof dst);
    fn(src, dst, 3, NULL);
    for (unsigned e = 0; e < 3; e++)
        for (unsigned k = 0; k < 3; k++)
            if (dst[e * 48 + m.dst_off + k] != src[e * p.src.stride + m.src_off + k])
                fail_msg("kernel %u copied the wrong bytes", i);
    P->release(code);
}

static void test_compile_release_10000(void **state) {
    (void)state;
    if (rss_bytes() < 0) {
        print_message("skip: no /proc/self/statm\n");
        skip();
    }
    struct timespec t0, t1;
    for (unsigned i = 0; i < WARMUP; i++)
        compile_run_release(i);
    double after_warmup = rss_bytes();
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (unsigned i = WARMUP; i < KERNELS; i++)
        compile_run_release(i);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double at_end = rss_bytes();
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    double growth = (at_end - after_warmup) / (1024.0 * 1024.0);
    sj_jit_stats s;
    P->stats(&s);
    print_message("RSS after %d kernels: %.1f MB; after %d: %.1f MB; growth %.2f MB "
                  "(limit %.0f MB); %.2f ms per kernel; %llu compiled\n",
                  WARMUP, after_warmup / (1024.0 * 1024.0), KERNELS, at_end / (1024.0 * 1024.0),
                  growth, GROWTH_LIMIT_MB, secs * 1e3 / (KERNELS - WARMUP),
                  (unsigned long long)s.compiled);
    if (growth > GROWTH_LIMIT_MB)
        fail_msg("resident memory grew by %.1f MB over %d compiled and released kernels", growth,
                 KERNELS - WARMUP);
}

int main(void) {
    char why[256] = "";
    P = sj_jit_provider_get(why, sizeof why);
    if (!P) {
        if (strcmp(why, "built without the JIT") == 0) {
            printf("skip: %s\n", why);
            return 0;
        }
        fprintf(stderr, "the JIT is built but did not load: %s\n", why);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compile_release_10000),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
