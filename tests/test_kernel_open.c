/* tests/test_kernel_open.c: kernels over open records (SEMANTICS 4.5): a path on
 * `[*:rec]`, the largest count, whose free index runs over records; the count comes with
 * the call and is checked against the segment, never against a layout count. One kernel
 * serves 0, 1, 1000 and 10M records; a count that does not fit is SJ_E_BOUNDS, with
 * nothing written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "tier.h"

#define REC "[i4(a)f4(b)]"

static int32_t rec_a(int64_t i) {
    return (int32_t)(i * 2654435761u);
}

static void fill_records(uint8_t *p, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        int32_t a = rec_a(i);
        float b = (float)(i % 1000) * 0.5f;
        memcpy(p + i * 8, &a, 4);
        memcpy(p + i * 8 + 4, &b, 4);
    }
}

static void test_counts(void **state) {
    (void)state;
    sj_layout *root = test_layout("[*:" REC "]");
    sj_layout *f4 = test_layout("f4");
    sj_path *pa = test_path(root, "[*].a"), *pb = test_path(root, "[*].b");
    sj_kernel *sum = NULL, *gather = NULL;
    sj_error err = {0};
    test_kernel(sj_kernel_reduce(pa, SJ_REDUCE_SUM, &sum, &err), &sum, &err);
    test_kernel(sj_kernel_gather(pb, f4, 0, &gather, &err), &gather, &err);
    static const int64_t counts[] = {0, 1, 1000, 10000000};
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        int64_t n = counts[c];
        tbuf s, d;
        tbuf_init(&s, (size_t)n * 8, 0, -1);
        tbuf_init(&d, (size_t)n * 4, 0, -1);
        fill_records(s.data, n);
        sj_args ra = {&s.seg, 0, NULL, 0, n};
        sj_result r;
        assert_status(sj_kernel_run(sum, &ra, &r, &err), SJ_OK, &err);
        int64_t want = 0;
        for (int64_t i = 0; i < n; i++)
            want += rec_a(i);
        assert_int_equal(r.i64, want);
        sj_args ga = {&s.seg, 0, &d.seg, 0, n};
        assert_status(sj_kernel_run(gather, &ga, NULL, &err), SJ_OK, &err);
        test_check_tier(gather, false);
        for (int64_t i = 0; i < n; i++)
            assert_memory_equal(d.data + i * 4, s.data + i * 8 + 4, 4);
        tbuf_check_guards(&d);
        tbuf_free(&s);
        tbuf_free(&d);
    }
    sj_kernel_free(sum);
    sj_kernel_free(gather);
    sj_path_free(pa);
    sj_path_free(pb);
    sj_layout_unref(root);
    sj_layout_unref(f4);
}

/* One record more than the segment holds, or an offset past part of a record: bounds,
 * nothing written. */
static void test_does_not_fit(void **state) {
    (void)state;
    sj_layout *root = test_layout("[*:" REC "]");
    sj_layout *f4 = test_layout("f4");
    sj_path *pb = test_path(root, "[*].b");
    sj_kernel *gather = NULL;
    sj_error err = {0};
    test_kernel(sj_kernel_gather(pb, f4, 0, &gather, &err), &gather, &err);
    tbuf s, d;
    tbuf_init(&s, 100 * 8, 0, -1);
    tbuf_init(&d, 101 * 4, 0, -1);
    fill_records(s.data, 100);
    memset(d.data, 0xEE, d.size);
    sj_args ga = {&s.seg, 0, &d.seg, 0, 101};
    assert_status(sj_kernel_run(gather, &ga, NULL, &err), SJ_E_BOUNDS, &err);
    assert_non_null(strstr(err.message, "gather: source"));
    sj_args off = {&s.seg, 8, &d.seg, 0, 100};
    assert_status(sj_kernel_run(gather, &off, NULL, &err), SJ_E_BOUNDS, &err);
    for (size_t i = 0; i < d.size; i++)
        assert_int_equal(d.data[i], 0xEE);
    sj_args ok = {&s.seg, 8, &d.seg, 0, 99};
    assert_status(sj_kernel_run(gather, &ok, NULL, &err), SJ_OK, &err);
    assert_memory_equal(d.data, s.data + 8 + 4, 4);
    tbuf_free(&s);
    tbuf_free(&d);
    sj_kernel_free(gather);
    sj_path_free(pb);
    sj_layout_unref(root);
    sj_layout_unref(f4);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_does_not_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
