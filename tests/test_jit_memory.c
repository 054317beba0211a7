/* tests/test_jit_memory.c: compiling and freeing many distinct JIT kernels through the
 * public API, with the code cache bounded (sj_jit_set_cache_limit), does not grow the
 * process: resident memory (/proc/self/statm) after a warm-up of 500 kernels and at the
 * end, and the cache's own accounting. Kernels: SEGJIT_JIT_MEMORY_KERNELS (default 2000;
 * the ctest test_jit_memory_10k, label soak, runs 10,000), cache bound:
 * SEGJIT_JIT_MEMORY_LIMIT bytes (default 1 MiB). Skips without the JIT and where
 * /proc/self/statm does not exist. */
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

/* AddressSanitizer's quarantine holds freed memory back (256 MB by default): resident
 * memory says nothing about leaks there; LeakSanitizer checks them instead. */
#if defined(__SANITIZE_ADDRESS__)
#define SJ_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SJ_ASAN 1
#endif
#endif
#include <unistd.h>

#include "tier.h"

enum { WARMUP = 500, MAX_KERNELS = 10000 };
#define GROWTH_LIMIT_MB 16.0

/* Resident bytes, or -1 when unknown. */
static double rss_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return -1;
    unsigned long size = 0, resident = 0;
    int n = fscanf(f, "%lu %lu", &size, &resident);
    fclose(f);
    return n == 2 ? (double)resident * (double)sysconf(_SC_PAGESIZE) : -1;
}

static long env_long(const char *name, long def, long lo, long hi) {
    const char *e = getenv(name);
    if (!e || !*e) return def;
    char *end = NULL;
    long v = strtol(e, &end, 10);
    return *end || v < lo || v > hi ? def : v;
}

/* Kernel i < 10,000 converts the record [1%i4(v) x<a> 1%i4(w) x<b>] (a = i % 100,
 * b = i / 100) into [i4(v)i4(w)]: every i is another field offset or stride, another plan. */
static void compile_run_free(unsigned i, const uint8_t *src, size_t src_len) {
    unsigned pa = i % 100, pb = i / 100;
    char text[96], pad_a[16] = "", pad_b[16] = "";
    if (pa) snprintf(pad_a, sizeof pad_a, "x%u ", pa);
    if (pb) snprintf(pad_b, sizeof pad_b, "x%u", pb);
    snprintf(text, sizeof text, "[1%%i4(v)%s1%%i4(w)%s]", pad_a, pad_b);
    sj_layout *from = test_layout(text), *to = test_layout("[i4(v)i4(w)]");
    sj_error err = {0};
    sj_kernel *k = NULL;
    k = test_kernel(sj_kernel_convert(from, to, 0, &k, &err), &k, &err);
    sj_kernel_set_tier(k, SJ_TIER_JIT);
    int32_t out[8] = {0};
    size_t stride = 8 + pa + pb;
    assert_true(4 * stride <= src_len);
    sj_segment s, d;
    assert_int_equal(sj_segment_native((void *)(uintptr_t)src, (int64_t)(4 * stride), &s, &err),
                     SJ_OK);
    assert_int_equal(sj_segment_native(out, sizeof out, &d, &err), SJ_OK);
    sj_args a = {&s, 0, &d, 0, 4};
    assert_status(sj_kernel_run(k, &a, NULL, &err), SJ_OK, &err);
    if (sj_kernel_last_tier(k) != SJ_TIER_JIT) fail_msg("kernel %u ran on the interpreter", i);
    for (unsigned e = 0; e < 4; e++) {
        int32_t v, w;
        memcpy(&v, src + e * stride, 4);
        memcpy(&w, src + e * stride + 4 + pa, 4);
        if (out[2 * e] != v || out[2 * e + 1] != w)
            fail_msg("kernel %u converted the wrong values", i);
    }
    sj_kernel_free(k);
    sj_layout_unref(from);
    sj_layout_unref(to);
}

static void test_compile_free_bounded(void **state) {
    (void)state;
    if (rss_bytes() < 0) {
        print_message("skip: no /proc/self/statm\n");
        skip();
    }
    long kernels = env_long("SEGJIT_JIT_MEMORY_KERNELS", 2000, WARMUP + 1, MAX_KERNELS);
    long limit = env_long("SEGJIT_JIT_MEMORY_LIMIT", 1L << 20, 0, 1L << 40);
    sj_jit_set_cache_limit((uint64_t)limit);
    assert_int_equal(sj_jit_cache_limit(), (uint64_t)limit);
    uint8_t src[4 * 207];
    for (unsigned k = 0; k < sizeof src; k++)
        src[k] = (uint8_t)(k * 7 + 1);
    sj_counters_reset();
    struct timespec t0, t1;
    for (unsigned i = 0; i < WARMUP; i++)
        compile_run_free(i, src, sizeof src);
    double after_warmup = rss_bytes();
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (unsigned i = WARMUP; i < (unsigned)kernels; i++)
        compile_run_free(i, src, sizeof src);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double at_end = rss_bytes();
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    double growth = (at_end - after_warmup) / (1024.0 * 1024.0);
    sj_counters c;
    sj_counters_get(&c);
    print_message("%ld kernels, cache limit %ld bytes: RSS after %d: %.1f MB; at the end: %.1f "
                  "MB; growth %.2f MB (limit %.0f MB); %.2f ms per kernel; %llu compiled, %llu "
                  "evicted, %llu kept (%.1f KiB counted, %.0f bytes each)\n",
                  kernels, limit, WARMUP, after_warmup / (1024.0 * 1024.0),
                  at_end / (1024.0 * 1024.0), growth, GROWTH_LIMIT_MB,
                  secs * 1e3 / (double)(kernels - WARMUP), (unsigned long long)c.kernels_compiled,
                  (unsigned long long)c.cache_evictions, (unsigned long long)c.cache_entries,
                  (double)c.cache_bytes / 1024,
                  c.cache_entries ? (double)c.cache_bytes / (double)c.cache_entries : 0.0);
    assert_int_equal(c.kernels_compiled, (uint64_t)kernels);
    assert_true(c.cache_bytes_unreferenced <= (uint64_t)limit);
    assert_int_equal(c.cache_evictions + c.cache_entries, (uint64_t)kernels);
    assert_int_equal(c.cache_recompiles, 0); /* every plan distinct */
#ifdef SJ_ASAN
    print_message("resident memory not bounded under AddressSanitizer (its quarantine)\n");
#else
    if (growth > GROWTH_LIMIT_MB)
        fail_msg("resident memory grew by %.1f MB over %ld compiled and freed kernels", growth,
                 kernels - WARMUP);
#endif
}

int main(void) {
    const char *why = NULL;
    if (!sj_jit_available(&why)) {
        if (why && strcmp(why, "built without the JIT") == 0) {
            printf("skip: %s\n", why);
            return 0;
        }
        fprintf(stderr, "the JIT is built but did not load: %s\n", why ? why : "?");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compile_free_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
