/* tests/test_kernel_gather.c: gather (a path with one free index into a dense array) and
 * scatter (the reverse) kernels: every field of W5's records, both byte orders, conversions
 * on the way, native and heap, aligned and misaligned bases, contiguous, strided and
 * backward paths, overlap, guard bytes, and the errors found at kernel creation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "reference.h"

typedef struct gs_case {
    const char *root, *path, *elem;
    unsigned flags;
} gs_case;

static const gs_case cases[] = {
    /* W5: array of structs to struct of arrays */
    {"[300:[i4(id)i4(x)d8(y)j8(z)]]", "[*].id", "i4", 0},
    {"[300:[i4(id)i4(x)d8(y)j8(z)]]", "[*].x", "I4", 0},
    {"[300:[i4(id)i4(x)d8(y)j8(z)]]", "[*].y", "d8", 0},
    {"[300:[i4(id)i4(x)d8(y)j8(z)]]", "[*].z", "J8", 0},
    {"[300:[I4(id)I4(x)D8(y)J8(z)]]", "[*].y", "d8", 0},
    /* contiguous */
    {"[300:i4]", "[*]", "i4", 0},
    {"[300:s2]", "[*]", "S2", 0},
    {"[300:b1]", "[*]", "b1", 0},
    /* with conversions */
    {"[300:[i4(id)i4(x)d8(y)j8(z)]]", "[*].x", "j8", 0},
    {"[300:[i4(id)i4(x)d8(y)j8(z)]]", "[*].y", "F4", SJ_CONVERT_LOSSY},
    {"[300:[i4(id)i4(x)d8(y)j8(z)]]", "[*].z", "s2", SJ_CONVERT_LOSSY},
    {"[300:[i4(id)i4(x)d8(y)j8(z)]]", "[*].y", "I4", SJ_CONVERT_LOSSY},
    {"[300:[s2(a)us2(b)]]", "[*].b", "d8", 0},
    /* steps and backward paths */
    {"[300:[i4(a)i4(b)]]", "[1::3].b", "i4", 0},
    {"[300:[i4(a)i4(b)]]", "[299::-1].a", "I4", 0},
    {"[300:[i4(a)i4(b)]]", "[298::-2].a", "j8", 0},
    /* nested sequences */
    {"[20:[15:[j8(q)s2(p)x6]]]", "[3][*].q", "j8", 0},
    /* unaligned layouts (usable on a misaligned base) */
    {"[300:[b1(t)1%j8(v)]]", "[*].v", "1%J8", 0},
    {"[300:[b1(t)1%d8(v)]]", "[*].v", "1%i4", SJ_CONVERT_LOSSY},
};

/* Runs one gather or scatter and compares every byte of both buffers with the reference. */
static void gs_run(const gs_case *c, bool scatter, bool heap, size_t mis, int64_t count) {
    sj_layout *root = test_layout(c->root), *elem = test_layout(c->elem);
    sj_path *path = test_path(root, c->path);
    const sj_layout *leaf = sj_path_leaf(path);
    size_t esize = (size_t)sj_layout_size(elem);
    size_t rsize = (size_t)sj_layout_size(root);
    int64_t bound = sj_path_bound(path, 0);
    if (count > bound) count = bound;
    int64_t doff = (int64_t)esize; /* the dense array starts one element in */
    size_t dsize = esize * (size_t)(count + 2);
    tbuf r, d;
    tbuf_pair_init(&r, rsize, &d, dsize, mis, heap, 11);
    uint8_t *rexp = malloc(rsize), *dexp = malloc(dsize);
    memcpy(rexp, r.data, rsize);
    memcpy(dexp, d.data, dsize);
    sj_error err = {0};
    for (int64_t i = 0; i < count; i++) {
        int64_t off;
        assert_int_equal(sj_path_offset(path, &i, 1, &off, &err), SJ_OK);
        if (scatter)
            reference_value(elem, d.data + doff + i * (int64_t)esize, leaf, rexp + off);
        else
            reference_value(leaf, r.data + off, elem, dexp + doff + i * (int64_t)esize);
    }
    sj_kernel *k = NULL;
    if (scatter)
        k = test_kernel(sj_kernel_scatter(elem, path, c->flags | SJ_CONVERT_LOSSY, &k, &err), &k,
                        &err);
    else
        k = test_kernel(sj_kernel_gather(path, elem, c->flags, &k, &err), &k, &err);
    sj_args a = scatter ? (sj_args){&d.seg, doff, &r.seg, 0, count}
                        : (sj_args){&r.seg, 0, &d.seg, doff, count};
    bool misaligned = mis % sj_layout_align(root) != 0 || mis % sj_layout_align(elem) != 0;
    sj_status st = sj_kernel_run(k, &a, NULL, &err);
    if (misaligned) {
        assert_int_equal(st, SJ_E_ALIGN);
    } else if (st != SJ_OK) {
        fail_msg("%s %s %s -> %s: %s: %s", scatter ? "scatter" : "gather", c->root, c->path,
                 c->elem, sj_status_name(st), err.message);
    }
    if (misaligned) { /* nothing written */
        tbuf check;
        tbuf_init(&check, rsize, 0, -1);
        tbuf_pattern(&check, 11);
        assert_memory_equal(r.data, check.data, rsize);
        tbuf_free(&check);
        tbuf_init(&check, dsize, 0, -1);
        tbuf_pattern(&check, 12);
        assert_memory_equal(d.data, check.data, dsize);
        tbuf_free(&check);
    } else {
        if (memcmp(r.data, rexp, rsize) != 0 || memcmp(d.data, dexp, dsize) != 0)
            fail_msg("%s %s %s -> %s (%s, mis %zu, count %lld): wrong bytes",
                     scatter ? "scatter" : "gather", c->root, c->path, c->elem,
                     heap ? "heap" : "native", mis, (long long)count);
        test_check_tier(k, heap);
    }
    tbuf_check_guards(&r);
    tbuf_check_guards(&d);
    free(rexp);
    free(dexp);
    sj_kernel_free(k);
    tbuf_free(&r);
    tbuf_free(&d);
    sj_path_free(path);
    sj_layout_unref(root);
    sj_layout_unref(elem);
}

static void run_all(bool scatter) {
    static const int64_t counts[] = {0, 1, 9, 300};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int heap = 0; heap < 2; heap++)
            for (size_t mis = 0; mis < 2; mis++)
                for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++)
                    gs_run(&cases[i], scatter, heap, mis, counts[c]);
}

static void test_gather(void **state) {
    (void)state;
    run_all(false);
}

static void test_scatter(void **state) {
    (void)state;
    run_all(true);
}

/* W5 at a size that spans many interpreter blocks. */
static void test_gather_large(void **state) {
    (void)state;
    gs_case big = {"[100000:[i4(id)i4(x)d8(y)j8(z)]]", "[*].y", "d8", 0};
    gs_run(&big, false, false, 0, 100000);
    gs_run(&big, true, false, 0, 100000);
    gs_case conv = {"[100000:[i4(id)i4(x)d8(y)j8(z)]]", "[*].id", "J8", 0};
    gs_run(&conv, false, false, 0, 100000);
}

/* Source and destination in one segment, overlapping: memmove semantics (every value is
 * read before any is written). */
static void test_gather_overlap(void **state) {
    (void)state;
    for (int dir = 0; dir < 2; dir++) {
        sj_layout *root = test_layout("[40:[i4(a)i4(b)]]"), *elem = test_layout("I4");
        sj_path *path = test_path(root, "[*].b");
        tbuf b;
        tbuf_init(&b, 400, 0, -1);
        tbuf_pattern(&b, 5);
        uint8_t *exp = malloc(400);
        memcpy(exp, b.data, 400);
        int64_t roff = dir ? 80 : 0, doff = dir ? 0 : 80; /* dense array inside the records */
        sj_error err = {0};
        for (int64_t i = 0; i < 40; i++) {
            int64_t off;
            assert_int_equal(sj_path_offset(path, &i, 1, &off, &err), SJ_OK);
            reference_value(sj_path_leaf(path), b.data + roff + off, elem, exp + doff + 4 * i);
        }
        sj_kernel *k = NULL;
        k = test_kernel(sj_kernel_gather(path, elem, 0, &k, &err), &k, &err);
        sj_args a = {&b.seg, roff, &b.seg, doff, 40};
        assert_status(sj_kernel_run(k, &a, NULL, &err), SJ_OK, &err);
        assert_memory_equal(b.data, exp, 400);
        tbuf_check_guards(&b);

        /* scatter back over the records from a dense array overlapping them */
        tbuf_pattern(&b, 6);
        memcpy(exp, b.data, 400);
        for (int64_t i = 0; i < 40; i++) {
            int64_t off;
            assert_int_equal(sj_path_offset(path, &i, 1, &off, &err), SJ_OK);
            reference_value(elem, b.data + doff + 4 * i, sj_path_leaf(path), exp + roff + off);
        }
        sj_kernel *s = NULL;
        s = test_kernel(sj_kernel_scatter(elem, path, 0, &s, &err), &s, &err);
        sj_args sa = {&b.seg, doff, &b.seg, roff, 40};
        assert_status(sj_kernel_run(s, &sa, NULL, &err), SJ_OK, &err);
        assert_memory_equal(b.data, exp, 400);
        tbuf_check_guards(&b);
        free(exp);
        sj_kernel_free(k);
        sj_kernel_free(s);
        tbuf_free(&b);
        sj_path_free(path);
        sj_layout_unref(root);
        sj_layout_unref(elem);
    }
}

static void test_gather_errors(void **state) {
    (void)state;
    sj_layout *root = test_layout("[4:[2:[d8(b)i4(a)x4]]]");
    sj_layout *i4 = test_layout("i4"), *f4 = test_layout("f4"), *rec = test_layout("[i4(a)]");
    sj_layout *big = test_layout("8%i4");
    sj_path *two = test_path(root, "[*][*].a"), *none = test_path(root, "[1][1].a");
    sj_path *group = test_path(root, "[*][0]"), *one = test_path(root, "[2][*].b");
    sj_error err = {0};
    sj_kernel *k = NULL;
    assert_int_equal(sj_kernel_gather(two, i4, 0, &k, &err), SJ_E_ARG);
    assert_non_null(strstr(err.message, "free"));
    assert_int_equal(sj_kernel_gather(none, i4, 0, &k, &err), SJ_E_ARG);
    assert_int_equal(sj_kernel_scatter(i4, two, 0, &k, &err), SJ_E_ARG);
    assert_int_equal(sj_kernel_gather(group, i4, 0, &k, &err), SJ_E_PATH);
    assert_int_equal(sj_kernel_gather(one, rec, 0, &k, &err), SJ_E_ARG);
    assert_int_equal(sj_kernel_gather(one, big, SJ_CONVERT_LOSSY, &k, &err), SJ_E_ARG);
    /* d8 -> f4 and d8 -> i4 lose information: asked for, or refused */
    assert_int_equal(sj_kernel_gather(one, f4, 0, &k, &err), SJ_E_ARG);
    assert_non_null(strstr(err.message, "LOSSY"));
    assert_int_equal(sj_kernel_scatter(i4, one, 0, &k, &err), SJ_OK); /* i4 -> d8 is exact */
    sj_kernel_free(k);
    assert_int_equal(sj_kernel_gather(one, i4, 0, &k, &err), SJ_E_ARG);
    assert_int_equal(sj_kernel_gather(one, f4, 0x80, &k, &err), SJ_E_ARG);
    assert_int_equal(sj_kernel_gather(one, f4, SJ_CONVERT_LOSSY, &k, &err), SJ_OK);
    sj_kernel_free(k);
    sj_path_free(two);
    sj_path_free(none);
    sj_path_free(group);
    sj_path_free(one);
    sj_layout_unref(root);
    sj_layout_unref(i4);
    sj_layout_unref(f4);
    sj_layout_unref(rec);
    sj_layout_unref(big);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gather),        cmocka_unit_test(test_scatter),
        cmocka_unit_test(test_gather_large),  cmocka_unit_test(test_gather_overlap),
        cmocka_unit_test(test_gather_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
