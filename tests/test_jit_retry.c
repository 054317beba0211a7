/* tests/test_jit_retry.c: a compile that declines for a transient reason (out of memory) is
 * tried again after a wait instead of declining the kernel for good, and sj_kernel_stats
 * shows the retry waiting (retry_at_ns). Run with SEGJIT_JIT_TEST_NOMEM=2 (the JIT's first
 * two compiles decline as nomem) and SEGJIT_TEST_TIER=jit or auto, the tier of the kernel
 * that retries (tests/CMakeLists.txt). No assertion depends on a call being fast: waits
 * are slept past, and what must happen before a wait ends is checked only when the call
 * did end before it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <errno.h>
#include <time.h>

#include "tier.h"

#define MS 1000000u

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Sleeps until CLOCK_MONOTONIC has passed t by a millisecond. */
static void sleep_past(uint64_t t) {
    t += MS;
    struct timespec ts = {(time_t)(t / 1000000000u), (long)(t % 1000000000u)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        continue;
    assert_true(now_ns() > t);
}

static uint64_t nomem_declines(void) {
    sj_counters c;
    sj_counters_get(&c);
    return c.declines_by[SJ_DECLINE_NOMEM];
}

static uint64_t compiled(void) {
    sj_counters c;
    sj_counters_get(&c);
    return c.kernels_compiled;
}

/* A byte-swapping copy kernel of `size`-byte integers (2, 4 or 8; distinct sizes: distinct
 * plans). */
static sj_kernel *swap_kernel(unsigned size, sj_tier tier) {
    char from[8], to[8];
    static const char letter[9] = {[2] = 's', [4] = 'i', [8] = 'j'};
    snprintf(from, sizeof from, "%c%u", letter[size], size);
    snprintf(to, sizeof to, "%c%u", letter[size] - 32, size);
    sj_layout *a = test_layout(from), *b = test_layout(to);
    sj_error err = {0};
    sj_kernel *k = NULL;
    assert_status(sj_kernel_copy(a, b, &k, &err), SJ_OK, &err);
    sj_kernel_set_tier(k, tier);
    sj_layout_unref(a);
    sj_layout_unref(b);
    return k;
}

/* The state right after a nomem decline of a run that started at t0, the backoff then
 * being `backoff_ms`: on the interpreter, not compiled, the reason kept, a retry waiting. */
static void expect_waiting(const sj_kernel_info *in, uint64_t t0, uint64_t backoff_ms) {
    assert_int_equal(in->last_tier, SJ_TIER_INTERP);
    assert_false(in->compiled);
    assert_int_equal(in->decline, SJ_DECLINE_NOMEM);
    assert_non_null(strstr(in->decline_why, "out of memory"));
    assert_true(in->retry_at_ns >= t0 + backoff_ms * MS);
}

/* One run of k over n elements: when it started and ended, and what followed. */
typedef struct step {
    uint64_t t0, t1;
    sj_kernel_info in;
    uint64_t nomem, compiled; /* process counters after it */
} step;

static step run_step(sj_kernel *k, size_t n) {
    step s;
    s.t0 = now_ns();
    test_run_copy(k, 4, n, 4);
    s.t1 = now_ns();
    s.in = test_info(k);
    s.nomem = nomem_declines();
    s.compiled = compiled();
    return s;
}

/* Without a JIT every compile declines as unavailable, for good: no retry waits. */
static bool skip_without_jit(sj_kernel *k, unsigned size) {
    const char *why = NULL;
    if (sj_jit_available(&why)) return false;
    test_run_copy(k, size, 64, size);
    sj_kernel_info in = test_info(k);
    assert_int_equal(in.last_tier, SJ_TIER_INTERP);
    assert_int_equal(in.decline, SJ_DECLINE_UNAVAILABLE);
    assert_int_equal(in.retry_at_ns, 0);
    print_message("no JIT in this process (%s): the retry is not tested\n", why ? why : "?");
    return true;
}

/* An interpreter-tier kernel never asks the JIT: no decline, no retry, no injected
 * failure used up. */
static void test_interp_tier_never_waits(void **state) {
    (void)state;
    sj_counters_reset();
    sj_kernel *k = swap_kernel(8, SJ_TIER_INTERP);
    test_run_copy(k, 8, 64, 8);
    sj_kernel_info in = test_info(k);
    assert_int_equal(in.last_tier, SJ_TIER_INTERP);
    assert_false(in.compiled);
    assert_int_equal(in.decline, SJ_DECLINE_NONE);
    assert_int_equal(in.retry_at_ns, 0);
    assert_int_equal(nomem_declines(), 0);
    sj_kernel_free(k);
}

/* The tier under test: SEGJIT_TEST_TIER=auto, else jit. */
static sj_tier retry_tier(void) {
    const char *e = getenv("SEGJIT_TEST_TIER");
    return e && strcmp(e, "auto") == 0 ? SJ_TIER_AUTO : SJ_TIER_JIT;
}

/* nomem (wait 50 ms), nomem again (wait 100 ms), then compiled. A run that ends before the
 * wait does stays on the interpreter and compiles nothing; the first run that starts after
 * it compiles. What a run that straddles the retry time did is only checked for being one
 * of the two. On the auto tier the first compile comes with the run that passes the
 * threshold; every later run is past it. */
static void test_retries(void **state) {
    (void)state;
    sj_counters_reset();
    bool is_auto = retry_tier() == SJ_TIER_AUTO;
    sj_kernel *k = swap_kernel(4, retry_tier());
    if (skip_without_jit(k, 4)) {
        sj_kernel_free(k);
        return;
    }
    enum { SMALL = 64 };
    if (is_auto) { /* up to one element below SJ_AUTO_THRESHOLD (src/jit_policy.h): no compile */
        step s = run_step(k, ((size_t)1 << 22) - 1);
        assert_int_equal(s.in.last_tier, SJ_TIER_INTERP);
        assert_int_equal(s.in.decline, SJ_DECLINE_NONE);
        assert_int_equal(s.in.retry_at_ns, 0);
        assert_int_equal(s.nomem, 0);
    }
    step s = run_step(k, SMALL); /* compiles: the first injected failure */
    expect_waiting(&s.in, s.t0, 50);
    assert_int_equal(s.in.runs_interp, is_auto ? 2 : 1);
    assert_int_equal(s.nomem, 1);
    assert_int_equal(s.compiled, 0);
    sj_counters c;
    sj_counters_get(&c);
    assert_non_null(strstr(c.last_decline, "out of memory"));

    sj_kernel_info waiting = s.in;
    uint64_t backoff = 50, declines = 1, checked_before = 0;
    for (int guard = 0; !s.in.compiled; guard++) {
        assert_true(guard < 16);
        s = run_step(k, SMALL);
        bool retried = s.nomem != declines || s.in.compiled;
        if (s.t1 < waiting.retry_at_ns) { /* before the wait ended */
            assert_false(retried);
            assert_int_equal(s.in.last_tier, SJ_TIER_INTERP);
            assert_int_equal(s.in.runs_jit, 0);
            assert_int_equal(s.in.decline, SJ_DECLINE_NOMEM);
            assert_int_equal(s.in.retry_at_ns, waiting.retry_at_ns);
            assert_int_equal(s.compiled, 0);
            checked_before++;
        }
        if (s.t0 >= waiting.retry_at_ns) assert_true(retried); /* after it */
        if (!retried) {
            sleep_past(waiting.retry_at_ns);
            continue;
        }
        if (declines == 1) { /* the second injected failure: twice the wait */
            backoff *= 2;
            declines++;
            expect_waiting(&s.in, s.t0, backoff);
            assert_int_equal(s.nomem, 2);
            assert_int_equal(s.compiled, 0);
            waiting = s.in;
        } else { /* no injected failure left: on the JIT, nothing declined, no retry */
            assert_int_equal(s.in.last_tier, SJ_TIER_JIT);
            assert_true(s.in.compiled);
            assert_true(s.in.code_bytes > 0);
            assert_int_equal(s.in.decline, SJ_DECLINE_NONE);
            assert_string_equal(s.in.decline_why, "");
            assert_int_equal(s.in.retry_at_ns, 0);
            assert_int_equal(s.in.runs_jit, 1);
            assert_int_equal(s.nomem, 2);
            assert_int_equal(s.compiled, 1);
        }
    }
    assert_int_equal(backoff, 100);
    if (checked_before == 0)
        print_message("note: no run ended before a retry time (a slow machine): not checked\n");
    s = run_step(k, SMALL);
    assert_int_equal(s.in.last_tier, SJ_TIER_JIT);
    assert_int_equal(s.in.runs_jit, 2);
    sj_kernel_free(k);
}

int main(void) {
    /* the call that crosses the AUTO threshold compiles (test_kernel_background.c has the
     * background compiles) */
    setenv("SEGJIT_AUTO_COMPILE", "inline", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interp_tier_never_waits),
        cmocka_unit_test(test_retries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
