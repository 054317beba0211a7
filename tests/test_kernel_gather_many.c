/* tests/test_kernel_gather_many.c: multi-destination gather ("unzip", one pass from an
 * array of records into K dense arrays): K = 1..8, conversions, native and heap, aligned
 * and misaligned bases, stepped and backward paths, guard bytes, the check order of a
 * run (destination #i named), overlap, and the errors found at kernel creation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "reference.h"

#define MAXK 8

/* A record of eight fields (40 bytes, alignment 8). */
#define REC "[i4(a)I4(b)d8(c)j8(d)s2(e)b1(f)x1f4(g)J8(h)]"

typedef struct gm_case {
    const char *root;
    size_t k;
    const char *paths[MAXK];
    const char *elems[MAXK];
    unsigned flags;
} gm_case;

static const gm_case cases[] = {
    /* W5 */
    {"[60:[i4(id)i4(x)d8(y)j8(z)]]",
     4,
     {"[*].id", "[*].x", "[*].y", "[*].z"},
     {"i4", "i4", "d8", "j8"},
     0},
    /* K = 1 .. 8, first field not at offset 0, swaps and conversions */
    {"[60:" REC "]", 1, {"[*].c"}, {"D8"}, 0},
    {"[60:" REC "]", 2, {"[*].h", "[*].b"}, {"j8", "i4"}, 0},
    {"[60:" REC "]", 3, {"[*].e", "[*].a", "[*].g"}, {"j8", "I4", "d8"}, 0},
    {"[60:" REC "]",
     5,
     {"[*].d", "[*].c", "[*].f", "[*].e", "[*].b"},
     {"J8", "F4", "b1", "s2", "d8"},
     SJ_CONVERT_LOSSY},
    {"[60:" REC "]",
     6,
     {"[*].a", "[*].b", "[*].c", "[*].d", "[*].e", "[*].f"},
     {"i4", "i4", "d8", "j8", "s2", "b1"},
     0},
    {"[60:" REC "]",
     7,
     {"[*].g", "[*].f", "[*].e", "[*].d", "[*].c", "[*].b", "[*].a"},
     {"F4", "i4", "i4", "d8", "I4", "j8", "J8"},
     SJ_CONVERT_LOSSY},
    {"[60:" REC "]",
     8,
     {"[*].a", "[*].b", "[*].c", "[*].d", "[*].e", "[*].f", "[*].g", "[*].h"},
     {"i4", "i4", "d8", "j8", "s2", "b1", "f4", "j8"},
     0},
    /* the same value twice, into two arrays */
    {"[60:[i4(a)i4(b)]]", 2, {"[*].b", "[*].b"}, {"i4", "I4"}, 0},
    /* steps and backward paths */
    {"[60:[i4(a)i4(b)]]", 2, {"[1::3].b", "[1::3].a"}, {"i4", "j8"}, 0},
    {"[60:[i4(a)i4(b)]]", 2, {"[59::-1].a", "[59::-1].b"}, {"I4", "i4"}, 0},
    /* nested sequences, contiguous */
    {"[6:[10:[s2(p)s2(q)]]]", 2, {"[4][*].q", "[4][*].p"}, {"s2", "S2"}, 0},
    {"[60:i4]", 1, {"[*]"}, {"i4"}, 0},
    /* unaligned layouts (usable on a misaligned base) */
    {"[60:[b1(t)1%j8(v)]]", 2, {"[*].v", "[*].t"}, {"1%J8", "b1"}, 0},
};

typedef struct gm_fixture {
    sj_layout *root;
    sj_path *paths[MAXK];
    sj_layout *elems[MAXK];
    sj_kernel *k;
} gm_fixture;

static void gm_build(gm_fixture *f, const gm_case *c) {
    memset(f, 0, sizeof *f);
    f->root = test_layout(c->root);
    for (size_t i = 0; i < c->k; i++) {
        f->paths[i] = test_path(f->root, c->paths[i]);
        f->elems[i] = test_layout(c->elems[i]);
    }
    sj_error err = {0};
    f->k = test_kernel(sj_kernel_gather_many((const sj_path *const *)f->paths,
                                             (const sj_layout *const *)f->elems, c->k, c->flags,
                                             &f->k, &err),
                       &f->k, &err);
}

static void gm_free(gm_fixture *f, size_t k) {
    sj_kernel_free(f->k);
    for (size_t i = 0; i < k; i++) {
        sj_path_free(f->paths[i]);
        sj_layout_unref(f->elems[i]);
    }
    sj_layout_unref(f->root);
}

/* Runs one case and compares every byte of every buffer with the reference. */
static void gm_run(const gm_case *c, bool heap, size_t mis, int64_t count) {
    gm_fixture f;
    gm_build(&f, c);
    size_t rsize = (size_t)sj_layout_size(f.root);
    int64_t bound = sj_path_bound(f.paths[0], 0);
    if (count > bound) count = bound;
    tbuf r, d[MAXK];
    uint8_t *dexp[MAXK];
    const sj_segment *dsegs[MAXK];
    int64_t doffs[MAXK];
    size_t dsize[MAXK], esize[MAXK];
    tbuf_init(&r, rsize, mis, heap ? SJ_HEAP_I64 : -1);
    tbuf_pattern(&r, 11);
    uint8_t *rexp = malloc(rsize);
    memcpy(rexp, r.data, rsize);
    bool misaligned = mis % sj_layout_align(f.root) != 0;
    sj_error err = {0};
    for (size_t i = 0; i < c->k; i++) {
        esize[i] = (size_t)sj_layout_size(f.elems[i]);
        doffs[i] = (int64_t)esize[i]; /* each dense array starts one element in */
        dsize[i] = esize[i] * (size_t)(count + 2);
        tbuf_init(&d[i], dsize[i], mis, heap ? SJ_HEAP_F64 : -1);
        tbuf_pattern(&d[i], 20 + (unsigned)i);
        dsegs[i] = &d[i].seg;
        dexp[i] = malloc(dsize[i]);
        memcpy(dexp[i], d[i].data, dsize[i]);
        misaligned = misaligned || mis % sj_layout_align(f.elems[i]) != 0;
        for (int64_t j = 0; j < count; j++) {
            int64_t off;
            assert_int_equal(sj_path_offset(f.paths[i], &j, 1, &off, &err), SJ_OK);
            reference_value(sj_path_leaf(f.paths[i]), r.data + off, f.elems[i],
                            dexp[i] + doffs[i] + j * (int64_t)esize[i]);
        }
    }
    sj_args_many a = {&r.seg, 0, dsegs, doffs, c->k, count};
    sj_status st = sj_kernel_run_many(f.k, &a, &err);
    if (misaligned) {
        assert_int_equal(st, SJ_E_ALIGN);
        for (size_t i = 0; i < c->k; i++) { /* nothing written */
            tbuf check;
            tbuf_init(&check, dsize[i], 0, -1);
            tbuf_pattern(&check, 20 + (unsigned)i);
            assert_memory_equal(d[i].data, check.data, dsize[i]);
            tbuf_free(&check);
        }
    } else {
        if (st != SJ_OK)
            fail_msg("%s k=%zu: %s: %s", c->root, c->k, sj_status_name(st), err.message);
        for (size_t i = 0; i < c->k; i++)
            if (memcmp(d[i].data, dexp[i], dsize[i]) != 0)
                fail_msg("%s %s -> %s (destination #%zu of %zu, %s, mis %zu, count %lld): wrong "
                         "bytes",
                         c->root, c->paths[i], c->elems[i], i, c->k, heap ? "heap" : "native", mis,
                         (long long)count);
        test_check_tier(f.k, heap);
    }
    assert_memory_equal(r.data, rexp, rsize); /* the source is only read */
    tbuf_check_guards(&r);
    for (size_t i = 0; i < c->k; i++) {
        tbuf_check_guards(&d[i]);
        tbuf_free(&d[i]);
        free(dexp[i]);
    }
    free(rexp);
    tbuf_free(&r);
    gm_free(&f, c->k);
}

static void test_gather_many(void **state) {
    (void)state;
    static const int64_t counts[] = {0, 1, 9, 60};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int heap = 0; heap < 2; heap++)
            for (size_t mis = 0; mis < 2; mis++)
                for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++)
                    gm_run(&cases[i], heap, mis, counts[c]);
}

/* W5 at a size that spans many interpreter blocks, and every width of compiled loop. */
static void test_gather_many_large(void **state) {
    (void)state;
    gm_case big = {"[100000:[i4(id)i4(x)d8(y)j8(z)]]",
                   4,
                   {"[*].id", "[*].x", "[*].y", "[*].z"},
                   {"i4", "i4", "d8", "j8"},
                   0};
    for (int64_t n = 99990; n <= 100000; n += 3)
        gm_run(&big, false, 0, n);
    gm_case conv = {"[100000:[i4(id)i4(x)d8(y)j8(z)]]",
                    4,
                    {"[*].z", "[*].y", "[*].x", "[*].id"},
                    {"J8", "F4", "d8", "s2"},
                    SJ_CONVERT_LOSSY};
    gm_run(&conv, false, 0, 100000);
}

/* A kernel of three destinations over [10:[i4(a)i4(b)d8(c)]] (16-byte records), with
 * buffers for every failure of a run. */
typedef struct chk {
    gm_fixture f;
    tbuf r, d[3], big;
    const sj_segment *dsegs[3];
    int64_t doffs[3];
} chk;

static const gm_case chk_case = {
    "[10:[i4(a)i4(b)d8(c)]]", 3, {"[*].a", "[*].b", "[*].c"}, {"i4", "i4", "d8"}, 0};

static void chk_init(chk *c) {
    gm_build(&c->f, &chk_case);
    tbuf_init(&c->r, 160, 0, -1);
    tbuf_pattern(&c->r, 1);
    static const size_t sizes[3] = {40, 40, 80};
    for (int i = 0; i < 3; i++) {
        tbuf_init(&c->d[i], sizes[i], 0, -1);
        tbuf_pattern(&c->d[i], 2 + (unsigned)i);
        c->dsegs[i] = &c->d[i].seg;
        c->doffs[i] = 0;
    }
    tbuf_init(&c->big, 256, 0, -1);
    tbuf_pattern(&c->big, 9);
}

/* Runs with the current arguments; expects status `want` and `needle` in the message,
 * then that nothing was written. */
static void chk_expect(chk *c, int64_t src_off, int64_t count, sj_status want, const char *needle) {
    sj_error err = {0};
    sj_args_many a = {&c->r.seg, src_off, c->dsegs, c->doffs, 3, count};
    sj_status st = sj_kernel_run_many(c->f.k, &a, &err);
    if (st != want)
        fail_msg("got %s (%s), expected %s", sj_status_name(st), err.message, sj_status_name(want));
    if (needle && !strstr(err.message, needle))
        fail_msg("message '%s' does not name '%s'", err.message, needle);
    if (want == SJ_OK) return;
    static const size_t sizes[3] = {40, 40, 80};
    for (int i = 0; i < 3; i++) {
        tbuf check;
        tbuf_init(&check, sizes[i], 0, -1);
        tbuf_pattern(&check, 2 + (unsigned)i);
        assert_memory_equal(c->d[i].data, check.data, sizes[i]);
        tbuf_free(&check);
        tbuf_check_guards(&c->d[i]);
    }
    tbuf check;
    tbuf_init(&check, 256, 0, -1);
    tbuf_pattern(&check, 9);
    assert_memory_equal(c->big.data, check.data, 256);
    tbuf_free(&check);
}

static void chk_reset(chk *c) {
    for (int i = 0; i < 3; i++) {
        c->dsegs[i] = &c->d[i].seg;
        c->doffs[i] = 0;
    }
}

static void chk_free(chk *c) {
    for (int i = 0; i < 3; i++)
        tbuf_free(&c->d[i]);
    tbuf_free(&c->r);
    tbuf_free(&c->big);
    gm_free(&c->f, 3);
}

/* SEMANTICS 4.2 with one source and three destinations: each case makes one check fail
 * together with every later one, and expects the earlier one reported. */
static void test_gather_many_check_order(void **state) {
    (void)state;
    chk c;
    chk_init(&c);
    sj_segment ro0 = sj_segment_readonly(&c.d[0].seg), ro2 = sj_segment_readonly(&c.d[2].seg);

    /* count < 0 before anything */
    c.doffs[1] = 2;
    chk_expect(&c, 4, -1, SJ_E_BOUNDS, "negative");
    /* count above the paths' bound, before alignment */
    chk_expect(&c, 4, 11, SJ_E_BOUNDS, "bound");
    /* source alignment before destination alignment */
    chk_expect(&c, 4, 10, SJ_E_ALIGN, "source");
    /* destination #1's alignment before #2's, before the source's bounds */
    c.doffs[2] = 4;
    chk_expect(&c, 16, 10, SJ_E_ALIGN, "destination #1");
    c.doffs[1] = 0;
    chk_expect(&c, 16, 10, SJ_E_ALIGN, "destination #2");
    /* source bounds before read-only destinations */
    chk_reset(&c);
    c.dsegs[0] = &ro0;
    chk_expect(&c, 16, 10, SJ_E_BOUNDS, "source");
    /* every destination's read-only before any destination's bounds */
    c.dsegs[0] = &c.d[0].seg;
    c.dsegs[2] = &ro2;
    c.doffs[0] = 8;
    chk_expect(&c, 0, 10, SJ_E_READONLY, "destination #2");
    /* destination #0's bounds before #1's */
    c.dsegs[2] = &c.d[2].seg;
    c.doffs[1] = 4;
    chk_expect(&c, 0, 10, SJ_E_BOUNDS, "destination #0");
    c.doffs[0] = 0;
    chk_expect(&c, 0, 10, SJ_E_BOUNDS, "destination #1");
    /* destinations overlapping one another, after bounds, before lifetime */
    chk_reset(&c);
    c.dsegs[0] = &c.big.seg;
    c.dsegs[2] = &c.big.seg;
    c.doffs[0] = 100;
    c.doffs[2] = 64; /* [64, 144) and [100, 140) */
    chk_expect(&c, 0, 10, SJ_E_ARG, "destinations #0 and #2 overlap");
    sj_arena arena;
    sj_segment dead;
    sj_error err = {0};
    assert_int_equal(sj_arena_open(SJ_ARENA_CONFINED, &arena, &err), SJ_OK);
    assert_int_equal(sj_arena_allocate(arena, 40, 8, &dead, &err), SJ_OK);
    assert_int_equal(sj_arena_close(arena, &err), SJ_OK);
    c.dsegs[1] = &dead;
    chk_expect(&c, 0, 10, SJ_E_ARG, "overlap");
    /* lifetime last */
    c.doffs[2] = 0; /* [0, 80) and [100, 140): apart */
    chk_expect(&c, 0, 10, SJ_E_CLOSED, NULL);
    /* adjacent destinations in one segment, and zero elements of overlapping ones, run */
    c.dsegs[1] = &c.big.seg;
    c.doffs[0] = 120;
    c.doffs[1] = 80; /* [120, 160), [80, 120), [0, 80) */
    sj_args_many a = {&c.r.seg, 0, c.dsegs, c.doffs, 3, 10};
    assert_status(sj_kernel_run_many(c.f.k, &a, &err), SJ_OK, &err);
    c.doffs[0] = c.doffs[1] = c.doffs[2] = 0;
    a.count = 0;
    assert_status(sj_kernel_run_many(c.f.k, &a, &err), SJ_OK, &err);
    /* a heap segment and a native one over the same bytes: refused from the bytes */
    chk_reset(&c);
    tbuf_pattern(&c.big, 9); /* the run above wrote into it */
    sj_segment hb;
    assert_int_equal(sj_segment_of_array(SJ_HEAP_I64, c.big.seg.base, 32, &hb, &err), SJ_OK);
    c.dsegs[0] = &hb;
    c.doffs[0] = 64; /* [64, 104) */
    c.dsegs[2] = &c.big.seg;
    c.doffs[2] = 96; /* [96, 176) */
    uint8_t before[256];
    memcpy(before, c.big.seg.base, sizeof before);
    chk_expect(&c, 0, 10, SJ_E_ARG, "destinations #0 and #2 overlap");
    assert_memory_equal(c.big.seg.base, before, sizeof before);
    /* two heap segments over one buffer from different starts (different owners) */
    sj_segment hb2;
    assert_int_equal(sj_segment_of_array(SJ_HEAP_I64, c.big.seg.base + 8, 31, &hb2, &err), SJ_OK);
    c.dsegs[2] = &hb2;
    c.doffs[2] = 88; /* bytes [96, 176) of the buffer */
    chk_expect(&c, 0, 10, SJ_E_ARG, "destinations #0 and #2 overlap");
    assert_memory_equal(c.big.seg.base, before, sizeof before);
    c.dsegs[2] = &c.big.seg;
    c.doffs[2] = 104; /* apart: runs */
    chk_expect(&c, 0, 10, SJ_OK, NULL);
    chk_free(&c);
}

/* Arguments of a run that do not fit the kernel. */
static void test_gather_many_bad_args(void **state) {
    (void)state;
    chk c;
    chk_init(&c);
    sj_error err = {0};
    sj_args_many a = {&c.r.seg, 0, c.dsegs, c.doffs, 2, 10};
    assert_int_equal(sj_kernel_run_many(c.f.k, &a, &err), SJ_E_ARG);
    assert_non_null(strstr(err.message, "2 destinations"));
    a.ndst = 3;
    a.dsts = NULL;
    assert_int_equal(sj_kernel_run_many(c.f.k, &a, &err), SJ_E_ARG);
    const sj_segment *withnull[3] = {&c.d[0].seg, NULL, &c.d[2].seg};
    a.dsts = withnull;
    assert_int_equal(sj_kernel_run_many(c.f.k, &a, &err), SJ_E_ARG);
    assert_non_null(strstr(err.message, "destination #1"));
    a.dsts = c.dsegs;
    a.src = NULL;
    assert_int_equal(sj_kernel_run_many(c.f.k, &a, &err), SJ_E_ARG);
    assert_int_equal(sj_kernel_run_many(NULL, &a, &err), SJ_E_ARG);
    /* the single-destination entry point refuses a multi-destination kernel and back */
    sj_args one = {.src = &c.r.seg, .dst = &c.d[0].seg, .count = 10};
    assert_int_equal(sj_kernel_run(c.f.k, &one, NULL, &err), SJ_E_ARG);
    assert_non_null(strstr(err.message, "sj_kernel_run_many"));
    sj_kernel *g = NULL;
    g = test_kernel(sj_kernel_gather(c.f.paths[0], c.f.elems[0], 0, &g, &err), &g, &err);
    a.src = &c.r.seg;
    assert_int_equal(sj_kernel_run_many(g, &a, &err), SJ_E_ARG);
    sj_kernel_free(g);
    chk_expect(&c, 0, 0, SJ_OK, NULL);
    /* the plan names every destination */
    char *text = NULL;
    assert_int_equal(sj_kernel_describe(c.f.k, &text, &err), SJ_OK);
    assert_non_null(strstr(text, "dst #2"));
    free(text);
    chk_free(&c);
}

/* Destinations overlapping the source: every value is read before any is written. */
static void test_gather_many_overlap(void **state) {
    (void)state;
    gm_fixture f;
    gm_build(&f, &chk_case); /* [10:[i4(a)i4(b)d8(c)]]: 160 bytes */
    for (int dir = 0; dir < 2; dir++) {
        tbuf b;
        tbuf_init(&b, 320, 0, -1);
        tbuf_pattern(&b, 7);
        uint8_t *exp = malloc(320);
        memcpy(exp, b.data, 320);
        /* dir 0: records [0, 160), arrays [120, 160), [80, 120), [0, 80) inside them;
         * dir 1: records [160, 320), arrays [140, 180), [200, 240), [240, 320) */
        int64_t roff = dir ? 160 : 0;
        int64_t doffs[3] = {dir ? 140 : 120, dir ? 200 : 80, dir ? 240 : 0};
        const sj_segment *dsegs[3] = {&b.seg, &b.seg, &b.seg};
        sj_error err = {0};
        for (int i = 0; i < 3; i++)
            for (int64_t j = 0; j < 10; j++) {
                int64_t off;
                assert_int_equal(sj_path_offset(f.paths[i], &j, 1, &off, &err), SJ_OK);
                reference_value(sj_path_leaf(f.paths[i]), b.data + roff + off, f.elems[i],
                                exp + doffs[i] + j * (int64_t)sj_layout_size(f.elems[i]));
            }
        sj_args_many a = {&b.seg, roff, dsegs, doffs, 3, 10};
        assert_status(sj_kernel_run_many(f.k, &a, &err), SJ_OK, &err);
        assert_memory_equal(b.data, exp, 320);
        test_check_tier(f.k, false); /* from a copy of the source, on either tier */
        tbuf_check_guards(&b);
        free(exp);
        tbuf_free(&b);
    }
    gm_free(&f, 3);
}

/* Errors found when the kernel is built. */
static void test_gather_many_errors(void **state) {
    (void)state;
    sj_layout *root = test_layout("[4:[2:[d8(b)i4(a)x4]]]"), *other = test_layout("[5:[i4(a)]]");
    sj_layout *i4 = test_layout("i4"), *f4 = test_layout("f4"), *rec = test_layout("[i4(a)]");
    sj_path *a = test_path(root, "[*][1].a"), *b = test_path(root, "[*][0].b");
    sj_path *two = test_path(root, "[*][*].a"), *group = test_path(root, "[*][0]");
    sj_path *stepped = test_path(root, "[0::2][1].a"), *inner = test_path(root, "[1][*].a");
    sj_path *elsewhere = test_path(other, "[*].a");
    sj_error err = {0};
    sj_kernel *k = NULL;
    const sj_path *p2[2] = {a, b};
    const sj_layout *e2[2] = {i4, i4};
    const sj_path *p9[9] = {a, a, a, a, a, a, a, a, a};
    const sj_layout *e9[9] = {i4, i4, i4, i4, i4, i4, i4, i4, i4};
    assert_int_equal(sj_kernel_gather_many(p2, e2, 0, 0, &k, &err), SJ_E_ARG);
    assert_int_equal(sj_kernel_gather_many(p9, e9, 9, 0, &k, &err), SJ_E_ARG);
    assert_int_equal(sj_kernel_gather_many(p9, e9, 8, 0, &k, &err), SJ_OK);
    sj_kernel_free(k);
    assert_int_equal(sj_kernel_gather_many(NULL, e2, 2, 0, &k, &err), SJ_E_ARG);
    assert_int_equal(sj_kernel_gather_many(p2, e2, 2, 0, NULL, &err), SJ_E_ARG);
    assert_int_equal(sj_kernel_gather_many(p2, e2, 2, 0x80, &k, &err), SJ_E_ARG);
    /* b is a d8: into i4 is lossy */
    assert_int_equal(sj_kernel_gather_many(p2, e2, 2, 0, &k, &err), SJ_E_ARG);
    assert_non_null(strstr(err.message, "LOSSY"));
    assert_int_equal(sj_kernel_gather_many(p2, e2, 2, SJ_CONVERT_LOSSY, &k, &err), SJ_OK);
    sj_kernel_free(k);
    const sj_layout *e2f[2] = {i4, f4};
    assert_int_equal(sj_kernel_gather_many(p2, e2f, 2, SJ_CONVERT_LOSSY, &k, &err), SJ_OK);
    sj_kernel_free(k);
    /* two free indices; no value at the end; not a value layout; NULL entries */
    const sj_path *pt[2] = {a, two};
    assert_int_equal(sj_kernel_gather_many(pt, e2, 2, 0, &k, &err), SJ_E_ARG);
    assert_non_null(strstr(err.message, "free"));
    const sj_path *pg[2] = {a, group};
    assert_int_equal(sj_kernel_gather_many(pg, e2, 2, 0, &k, &err), SJ_E_PATH);
    const sj_layout *er[2] = {i4, rec};
    const sj_path *pa[2] = {a, a};
    assert_int_equal(sj_kernel_gather_many(pa, er, 2, 0, &k, &err), SJ_E_ARG);
    assert_non_null(strstr(err.message, "destination #1"));
    const sj_path *pn[2] = {a, NULL};
    assert_int_equal(sj_kernel_gather_many(pn, e2, 2, 0, &k, &err), SJ_E_ARG);
    /* another root; another bound; another stride */
    const sj_path *po[2] = {a, elsewhere};
    assert_int_equal(sj_kernel_gather_many(po, e2, 2, 0, &k, &err), SJ_E_ARG);
    assert_non_null(strstr(err.message, "layout"));
    const sj_path *ps[2] = {a, stepped};
    assert_int_equal(sj_kernel_gather_many(ps, e2, 2, 0, &k, &err), SJ_E_ARG);
    assert_non_null(strstr(err.message, "bound"));
    const sj_path *pi[2] = {a, inner};
    assert_int_equal(sj_kernel_gather_many(pi, e2, 2, 0, &k, &err), SJ_E_ARG);
    assert_non_null(strstr(err.message, "stride"));
    sj_path *paths[] = {a, b, two, group, stepped, inner, elsewhere};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        sj_path_free(paths[i]);
    sj_layout_unref(root);
    sj_layout_unref(other);
    sj_layout_unref(i4);
    sj_layout_unref(f4);
    sj_layout_unref(rec);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gather_many),
        cmocka_unit_test(test_gather_many_large),
        cmocka_unit_test(test_gather_many_check_order),
        cmocka_unit_test(test_gather_many_bad_args),
        cmocka_unit_test(test_gather_many_overlap),
        cmocka_unit_test(test_gather_many_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
