/* tests/test_view.c: checked views (segjit/view.h): open in SEMANTICS 4.1 order with its
 * messages, arenas that refuse to close while a view is open (SJ_E_BUSY), heap segments
 * that hold still (of_array, pin callbacks counted balanced) or may move (refused), fields
 * of every value kind in both byte orders agreeing with accessors, fields over open and
 * closed paths with fixed indices, and every failure of a field recorded, reported once
 * and writing nothing. Built without NDEBUG so that a field of a closed view reports. */
#undef NDEBUG
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <pthread.h>

#include "pinned.h"
#include "segjit/accessor.h"
#include "segjit/view.h"
#include "tier.h"

static void expect(sj_status got, sj_status want, const sj_error *err, const char *message) {
    if (got != want)
        fail_msg("status %s, expected %s (%s)", sj_status_name(got), sj_status_name(want),
                 err->message);
    if (message && strcmp(err->message, message) != 0)
        fail_msg("message '%s', expected '%s'", err->message, message);
}

static sj_accessor *accessor(const char *root, const char *path) {
    sj_layout *l = test_layout(root);
    sj_accessor *a = NULL;
    sj_error err = {0};
    expect(sj_accessor_new(l, path, &a, &err), SJ_OK, &err, NULL);
    sj_layout_unref(l);
    return a;
}

/* ---- open and close ---- */

static void test_open_order_and_messages(void **state) {
    (void)state;
    for (int kind = 0; kind < 2; kind++) {
        sj_arena arena;
        sj_segment seg, ro;
        sj_view v;
        sj_error err = {0};
        expect(sj_arena_open(kind ? SJ_ARENA_SHARED : SJ_ARENA_CONFINED, &arena, &err), SJ_OK, &err,
               NULL);
        expect(sj_arena_allocate(arena, 64, 8, &seg, &err), SJ_OK, &err, NULL);
        ro = sj_segment_readonly(&seg);

        expect(sj_view_open(&seg, 0, -1, SJ_VIEW_WRITE, &v, &err), SJ_OK, &err, NULL);
        assert_int_equal(v.size, 64);
        assert_ptr_equal(v.data, seg.base);
        expect(sj_view_close(&v, &err), SJ_OK, &err, NULL);
        expect(sj_view_open(&seg, 8, 16, SJ_VIEW_READ, &v, &err), SJ_OK, &err, NULL);
        assert_int_equal(v.size, 16);
        assert_ptr_equal(v.data, seg.base + 8);
        expect(sj_view_close(&v, &err), SJ_OK, &err, NULL);
        expect(sj_view_open(&seg, 64, -1, SJ_VIEW_READ, &v, &err), SJ_OK, &err, NULL); /* empty */
        assert_int_equal(v.size, 0);
        expect(sj_view_close(&v, &err), SJ_OK, &err, NULL);

        /* arguments */
        expect(sj_view_open(NULL, 0, -1, 0, &v, &err), SJ_E_ARG, &err,
               "view open: segment or output is NULL");
        expect(sj_view_open(&seg, 0, -1, 6, &v, &err), SJ_E_ARG, &err,
               "view open: unknown flags 0x6");
        expect(sj_view_open(&seg, 0, -2, 0, &v, &err), SJ_E_ARG, &err,
               "view open: size -2 is negative");
        /* read-only before bounds, bounds before closed */
        expect(sj_view_open(&ro, 100, 8, SJ_VIEW_WRITE, &v, &err), SJ_E_READONLY, &err,
               "view open: a writable view at offset 100 of a read-only segment");
        expect(sj_view_open(&ro, 0, 8, SJ_VIEW_READ, &v, &err), SJ_OK, &err, NULL);
        expect(sj_view_close(&v, &err), SJ_OK, &err, NULL);
        expect(sj_view_open(&seg, 60, 8, SJ_VIEW_READ, &v, &err), SJ_E_BOUNDS, &err,
               "view open: 8 bytes at offset 60 are out of bounds for a segment of size 64");
        expect(sj_view_open(&seg, -1, 8, SJ_VIEW_READ, &v, &err), SJ_E_BOUNDS, &err, NULL);
        expect(sj_view_open(&seg, 65, -1, SJ_VIEW_READ, &v, &err), SJ_E_BOUNDS, &err, NULL);
        expect(sj_arena_close(arena, &err), SJ_OK, &err, NULL);
        expect(sj_view_open(&ro, 100, 8, SJ_VIEW_WRITE, &v, &err), SJ_E_READONLY, &err, NULL);
        expect(sj_view_open(&seg, 60, 8, SJ_VIEW_READ, &v, &err), SJ_E_BOUNDS, &err, NULL);
        expect(sj_view_open(&seg, 0, 8, SJ_VIEW_READ, &v, &err), SJ_E_CLOSED, &err,
               "view: its arena is closed");
    }
}

static void test_close_twice_and_never_opened(void **state) {
    (void)state;
    uint8_t mem[16] = {0};
    sj_segment seg;
    sj_view v;
    sj_error err = {0};
    expect(sj_segment_native(mem, 16, &seg, &err), SJ_OK, &err, NULL);
    expect(sj_view_open(&seg, 0, -1, SJ_VIEW_READ, &v, &err), SJ_OK, &err, NULL);
    expect(sj_view_close(&v, &err), SJ_OK, &err, NULL);
    expect(sj_view_close(&v, &err), SJ_E_CLOSED, &err, "view close: the view is not open");
    sj_view zero;
    memset(&zero, 0, sizeof zero);
    expect(sj_view_close(&zero, &err), SJ_E_CLOSED, &err, NULL);
    /* an empty native segment may sit at address 0: still viewable */
    sj_segment empty;
    expect(sj_segment_native(NULL, 0, &empty, &err), SJ_OK, &err, NULL);
    expect(sj_view_open(&empty, 0, -1, SJ_VIEW_READ, &v, &err), SJ_OK, &err, NULL);
    assert_int_equal(v.size, 0);
    expect(sj_view_close(&v, &err), SJ_OK, &err, NULL);
    expect(sj_view_open(&empty, 0, -1, SJ_VIEW_READ, &v, &err), SJ_OK, &err, NULL);
    sj_accessor *any = accessor("i4", "[*]");
    sj_field f;
    expect(sj_view_field(&v, any, NULL, 0, &f, &err), SJ_OK, &err, NULL);
    assert_int_equal(sj_field_count(&f), 0); /* nothing to read, and no address */
    assert_int_equal(sj_field_get_i32(&f, 0), 0);
    expect(sj_field_status(&f, &err), SJ_E_BOUNDS, &err, NULL);
    expect(sj_view_close(&v, &err), SJ_OK, &err, NULL);
    sj_accessor_free(any);
    expect(sj_segment_of_array(SJ_HEAP_I32, NULL, 0, &empty, &err), SJ_OK, &err, NULL);
    expect(sj_view_open(&empty, 0, -1, SJ_VIEW_READ, &v, &err), SJ_OK, &err, NULL);
    expect(sj_view_close(&v, &err), SJ_OK, &err, NULL);
    expect(sj_view_close(NULL, &err), SJ_E_ARG, &err, "view close: view is NULL");
    /* a copy cannot close it (a close counted twice would let the arena close under
     * another open view): SJ_E_ARG, nothing changes, the original still closes */
    sj_arena a;
    expect(sj_arena_open(SJ_ARENA_CONFINED, &a, &err), SJ_OK, &err, NULL);
    expect(sj_arena_allocate(a, 16, 8, &seg, &err), SJ_OK, &err, NULL);
    sj_view v2;
    expect(sj_view_open(&seg, 0, -1, SJ_VIEW_READ, &v, &err), SJ_OK, &err, NULL);
    expect(sj_view_open(&seg, 0, -1, SJ_VIEW_READ, &v2, &err), SJ_OK, &err, NULL);
    sj_view copy = v;
    expect(sj_view_close(&copy, &err), SJ_E_ARG, &err,
           "view close: this is a copy of a view; close it through the object it was opened in");
    expect(sj_view_close(&v, &err), SJ_OK, &err, NULL);
    expect(sj_arena_close(a, &err), SJ_E_BUSY, &err, NULL); /* v2 is still open */
    expect(sj_view_close(&v2, &err), SJ_OK, &err, NULL);
    expect(sj_arena_close(a, &err), SJ_OK, &err, NULL);
}

/* While a view is open its arena refuses to close (and stays usable); after, it closes. */
static void test_busy(void **state) {
    (void)state;
    for (int kind = 0; kind < 2; kind++) {
        sj_arena arena;
        sj_segment seg;
        sj_view v1, v2;
        sj_error err = {0};
        expect(sj_arena_open(kind ? SJ_ARENA_SHARED : SJ_ARENA_CONFINED, &arena, &err), SJ_OK, &err,
               NULL);
        expect(sj_arena_allocate(arena, 32, 8, &seg, &err), SJ_OK, &err, NULL);
        expect(sj_view_open(&seg, 0, -1, SJ_VIEW_WRITE, &v1, &err), SJ_OK, &err, NULL);
        expect(sj_arena_close(arena, &err), SJ_E_BUSY, &err,
               "arena close: 1 view of the arena is open");
        expect(sj_view_open(&seg, 8, 8, SJ_VIEW_READ, &v2, &err), SJ_OK, &err, NULL);
        expect(sj_arena_close(arena, &err), SJ_E_BUSY, &err,
               "arena close: 2 views of the arena are open");
        /* the refused close changed nothing: the memory is still there and usable */
        sj_value val = {.i64 = 7};
        sj_layout *j8 = test_layout("j8");
        expect(sj_set(&seg, j8, 8, val, &err), SJ_OK, &err, NULL);
        expect(sj_view_close(&v1, &err), SJ_OK, &err, NULL);
        expect(sj_arena_close(arena, &err), SJ_E_BUSY, &err, NULL);
        expect(sj_view_close(&v2, &err), SJ_OK, &err, NULL);
        expect(sj_arena_close(arena, &err), SJ_OK, &err, NULL);
        expect(sj_get(&seg, j8, 8, &val, &err), SJ_E_CLOSED, &err, NULL);
        /* a view of the closed arena holds nothing: a new arena (maybe on the same scope)
         * closes at once */
        expect(sj_view_open(&seg, 0, 8, SJ_VIEW_READ, &v1, &err), SJ_E_CLOSED, &err, NULL);
        expect(sj_arena_open(SJ_ARENA_SHARED, &arena, &err), SJ_OK, &err, NULL);
        expect(sj_arena_close(arena, &err), SJ_OK, &err, NULL);
        sj_layout_unref(j8);
    }
}

/* On another thread: open a view of `seg` (closed again at once), or close `view`. */
typedef struct other {
    const sj_segment *seg;
    sj_view *view;
    sj_status st;
    sj_error err;
} other;

static void *elsewhere(void *p) {
    other *o = p;
    if (o->view) {
        o->st = sj_view_close(o->view, &o->err);
        return NULL;
    }
    sj_view v;
    o->st = sj_view_open(o->seg, 0, -1, SJ_VIEW_READ, &v, &o->err);
    if (o->st == SJ_OK) sj_view_close(&v, NULL);
    return NULL;
}

static void run_elsewhere(other *o) {
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, elsewhere, o), 0);
    pthread_join(t, NULL);
}

static void test_threads(void **state) {
    (void)state;
    for (int kind = 0; kind < 2; kind++) {
        sj_arena arena;
        sj_segment seg;
        sj_error err = {0};
        expect(sj_arena_open(kind ? SJ_ARENA_SHARED : SJ_ARENA_CONFINED, &arena, &err), SJ_OK, &err,
               NULL);
        expect(sj_arena_allocate(arena, 32, 8, &seg, &err), SJ_OK, &err, NULL);
        other o = {&seg, NULL, SJ_OK, {0}};
        run_elsewhere(&o);
        if (kind) {
            expect(o.st, SJ_OK, &o.err, NULL);
        } else {
            expect(o.st, SJ_E_THREAD, &o.err, NULL);
            assert_non_null(strstr(o.err.message, "view: its arena is confined to thread "));
        }
        /* a view is closed by its arena's owner: another thread is THREAD (shared: anyone) */
        sj_view v;
        expect(sj_view_open(&seg, 0, -1, SJ_VIEW_READ, &v, &err), SJ_OK, &err, NULL);
        other c = {NULL, &v, SJ_OK, {0}};
        run_elsewhere(&c);
        if (kind) {
            expect(c.st, SJ_OK, &c.err, NULL);
        } else {
            expect(c.st, SJ_E_THREAD, &c.err, NULL);
            assert_non_null(strstr(c.err.message, "view close: its arena is confined to thread "));
            /* still open: the arena is busy until its owner closes the view */
            expect(sj_arena_close(arena, &err), SJ_E_BUSY, &err, NULL);
            expect(sj_view_close(&v, &err), SJ_OK, &err, NULL);
        }
        /* nothing was left counted: the arena closes */
        expect(sj_arena_close(arena, &err), SJ_OK, &err, NULL);
        /* closed: CLOSED from any thread */
        run_elsewhere(&o);
        expect(o.st, SJ_E_CLOSED, &o.err, NULL);
    }
}

/* ---- heap segments ---- */

static void test_heap_views(void **state) {
    (void)state;
    int64_t data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    runtime_array r = {data, 0, 0, 0, false};
    sj_segment moving, still, pinned;
    sj_view v;
    sj_error err = {0};
    expect(sj_segment_heap(SJ_HEAP_I64, 8, &r, ra_resolve, &moving, &err), SJ_OK, &err, NULL);
    expect(sj_view_open(&moving, 0, -1, SJ_VIEW_READ, &v, &err), SJ_E_UNSUPPORTED, &err, NULL);
    assert_non_null(strstr(err.message, "without pin callbacks may move"));
    assert_int_equal(r.resolves, 0);

    expect(sj_segment_of_array(SJ_HEAP_I64, data, 8, &still, &err), SJ_OK, &err, NULL);
    expect(sj_view_open(&still, 16, 16, SJ_VIEW_WRITE, &v, &err), SJ_OK, &err, NULL);
    assert_ptr_equal(v.data, (uint8_t *)data + 16);
    expect(sj_view_close(&v, &err), SJ_OK, &err, NULL);

    expect(sj_segment_heap_pinned(SJ_HEAP_I64, 8, &r, ra_resolve, ra_pin, NULL, &pinned, &err),
           SJ_E_ARG, &err, "heap segment: pin or unpin function is NULL");
    expect(sj_segment_heap_pinned(SJ_HEAP_I64, 8, &r, ra_resolve, ra_pin, ra_unpin, &pinned, &err),
           SJ_OK, &err, NULL);
    expect(sj_view_open(&pinned, 8, -1, SJ_VIEW_WRITE, &v, &err), SJ_OK, &err, NULL);
    assert_int_equal(r.pins, 1);
    assert_int_equal(r.unpins, 0);
    assert_int_equal(r.resolves, 1);
    assert_ptr_equal(v.data, (uint8_t *)data + 8);
    assert_int_equal(v.size, 56);
    expect(sj_view_close(&v, &err), SJ_OK, &err, NULL);
    assert_int_equal(r.unpins, 1);
    /* failed opens hold nothing: checks before the pin, and a resolve that fails unpins */
    expect(sj_view_open(&pinned, 8, 64, SJ_VIEW_READ, &v, &err), SJ_E_BOUNDS, &err, NULL);
    expect(sj_view_open(&pinned, 0, 8, 4, &v, &err), SJ_E_ARG, &err, NULL);
    r.gone = true;
    expect(sj_view_open(&pinned, 0, 8, SJ_VIEW_READ, &v, &err), SJ_E_ARG, &err,
           "view open: the heap segment's resolve returned NULL");
    assert_int_equal(r.pins, 2);
    assert_int_equal(r.unpins, 2);
    r.gone = false;
    sj_segment ro = sj_segment_readonly(&pinned);
    expect(sj_view_open(&ro, 0, 8, SJ_VIEW_WRITE, &v, &err), SJ_E_READONLY, &err, NULL);
    assert_int_equal(r.pins, 2);
    assert_int_equal(r.unpins, 2);
}

/* ---- fields ---- */

/* Every kind, both byte orders: values set through a field read back through the field
 * and through an accessor, and sit in memory in the layout's byte order. */
#define KIND_CASE(NAME, KIND, T, V)                                                                \
    do {                                                                                           \
        for (int big = 0; big < 2; big++) {                                                        \
            sj_layout *value = NULL, *ordered = NULL;                                              \
            assert_int_equal(sj_layout_value(KIND, &value, &err), SJ_OK);                          \
            assert_int_equal(                                                                      \
                sj_layout_with_order(value, big ? SJ_ORDER_BIG : SJ_ORDER_LITTLE, &ordered, &err), \
                SJ_OK);                                                                            \
            sj_accessor *a = NULL;                                                                 \
            expect(sj_accessor_new(ordered, "[*]", &a, &err), SJ_OK, &err, NULL);                  \
            size_t sz = (size_t)sj_layout_size(ordered);                                           \
            memset(mem, 0, sizeof mem);                                                            \
            sj_view v;                                                                             \
            sj_field f;                                                                            \
            expect(sj_view_open(&seg, 0, (int64_t)(10 * sz), SJ_VIEW_WRITE, &v, &err), SJ_OK,      \
                   &err, NULL);                                                                    \
            expect(sj_view_field(&v, a, NULL, 0, &f, &err), SJ_OK, &err, NULL);                    \
            assert_int_equal(sj_field_count(&f), 10);                                              \
            for (int64_t i = 0; i < 10; i++)                                                       \
                sj_field_set_##NAME(&f, i, (T)(V));                                                \
            for (int64_t i = 0; i < 10; i++) {                                                     \
                T got = sj_field_get_##NAME(&f, i), via;                                           \
                assert_true(got == (T)(V));                                                        \
                expect(sj_accessor_get_##NAME(a, &seg, 0, &i, 1, &via, &err), SJ_OK, &err, NULL);  \
                assert_true(via == got);                                                           \
                T host = (T)(V);                                                                   \
                uint8_t hb[8];                                                                     \
                memcpy(hb, &host, sz);                                                             \
                for (size_t j = 0; j < sz && KIND != SJ_BOOL; j++)                                 \
                    assert_int_equal(mem[i * (int64_t)sz + (int64_t)j],                            \
                                     hb[big && sz > 1 ? sz - 1 - j : j]);                          \
            }                                                                                      \
            expect(sj_field_status(&f, &err), SJ_OK, &err, NULL);                                  \
            expect(sj_view_close(&v, &err), SJ_OK, &err, NULL);                                    \
            sj_accessor_free(a);                                                                   \
            sj_layout_unref(value);                                                                \
            sj_layout_unref(ordered);                                                              \
        }                                                                                          \
    } while (0)

static void test_every_kind(void **state) {
    (void)state;
    _Alignas(8) uint8_t mem[160];
    sj_segment seg;
    sj_error err = {0};
    expect(sj_segment_native(mem, sizeof mem, &seg, &err), SJ_OK, &err, NULL);
    KIND_CASE(bool, SJ_BOOL, bool, i % 3 == 0);
    KIND_CASE(i8, SJ_I8, int8_t, -3 * i - 1);
    KIND_CASE(u8, SJ_U8, uint8_t, 250 - i);
    KIND_CASE(char, SJ_CHAR, uint16_t, 0x4e00 + i);
    KIND_CASE(i16, SJ_I16, int16_t, -1000 * i + 7);
    KIND_CASE(u16, SJ_U16, uint16_t, 0xfff0 + i);
    KIND_CASE(i32, SJ_I32, int32_t, -100000 * i + 0x1234);
    KIND_CASE(u32, SJ_U32, uint32_t, 0xfedcba90u + (uint32_t)i);
    KIND_CASE(f32, SJ_F32, float, 1.5f * (float)i - 3.25f);
    KIND_CASE(i64, SJ_I64, int64_t, INT64_C(-0x123456789) * i + 5);
    KIND_CASE(u64, SJ_U64, uint64_t, UINT64_C(0xfedcba9876543210) + (uint64_t)i);
    KIND_CASE(f64, SJ_F64, double, -0.1 * (double)i + 1e300);
    KIND_CASE(addr, SJ_ADDR, uint64_t, UINT64_C(0x7fff00001000) + (uint64_t)i * 8);
}

/* A field over records (open and closed paths, a fixed inner index): the element runs
 * over records, and a user's loop reads what accessors read. */
static void test_paths(void **state) {
    (void)state;
    enum { N = 50 };
    /* [i4(id)x4d8(y)[3:s2](m)x2]: 24-byte records */
    const char *rec = "[i4(id)x4d8(y)[3:s2](m)x2]";
    _Alignas(16) uint8_t mem[N * 24 + 8];
    memset(mem, 0, sizeof mem);
    sj_segment seg;
    sj_error err = {0};
    expect(sj_segment_native(mem, sizeof mem, &seg, &err), SJ_OK, &err, NULL);
    sj_accessor *y = accessor(rec, "[*].y"), *m = accessor(rec, "[*].m[*]");
    for (int64_t i = 0; i < N; i++) {
        expect(sj_accessor_set_f64(y, &seg, 0, &i, 1, (double)i * 0.5, &err), SJ_OK, &err, NULL);
        for (int64_t j = 0; j < 3; j++)
            expect(
                sj_accessor_set_i16(m, &seg, 0, (int64_t[]){i, j}, 2, (int16_t)(i * 10 + j), &err),
                SJ_OK, &err, NULL);
    }
    sj_view v;
    sj_field fy, fm;
    expect(sj_view_open(&seg, 0, -1, SJ_VIEW_READ, &v, &err), SJ_OK, &err, NULL);
    expect(sj_view_field(&v, y, NULL, 0, &fy, &err), SJ_OK, &err, NULL);
    assert_int_equal(sj_field_count(&fy), N); /* the 8 spare bytes hold no whole record */
    double sum = 0;
    for (int64_t i = 0; i < sj_field_count(&fy); i++)
        sum += sj_field_get_f64(&fy, i);
    assert_true(sum == 0.5 * (N - 1) * N / 2);
    expect(sj_view_field(&v, m, (int64_t[]){2}, 1, &fm, &err), SJ_OK, &err, NULL);
    for (int64_t i = 0; i < N; i++)
        assert_int_equal(sj_field_get_i16(&fm, i), i * 10 + 2);
    expect(sj_field_status(&fm, &err), SJ_OK, &err, NULL);
    /* errors of binding, in order: indices, then the view */
    expect(sj_view_field(&v, m, NULL, 0, &fm, &err), SJ_E_ARG, &err,
           "view field '[*].m[*]': 0 fixed indices given, the path has 2 free (the first runs "
           "over the field's elements)");
    expect(sj_view_field(&v, m, (int64_t[]){3}, 1, &fm, &err), SJ_E_BOUNDS, &err,
           "view field '[*].m[*]': free index 1 is 3, outside [0, 3)");
    /* a field that failed to bind fails every access */
    assert_int_equal(sj_field_get_i16(&fm, 0), 0);
    expect(sj_field_status(&fm, &err), SJ_E_ARG, &err,
           "field get of element 0: the field is not bound");
    expect(sj_view_close(&v, &err), SJ_OK, &err, NULL);
    expect(sj_view_field(&v, y, NULL, 0, &fy, &err), SJ_E_CLOSED, &err,
           "view field '[*].y': the view is closed");

    /* a closed path: the root [4:rec] must fit and be aligned at the view's base */
    sj_accessor *cy = accessor("[4:[i4(id)x4d8(y)[3:s2](m)x2]]", "[*].y");
    expect(sj_view_open(&seg, 0, 96, SJ_VIEW_READ, &v, &err), SJ_OK, &err, NULL);
    expect(sj_view_field(&v, cy, NULL, 0, &fy, &err), SJ_OK, &err, NULL);
    assert_int_equal(sj_field_count(&fy), 4);
    assert_true(sj_field_get_f64(&fy, 3) == 1.5);
    expect(sj_view_close(&v, &err), SJ_OK, &err, NULL);
    expect(sj_view_open(&seg, 0, 95, SJ_VIEW_READ, &v, &err), SJ_OK, &err, NULL);
    expect(sj_view_field(&v, cy, NULL, 0, &fy, &err), SJ_E_BOUNDS, &err,
           "view field '[*].y': a root layout of 96 bytes does not fit a view of 95 bytes");
    expect(sj_view_close(&v, &err), SJ_OK, &err, NULL);
    expect(sj_view_open(&seg, 4, 96, SJ_VIEW_READ, &v, &err), SJ_OK, &err, NULL);
    expect(sj_view_field(&v, cy, NULL, 0, &fy, &err), SJ_E_ALIGN, &err, NULL);
    assert_non_null(strstr(err.message, "is not aligned to 8 for the root layout"));
    expect(sj_view_close(&v, &err), SJ_OK, &err, NULL);

    /* rule 3.3: over an int32 array the root's 8-byte alignment is refused wherever the
     * array lies, even at offset 0 */
    sj_segment heap;
    expect(sj_segment_of_array(SJ_HEAP_I32, mem, (int64_t)(sizeof mem / 4), &heap, &err), SJ_OK,
           &err, NULL);
    expect(sj_view_open(&heap, 0, -1, SJ_VIEW_READ, &v, &err), SJ_OK, &err, NULL);
    expect(sj_view_field(&v, y, NULL, 0, &fy, &err), SJ_E_ALIGN, &err, NULL);
    assert_non_null(strstr(err.message, "virtual address 0"));
    expect(sj_view_close(&v, &err), SJ_OK, &err, NULL);
    sj_accessor_free(y);
    sj_accessor_free(m);
    sj_accessor_free(cy);
}

/* Failed accesses read 0, write nothing, and the first one is reported. */
static void test_field_failures(void **state) {
    (void)state;
    _Alignas(8) uint8_t mem[40];
    for (int i = 0; i < 40; i++)
        mem[i] = (uint8_t)(i + 1);
    uint8_t orig[40];
    memcpy(orig, mem, sizeof mem);
    sj_segment seg;
    sj_error err = {0};
    expect(sj_segment_native(mem, sizeof mem, &seg, &err), SJ_OK, &err, NULL);
    sj_accessor *a = accessor("i4", "[*]");
    sj_view v;
    sj_field f;
    expect(sj_view_open(&seg, 0, -1, SJ_VIEW_READ, &v, &err), SJ_OK, &err, NULL);
    expect(sj_view_field(&v, a, NULL, 0, &f, &err), SJ_OK, &err, NULL);
    assert_int_equal(sj_field_count(&f), 10);

    sj_field_set_i32(&f, 1, 99); /* a read view */
    assert_memory_equal(mem, orig, sizeof mem);
    assert_int_equal(sj_field_get_i32(&f, 10), 0); /* a later failure is not reported */
    expect(sj_field_status(&f, &err), SJ_E_READONLY, &err,
           "field set of element 1: the view was opened read-only");

    expect(sj_view_field(&v, a, NULL, 0, &f, &err), SJ_OK, &err, NULL);
    assert_int_equal(sj_field_get_i32(&f, 10), 0);
    expect(sj_field_status(&f, &err), SJ_E_BOUNDS, &err,
           "field get: element 10 is outside [0, 10)");
    expect(sj_view_field(&v, a, NULL, 0, &f, &err), SJ_OK, &err, NULL);
    assert_int_equal(sj_field_get_i32(&f, -1), 0);
    expect(sj_field_status(&f, &err), SJ_E_BOUNDS, &err,
           "field get: element -1 is outside [0, 10)");
    expect(sj_view_field(&v, a, NULL, 0, &f, &err), SJ_OK, &err, NULL);
    assert_true(sj_field_get_f32(&f, 0) == 0.0f);
    expect(sj_field_status(&f, &err), SJ_E_ARG, &err,
           "field get of element 0: the field's value is i4, called through sj_field_get_f32 "
           "(use sj_field_get_i32)");
    expect(sj_view_close(&v, &err), SJ_OK, &err, NULL);

    /* a writable view writes; after close (checked in builds without NDEBUG) nothing */
    expect(sj_view_open(&seg, 0, -1, SJ_VIEW_WRITE, &v, &err), SJ_OK, &err, NULL);
    expect(sj_view_field(&v, a, NULL, 0, &f, &err), SJ_OK, &err, NULL);
    sj_field_set_i32(&f, 2, -5);
    int32_t x;
    memcpy(&x, mem + 8, 4);
    assert_int_equal(x, -5);
    expect(sj_field_status(&f, &err), SJ_OK, &err, NULL);
    expect(sj_view_close(&v, &err), SJ_OK, &err, NULL);
    memcpy(orig, mem, sizeof mem);
    sj_field_set_i32(&f, 3, 1234);
    assert_memory_equal(mem, orig, sizeof mem);
    expect(sj_field_status(&f, &err), SJ_E_CLOSED, &err,
           "field set of element 3: its view is closed");
    /* a failure before the close keeps its own reason after it */
    expect(sj_view_open(&seg, 0, -1, SJ_VIEW_READ, &v, &err), SJ_OK, &err, NULL);
    expect(sj_view_field(&v, a, NULL, 0, &f, &err), SJ_OK, &err, NULL);
    assert_int_equal(sj_field_get_i32(&f, 11), 0);
    expect(sj_view_close(&v, &err), SJ_OK, &err, NULL);
    expect(sj_field_status(&f, &err), SJ_E_BOUNDS, &err,
           "field get: element 11 is outside [0, 10)");
    expect(sj_field_status(NULL, &err), SJ_E_ARG, &err, NULL);
    sj_accessor_free(a);
}

/* A user's loop with bounds of its own: in-range elements are read or written, the first
 * index outside the field is reported, and nothing outside is touched. gcc splits such a
 * loop at the count, so this runs the split loop's both parts on that compiler. */
static __attribute__((noinline)) int64_t sum_between(const sj_view *v, const sj_accessor *a,
                                                     int64_t lo, int64_t hi, sj_status *st,
                                                     sj_error *err) {
    sj_field f;
    if ((*st = sj_view_field(v, a, NULL, 0, &f, err)) != SJ_OK) return -1;
    int64_t s = 0;
    for (int64_t i = lo; i < hi; i++)
        s += sj_field_get_i32(&f, i);
    *st = sj_field_status(&f, err);
    return s;
}

static __attribute__((noinline)) void fill_between(const sj_view *v, const sj_accessor *a,
                                                   int64_t lo, int64_t hi, sj_status *st,
                                                   sj_error *err) {
    sj_field f;
    if ((*st = sj_view_field(v, a, NULL, 0, &f, err)) != SJ_OK) return;
    for (int64_t i = lo; i < hi; i++)
        sj_field_set_i32(&f, i, (int32_t)(1000 + i));
    *st = sj_field_status(&f, err);
}

static void test_field_loops(void **state) {
    (void)state;
    _Alignas(8) int32_t mem[16]; /* the view: elements 2 to 11 */
    for (int i = 0; i < 16; i++)
        mem[i] = i;
    sj_segment seg;
    sj_error err = {0};
    sj_status st;
    expect(sj_segment_native(mem + 2, 40, &seg, &err), SJ_OK, &err, NULL);
    sj_accessor *a = accessor("i4", "[*]");
    sj_view v;
    expect(sj_view_open(&seg, 0, -1, SJ_VIEW_WRITE, &v, &err), SJ_OK, &err, NULL);
    const struct {
        int64_t lo, hi, sum;
        const char *msg; /* NULL: no failure */
    } cases[] = {
        {0, 10, 65, NULL},
        {5, 5, 0, NULL},
        {0, 13, 65, "field get: element 10 is outside [0, 10)"},
        {-2, 10, 65, "field get: element -2 is outside [0, 10)"},
        {-3, 15, 65, "field get: element -3 is outside [0, 10)"},
        {3, 4, 5, NULL},
        {12, 20, 0, "field get: element 12 is outside [0, 10)"},
        {INT64_MIN, INT64_MIN + 2, 0, "field get: element -9223372036854775808 is outside [0, 10)"},
        {INT64_MAX - 1, INT64_MAX, 0, "field get: element 9223372036854775806 is outside [0, 10)"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        assert_int_equal(sum_between(&v, a, cases[k].lo, cases[k].hi, &st, &err), cases[k].sum);
        expect(st, cases[k].msg ? SJ_E_BOUNDS : SJ_OK, &err, cases[k].msg);
    }
    fill_between(&v, a, -4, 14, &st, &err);
    expect(st, SJ_E_BOUNDS, &err, "field set: element -4 is outside [0, 10)");
    for (int i = 0; i < 16; i++)
        assert_int_equal(mem[i], i >= 2 && i < 12 ? 1000 + (i - 2) : i);
    expect(sj_view_close(&v, &err), SJ_OK, &err, NULL);
    sj_accessor_free(a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_order_and_messages),
        cmocka_unit_test(test_close_twice_and_never_opened),
        cmocka_unit_test(test_busy),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_heap_views),
        cmocka_unit_test(test_every_kind),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_field_failures),
        cmocka_unit_test(test_field_loops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
