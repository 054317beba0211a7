/* tests/test_no_llvm_load.c: a process that never compiles never loads the JIT: kernels run
 * on the interpreter tier, and on tier AUTO below its threshold, leave libsegjit-jit and
 * libLLVM out of /proc/self/maps; the first JIT run then loads the JIT (and the shared
 * libLLVM, when the JIT links it). One process, so the
 * steps run in order in one test. Skips where /proc/self/maps does not exist; the JIT half
 * skips when built without the JIT. Tier choice itself is tested in test_kernel_misc. */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "segjit/segjit.h"
#include "tier.h"

enum { N = 4096 };

static sj_kernel *copy_kernel(void) {
    sj_error err = {0};
    sj_layout *s = NULL, *d = NULL;
    sj_kernel *k = NULL;
    assert_int_equal(sj_layout_parse("i4", &s, &err), SJ_OK);
    assert_int_equal(sj_layout_parse("I4", &d, &err), SJ_OK);
    sj_status st = sj_kernel_copy(s, d, &k, &err);
    if (st != SJ_OK) fail_msg("copy kernel: %s", err.message);
    sj_layout_unref(s);
    sj_layout_unref(d);
    return k;
}

/* Runs k over the first count elements of a and b (i4 -> I4) and checks the bytes. */
static void run_copy(sj_kernel *k, const sj_segment *a, const sj_segment *b, int64_t count) {
    sj_error err = {0};
    sj_args args = {.src = a, .src_offset = 0, .dst = b, .dst_offset = 0, .count = count};
    memset(b->base, 0, (size_t)count * 4);
    if (sj_kernel_run(k, &args, NULL, &err) != SJ_OK) fail_msg("run: %s", err.message);
    const uint8_t *s = a->base, *d = b->base;
    for (int64_t i = 0; i < count; i++)
        for (int j = 0; j < 4; j++)
            assert_int_equal(d[4 * i + j], s[4 * i + 3 - j]);
}

static void test_jit_loads_only_when_compiling(void **state) {
    (void)state;
    if (test_mapped("libc") < 0) {
        print_message("skip: no /proc/self/maps\n");
        skip();
    }
    sj_error err = {0};
    sj_segment a, b;
    assert_int_equal(sj_arena_allocate(sj_arena_global(), N * 4, 64, &a, &err), SJ_OK);
    assert_int_equal(sj_arena_allocate(sj_arena_global(), N * 4, 64, &b, &err), SJ_OK);
    uint8_t *s = a.base;
    for (size_t i = 0; i < N * 4; i++)
        s[i] = (uint8_t)(i * 7 + 1);

    /* The interpreter tier, on a count far above AUTO's threshold in total. */
    sj_kernel *ki = copy_kernel();
    sj_kernel_set_tier(ki, SJ_TIER_INTERP);
    for (int r = 0; r < 64; r++)
        run_copy(ki, &a, &b, N);
    assert_int_equal(sj_kernel_last_tier(ki), SJ_TIER_INTERP);

    /* AUTO on small counts: a few hundred elements in all stay on the interpreter. */
    sj_kernel *ka = copy_kernel();
    sj_kernel_set_tier(ka, SJ_TIER_AUTO);
    for (int r = 0; r < 16; r++)
        run_copy(ka, &a, &b, 16);
    assert_int_equal(sj_kernel_last_tier(ka), SJ_TIER_INTERP);

    /* Before sj_jit_available, which loads the JIT to answer. */
    assert_int_equal(test_mapped("segjit-jit"), 0);
    assert_int_equal(test_mapped("libLLVM"), 0);
    sj_counters c;
    sj_counters_get(&c);
    assert_int_equal(c.kernels_compiled, 0);

    const char *why = NULL;
    if (!sj_jit_available(&why)) {
        sj_kernel_free(ki);
        sj_kernel_free(ka);
        if (why && strcmp(why, "built without the JIT") == 0) {
            print_message("skip (the JIT half): %s\n", why);
            return;
        }
        fail_msg("the JIT is built but did not load: %s", why ? why : "?");
    }

    /* The first JIT run: both are mapped now, and the kernel ran compiled code. */
    sj_kernel *kj = copy_kernel();
    sj_kernel_set_tier(kj, SJ_TIER_JIT);
    run_copy(kj, &a, &b, N);
    assert_int_equal(sj_kernel_last_tier(kj), SJ_TIER_JIT);
    assert_int_equal(test_mapped("segjit-jit"), 1);
#ifdef SEGJIT_LLVM_STATIC
    assert_int_equal(test_mapped("libLLVM"), 0); /* linked into the JIT object */
#else
    assert_int_equal(test_mapped("libLLVM"), 1);
#endif
    sj_kernel_free(kj);
    sj_kernel_free(ki);
    sj_kernel_free(ka);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jit_loads_only_when_compiling),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
