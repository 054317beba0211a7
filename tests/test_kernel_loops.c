/* tests/test_kernel_loops.c: sequences inside records are inner loops (plan.h's
 * SJ_MOVE_LOOP): a record holding a 100,000-element array, a root sequence of 100,000
 * records converted as one element, nested sequences, short sequences unrolled or merged,
 * errors inside a loop's body; values against C, plans by their description. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <math.h>

#include "tier.h"

static sj_kernel *convert_kernel(const char *from, const char *to, unsigned flags) {
    sj_layout *a = test_layout(from), *b = test_layout(to);
    sj_kernel *k = NULL;
    sj_error err = {0};
    test_kernel(sj_kernel_convert(a, b, flags, &k, &err), &k, &err);
    sj_layout_unref(a);
    sj_layout_unref(b);
    return k;
}

static char *describe(const sj_kernel *k) {
    char *d = NULL;
    sj_error err = {0};
    assert_status(sj_kernel_describe(k, &d, &err), SJ_OK, &err);
    return d;
}

/* The number of moves a plan description's first line states ("convert: 3 moves"). */
static unsigned described_moves(const char *d) {
    unsigned n = 0;
    return sscanf(d, "%*[^:]: %u", &n) == 1 ? n : 0u;
}

static void run_ok(const sj_kernel *k, tbuf *s, tbuf *d, int64_t count) {
    sj_args a = {&s->seg, 0, &d->seg, 0, count};
    sj_error err = {0};
    assert_status(sj_kernel_run(k, &a, NULL, &err), SJ_OK, &err);
    test_check_tier(k, false);
    if (test_tier() == SJ_TIER_JIT) /* plans with loops compile: no decline */
        assert_int_equal(sj_kernel_last_tier(k), SJ_TIER_JIT);
    tbuf_check_guards(d);
}

static float ld_f32(const uint8_t *p) {
    float f;
    memcpy(&f, p, 4);
    return f;
}
static double ld_f64(const uint8_t *p) {
    double v;
    memcpy(&v, p, 8);
    return v;
}
static uint32_t ld_u32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
static uint16_t ld_u16(const uint8_t *p) {
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

#define WIDE 100000u

/* Records holding a 100,000-element array: one loop, a handful of moves, every value. */
static void test_wide_array(void **state) {
    (void)state;
    char from[64], to[64];
    snprintf(from, sizeof from, "[[%u:f4](v)i4(n)]", WIDE);
    snprintf(to, sizeof to, "[i4(n)x4[%u:d8](v)]", WIDE);
    sj_kernel *k = convert_kernel(from, to, 0);
    char *d = describe(k);
    assert_int_equal(described_moves(d), 4); /* copy n, zero, loop, convert */
    char want[64];
    snprintf(want, sizeof want, "loop %u times", WIDE);
    if (!strstr(d, want)) fail_msg("no inner loop in:\n%s", d);
    free(d);
    const size_t ssz = WIDE * 4 + 4, dsz = 8 + WIDE * 8, recs = 3;
    tbuf s, t;
    tbuf_init(&s, ssz * recs, 0, -1);
    tbuf_init(&t, dsz * recs, 0, -1);
    for (size_t r = 0; r < recs; r++) {
        for (size_t i = 0; i < WIDE; i++) {
            float f = (float)i * 0.25f - (float)r * 1000.0f;
            memcpy(s.data + r * ssz + i * 4, &f, 4);
        }
        uint32_t n = 7u + (uint32_t)r;
        memcpy(s.data + r * ssz + WIDE * 4, &n, 4);
    }
    memset(t.data, 0xEE, t.size);
    run_ok(k, &s, &t, (int64_t)recs);
    for (size_t r = 0; r < recs; r++) {
        const uint8_t *sr = s.data + r * ssz, *dr = t.data + r * dsz;
        assert_int_equal(ld_u32(dr), 7u + r);
        assert_int_equal(ld_u32(dr + 4), 0); /* padding zeroed */
        for (size_t i = 0; i < WIDE; i++)
            if (ld_f64(dr + 8 + i * 8) != (double)ld_f32(sr + i * 4))
                fail_msg("record %zu element %zu: %g, want %g", r, i, ld_f64(dr + 8 + i * 8),
                         (double)ld_f32(sr + i * 4));
    }
    tbuf_free(&s);
    tbuf_free(&t);
    sj_kernel_free(k);
}

/* A root sequence of 100,000 records converted as one element (once refused: too many
 * moves). */
static void test_reorder_records(void **state) {
    (void)state;
    char from[64], to[64];
    snprintf(from, sizeof from, "[%u:[i4(a)i4(b)]]", WIDE);
    snprintf(to, sizeof to, "[%u:[i4(b)i4(a)]]", WIDE);
    sj_kernel *k = convert_kernel(from, to, 0);
    char *d = describe(k);
    assert_int_equal(described_moves(d), 3); /* the loop and its two copies */
    free(d);
    tbuf s, t;
    tbuf_init(&s, WIDE * 8, 0, -1);
    tbuf_init(&t, WIDE * 8, 0, -1);
    tbuf_pattern(&s, 3);
    run_ok(k, &s, &t, 1);
    for (size_t i = 0; i < WIDE; i++) {
        assert_int_equal(ld_u32(t.data + i * 8), ld_u32(s.data + i * 8 + 4));
        assert_int_equal(ld_u32(t.data + i * 8 + 4), ld_u32(s.data + i * 8));
    }
    tbuf_free(&s);
    tbuf_free(&t);
    sj_kernel_free(k);
}

/* Loops in loops: 50 records of 30 big-endian shorts and a float each, into native
 * ints and a double. */
static void test_nested(void **state) {
    (void)state;
    sj_kernel *k = convert_kernel("[[50:[[30:S2](x)f4(y)](r)]]", "[[50:[[30:i4](x)d8(y)](r)]]", 0);
    char *d = describe(k);
    if (!strstr(d, "loop 50 times") || !strstr(d, "loop 30 times"))
        fail_msg("expected nested loops in:\n%s", d);
    free(d);
    const size_t se = 64, de = 128, recs = 5;
    for (size_t mis = 0; mis < 2; mis++) {
        tbuf s, t;
        tbuf_init(&s, se * 50 * recs, mis * 4, -1);
        tbuf_init(&t, de * 50 * recs, mis * 8, -1);
        tbuf_pattern(&s, (unsigned)mis);
        for (size_t i = 0; i < 50 * recs; i++) { /* finite floats */
            float f = (float)i / 3.0f;
            memcpy(s.data + i * se + 60, &f, 4);
        }
        memset(t.data, 0xEE, t.size);
        run_ok(k, &s, &t, (int64_t)recs);
        for (size_t i = 0; i < 50 * recs; i++) {
            const uint8_t *sr = s.data + i * se, *dr = t.data + i * de;
            for (size_t j = 0; j < 30; j++)
                assert_int_equal(ld_u32(dr + j * 4),
                                 (uint32_t)(int32_t)(int16_t)__builtin_bswap16(ld_u16(sr + j * 2)));
            assert_true(ld_f64(dr + 120) == (double)ld_f32(sr + 60));
        }
        tbuf_free(&s);
        tbuf_free(&t);
    }
    sj_kernel_free(k);
}

/* Sequences nested 60 deep, short loops at every level (the interpreter's column form is
 * built only near the innermost loops: at every level it cost 2^depth, minutes here). */
static void test_deep_nest(void **state) {
    (void)state;
    enum { DEPTH = 60 };
    char from[DEPTH * 8 + 64] = "", to[DEPTH * 8 + 64] = "";
    size_t per = 1; /* innermost records per record */
    for (int i = 0; i < DEPTH; i++) {
        const char *open = i % 7 == 3 ? "[2:" : "[1:"; /* 8 levels of 2: 256 elements */
        if (i % 7 == 3) per *= 2;
        strcat(from, open);
        strcat(to, open);
    }
    strcat(from, "[i4(a)i4(b)i4(c)]");
    strcat(to, "[j8(c)i4(b)i4(a)]");
    for (int i = 0; i < DEPTH; i++) {
        strcat(from, "]");
        strcat(to, "]");
    }
    sj_kernel *k = convert_kernel(from, to, 0);
    const size_t recs = 3, se = 12, de = 16;
    tbuf s, t;
    tbuf_init(&s, se * per * recs, 0, -1);
    tbuf_init(&t, de * per * recs, 0, -1);
    tbuf_pattern(&s, 7);
    memset(t.data, 0xEE, t.size);
    run_ok(k, &s, &t, (int64_t)recs);
    for (size_t i = 0; i < per * recs; i++) {
        const uint8_t *sr = s.data + i * se, *dr = t.data + i * de;
        int64_t c;
        memcpy(&c, dr, 8);
        assert_int_equal(c, (int32_t)ld_u32(sr + 8));
        assert_int_equal(ld_u32(dr + 8), ld_u32(sr + 4));
        assert_int_equal(ld_u32(dr + 12), ld_u32(sr));
    }
    tbuf_free(&s);
    tbuf_free(&t);
    sj_kernel_free(k);
}

/* Short sequences: swapped whole when back to back, unrolled up to SJ_PLAN_UNROLL_MAX
 * moves, a loop beyond. */
static void test_short(void **state) {
    (void)state;
    static const struct {
        const char *from, *to;
        unsigned moves;
        bool loop;
    } cases[] = {
        {"[[2:I4](a)s2(b)x2]", "[[2:i4](a)s2(b)x2]", 3, false}, /* one swap of 8 bytes */
        {"[[2:f4](a)]", "[[2:d8](a)]", 2, false},               /* two conversions */
        {"[[3:f4](a)]", "[[3:d8](a)]", 2, true},                /* a loop of one */
        {"[[40:[i4(p)s2(q)x2]](a)]", "[[40:[s2(q)x2i4(p)]](a)]", 4, true},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        sj_kernel *k = convert_kernel(cases[c].from, cases[c].to, 0);
        char *d = describe(k);
        if (described_moves(d) != cases[c].moves || (strstr(d, "loop ") != NULL) != cases[c].loop)
            fail_msg("%s -> %s: expected %u moves%s:\n%s", cases[c].from, cases[c].to,
                     cases[c].moves, cases[c].loop ? " with a loop" : ", no loop", d);
        free(d);
        sj_kernel_free(k);
    }
    /* and the values of the loop of records */
    sj_kernel *k = convert_kernel("[[40:[i4(p)s2(q)x2]](a)]", "[[40:[s2(q)x2i4(p)]](a)]", 0);
    tbuf s, t;
    tbuf_init(&s, 320 * 7, 0, -1);
    tbuf_init(&t, 320 * 7, 0, -1);
    tbuf_pattern(&s, 9);
    memset(t.data, 0xEE, t.size);
    run_ok(k, &s, &t, 7);
    for (size_t i = 0; i < 40 * 7; i++) {
        assert_int_equal(ld_u16(t.data + i * 8), ld_u16(s.data + i * 8 + 4));
        assert_int_equal(ld_u16(t.data + i * 8 + 2), 0);
        assert_int_equal(ld_u32(t.data + i * 8 + 4), ld_u32(s.data + i * 8));
    }
    tbuf_free(&s);
    tbuf_free(&t);
    sj_kernel_free(k);
}

/* A lossy value inside a loop's body is named by its first element. */
static void test_errors(void **state) {
    (void)state;
    sj_layout *a = test_layout("[[100:d8](v)]"), *b = test_layout("[[100:f4](v)]");
    sj_kernel *k = NULL;
    sj_error err = {0};
    assert_status(sj_kernel_convert(a, b, 0, &k, &err), SJ_E_ARG, &err);
    assert_string_equal(err.message, "convert: field 'v[0]' d8 to f4 is a lossy conversion "
                                     "(narrowing); pass SJ_CONVERT_LOSSY");
    assert_null(k);
    sj_layout_unref(a);
    sj_layout_unref(b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wide_array), cmocka_unit_test(test_reorder_records),
        cmocka_unit_test(test_nested),     cmocka_unit_test(test_short),
        cmocka_unit_test(test_errors),     cmocka_unit_test(test_deep_nest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
