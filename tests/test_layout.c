/* tests/test_layout.c: layout construction rules of SEMANTICS 2.1-2.6 (sizes,
 * alignments, validity, overflow, names, equality, hash) through the public API. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <stdio.h>

#define GOLDEN_HASH 0xb8393663a8463161ull

#include "segjit/segjit.h"

#include "builders.h"

static void test_value_kinds(void **state) {
    (void)state;
    static const struct {
        sj_kind k;
        unsigned size;
    } kinds[] = {{SJ_BOOL, 1}, {SJ_I8, 1},  {SJ_U8, 1},  {SJ_CHAR, 2}, {SJ_I16, 2},
                 {SJ_U16, 2},  {SJ_I32, 4}, {SJ_U32, 4}, {SJ_F32, 4},  {SJ_I64, 8},
                 {SJ_U64, 8},  {SJ_F64, 8}, {SJ_ADDR, 8}};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        sj_layout *l = VAL(kinds[i].k);
        assert_int_equal(sj_layout_tag(l), SJ_VALUE);
        assert_int_equal(sj_layout_size(l), kinds[i].size);
        assert_int_equal(sj_layout_align(l), kinds[i].size); /* natural = size */
        assert_int_equal(sj_layout_order(l), sj_native_order());
        assert_true(sj_layout_has_natural_align(l));
        assert_null(sj_layout_name(l));
        sj_layout_unref(l);
    }
    sj_error err = {0};
    sj_layout *l = NULL;
    assert_int_equal(sj_layout_value(SJ_KIND_COUNT, &l, &err), SJ_E_ARG);
    assert_int_equal(err.status, SJ_E_ARG);
    assert_non_null(strstr(err.message, "kind"));
}

static void test_with_align_values(void **state) {
    (void)state;
    sj_layout *i4 = VAL(SJ_I32);
    for (int64_t a = 1; a <= 1024; a *= 2) { /* smaller or larger than the size */
        sj_layout *l = NULL;
        assert_int_equal(sj_layout_with_align(i4, a, &l, NULL), SJ_OK);
        assert_int_equal(sj_layout_align(l), (uint64_t)a);
        assert_int_equal(sj_layout_size(l), 4);
        assert_int_equal(sj_layout_has_natural_align(l), a == 4);
        sj_layout_unref(l);
    }
    const int64_t bad[] = {0, 3, -1, -4, 6, 12};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sj_error err = {0};
        sj_layout *l = NULL;
        assert_int_equal(sj_layout_with_align(i4, bad[i], &l, &err), SJ_E_ARG);
        assert_null(l);
        assert_non_null(strstr(err.message, "power of two"));
    }
    sj_layout_unref(i4);
}

static void test_byte_order(void **state) {
    (void)state;
    sj_layout *i4 = VAL(SJ_I32), *be = NULL, *le = NULL, *nat = NULL;
    assert_int_equal(sj_layout_with_order(i4, SJ_ORDER_BIG, &be, NULL), SJ_OK);
    assert_int_equal(sj_layout_with_order(i4, SJ_ORDER_LITTLE, &le, NULL), SJ_OK);
    assert_int_equal(sj_layout_with_order(be, SJ_ORDER_NATIVE, &nat, NULL), SJ_OK);
    assert_int_equal(sj_layout_order(be), SJ_ORDER_BIG);
    assert_int_equal(sj_layout_order(le), SJ_ORDER_LITTLE);
    assert_true(sj_layout_equal(nat, i4)); /* native resolves at construction */
    assert_false(sj_layout_equal(be, le));
    assert_int_equal(sj_layout_equal(le, i4), sj_native_order() == SJ_ORDER_LITTLE);
    sj_layout *s = group_ok(false, 0, NULL), *bad = NULL;
    sj_error err;
    assert_int_equal(sj_layout_with_order(s, SJ_ORDER_BIG, &bad, &err), SJ_E_ARG);
    sj_layout_unref(s);
    sj_layout_unref(i4);
    sj_layout_unref(be);
    sj_layout_unref(le);
    sj_layout_unref(nat);
}

static void test_struct_rules(void **state) {
    (void)state;
    /* [i4b1] is size 5, align 4: no tail padding */
    sj_layout *m[4] = {VAL(SJ_I32), VAL(SJ_I8)};
    sj_layout *s = group_ok(false, 2, m);
    assert_int_equal(sj_layout_size(s), 5);
    assert_int_equal(sj_layout_align(s), 4);
    assert_int_equal(sj_layout_member_offset(s, 1), 4);
    sj_layout_unref(s);

    /* empty struct: size 0, align 1 */
    s = group_ok(false, 0, NULL);
    assert_int_equal(sj_layout_size(s), 0);
    assert_int_equal(sj_layout_align(s), 1);
    sj_layout_unref(s);

    /* [s2i4]: misaligned member is an error, no padding inserted */
    sj_layout *s2 = VAL(SJ_I16), *i4 = VAL(SJ_I32), *out = NULL;
    const sj_layout *bad[] = {s2, i4};
    sj_error err = {0};
    assert_int_equal(sj_layout_struct(bad, 2, &out, &err), SJ_E_ARG);
    assert_null(out);
    assert_non_null(strstr(err.message, "offset 2"));
    /* [s2x2i4] is fine: size 8 */
    sj_layout *x2 = NULL;
    assert_int_equal(sj_layout_padding(2, &x2, NULL), SJ_OK);
    const sj_layout *good[] = {s2, x2, i4};
    assert_int_equal(sj_layout_struct(good, 3, &out, NULL), SJ_OK);
    assert_int_equal(sj_layout_size(out), 8);
    assert_int_equal(sj_layout_align(out), 4);
    assert_int_equal(sj_layout_member_offset(out, 2), 4);
    sj_layout_unref(out);
    /* an unaligned i4 (1%i4) may sit anywhere */
    sj_layout *i4u = NULL;
    assert_int_equal(sj_layout_with_align(i4, 1, &i4u, NULL), SJ_OK);
    const sj_layout *packed[] = {s2, i4u};
    assert_int_equal(sj_layout_struct(packed, 2, &out, NULL), SJ_OK);
    assert_int_equal(sj_layout_size(out), 6);
    assert_int_equal(sj_layout_align(out), 2);
    sj_layout_unref(out);
    sj_layout_unref(i4u);
    sj_layout_unref(x2);
    sj_layout_unref(s2);
    sj_layout_unref(i4);
}

static void test_group_with_align(void **state) {
    (void)state;
    sj_layout *m[1] = {VAL(SJ_I32)};
    sj_layout *s = group_ok(false, 1, m), *out = NULL;
    sj_error err;
    assert_int_equal(sj_layout_with_align(s, 2, &out, &err), SJ_E_ARG);
    assert_int_equal(sj_layout_with_align(s, 16, &out, NULL), SJ_OK);
    assert_int_equal(sj_layout_align(out), 16);
    assert_int_equal(sj_layout_size(out), 4);
    assert_false(sj_layout_has_natural_align(out));
    sj_layout_unref(out);
    sj_layout *seq = NULL;
    assert_int_equal(sj_layout_sequence(3, m[0] = VAL(SJ_I64), &seq, NULL), SJ_OK);
    assert_int_equal(sj_layout_with_align(seq, 4, &out, &err), SJ_E_ARG);
    assert_int_equal(sj_layout_with_align(seq, 8, &out, NULL), SJ_OK);
    sj_layout_unref(out);
    sj_layout_unref(seq);
    sj_layout_unref(m[0]);
    sj_layout_unref(s);
}

static void test_union_rules(void **state) {
    (void)state;
    /* [[5:b1]|i4] is size 5 align 4 */
    sj_layout *b1 = VAL(SJ_I8), *arr = NULL, *i4 = VAL(SJ_I32), *u = NULL;
    assert_int_equal(sj_layout_sequence(5, b1, &arr, NULL), SJ_OK);
    const sj_layout *m[] = {arr, i4};
    assert_int_equal(sj_layout_union(m, 2, &u, NULL), SJ_OK);
    assert_int_equal(sj_layout_size(u), 5);
    assert_int_equal(sj_layout_align(u), 4);
    assert_int_equal(sj_layout_member_offset(u, 1), 0);
    sj_layout_unref(u);
    assert_int_equal(sj_layout_union(NULL, 0, &u, NULL), SJ_OK);
    assert_int_equal(sj_layout_size(u), 0);
    assert_int_equal(sj_layout_align(u), 1);
    sj_layout_unref(u);
    sj_layout_unref(arr);
    sj_layout_unref(b1);
    sj_layout_unref(i4);
}

static void test_sequence_rules(void **state) {
    (void)state;
    /* [2:[j8i4x4]] is size 32 align 8 */
    sj_layout *x4 = NULL;
    assert_int_equal(sj_layout_padding(4, &x4, NULL), SJ_OK);
    sj_layout *m[3] = {VAL(SJ_I64), VAL(SJ_I32), x4};
    sj_layout *rec = group_ok(false, 3, m), *seq = NULL;
    assert_int_equal(sj_layout_sequence(2, rec, &seq, NULL), SJ_OK);
    assert_int_equal(sj_layout_size(seq), 32);
    assert_int_equal(sj_layout_align(seq), 8);
    assert_int_equal(sj_layout_elem_count(seq), 2);
    assert_true(sj_layout_equal(sj_layout_elem(seq), rec));
    sj_layout_unref(seq);
    /* N = 0 is legal; N < 0 is not */
    assert_int_equal(sj_layout_sequence(0, rec, &seq, NULL), SJ_OK);
    assert_int_equal(sj_layout_size(seq), 0);
    sj_layout_unref(seq);
    sj_error err = {0};
    assert_int_equal(sj_layout_sequence(-1, rec, &seq, &err), SJ_E_ARG);
    assert_non_null(strstr(err.message, "-1"));
    sj_layout_unref(rec);
    /* element size must be a multiple of its alignment: [j8i4] (size 12, align 8) */
    sj_layout *m2[2] = {VAL(SJ_I64), VAL(SJ_I32)};
    rec = group_ok(false, 2, m2);
    assert_int_equal(sj_layout_sequence(4, rec, &seq, &err), SJ_E_ARG);
    assert_non_null(strstr(err.message, "multiple"));
    sj_layout_unref(rec);
    /* overflow: N x size beyond 64 bits (or beyond INT64_MAX) */
    sj_layout *j8 = VAL(SJ_I64);
    assert_int_equal(sj_layout_sequence(INT64_MAX / 4, j8, &seq, &err), SJ_E_OVERFLOW);
    assert_int_equal(sj_layout_sequence(INT64_MAX / 8, j8, &seq, NULL), SJ_OK);
    sj_layout *big = seq, *big2 = NULL;
    const sj_layout *two[] = {big, big};
    assert_int_equal(sj_layout_struct(two, 2, &big2, &err), SJ_E_OVERFLOW);
    assert_int_equal(sj_layout_sequence(2, big, &big2, &err), SJ_E_OVERFLOW);
    sj_layout_unref(big);
    sj_layout_unref(j8);
}

static void test_padding_rules(void **state) {
    (void)state;
    sj_layout *p = NULL;
    sj_error err;
    assert_int_equal(sj_layout_padding(0, &p, &err), SJ_E_ARG);
    assert_int_equal(sj_layout_padding(-3, &p, &err), SJ_E_ARG);
    assert_int_equal(sj_layout_padding(7, &p, NULL), SJ_OK);
    assert_int_equal(sj_layout_size(p), 7);
    assert_int_equal(sj_layout_align(p), 1);
    assert_int_equal(sj_layout_tag(p), SJ_PADDING);
    sj_layout *p8 = ALIGN(sj_layout_ref(p), 8);
    assert_int_equal(sj_layout_align(p8), 8);
    assert_false(sj_layout_equal(p, p8));
    sj_layout_unref(p8);
    sj_layout_unref(p);
}

static void test_names_and_equality(void **state) {
    (void)state;
    sj_layout *a = NAME(VAL(SJ_I32), "x"), *b = NAME(VAL(SJ_I32), "x");
    sj_layout *c = NAME(VAL(SJ_I32), "y"), *d = VAL(SJ_I32);
    assert_true(sj_layout_equal(a, b));
    assert_int_equal(sj_layout_hash(a), sj_layout_hash(b));
    assert_false(sj_layout_equal(a, c)); /* names take part in equality */
    assert_false(sj_layout_equal(a, d));
    assert_string_equal(sj_layout_name(a), "x");
    sj_layout *e = NULL;
    assert_int_equal(sj_layout_with_name(a, NULL, &e, NULL), SJ_OK);
    assert_true(sj_layout_equal(e, d));
    sj_layout_unref(e);
    /* duplicate member names are allowed */
    sj_layout *m[2] = {sj_layout_ref(a), sj_layout_ref(b)};
    sj_layout *s = group_ok(false, 2, m);
    assert_int_equal(sj_layout_member_count(s), 2);
    /* alignment takes part in equality */
    sj_layout *s16 = ALIGN(sj_layout_ref(s), 16);
    assert_false(sj_layout_equal(s, s16));
    sj_layout_unref(s16);
    sj_layout_unref(s);
    sj_layout_unref(a);
    sj_layout_unref(b);
    sj_layout_unref(c);
    sj_layout_unref(d);
}

/* Layouts that share their parts, built twice: each level a struct of two of the level
 * below (2^60 paths at 60 levels, a handful of distinct parts). Equality answers at once,
 * true for the two builds, false when one part deep inside differs. */
static sj_layout *shared_tree(int depth, sj_kind leaf, const char *second) {
    sj_layout *l = NAME(VAL(leaf), "v");
    for (int i = 0; i < depth; i++) {
        sj_layout *m[2] = {NAME(sj_layout_ref(l), "a"),
                           NAME(sj_layout_ref(l), i == depth / 2 ? second : "b")};
        sj_layout_unref(l);
        l = group_ok(false, 2, m);
    }
    return l;
}

static void test_equality_shared_parts(void **state) {
    (void)state;
    sj_layout *a = shared_tree(60, SJ_I8, "b"), *b = shared_tree(60, SJ_I8, "b");
    sj_layout *c = shared_tree(60, SJ_I8, "c"), *d = shared_tree(60, SJ_U8, "b");
    assert_true(a != b);
    assert_true(sj_layout_equal(a, b));
    assert_true(sj_layout_equal(b, a));
    assert_false(sj_layout_equal(a, c));
    assert_false(sj_layout_equal(a, d));
    const sj_layout *all[] = {a, b, c, d};
    for (size_t i = 0; i < 4; i++)
        sj_layout_unref(all[i]);
}

static void test_hash_is_stable(void **state) {
    (void)state;
    /* The hash is a function of the layout alone: the same value in every process. The
     * constant was computed once; if the hash function changes, update it knowingly. */
    sj_layout *m[2] = {NAME(VAL(SJ_I32), "x"), NAME(VAL(SJ_F64), "y")};
    sj_layout *s = group_ok(false, 1, m);
    sj_layout *s2 = NULL;
    const sj_layout *mm[] = {s, m[1]};
    assert_int_equal(sj_layout_with_name(s, "p", &s2, NULL), SJ_OK);
    uint64_t h1 = sj_layout_hash(s2);
    sj_layout *again[1] = {NAME(VAL(SJ_I32), "x")};
    sj_layout *t = group_ok(false, 1, again), *t2 = NULL;
    assert_int_equal(sj_layout_with_name(t, "p", &t2, NULL), SJ_OK);
    assert_int_equal(h1, sj_layout_hash(t2));
    printf("hash of [i4(x)](p): 0x%016llx\n", (unsigned long long)h1);
    assert_int_equal(h1, GOLDEN_HASH);
    (void)mm;
    sj_layout_unref(t2);
    sj_layout_unref(t);
    sj_layout_unref(s2);
    sj_layout_unref(s);
    sj_layout_unref(m[1]);
}

static void test_status_names(void **state) {
    (void)state;
    static const char *const names[] = {
        "SJ_OK",         "SJ_E_ARG",      "SJ_E_PATH",   "SJ_E_PARSE",  "SJ_E_BOUNDS",
        "SJ_E_ALIGN",    "SJ_E_READONLY", "SJ_E_CLOSED", "SJ_E_THREAD", "SJ_E_UNSUPPORTED",
        "SJ_E_OVERFLOW", "SJ_E_NOMEM",    "SJ_E_BUSY"};
    for (int s = 0; s < SJ_STATUS_COUNT; s++)
        assert_string_equal(sj_status_name(s), names[s]);
    assert_string_equal(sj_status_name(SJ_STATUS_COUNT), "SJ_E_?");
    assert_string_equal(sj_status_name((sj_status)-1), "SJ_E_?");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_value_kinds),        cmocka_unit_test(test_with_align_values),
        cmocka_unit_test(test_byte_order),         cmocka_unit_test(test_struct_rules),
        cmocka_unit_test(test_group_with_align),   cmocka_unit_test(test_union_rules),
        cmocka_unit_test(test_sequence_rules),     cmocka_unit_test(test_padding_rules),
        cmocka_unit_test(test_names_and_equality), cmocka_unit_test(test_hash_is_stable),
        cmocka_unit_test(test_status_names),       cmocka_unit_test(test_equality_shared_parts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
