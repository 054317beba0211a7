/* tests/test_path.c: layout paths (SEMANTICS 4.5): every step kind, free indices and
 * their strides and bounds checked against brute force, offsets, errors and their
 * messages, path text parsing and rendering. Layouts are built with the constructors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "segjit/layout.h"

#include "builders.h"

/* ---- layout builders (tests/builders.h) ---- */

/* A named value of kind k. */
static sj_layout *vn(sj_kind k, const char *name) {
    return NAME(VAL(k), name);
}

/* [[10:[10:[i4(x)i4(y)]]](data)] */
static sj_layout *example_root(void) {
    sj_layout *xy = S(2, vn(SJ_I32, "x"), vn(SJ_I32, "y"));
    return S(1, NAME(SEQ(10, SEQ(10, xy)), "data"));
}

static int64_t offset_ok(const sj_path *p, const int64_t *idx, size_t n) {
    int64_t off = -12345;
    sj_error e = {0};
    sj_status st = sj_path_offset(p, idx, n, &off, &e);
    if (st != SJ_OK)
        fail_msg("offset of '%s': %s %s", sj_path_text(p), sj_status_name(st), e.message);
    return off;
}

/* Parses text expecting failure with `status`; checks that nothing is written and that
 * the message contains every non-NULL needle. */
static void parse_fails(const sj_layout *root, const char *text, sj_status status,
                        const char *needle1, const char *needle2) {
    sj_path *sentinel = (sj_path *)(uintptr_t)0x1234, *p = sentinel;
    sj_error e = {0};
    sj_status st = sj_path_parse(root, text, &p, &e);
    if (st != status)
        fail_msg("'%s': expected %s, got %s (%s)", text, sj_status_name(status), sj_status_name(st),
                 e.message);
    assert_int_equal(e.status, status);
    assert_ptr_equal(p, sentinel);
    assert_null(strchr(e.message, '\n'));
    if (needle1 && !strstr(e.message, needle1))
        fail_msg("'%s': message \"%s\" lacks \"%s\"", text, e.message, needle1);
    if (needle2 && !strstr(e.message, needle2))
        fail_msg("'%s': message \"%s\" lacks \"%s\"", text, e.message, needle2);
}

/* ---- brute force: walks the layout by hand for one concrete choice of indices ---- */

typedef struct tstep {
    char kind; /* 'n' name, 'm' member index, 'i' index, 'o' open, 'r' range */
    const char *name;
    int64_t a, k;
} tstep;

/* Offset of the element selected by steps with free indices idx (-1 when an index
 * leaves the sequence). */
static int64_t brute(const sj_layout *l, const tstep *s, size_t n, const int64_t *idx) {
    int64_t off = 0;
    size_t f = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i].kind == 'n' || s[i].kind == 'm') {
            size_t m = 0;
            if (s[i].kind == 'm') {
                m = (size_t)s[i].a;
            } else {
                while (strcmp(sj_layout_name(sj_layout_member(l, m)), s[i].name) != 0)
                    m++;
            }
            off += (int64_t)sj_layout_member_offset(l, m);
            l = sj_layout_member(l, m);
            continue;
        }
        int64_t e;
        if (s[i].kind == 'i')
            e = s[i].a;
        else if (s[i].kind == 'o')
            e = idx[f++];
        else
            e = s[i].a + idx[f++] * s[i].k;
        if (e < 0 || e >= (int64_t)sj_layout_elem_count(l)) return -1;
        l = sj_layout_elem(l);
        off += e * (int64_t)sj_layout_size(l);
    }
    return off;
}

/* Checks p against brute force for every combination of free indices inside the
 * bounds, and that the bounds are tight: index == bound leaves the sequence. */
static void check_against_brute(const sj_layout *root, const sj_path *p, const tstep *s, size_t n) {
    size_t nf = sj_path_free_count(p);
    int64_t idx[SJ_PATH_MAX_FREE] = {0};
    size_t combos = 0;
    for (;;) {
        int64_t want = brute(root, s, n, idx);
        assert_true(want >= 0);
        assert_int_equal(offset_ok(p, idx, nf), want);
        combos++;
        size_t d = 0;
        while (d < nf && ++idx[d] == sj_path_bound(p, d))
            idx[d++] = 0;
        if (d == nf) break;
    }
    size_t expect = 1;
    for (size_t d = 0; d < nf; d++)
        expect *= (size_t)sj_path_bound(p, d);
    if (expect) assert_int_equal(combos, expect);
    for (size_t d = 0; d < nf; d++) {
        memset(idx, 0, sizeof idx);
        idx[d] = sj_path_bound(p, d);
        assert_int_equal(brute(root, s, n, idx), -1);
        int64_t off = 77;
        sj_error e = {0};
        assert_int_equal(sj_path_offset(p, idx, nf, &off, &e), SJ_E_BOUNDS);
        assert_int_equal(off, 77);
    }
}

/* ---- tests ---- */

static void test_semantics_example(void **state) {
    (void)state;
    sj_layout *root = example_root();
    sj_path *p = path_ok(root, "data[*][*].x");
    assert_string_equal(sj_path_text(p), "data[*][*].x");
    assert_ptr_equal(sj_path_root(p), root);
    assert_int_equal(sj_layout_tag(sj_path_leaf(p)), SJ_VALUE);
    assert_string_equal(sj_layout_name(sj_path_leaf(p)), "x");
    assert_int_equal(sj_path_base_offset(p), 0);
    assert_int_equal(sj_path_free_count(p), 2);
    assert_int_equal(sj_path_stride(p, 0), 80);
    assert_int_equal(sj_path_bound(p, 0), 10);
    assert_int_equal(sj_path_stride(p, 1), 8);
    assert_int_equal(sj_path_bound(p, 1), 10);
    assert_int_equal(offset_ok(p, (int64_t[]){1, 0}, 2), 80);
    assert_int_equal(offset_ok(p, (int64_t[]){9, 9}, 2), 9 * 80 + 9 * 8);
    tstep s[] = {{'n', "data", 0, 0}, {'o', 0, 0, 0}, {'o', 0, 0, 0}, {'n', "x", 0, 0}};
    check_against_brute(root, p, s, 4);
    sj_path_free(p);

    p = path_ok(root, "data[*][*].y");
    assert_int_equal(offset_ok(p, (int64_t[]){1, 0}, 2), 84);
    sj_path_free(p);
    sj_layout_unref(root);
}

static void test_member_steps(void **state) {
    (void)state;
    /* [j8(a)i4(b)i4(c)[2:s2](d)] : a 0, b 8, c 12, d 16 */
    sj_layout *root =
        S(4, vn(SJ_I64, "a"), vn(SJ_I32, "b"), vn(SJ_I32, "c"), NAME(SEQ(2, VAL(SJ_I16)), "d"));
    static const struct {
        const char *text, *norm;
        int64_t off;
        sj_tag leaf;
    } cases[] = {
        {"a", "a", 0, SJ_VALUE},          {".b", "b", 8, SJ_VALUE},
        {"c", "c", 12, SJ_VALUE},         {"#0", "#0", 0, SJ_VALUE},
        {"#2", "#2", 12, SJ_VALUE},       {".#1", "#1", 8, SJ_VALUE},
        {"d", "d", 16, SJ_SEQUENCE},      {"d[1]", "d[1]", 18, SJ_VALUE},
        {"#3[0]", "#3[0]", 16, SJ_VALUE}, {" . d [ 1 ] ", "d[1]", 18, SJ_VALUE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sj_path *p = path_ok(root, cases[i].text);
        assert_string_equal(sj_path_text(p), cases[i].norm);
        assert_int_equal(sj_path_base_offset(p), cases[i].off);
        assert_int_equal(sj_path_free_count(p), 0);
        assert_int_equal(sj_layout_tag(sj_path_leaf(p)), cases[i].leaf);
        assert_int_equal(offset_ok(p, NULL, 0), cases[i].off);
        sj_path_free(p);
    }
    sj_layout_unref(root);
}

static void test_union_members(void **state) {
    (void)state;
    /* [i4(i)|j8(l)|[4:s2](h)|[i4(lo)i4(hi)](w)] */
    sj_layout *root = U(4, vn(SJ_I32, "i"), vn(SJ_I64, "l"), NAME(SEQ(4, VAL(SJ_I16)), "h"),
                        NAME(S(2, vn(SJ_I32, "lo"), vn(SJ_I32, "hi")), "w"));
    sj_path *p = path_ok(root, "l");
    assert_int_equal(sj_path_base_offset(p), 0);
    assert_int_equal(sj_layout_kind(sj_path_leaf(p)), SJ_I64);
    sj_path_free(p);
    p = path_ok(root, "h[3]");
    assert_int_equal(sj_path_base_offset(p), 6);
    sj_path_free(p);
    p = path_ok(root, "w.hi");
    assert_int_equal(sj_path_base_offset(p), 4);
    sj_path_free(p);
    p = path_ok(root, "#3#1");
    assert_int_equal(sj_path_base_offset(p), 4);
    assert_string_equal(sj_path_text(p), "#3#1");
    sj_path_free(p);
    p = path_ok(root, "h[*]");
    assert_int_equal(sj_path_stride(p, 0), 2);
    assert_int_equal(sj_path_bound(p, 0), 4);
    sj_path_free(p);
    sj_layout_unref(root);
}

static void test_duplicate_names_first_wins(void **state) {
    (void)state;
    /* [i4(x)i4(x)[i4(x)](x)] */
    sj_layout *root = S(3, vn(SJ_I32, "x"), vn(SJ_I32, "x"), NAME(S(1, vn(SJ_I32, "x")), "x"));
    sj_path *p = path_ok(root, "x");
    assert_int_equal(sj_path_base_offset(p), 0);
    assert_int_equal(sj_layout_tag(sj_path_leaf(p)), SJ_VALUE);
    sj_path_free(p);
    p = path_ok(root, "#1");
    assert_int_equal(sj_path_base_offset(p), 4);
    sj_path_free(p);
    /* the first `x` is a value, so `x.x` fails even though the third member would do */
    parse_fails(root, "x.x", SJ_E_PATH, "step 'x' at column 3", "member selection on a value");
    p = path_ok(root, "#2.x");
    assert_int_equal(sj_path_base_offset(p), 8);
    sj_path_free(p);
    /* unnamed members are skipped by name lookup */
    sj_layout *r2 = S(2, VAL(SJ_I32), vn(SJ_I32, "n"));
    p = path_ok(r2, "n");
    assert_int_equal(sj_path_base_offset(p), 4);
    sj_path_free(p);
    sj_layout_unref(r2);
    sj_layout_unref(root);
}

static void test_quoted_names(void **state) {
    (void)state;
    sj_layout *root = S(5, vn(SJ_I32, "a b"), vn(SJ_I32, "it's"), vn(SJ_I32, "x.y"),
                        vn(SJ_I32, "back\\slash"), vn(SJ_I32, ""));
    static const struct {
        const char *text, *norm;
        int64_t off;
    } cases[] = {
        {"'a b'", "'a b'", 0}, {".'it\\'s'", "'it\\'s'", 4},
        {"'x.y'", "'x.y'", 8}, {"'back\\\\slash'", "'back\\\\slash'", 12},
        {"''", "''", 16},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sj_path *p = path_ok(root, cases[i].text);
        assert_string_equal(sj_path_text(p), cases[i].norm);
        assert_int_equal(sj_path_base_offset(p), cases[i].off);
        sj_path_free(p);
    }
    /* an identifier in quotes is the same name, printed bare */
    sj_layout *r2 = S(2, vn(SJ_I32, "a"), NAME(SEQ(3, vn(SJ_I32, "v")), "b$1"));
    sj_path *p = path_ok(r2, "'b$1'[2]");
    assert_string_equal(sj_path_text(p), "b$1[2]");
    assert_int_equal(sj_path_base_offset(p), 12);
    sj_path_free(p);
    parse_fails(r2, "'a b'", SJ_E_PATH, "no member named 'a b'", NULL);
    /* API-built steps with such names render quoted */
    sj_path_step st[] = {{SJ_STEP_NAME, "it's", 0, 0}};
    assert_int_equal(sj_path_resolve(root, st, 1, &p, NULL), SJ_OK);
    assert_string_equal(sj_path_text(p), "'it\\'s'");
    assert_int_equal(sj_path_base_offset(p), 4);
    sj_path_free(p);
    sj_layout_unref(r2);
    sj_layout_unref(root);
}

static void test_sequence_index_and_open(void **state) {
    (void)state;
    sj_layout *root = SEQ(10, VAL(SJ_I32));
    sj_path *p = path_ok(root, "[3]");
    assert_int_equal(sj_path_base_offset(p), 12);
    assert_int_equal(sj_path_free_count(p), 0);
    sj_path_free(p);
    p = path_ok(root, "[9]");
    assert_int_equal(sj_path_base_offset(p), 36);
    sj_path_free(p);
    const char *opens[] = {"[]", "[*]", " [ ] ", "[ * ]"};
    for (size_t i = 0; i < 4; i++) {
        p = path_ok(root, opens[i]);
        assert_string_equal(sj_path_text(p), "[*]");
        assert_int_equal(sj_path_free_count(p), 1);
        assert_int_equal(sj_path_stride(p, 0), 4);
        assert_int_equal(sj_path_bound(p, 0), 10);
        assert_int_equal(offset_ok(p, (int64_t[]){7}, 1), 28);
        sj_path_free(p);
    }
    sj_layout_unref(root);
}

static void test_open_on_empty_sequence(void **state) {
    (void)state;
    /* As the JDK: `[]` on a count 0 sequence resolves with bound 0 (every index then
     * fails), while `[s::k]` and `[i]` need an element to start from. */
    sj_layout *root = SEQ(0, VAL(SJ_I32));
    sj_path *p = path_ok(root, "[*]");
    assert_int_equal(sj_path_bound(p, 0), 0);
    int64_t off = 5;
    sj_error e = {0};
    assert_int_equal(sj_path_offset(p, (int64_t[]){0}, 1, &off, &e), SJ_E_BOUNDS);
    assert_int_equal(off, 5);
    sj_path_free(p);
    parse_fails(root, "[0::1]", SJ_E_PATH, "step '[0::1]' at column 1", "start 0 past count 0");
    parse_fails(root, "[0::-1]", SJ_E_PATH, "past count 0", "[0:i4]");
    parse_fails(root, "[0]", SJ_E_PATH, "index 0 past count 0", NULL);
    sj_layout_unref(root);
}

/* bound per SEMANTICS 4.5, computed independently of path.c */
static int64_t formula_bound(int64_t n, int64_t s, int64_t k) {
    if (k > 0) return (n - s + k - 1) / k;
    if (k == INT64_MIN) return 1;
    return (s + 1 + (-k) - 1) / (-k);
}

static void test_range_bounds(void **state) {
    (void)state;
    const int64_t ns[] = {1, 2, 3, 5, 10, 11, 16};
    const int64_t ks[] = {1, 2, 3, 4, 7, 10, 11, 16, -1, -2, -3, -4, -7, -10, -11, -16};
    for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++) {
        int64_t n = ns[a];
        sj_layout *root = SEQ(n, VAL(SJ_I64));
        for (int64_t s = 0; s < n; s++) {
            for (size_t b = 0; b < sizeof ks / sizeof ks[0]; b++) {
                int64_t k = ks[b];
                char text[64];
                snprintf(text, sizeof text, "[%lld::%lld]", (long long)s, (long long)k);
                sj_path *p = path_ok(root, text);
                assert_string_equal(sj_path_text(p), text);
                /* brute force: how many s + i*k stay inside [0, n) */
                int64_t count = 0;
                for (int64_t e = s; e >= 0 && e < n; e += k)
                    count++;
                assert_int_equal(sj_path_bound(p, 0), count);
                assert_int_equal(sj_path_bound(p, 0), formula_bound(n, s, k));
                assert_int_equal(sj_path_base_offset(p), 8 * s);
                assert_int_equal(sj_path_stride(p, 0), 8 * k);
                tstep st[] = {{'r', 0, s, k}};
                check_against_brute(root, p, st, 1);
                sj_path_free(p);
            }
        }
        sj_layout_unref(root);
    }
}

static void test_range_extreme_steps(void **state) {
    (void)state;
    sj_layout *root = SEQ(10, VAL(SJ_I32));
    /* |k| x 4 overflows, but the index can only be 0: accepted (as the JDK), stride 0 */
    sj_path *p = path_ok(root, "[3::9223372036854775807]");
    assert_int_equal(sj_path_bound(p, 0), 1);
    assert_int_equal(sj_path_stride(p, 0), 0);
    assert_int_equal(sj_path_base_offset(p), 12);
    assert_int_equal(offset_ok(p, (int64_t[]){0}, 1), 12);
    sj_path_free(p);
    p = path_ok(root, "[9::-9223372036854775808]");
    assert_string_equal(sj_path_text(p), "[9::-9223372036854775808]");
    assert_int_equal(sj_path_bound(p, 0), 1);
    assert_int_equal(offset_ok(p, (int64_t[]){0}, 1), 36);
    sj_path_free(p);
    /* a step that fits 64 bits once multiplied keeps its stride */
    p = path_ok(root, "[0::1000000000000]");
    assert_int_equal(sj_path_bound(p, 0), 1);
    assert_int_equal(sj_path_stride(p, 0), 4000000000000);
    sj_path_free(p);
    sj_layout_unref(root);
}

static void test_nested_free_indices(void **state) {
    (void)state;
    /* [4:[3:[2:[j8(a)i4(b)i4(c)]]]]: element sizes 96, 32, 16 */
    sj_layout *abc = S(3, vn(SJ_I64, "a"), vn(SJ_I32, "b"), vn(SJ_I32, "c"));
    sj_layout *root = SEQ(4, SEQ(3, SEQ(2, abc)));

    sj_path *p = path_ok(root, "[*][1::1][*].c");
    assert_int_equal(sj_path_free_count(p), 3);
    assert_int_equal(sj_path_stride(p, 0), 96);
    assert_int_equal(sj_path_bound(p, 0), 4);
    assert_int_equal(sj_path_stride(p, 1), 32);
    assert_int_equal(sj_path_bound(p, 1), 2);
    assert_int_equal(sj_path_stride(p, 2), 16);
    assert_int_equal(sj_path_bound(p, 2), 2);
    assert_int_equal(sj_path_base_offset(p), 32 + 12);
    tstep s1[] = {{'o', 0, 0, 0}, {'r', 0, 1, 1}, {'o', 0, 0, 0}, {'n', "c", 0, 0}};
    check_against_brute(root, p, s1, 4);
    sj_path_free(p);

    p = path_ok(root, "[3::-2][2::-2][*]#1");
    assert_int_equal(sj_path_free_count(p), 3);
    assert_int_equal(sj_path_stride(p, 0), -192);
    assert_int_equal(sj_path_bound(p, 0), 2);
    assert_int_equal(sj_path_stride(p, 1), -64);
    assert_int_equal(sj_path_bound(p, 1), 2);
    assert_int_equal(sj_path_base_offset(p), 3 * 96 + 2 * 32 + 8);
    tstep s2[] = {{'r', 0, 3, -2}, {'r', 0, 2, -2}, {'o', 0, 0, 0}, {'m', 0, 1, 0}};
    check_against_brute(root, p, s2, 4);
    sj_path_free(p);

    p = path_ok(root, "[2][*][1].a");
    assert_int_equal(sj_path_free_count(p), 1);
    assert_int_equal(sj_path_stride(p, 0), 32);
    assert_int_equal(sj_path_bound(p, 0), 3);
    tstep s3[] = {{'i', 0, 2, 0}, {'o', 0, 0, 0}, {'i', 0, 1, 0}, {'n', "a", 0, 0}};
    check_against_brute(root, p, s3, 4);
    sj_path_free(p);

    sj_layout_unref(root);
}

static void test_nested_struct_sequence(void **state) {
    (void)state;
    /* [6:[i4(n)[6:s2](v)]]: element size 16 */
    sj_layout *rec = S(2, vn(SJ_I32, "n"), NAME(SEQ(6, VAL(SJ_I16)), "v"));
    sj_layout *root = SEQ(6, rec);
    sj_path *p = path_ok(root, "[1::2].v[5::-3]");
    assert_int_equal(sj_path_free_count(p), 2);
    assert_int_equal(sj_path_bound(p, 0), 3);
    assert_int_equal(sj_path_stride(p, 0), 32);
    assert_int_equal(sj_path_bound(p, 1), 2);
    assert_int_equal(sj_path_stride(p, 1), -6);
    assert_int_equal(sj_path_base_offset(p), 16 + 4 + 10);
    tstep s[] = {{'r', 0, 1, 2}, {'n', "v", 0, 0}, {'r', 0, 5, -3}};
    check_against_brute(root, p, s, 3);
    sj_path_free(p);
    sj_layout_unref(root);
}

static void test_free_index_limit(void **state) {
    (void)state;
    sj_layout *l = VAL(SJ_I8);
    for (int i = 0; i < 9; i++)
        l = SEQ(2, l);
    sj_path *p = path_ok(l, "[*][*][*][*][*][*][*][*][1]");
    assert_int_equal(sj_path_free_count(p), 8);
    assert_int_equal(sj_path_stride(p, 0), 256);
    assert_int_equal(sj_path_stride(p, 7), 2);
    assert_int_equal(offset_ok(p, (int64_t[]){1, 0, 0, 0, 0, 0, 0, 1}, 8), 256 + 2 + 1);
    sj_path_free(p);
    parse_fails(l, "[*][*][*][*][*][*][*][*][*]", SJ_E_ARG, "step '[*]' at column 25",
                "more than 8");
    parse_fails(l, "[*][*][*][*][*][*][*][*][0::1]", SJ_E_ARG, "more than 8", NULL);
    sj_layout_unref(l);
}

static void test_step_errors(void **state) {
    (void)state;
    /* [i4(v)x4(p)[3:[i4(x)](e)](s)] */
    sj_layout *e = NAME(S(1, vn(SJ_I32, "x")), "e");
    sj_layout *root = S(3, vn(SJ_I32, "v"), NAME(PAD(4), "p"), NAME(SEQ(3, e), "s"));
    /* member selection on a sequence */
    parse_fails(root, "s.x", SJ_E_PATH, "step 'x' at column 3",
                "member selection on a sequence layout");
    parse_fails(root, "s#0", SJ_E_PATH, "step '#0' at column 2", "member selection on a sequence");
    /* steps after a value or a padding */
    parse_fails(root, "v.x", SJ_E_PATH, "step 'x' at column 3", "member selection on a value");
    parse_fails(root, "v[0]", SJ_E_PATH, "step '[0]' at column 2",
                "sequence element selection on a value");
    parse_fails(root, "p.x", SJ_E_PATH, "step 'x' at column 3", "on a padding");
    parse_fails(root, "p[*]", SJ_E_PATH, "step '[*]' at column 2", "on a padding");
    parse_fails(root, "s[0].x.y", SJ_E_PATH, "step 'y' at column 8", "on a value");
    /* unknown member */
    parse_fails(root, "q", SJ_E_PATH, "step 'q' at column 1", "no member named 'q'");
    parse_fails(root, "s[1].zz", SJ_E_PATH, "step 'zz' at column 6", "no member named 'zz'");
    /* member index */
    parse_fails(root, "#3", SJ_E_PATH, "step '#3' at column 1",
                "member index 3 past member count 3");
    parse_fails(root, "#-1", SJ_E_PATH, "step '#-1'", "negative member index");
    /* sequence step on a group */
    parse_fails(root, "[0]", SJ_E_PATH, "step '[0]' at column 1",
                "sequence element selection on a struct");
    parse_fails(root, "s[1][*]", SJ_E_PATH, "step '[*]' at column 5", "on a struct");
    parse_fails(root, "s[1][0::1]", SJ_E_PATH, "step '[0::1]' at column 5", "on a struct");
    /* index past count */
    parse_fails(root, "s[3]", SJ_E_PATH, "step '[3]' at column 2", "index 3 past count 3");
    parse_fails(root, "s[-1]", SJ_E_PATH, "step '[-1]'", "negative");
    parse_fails(root, "s[9223372036854775807]", SJ_E_PATH, "index 9223372036854775807 past count 3",
                NULL);
    /* ranges */
    parse_fails(root, "s[0::0]", SJ_E_PATH, "step '[0::0]' at column 2", "step must not be 0");
    parse_fails(root, "s[3::1]", SJ_E_PATH, "step '[3::1]'", "start 3 past count 3");
    parse_fails(root, "s[3::-1]", SJ_E_PATH, "start 3 past count 3", NULL);
    parse_fails(root, "s[-1::1]", SJ_E_PATH, "negative start", NULL);
    /* the layout the step applied to is named */
    parse_fails(root, "s.x", SJ_E_PATH, "sequence layout", "of 's.x'");
    /* multi-line text reports the line */
    parse_fails(root, "s\n  .x", SJ_E_PATH, "step 'x' at line 2, column 4", NULL);
    sj_layout_unref(root);
}

static void test_parse_errors(void **state) {
    (void)state;
    sj_layout *root = S(1, NAME(SEQ(4, VAL(SJ_I32)), "a"));
    static const struct {
        const char *text, *prefix;
    } cases[] = {
        {"[1", "1:3: expected"},
        {"#", "1:2: expected"},
        {"..x", "1:2: expected"},
        {"[a]", "1:2: expected"},
        {"[1::]", "1:5: expected"},
        {"[1::-]", "1:5: expected"},
        {"[1:2]", "1:3: expected"},
        {"[1:]", "1:3: expected"},
        {"[*", "1:3: expected"},
        {"[*1]", "1:3: expected"},
        {"[1 2]", "1:4: expected"},
        {"a b", "1:3: expected"},
        {"a[0]#", "1:6: expected"},
        {"#1x", "1:3: expected"},
        {"x-y", "1:2: expected"},
        {"]", "1:1: expected"},
        {".", "1:2: expected"},
        {"a.", "1:3: expected"},
        {"'ab", "1:4: expected"},
        {"a.'x", "1:5: expected"},
        {"[99999999999999999999]", "1:2: expected"},
        {"[-9223372036854775809]", "1:2: expected"},
        {"[0::9223372036854775808]", "1:5: expected"},
        {"#99999999999999999999", "1:2: expected"},
        {"a\n[", "2:2: expected"},
        {"a[0]\t@", "1:6: expected"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sj_path *p = NULL;
        sj_error e = {0};
        sj_status st = sj_path_parse(root, cases[i].text, &p, &e);
        if (st != SJ_E_PARSE || strncmp(e.message, cases[i].prefix, strlen(cases[i].prefix)) != 0)
            fail_msg("'%s': %s \"%s\", wanted SJ_E_PARSE \"%s...\"", cases[i].text,
                     sj_status_name(st), e.message, cases[i].prefix);
        assert_null(p);
        assert_null(strchr(e.message, '\n'));
    }
    /* syntax is checked before the layout: `q` is unknown but `[` reports first */
    parse_fails(root, "q[", SJ_E_PARSE, "1:3: expected", NULL);
    /* extremes that do fit 64 bits parse, then resolve */
    parse_fails(root, "a[9223372036854775807]", SJ_E_PATH, "past count", NULL);
    parse_fails(root, "a[-9223372036854775808]", SJ_E_PATH, "negative", NULL);
    sj_layout_unref(root);
}

static void test_api_equals_parsed(void **state) {
    (void)state;
    sj_layout *root = example_root();
    sj_layout *r2 = S(2, vn(SJ_I64, "h"), NAME(SEQ(6, SEQ(5, VAL(SJ_I16))), "m"));
    static const struct {
        int which;
        const char *text, *rendered;
        size_t n;
        sj_path_step s[5];
    } cases[] = {
        {0,
         "data[*][*].x",
         "data[*][*].x",
         4,
         {{SJ_STEP_NAME, "data", 0, 0},
          {SJ_STEP_OPEN, NULL, 0, 0},
          {SJ_STEP_OPEN, NULL, 0, 0},
          {SJ_STEP_NAME, "x", 0, 0}}},
        {0,
         ".data[] [*] .y",
         "data[*][*].y",
         4,
         {{SJ_STEP_NAME, "data", 0, 0},
          {SJ_STEP_OPEN, NULL, 0, 0},
          {SJ_STEP_OPEN, NULL, 0, 0},
          {SJ_STEP_NAME, "y", 0, 0}}},
        {0,
         "#0[3][2::-1]#1",
         "#0[3][2::-1]#1",
         4,
         {{SJ_STEP_MEMBER, NULL, 0, 0},
          {SJ_STEP_INDEX, NULL, 3, 0},
          {SJ_STEP_RANGE, NULL, 2, -1},
          {SJ_STEP_MEMBER, NULL, 1, 0}}},
        {0,
         "data[9::-3][1::4]",
         "data[9::-3][1::4]",
         3,
         {{SJ_STEP_NAME, "data", 0, 0}, {SJ_STEP_RANGE, NULL, 9, -3}, {SJ_STEP_RANGE, NULL, 1, 4}}},
        {0, "", "", 0, {{0}}},
        {1, "#1", "#1", 1, {{SJ_STEP_MEMBER, NULL, 1, 0}}},
        {1,
         "m[*][4]",
         "m[*][4]",
         3,
         {{SJ_STEP_NAME, "m", 0, 0}, {SJ_STEP_OPEN, NULL, 0, 0}, {SJ_STEP_INDEX, NULL, 4, 0}}},
        {1, "m[3::-1]", "m[3::-1]", 2, {{SJ_STEP_NAME, "m", 0, 0}, {SJ_STEP_RANGE, NULL, 3, -1}}},
        {1,
         "m [ 005 ] [ 4 :: -2 ]",
         "m[5][4::-2]",
         3,
         {{SJ_STEP_NAME, "m", 0, 0}, {SJ_STEP_INDEX, NULL, 5, 0}, {SJ_STEP_RANGE, NULL, 4, -2}}},
        {1, "m[6]", "m[6]", 2, {{SJ_STEP_NAME, "m", 0, 0}, {SJ_STEP_INDEX, NULL, 6, 0}}},
        {1, "h.x", "h.x", 2, {{SJ_STEP_NAME, "h", 0, 0}, {SJ_STEP_NAME, "x", 0, 0}}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const sj_layout *r = cases[i].which ? r2 : root;
        sj_path *a = NULL, *b = NULL;
        sj_error ea = {0}, eb = {0};
        sj_status sa = sj_path_parse(r, cases[i].text, &a, &ea);
        sj_status sb = sj_path_resolve(r, cases[i].s, cases[i].n, &b, &eb);
        assert_int_equal(sa, sb);
        if (sa != SJ_OK) {
            /* same failure; the API message names the rendered text */
            assert_int_equal(ea.status, eb.status);
            assert_non_null(strstr(eb.message, "step '"));
            continue;
        }
        assert_string_equal(sj_path_text(a), cases[i].rendered);
        assert_string_equal(sj_path_text(b), cases[i].rendered);
        assert_ptr_equal(sj_path_root(a), sj_path_root(b));
        assert_ptr_equal(sj_path_leaf(a), sj_path_leaf(b));
        assert_int_equal(sj_path_base_offset(a), sj_path_base_offset(b));
        assert_int_equal(sj_path_free_count(a), sj_path_free_count(b));
        for (size_t f = 0; f < sj_path_free_count(a); f++) {
            assert_int_equal(sj_path_stride(a, f), sj_path_stride(b, f));
            assert_int_equal(sj_path_bound(a, f), sj_path_bound(b, f));
        }
        /* the rendered text parses back to the same path */
        sj_path *c = path_ok(r, cases[i].rendered);
        assert_string_equal(sj_path_text(c), cases[i].rendered);
        assert_int_equal(sj_path_base_offset(c), sj_path_base_offset(a));
        sj_path_free(c);
        sj_path_free(a);
        sj_path_free(b);
    }
    sj_layout_unref(r2);
    sj_layout_unref(root);
}

static void test_api_errors(void **state) {
    (void)state;
    sj_layout *root = example_root();
    sj_path *sentinel = (sj_path *)(uintptr_t)0x99, *p = sentinel;
    sj_error e = {0};
    /* the message names the step and its column in the rendered text */
    sj_path_step bad[] = {
        {SJ_STEP_NAME, "data", 0, 0}, {SJ_STEP_OPEN, NULL, 0, 0}, {SJ_STEP_NAME, "x", 0, 0}};
    assert_int_equal(sj_path_resolve(root, bad, 3, &p, &e), SJ_E_PATH);
    assert_ptr_equal(p, sentinel);
    assert_non_null(strstr(e.message, "step 'x' at column 9 of 'data[*].x'"));
    assert_non_null(strstr(e.message, "member selection on a sequence layout"));

    sj_path_step zero[] = {{SJ_STEP_NAME, "data", 0, 0}, {SJ_STEP_RANGE, NULL, 0, 0}};
    assert_int_equal(sj_path_resolve(root, zero, 2, &p, &e), SJ_E_PATH);
    assert_non_null(strstr(e.message, "step '[0::0]' at column 5"));

    sj_path_step noname[] = {{SJ_STEP_NAME, NULL, 0, 0}};
    assert_int_equal(sj_path_resolve(root, noname, 1, &p, &e), SJ_E_ARG);
    sj_path_step badkind[] = {{(sj_step_kind)42, NULL, 0, 0}};
    assert_int_equal(sj_path_resolve(root, badkind, 1, &p, &e), SJ_E_ARG);
    assert_int_equal(sj_path_resolve(NULL, bad, 1, &p, &e), SJ_E_ARG);
    assert_int_equal(sj_path_resolve(root, NULL, 2, &p, &e), SJ_E_ARG);
    assert_int_equal(sj_path_resolve(root, bad, 1, NULL, &e), SJ_E_ARG);
    assert_int_equal(sj_path_parse(root, NULL, &p, &e), SJ_E_ARG);
    assert_int_equal(sj_path_parse(NULL, "data", &p, &e), SJ_E_ARG);
    assert_int_equal(sj_path_parse(root, "data", NULL, &e), SJ_E_ARG);
    assert_ptr_equal(p, sentinel);
    /* errors without an sj_error still return the status */
    assert_int_equal(sj_path_parse(root, "nope", &p, NULL), SJ_E_PATH);
    assert_int_equal(sj_path_parse(root, "[", &p, NULL), SJ_E_PARSE);
    assert_ptr_equal(p, sentinel);
    sj_layout_unref(root);
}

static void test_offset_errors(void **state) {
    (void)state;
    sj_layout *root = example_root();
    sj_path *p = path_ok(root, "data[*][2::3].y");
    assert_int_equal(sj_path_bound(p, 1), 3);
    int64_t off = -1;
    sj_error e = {0};
    assert_int_equal(sj_path_offset(p, (int64_t[]){1}, 1, &off, &e), SJ_E_ARG);
    assert_int_equal(sj_path_offset(p, (int64_t[]){1, 1, 1}, 3, &off, &e), SJ_E_ARG);
    assert_int_equal(sj_path_offset(p, NULL, 2, &off, &e), SJ_E_ARG);
    assert_int_equal(sj_path_offset(p, (int64_t[]){1, 1}, 2, NULL, &e), SJ_E_ARG);
    assert_int_equal(sj_path_offset(p, (int64_t[]){10, 0}, 2, &off, &e), SJ_E_BOUNDS);
    assert_non_null(strstr(e.message, "free index 0 is 10, outside [0, 10)"));
    assert_non_null(strstr(e.message, "data[*][2::3].y"));
    assert_int_equal(sj_path_offset(p, (int64_t[]){0, 3}, 2, &off, &e), SJ_E_BOUNDS);
    assert_non_null(strstr(e.message, "free index 1 is 3, outside [0, 3)"));
    assert_int_equal(sj_path_offset(p, (int64_t[]){0, -1}, 2, &off, &e), SJ_E_BOUNDS);
    assert_non_null(strstr(e.message, "free index 1 is -1"));
    assert_int_equal(sj_path_offset(p, (int64_t[]){INT64_MIN, 0}, 2, &off, &e), SJ_E_BOUNDS);
    assert_int_equal(off, -1);
    assert_int_equal(offset_ok(p, (int64_t[]){3, 2}, 2), 3 * 80 + 8 * 8 + 4);
    /* out-of-range queries answer 0 */
    assert_int_equal(sj_path_stride(p, 2), 0);
    assert_int_equal(sj_path_bound(p, 5), 0);
    sj_path_free(p);
    sj_layout_unref(root);
}

static void test_empty_path(void **state) {
    (void)state;
    sj_layout *root = example_root();
    const char *texts[] = {"", "   ", "\n\t"};
    for (size_t i = 0; i < 3; i++) {
        sj_path *p = path_ok(root, texts[i]);
        assert_ptr_equal(sj_path_root(p), root);
        assert_ptr_equal(sj_path_leaf(p), root);
        assert_int_equal(sj_path_base_offset(p), 0);
        assert_int_equal(sj_path_free_count(p), 0);
        assert_string_equal(sj_path_text(p), "");
        assert_int_equal(offset_ok(p, NULL, 0), 0);
        sj_path_free(p);
    }
    sj_path *p = NULL;
    assert_int_equal(sj_path_resolve(root, NULL, 0, &p, NULL), SJ_OK);
    assert_ptr_equal(sj_path_leaf(p), root);
    assert_string_equal(sj_path_text(p), "");
    sj_path_free(p);
    /* on a value layout too */
    sj_layout *v = VAL(SJ_F64);
    p = path_ok(v, "");
    assert_ptr_equal(sj_path_leaf(p), v);
    sj_path_free(p);
    sj_layout_unref(v);
    sj_layout_unref(root);
}

static void test_path_keeps_layouts_alive(void **state) {
    (void)state;
    sj_layout *root = example_root();
    sj_path *p = path_ok(root, "data[*][5].y");
    sj_layout_unref(root); /* the path holds its own references */
    assert_int_equal(sj_layout_size(sj_path_root(p)), 800);
    assert_string_equal(sj_layout_name(sj_path_leaf(p)), "y");
    assert_int_equal(offset_ok(p, (int64_t[]){2}, 1), 160 + 40 + 4);
    sj_path_free(p);
    sj_path_free(NULL);
    assert_null(sj_path_text(NULL));
    assert_int_equal(sj_path_free_count(NULL), 0);
}

static void test_path_ends_anywhere(void **state) {
    (void)state;
    /* As the JDK's byteOffset: a path may end on a group, sequence or padding; whether
     * the leaf must be a value is for the operation using the path to decide. */
    sj_layout *root =
        S(3, vn(SJ_I32, "a"), NAME(PAD(4), "p"), NAME(SEQ(2, S(1, vn(SJ_I64, "q"))), "s"));
    sj_path *p = path_ok(root, "p");
    assert_int_equal(sj_layout_tag(sj_path_leaf(p)), SJ_PADDING);
    assert_int_equal(sj_path_base_offset(p), 4);
    sj_path_free(p);
    p = path_ok(root, "s[*]");
    assert_int_equal(sj_layout_tag(sj_path_leaf(p)), SJ_STRUCT);
    assert_int_equal(sj_path_stride(p, 0), 8);
    sj_path_free(p);
    sj_layout_unref(root);
}

/* Wide structs and unions (looked up through their name index): every name finds the
 * first member of that name, in the group and in copies made by with_name and
 * with_align; an absent name is an error naming it. */
static void test_wide_groups(void **state) {
    (void)state;
    enum { N = 200 };
    for (int is_union = 0; is_union < 2; is_union++) {
        sj_layout *m[N];
        char name[32];
        for (int i = 0; i < N; i++) {
            /* names repeat from member 150 on: m0, m1, ... again */
            snprintf(name, sizeof name, "m%d", i < 150 ? i : i - 150);
            m[i] = vn(i % 3 ? SJ_I32 : SJ_I64, name);
        }
        sj_layout *g = NULL;
        if (is_union)
            assert_int_equal(sj_layout_union((const sj_layout *const *)m, N, &g, NULL), SJ_OK);
        else
            assert_int_equal(sj_layout_struct((const sj_layout *const *)m, N, &g, NULL), SJ_OK);
        sj_layout *copies[3] = {g, NULL, NULL};
        assert_int_equal(sj_layout_with_name(g, "w", &copies[1], NULL), SJ_OK);
        assert_int_equal(sj_layout_with_align(g, 64, &copies[2], NULL), SJ_OK);
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < 150; i++) {
                snprintf(name, sizeof name, "m%d", i);
                sj_path *p = NULL;
                sj_error err = {0};
                if (sj_path_parse(copies[c], name, &p, &err) != SJ_OK)
                    fail_msg("%s: %s", name, err.message);
                assert_int_equal(sj_path_base_offset(p),
                                 sj_layout_member_offset(copies[c], (size_t)i));
                assert_ptr_equal(sj_path_leaf(p), sj_layout_member(copies[c], (size_t)i));
                sj_path_free(p);
            }
            sj_path *p = NULL;
            sj_error err = {0};
            assert_int_equal(sj_path_parse(copies[c], "m150", &p, &err), SJ_E_PATH);
            /* the layout in the message: its text cut to 95 bytes (92 and "...") */
            char *full = NULL, want[160];
            assert_int_equal(sj_layout_print(copies[c], &full, NULL), SJ_OK);
            assert_true(strlen(full) > 95);
            snprintf(want, sizeof want, "no member named 'm150' in %s layout %.92s...",
                     is_union ? "union" : "struct", full);
            if (!strstr(err.message, want)) fail_msg("%s\nlacks\n%s", err.message, want);
            free(full);
        }
        for (int c = 0; c < 3; c++)
            sj_layout_unref(copies[c]);
        for (int i = 0; i < N; i++)
            sj_layout_unref(m[i]);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_semantics_example),
        cmocka_unit_test(test_member_steps),
        cmocka_unit_test(test_union_members),
        cmocka_unit_test(test_duplicate_names_first_wins),
        cmocka_unit_test(test_quoted_names),
        cmocka_unit_test(test_sequence_index_and_open),
        cmocka_unit_test(test_open_on_empty_sequence),
        cmocka_unit_test(test_range_bounds),
        cmocka_unit_test(test_range_extreme_steps),
        cmocka_unit_test(test_nested_free_indices),
        cmocka_unit_test(test_nested_struct_sequence),
        cmocka_unit_test(test_free_index_limit),
        cmocka_unit_test(test_step_errors),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_api_equals_parsed),
        cmocka_unit_test(test_api_errors),
        cmocka_unit_test(test_offset_errors),
        cmocka_unit_test(test_empty_path),
        cmocka_unit_test(test_path_keeps_layouts_alive),
        cmocka_unit_test(test_path_ends_anywhere),
        cmocka_unit_test(test_wide_groups),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
