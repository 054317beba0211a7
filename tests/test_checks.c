/* tests/test_checks.c: the check order of SEMANTICS 4.2, case by case: for each pair of
 * failing checks, the status (and side) reported is the earlier one, and a failed call
 * writes nothing. Covers sj_copy, kernel runs of every operation, lifetime and thread
 * checks. What the operations compute is tested in the test_kernel_* files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <pthread.h>

#include "tier.h"

enum {
    F_RO = 1,     /* read-only view */
    F_MIS = 2,    /* base misaligned by 2 */
    F_CLOSED = 4, /* its arena closed before the call */
    F_THREAD = 8, /* confined arena, call made from another thread */
};

#define SEG_SIZE 64

typedef struct side_seg {
    sj_arena arena;
    sj_segment whole, seg;
} side_seg;

static void side_open(side_seg *s, int flags, unsigned seed) {
    sj_error err = {0};
    assert_int_equal(
        sj_arena_open(flags & F_THREAD ? SJ_ARENA_CONFINED : SJ_ARENA_SHARED, &s->arena, &err),
        SJ_OK);
    assert_int_equal(sj_arena_allocate(s->arena, SEG_SIZE + 2, 64, &s->whole, &err), SJ_OK);
    for (int i = 0; i < SEG_SIZE + 2; i++)
        s->whole.base[i] = (uint8_t)(i * 13 + seed);
    assert_int_equal(sj_segment_slice(&s->whole, flags & F_MIS ? 2 : 0, SEG_SIZE, &s->seg, &err),
                     SJ_OK);
    if (flags & F_RO) s->seg = sj_segment_readonly(&s->seg);
}

static void side_close(side_seg *s, int flags) {
    if (!(flags & F_CLOSED)) assert_int_equal(sj_arena_close(s->arena, NULL), SJ_OK);
}

typedef struct check_case {
    const char *src_layout, *dst_layout;
    int64_t src_off, dst_off, count;
    int src_flags, dst_flags;
    sj_status expect;
    const char *msg_has; /* a word the message must contain */
} check_case;

/* The call under test, possibly run on another thread. */
typedef struct call {
    const check_case *c;
    side_seg *src, *dst;
    sj_layout *sl, *dl;
    sj_status st;
    sj_error err;
} call;

static void *do_call(void *arg) {
    call *x = arg;
    x->st = sj_copy(&x->src->seg, x->sl, x->c->src_off, &x->dst->seg, x->dl, x->c->dst_off,
                    x->c->count, &x->err);
    return NULL;
}

static void run_case(const check_case *c, size_t index) {
    side_seg s, d;
    side_open(&s, c->src_flags, 1);
    side_open(&d, c->dst_flags, 2);
    uint8_t before[SEG_SIZE + 2];
    memcpy(before, d.whole.base, sizeof before);
    if (c->src_flags & F_CLOSED) assert_int_equal(sj_arena_close(s.arena, NULL), SJ_OK);
    if (c->dst_flags & F_CLOSED) assert_int_equal(sj_arena_close(d.arena, NULL), SJ_OK);
    call x = {c, &s, &d, test_layout(c->src_layout), test_layout(c->dst_layout), SJ_OK, {0}};
    if ((c->src_flags | c->dst_flags) & F_THREAD) {
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, do_call, &x), 0);
        assert_int_equal(pthread_join(t, NULL), 0);
    } else {
        do_call(&x);
    }
    if (x.st != c->expect || (c->msg_has && !strstr(x.err.message, c->msg_has)))
        fail_msg("case %zu (%s -> %s, offsets %lld/%lld, count %lld): got %s \"%s\", expected %s "
                 "with '%s'",
                 index, c->src_layout, c->dst_layout, (long long)c->src_off, (long long)c->dst_off,
                 (long long)c->count, sj_status_name(x.st), x.err.message,
                 sj_status_name(c->expect), c->msg_has ? c->msg_has : "");
    if (!(c->dst_flags & F_CLOSED)) {
        if (c->expect != SJ_OK) assert_memory_equal(d.whole.base, before, sizeof before);
    }
    sj_layout_unref(x.sl);
    sj_layout_unref(x.dl);
    side_close(&s, c->src_flags);
    side_close(&d, c->dst_flags);
}

/* Each row makes two (or more) checks fail; the first in 4.2's order is reported:
 * count < 0, layout sizes, layout alignment, src alignment, dst alignment, src bounds,
 * dst read-only, dst bounds, closed/thread. */
static const check_case copy_cases[] = {
    /* passing calls, for contrast */
    {"i4", "I4", 0, 0, 16, 0, 0, SJ_OK, NULL},
    {"i4", "i4", 4, 8, 0, 0, F_RO, SJ_E_READONLY, "read-only"},
    {"i4", "i4", 64, 64, 0, 0, 0, SJ_OK, NULL},
    /* count < 0 first */
    {"i4", "j8", 0, 0, -1, 0, 0, SJ_E_BOUNDS, "negative"},
    {"8%i4", "i4", 0, 0, -1, 0, 0, SJ_E_BOUNDS, "negative"},
    {"i4", "i4", 2, 0, -1, 0, 0, SJ_E_BOUNDS, "negative"},
    {"i4", "i4", 0, 0, -1, F_CLOSED, 0, SJ_E_BOUNDS, "negative"},
    /* layout sizes before layout alignment */
    {"8%i4", "j8", 0, 0, 1, 0, 0, SJ_E_ARG, "size"},
    /* layout alignment before segment alignment */
    {"8%i4", "i4", 2, 0, 1, 0, 0, SJ_E_ARG, "alignment 8"},
    {"i4", "8%i4", 0, 2, 1, 0, 0, SJ_E_ARG, "destination"},
    /* source alignment before destination alignment */
    {"i4", "i4", 2, 2, 1, 0, 0, SJ_E_ALIGN, "source"},
    {"i4", "i4", 0, 0, 1, F_MIS, F_MIS, SJ_E_ALIGN, "source"},
    /* alignment before bounds (both sides) */
    {"i4", "i4", 2, 0, 100, 0, 0, SJ_E_ALIGN, "source"},
    {"i4", "i4", 0, 2, 100, 0, 0, SJ_E_ALIGN, "destination"},
    {"i4", "i4", 0, 66, 1, 0, 0, SJ_E_ALIGN, "destination"},
    {"i4", "i4", -2, 0, 1, 0, 0, SJ_E_ALIGN, "source"},
    /* destination alignment before read-only */
    {"i4", "i4", 0, 2, 1, 0, F_RO, SJ_E_ALIGN, "destination"},
    /* source bounds before read-only and destination bounds */
    {"i4", "i4", 4, 0, 16, 0, F_RO, SJ_E_BOUNDS, "source"},
    {"i4", "i4", -4, 0, 1, 0, 0, SJ_E_BOUNDS, "source"},
    {"i4", "i4", 68, 68, 0, 0, 0, SJ_E_BOUNDS, "source"},
    {"i4", "i4", 0, 4, 17, 0, 0, SJ_E_BOUNDS, "source"},
    /* read-only before destination bounds */
    {"i4", "i4", 0, 4, 16, 0, F_RO, SJ_E_READONLY, "read-only"},
    {"i4", "i4", 0, -4, 1, 0, F_RO, SJ_E_READONLY, "read-only"},
    /* destination bounds */
    {"i4", "i4", 0, 4, 16, 0, 0, SJ_E_BOUNDS, "destination"},
    {"i4", "i4", 0, -4, 1, 0, 0, SJ_E_BOUNDS, "destination"},
    /* every check above before closed */
    {"i4", "i4", 0, 4, 16, F_CLOSED, 0, SJ_E_BOUNDS, "destination"},
    {"i4", "i4", 0, 4, 16, 0, F_CLOSED, SJ_E_BOUNDS, "destination"},
    {"i4", "i4", 0, 0, 1, 0, F_CLOSED | F_RO, SJ_E_READONLY, NULL},
    {"i4", "i4", 2, 0, 1, F_CLOSED, 0, SJ_E_ALIGN, NULL},
    {"i4", "i4", 0, 0, 1, F_CLOSED, 0, SJ_E_CLOSED, NULL},
    {"i4", "i4", 0, 0, 1, 0, F_CLOSED, SJ_E_CLOSED, NULL},
    {"i4", "i4", 0, 0, 0, F_CLOSED, 0, SJ_E_CLOSED, NULL},
    /* and before thread */
    {"i4", "i4", 0, 4, 16, 0, F_THREAD, SJ_E_BOUNDS, "destination"},
    {"i4", "i4", 0, 0, 1, F_THREAD, 0, SJ_E_THREAD, NULL},
    {"i4", "i4", 0, 0, 1, 0, F_THREAD, SJ_E_THREAD, NULL},
    {"i4", "i4", 0, 0, 1, F_THREAD, F_CLOSED, SJ_E_THREAD, NULL}, /* source acquired first */
    {"i4", "i4", 0, 0, 1, F_CLOSED, F_THREAD, SJ_E_CLOSED, NULL},
    /* extent overflow */
    {"i4", "i4", 0, 0, INT64_MAX / 2, 0, 0, SJ_E_BOUNDS, "overflow"},
    {"i4", "i4", 2, 0, INT64_MAX / 2, 0, 0, SJ_E_ALIGN, NULL},
};

static void test_copy_check_order(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof copy_cases / sizeof copy_cases[0]; i++)
        run_case(&copy_cases[i], i);
}

/* ---- the same order for kernels of the other operations ---- */

typedef struct op_fixture {
    sj_layout *root, *elem;
    sj_path *path;
    tbuf a, b;
} op_fixture;

static sj_status run_k(sj_kernel *k, const sj_segment *s, int64_t so, const sj_segment *d,
                       int64_t dof, int64_t count, sj_error *err) {
    sj_args a = {s, so, d, dof, count};
    sj_result r;
    return sj_kernel_run(k, &a, &r, err);
}

#define EXPECT(call, status, word)                                                                 \
    do {                                                                                           \
        sj_status s_ = (call);                                                                     \
        const char *w_ = (word);                                                                   \
        if (s_ != (status) || (w_ && !strstr(err.message, w_)))                                    \
            fail_msg("%s: got %s \"%s\", expected %s", #call, sj_status_name(s_), err.message,     \
                     sj_status_name(status));                                                      \
    } while (0)

static void test_gather_scatter_order(void **state) {
    (void)state;
    sj_layout *root = test_layout("[8:[j8(b)i4(a)x4]]"); /* 128 bytes, align 8 */
    sj_path *path = test_path(root, "[*].a");
    sj_layout *elem = test_layout("i4");
    sj_error err = {0};
    sj_kernel *g = NULL, *sc = NULL;
    g = test_kernel(sj_kernel_gather(path, elem, 0, &g, &err), &g, &err);
    sc = test_kernel(sj_kernel_scatter(elem, path, 0, &sc, &err), &sc, &err);
    tbuf rb, db;
    tbuf_init(&rb, 128, 0, -1);
    tbuf_init(&db, 64, 0, -1);
    tbuf_pattern(&rb, 1);
    tbuf_pattern(&db, 2);
    uint8_t rbefore[128], dbefore[64];
    memcpy(rbefore, rb.data, 128);
    memcpy(dbefore, db.data, 64);
    sj_segment rro = sj_segment_readonly(&rb.seg), dro = sj_segment_readonly(&db.seg);

    /* gather: count over the path's bound first, then alignment (root align 8) */
    EXPECT(run_k(g, &rb.seg, 4, &db.seg, 2, 9, &err), SJ_E_BOUNDS, "bound");
    EXPECT(run_k(g, &rb.seg, -1, &db.seg, 0, -1, &err), SJ_E_BOUNDS, "negative");
    EXPECT(run_k(g, &rb.seg, 4, &db.seg, 2, 8, &err), SJ_E_ALIGN, "source");
    EXPECT(run_k(g, &rb.seg, 8, &db.seg, 2, 8, &err), SJ_E_ALIGN, "destination");
    /* the root must fit whole at the offset, whatever the count */
    EXPECT(run_k(g, &rb.seg, 8, &dro, 0, 1, &err), SJ_E_BOUNDS, "source");
    EXPECT(run_k(g, &rb.seg, 0, &dro, 0, 1, &err), SJ_E_READONLY, NULL);
    EXPECT(run_k(g, &rb.seg, 0, &db.seg, 36, 8, &err), SJ_E_BOUNDS, "destination");
    EXPECT(run_k(g, &rb.seg, 0, &db.seg, 32, 8, &err), SJ_OK, NULL);
    memcpy(db.data, dbefore, 64);

    /* scatter: the path is the destination */
    EXPECT(run_k(sc, &db.seg, 2, &rb.seg, 4, 9, &err), SJ_E_BOUNDS, "bound");
    EXPECT(run_k(sc, &db.seg, 2, &rb.seg, 4, 8, &err), SJ_E_ALIGN, "source");
    EXPECT(run_k(sc, &db.seg, 0, &rb.seg, 4, 8, &err), SJ_E_ALIGN, "destination");
    EXPECT(run_k(sc, &db.seg, 36, &rro, 8, 8, &err), SJ_E_BOUNDS, "source");
    EXPECT(run_k(sc, &db.seg, 0, &rro, 8, 8, &err), SJ_E_READONLY, NULL);
    EXPECT(run_k(sc, &db.seg, 0, &rb.seg, 8, 8, &err), SJ_E_BOUNDS, "destination");
    assert_memory_equal(rb.data, rbefore, 128);
    assert_memory_equal(db.data, dbefore, 64);
    EXPECT(run_k(sc, &dro, 0, &rb.seg, 0, 8, &err), SJ_OK, NULL);

    tbuf_check_guards(&rb);
    tbuf_check_guards(&db);
    tbuf_free(&rb);
    tbuf_free(&db);
    sj_kernel_free(g);
    sj_kernel_free(sc);
    sj_path_free(path);
    sj_layout_unref(root);
    sj_layout_unref(elem);
}

static void test_other_ops_order(void **state) {
    (void)state;
    sj_error err = {0};
    sj_layout *rec = test_layout("[i4(a)s2(b)s2(c)]"), *rec2 = test_layout("[s2(c)S2(b)I4(a)]");
    sj_layout *j8 = test_layout("j8");
    sj_kernel *cv = NULL, *fl = NULL, *mm = NULL;
    cv = test_kernel(sj_kernel_convert(rec, rec2, 0, &cv, &err), &cv, &err);
    fl = test_kernel(sj_kernel_fill(j8, (sj_value){.i64 = 7}, &fl, &err), &fl, &err);
    mm = test_kernel(sj_kernel_mismatch(&mm, &err), &mm, &err);
    tbuf s, d;
    tbuf_init(&s, 64, 0, -1);
    tbuf_init(&d, 64, 0, -1);
    tbuf_pattern(&s, 3);
    tbuf_pattern(&d, 4);
    uint8_t before[64];
    memcpy(before, d.data, 64);
    sj_segment dro = sj_segment_readonly(&d.seg);

    EXPECT(run_k(cv, &s.seg, 2, &d.seg, 2, -1, &err), SJ_E_BOUNDS, "negative");
    EXPECT(run_k(cv, &s.seg, 2, &d.seg, 2, 100, &err), SJ_E_ALIGN, "source");
    EXPECT(run_k(cv, &s.seg, 0, &d.seg, 2, 100, &err), SJ_E_ALIGN, "destination");
    EXPECT(run_k(cv, &s.seg, 0, &dro, 0, 9, &err), SJ_E_BOUNDS, "source");
    EXPECT(run_k(cv, &s.seg, 0, &dro, 0, 8, &err), SJ_E_READONLY, NULL);
    EXPECT(run_k(cv, &s.seg, 0, &d.seg, 4, 8, &err), SJ_E_BOUNDS, "destination");

    EXPECT(run_k(fl, NULL, 0, &dro, 4, -1, &err), SJ_E_BOUNDS, "negative");
    EXPECT(run_k(fl, NULL, 0, &dro, 4, 100, &err), SJ_E_ALIGN, "destination");
    EXPECT(run_k(fl, NULL, 0, &dro, 8, 100, &err), SJ_E_READONLY, NULL);
    EXPECT(run_k(fl, NULL, 0, &d.seg, 8, 8, &err), SJ_E_BOUNDS, "destination");
    assert_memory_equal(d.data, before, 64);

    /* mismatch reads both sides: bounds of each, no read-only check */
    EXPECT(run_k(mm, &s.seg, 1, &dro, 0, 64, &err), SJ_E_BOUNDS, "source");
    EXPECT(run_k(mm, &s.seg, 0, &dro, 1, 64, &err), SJ_E_BOUNDS, "destination");
    EXPECT(run_k(mm, &s.seg, 0, &dro, 0, 64, &err), SJ_OK, NULL);

    tbuf_check_guards(&d);
    tbuf_free(&s);
    tbuf_free(&d);
    sj_kernel_free(cv);
    sj_kernel_free(fl);
    sj_kernel_free(mm);
    sj_layout_unref(rec);
    sj_layout_unref(rec2);
    sj_layout_unref(j8);
}

/* Checks read the segments' descriptions only: a closed arena's memory is never touched,
 * and the kernel reports CLOSED for every operation. */
static void test_closed_every_op(void **state) {
    (void)state;
    sj_error err = {0};
    sj_arena ar;
    sj_segment seg;
    assert_int_equal(sj_arena_open(SJ_ARENA_SHARED, &ar, &err), SJ_OK);
    assert_int_equal(sj_arena_allocate(ar, 256, 16, &seg, &err), SJ_OK);
    assert_int_equal(sj_arena_close(ar, &err), SJ_OK);
    uint8_t other[256] = {0};
    sj_segment live;
    assert_int_equal(sj_segment_native(other, 256, &live, &err), SJ_OK);

    sj_layout *root = test_layout("[16:[i4(a)i4(b)]]"), *i4 = test_layout("i4");
    sj_path *path = test_path(root, "[*].b");
    sj_kernel *ks[6] = {NULL};
    ks[0] = test_kernel(sj_kernel_copy(i4, i4, &ks[0], &err), &ks[0], &err);
    ks[1] = test_kernel(sj_kernel_convert(i4, i4, 0, &ks[1], &err), &ks[1], &err);
    ks[2] = test_kernel(sj_kernel_gather(path, i4, 0, &ks[2], &err), &ks[2], &err);
    ks[3] = test_kernel(sj_kernel_reduce(path, SJ_REDUCE_MAX, &ks[3], &err), &ks[3], &err);
    ks[4] = test_kernel(sj_kernel_mismatch(&ks[4], &err), &ks[4], &err);
    ks[5] = test_kernel(sj_kernel_fill(i4, (sj_value){.i32 = 1}, &ks[5], &err), &ks[5], &err);
    for (int i = 0; i < 6; i++) {
        EXPECT(run_k(ks[i], &seg, 0, &live, 0, 4, &err), i == 5 ? SJ_OK : SJ_E_CLOSED, NULL);
        EXPECT(run_k(ks[i], &live, 0, &seg, 0, 4, &err), i == 3 ? SJ_OK : SJ_E_CLOSED,
               NULL); /* reduce has no destination */
        sj_kernel_free(ks[i]);
    }
    sj_path_free(path);
    sj_layout_unref(root);
    sj_layout_unref(i4);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copy_check_order),
        cmocka_unit_test(test_gather_scatter_order),
        cmocka_unit_test(test_other_ops_order),
        cmocka_unit_test(test_closed_every_op),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
