/* tests/test_kernel_wide.c: the auto tier weighs an element by the moves it runs
 * (src/jit_policy.h, SJ_AUTO_MOVES_PER_UNIT): a kernel over wide records is compiled after
 * as much work as a narrow one, not after as many records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "tier.h"

#define AUTO_THRESHOLD (UINT64_C(1) << 22) /* src/jit_policy.h */

static sj_kernel *convert_kernel(const char *from, const char *to) {
    return test_convert_kernel(from, to, SJ_TIER_AUTO);
}

/* Runs k over `total` elements, `per` at a time, on the same buffers. */
static void run_elements(sj_kernel *k, const sj_segment *src, const sj_segment *dst, int64_t per,
                         int64_t total) {
    sj_error err = {0};
    for (int64_t done = 0; done < total;) {
        int64_t n = total - done < per ? total - done : per;
        sj_args args = {src, 0, dst, 0, n};
        assert_int_equal(sj_kernel_run(k, &args, NULL, &err), SJ_OK);
        done += n;
    }
}

/* A record of 4096 floats to 4096 doubles runs 4096 moves per element (one inner loop of
 * one conversion): weight 1 + 4096 / 8 = 513, so the call that passes 4M / 513 elements
 * compiles it. A narrow record (one conversion, weight 1) compiles at 4M elements, as before. */
static void test_auto_weighs_moves(void **state) {
    (void)state;
    const char *why = NULL;
    if (!sj_jit_available(&why)) {
        print_message("skip: %s\n", why ? why : "no JIT");
        return;
    }
    enum { PER = 64, N = 4096 };
    const uint64_t weight = 1 + N / 8, due = (AUTO_THRESHOLD + weight - 1) / weight;
    float *in = calloc((size_t)PER * N, sizeof *in);
    double *out = calloc((size_t)PER * N, sizeof *out);
    assert_true(in && out);
    for (size_t i = 0; i < (size_t)PER * N; i++)
        in[i] = (float)i * 0.25f;
    sj_segment src, dst;
    sj_error err = {0};
    assert_int_equal(sj_segment_native(in, (int64_t)(PER * N * sizeof *in), &src, &err), SJ_OK);
    assert_int_equal(sj_segment_native(out, (int64_t)(PER * N * sizeof *out), &dst, &err), SJ_OK);

    sj_kernel *wide = convert_kernel("[[4096:f4](v)]", "[[4096:d8](v)]");
    run_elements(wide, &src, &dst, PER, (int64_t)due - 1);
    sj_kernel_info in_w = test_info(wide);
    assert_false(in_w.compiled);
    assert_int_equal(in_w.last_tier, SJ_TIER_INTERP);
    run_elements(wide, &src, &dst, PER, 1);
    in_w = test_info(wide);
    assert_true(in_w.compiled || in_w.decline != SJ_DECLINE_NONE);
    if (in_w.compiled) assert_int_equal(in_w.last_tier, SJ_TIER_JIT);
    for (size_t i = 0; i < N; i++) /* the last call's record, converted */
        assert_true(out[i] == (double)in[i]);

    sj_kernel *narrow = convert_kernel("[f4(v)]", "[d8(v)]");
    run_elements(narrow, &src, &dst, PER * N, (int64_t)AUTO_THRESHOLD - 1);
    sj_kernel_info in_n = test_info(narrow);
    assert_false(in_n.compiled);
    assert_int_equal(in_n.last_tier, SJ_TIER_INTERP);
    run_elements(narrow, &src, &dst, PER * N, 1);
    in_n = test_info(narrow);
    assert_true(in_n.compiled || in_n.decline != SJ_DECLINE_NONE);

    sj_kernel_free(wide);
    sj_kernel_free(narrow);
    free(in);
    free(out);
}

int main(void) {
    /* the call that crosses the AUTO threshold compiles (test_kernel_background.c has the
     * background compiles) */
    setenv("SEGJIT_AUTO_COMPILE", "inline", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auto_weighs_moves),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
