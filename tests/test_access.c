/* tests/test_access.c: checked single access, sj_get/sj_set and the layout-path forms
 * (SEMANTICS 4.1): every value kind and byte order, bounds, rule 3.3 alignment on native
 * and heap segments, lifetime and thread checks, and the check order. */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "check.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "segjit/layout.h"
#include "segjit/segment.h"

static sj_layout *value(sj_kind k) {
    sj_layout *l = NULL;
    CHECK(SJ_OK, sj_layout_value(k, &l, &E));
    return l;
}

static sj_layout *with_order(sj_layout *l, sj_order o) { /* consumes l */
    sj_layout *r = NULL;
    CHECK(SJ_OK, sj_layout_with_order(l, o, &r, &E));
    sj_layout_unref(l);
    return r;
}

static sj_layout *with_align(sj_layout *l, int64_t a) { /* consumes l */
    sj_layout *r = NULL;
    CHECK(SJ_OK, sj_layout_with_align(l, a, &r, &E));
    sj_layout_unref(l);
    return r;
}

static sj_layout *with_name(sj_layout *l, const char *name) { /* consumes l */
    sj_layout *r = NULL;
    CHECK(SJ_OK, sj_layout_with_name(l, name, &r, &E));
    sj_layout_unref(l);
    return r;
}

static sj_arena open_arena(sj_arena_kind kind) {
    sj_arena a;
    CHECK(SJ_OK, sj_arena_open(kind, &a, &E));
    return a;
}

static sj_segment alloc(sj_arena a, int64_t size) {
    sj_segment s;
    CHECK(SJ_OK, sj_arena_allocate(a, size, 16, &s, &E));
    return s;
}

/* ---- value kinds and byte order ---- */

typedef struct sample {
    sj_kind kind;
    sj_value v;
} sample;

static void samples(sample out[SJ_KIND_COUNT]) {
    memset(out, 0, sizeof(sample) * SJ_KIND_COUNT);
    for (int k = 0; k < SJ_KIND_COUNT; k++)
        out[k].kind = (sj_kind)k;
    out[SJ_BOOL].v.z = true;
    out[SJ_I8].v.i8 = -5;
    out[SJ_U8].v.u8 = 250;
    out[SJ_CHAR].v.c16 = 0xBEEF;
    out[SJ_I16].v.i16 = -12345;
    out[SJ_U16].v.u16 = 54321;
    out[SJ_I32].v.i32 = -123456789;
    out[SJ_U32].v.u32 = 4000000000u;
    out[SJ_F32].v.f32 = -1.5f;
    out[SJ_I64].v.i64 = -1234567890123LL;
    out[SJ_U64].v.u64 = 0xFEDCBA9876543210ull;
    out[SJ_F64].v.f64 = 3.25;
    out[SJ_ADDR].v.addr = 0xDEADBEEFCAFEF00Dull;
}

/* The value's bits as an integer, for the kind's member. */
static uint64_t bits_of(sj_kind k, sj_value v) {
    uint32_t f;
    uint64_t d;
    switch (k) {
        case SJ_BOOL:
            return v.z ? 1 : 0;
        case SJ_I8:
            return (uint8_t)v.i8;
        case SJ_U8:
            return v.u8;
        case SJ_CHAR:
            return v.c16;
        case SJ_I16:
            return (uint16_t)v.i16;
        case SJ_U16:
            return v.u16;
        case SJ_I32:
            return (uint32_t)v.i32;
        case SJ_U32:
            return v.u32;
        case SJ_F32:
            memcpy(&f, &v.f32, 4);
            return f;
        case SJ_I64:
            return (uint64_t)v.i64;
        case SJ_U64:
            return v.u64;
        case SJ_F64:
            memcpy(&d, &v.f64, 8);
            return d;
        case SJ_ADDR:
            return v.addr;
        default:
            return 0;
    }
}

static void test_kinds_round_trip(void **state) {
    (void)state;
    sj_arena a = open_arena(SJ_ARENA_CONFINED);
    sj_segment s = alloc(a, 32);
    sample smp[SJ_KIND_COUNT];
    samples(smp);
    for (int k = 0; k < SJ_KIND_COUNT; k++) {
        for (int o = SJ_ORDER_LITTLE; o <= SJ_ORDER_BIG; o++) {
            sj_layout *l = with_order(value((sj_kind)k), (sj_order)o);
            size_t n = sj_kind_size((sj_kind)k);
            memset(s.base, 0xCC, 32);
            CHECK(SJ_OK, sj_set(&s, l, 8, smp[k].v, &E));
            /* bytes in memory: the value's bits in the layout's byte order */
            uint64_t bits = bits_of((sj_kind)k, smp[k].v);
            for (size_t i = 0; i < n; i++) {
                size_t sig = o == SJ_ORDER_LITTLE ? i : n - 1 - i;
                assert_int_equal(s.base[8 + i], (uint8_t)(bits >> (8 * sig)));
            }
            assert_int_equal(s.base[7], 0xCC); /* neighbours untouched */
            assert_int_equal(s.base[8 + n], 0xCC);
            sj_value got;
            memset(&got, 0x55, sizeof got);
            CHECK(SJ_OK, sj_get(&s, l, 8, &got, &E));
            assert_int_equal(bits_of((sj_kind)k, got), bits);
            sj_layout_unref(l);
        }
    }
    /* bool: any nonzero byte reads true, a write stores 0 or 1 */
    sj_layout *z = value(SJ_BOOL);
    sj_value v;
    s.base[0] = 7;
    CHECK(SJ_OK, sj_get(&s, z, 0, &v, &E));
    assert_true(v.z);
    s.base[0] = 0;
    CHECK(SJ_OK, sj_get(&s, z, 0, &v, &E));
    assert_false(v.z);
    v.z = true;
    CHECK(SJ_OK, sj_set(&s, z, 0, v, &E));
    assert_int_equal(s.base[0], 1);
    v.z = false;
    CHECK(SJ_OK, sj_set(&s, z, 0, v, &E));
    assert_int_equal(s.base[0], 0);
    sj_layout_unref(z);

    /* a known big-endian pattern */
    sj_layout *be = with_order(value(SJ_I32), SJ_ORDER_BIG);
    memcpy(s.base, "\x01\x02\x03\x04", 4);
    CHECK(SJ_OK, sj_get(&s, be, 0, &v, &E));
    assert_int_equal(v.i32, 0x01020304);
    v.i32 = 0x0A0B0C0D;
    CHECK(SJ_OK, sj_set(&s, be, 4, v, &E));
    assert_memory_equal(s.base + 4, "\x0A\x0B\x0C\x0D", 4);
    sj_layout_unref(be);
    CHECK(SJ_OK, sj_arena_close(a, &E));
}

static void test_non_value_layout(void **state) {
    (void)state;
    uint8_t buf[16] = {0};
    sj_segment s;
    CHECK(SJ_OK, sj_segment_native(buf, 16, &s, &E));
    sj_layout *i4 = value(SJ_I32), *st = NULL, *seq = NULL, *pad = NULL;
    const sj_layout *m[1] = {i4};
    CHECK(SJ_OK, sj_layout_struct(m, 1, &st, &E));
    CHECK(SJ_OK, sj_layout_sequence(2, i4, &seq, &E));
    CHECK(SJ_OK, sj_layout_padding(4, &pad, &E));
    sj_value v = {0};
    CHECK(SJ_E_ARG, sj_get(&s, st, 0, &v, &E));
    CHECK_MSG("not a value layout");
    CHECK(SJ_E_ARG, sj_set(&s, seq, 0, v, &E));
    CHECK(SJ_E_ARG, sj_get(&s, pad, 0, &v, &E));
    CHECK(SJ_E_ARG, sj_get(&s, NULL, 0, &v, &E));
    sj_layout_unref(st);
    sj_layout_unref(seq);
    sj_layout_unref(pad);
    sj_layout_unref(i4);
}

/* ---- bounds ---- */

static void test_bounds(void **state) {
    (void)state;
    sj_arena a = open_arena(SJ_ARENA_CONFINED);
    sj_segment s = alloc(a, 16);
    sj_layout *i4 = with_align(value(SJ_I32), 1);
    sj_value v = {.i32 = 9};
    CHECK(SJ_OK, sj_set(&s, i4, 12, v, &E));
    CHECK(SJ_OK, sj_get(&s, i4, 0, &v, &E));
    CHECK(SJ_E_BOUNDS, sj_get(&s, i4, 13, &v, &E));
    assert_string_equal(E.message,
                        "access of 4 bytes at offset 13 is out of bounds for segment of size 16");
    CHECK(SJ_E_BOUNDS, sj_set(&s, i4, 16, v, &E));
    CHECK(SJ_E_BOUNDS, sj_get(&s, i4, -1, &v, &E));
    CHECK_MSG("offset -1");
    CHECK(SJ_E_BOUNDS, sj_get(&s, i4, INT64_MAX, &v, &E));
    CHECK(SJ_E_BOUNDS, sj_get(&s, i4, INT64_MIN, &v, &E));
    sj_segment empty;
    CHECK(SJ_OK, sj_segment_slice(&s, 16, 0, &empty, &E));
    sj_layout *b1 = value(SJ_I8);
    CHECK(SJ_E_BOUNDS, sj_get(&empty, b1, 0, &v, &E));

    /* a failed call writes nothing */
    uint8_t before[16];
    memcpy(before, s.base, 16);
    v.i32 = -1;
    CHECK(SJ_E_BOUNDS, sj_set(&s, i4, 14, v, &E));
    assert_memory_equal(s.base, before, 16);
    sj_value out;
    memset(&out, 0x5A, sizeof out);
    sj_value same = out;
    CHECK(SJ_E_BOUNDS, sj_get(&s, i4, 14, &out, &E));
    assert_memory_equal(&out, &same, sizeof out);
    sj_layout_unref(b1);
    sj_layout_unref(i4);
    CHECK(SJ_OK, sj_arena_close(a, &E));
}

/* ---- alignment (rule 3.3) ---- */

static const sj_heap_kind heap_kinds[] = {SJ_HEAP_I8,  SJ_HEAP_I16, SJ_HEAP_U16, SJ_HEAP_I32,
                                          SJ_HEAP_F32, SJ_HEAP_I64, SJ_HEAP_F64};
static const uint64_t heap_sizes[] = {1, 2, 2, 4, 4, 8, 8};
#define NHEAP (sizeof heap_kinds / sizeof heap_kinds[0])

static void test_alignment_matrix(void **state) {
    (void)state;
    /* layouts of every alignment 1..16: size 1 with that alignment, and natural ones */
    sj_layout *layouts[16];
    size_t nl = 0;
    for (int64_t al = 1; al <= 16; al *= 2)
        layouts[nl++] = with_align(value(SJ_I8), al);
    layouts[nl++] = value(SJ_I16);
    layouts[nl++] = value(SJ_I32);
    layouts[nl++] = value(SJ_F64);
    layouts[nl++] = with_align(value(SJ_I64), 16);
    layouts[nl++] = with_align(value(SJ_I64), 2);

    sj_arena a = open_arena(SJ_ARENA_CONFINED);
    sj_segment nat = alloc(a, 64); /* 16-aligned: outcomes are deterministic */
    int64_t backing[8];
    for (size_t li = 0; li < nl; li++) {
        uint64_t al = sj_layout_align(layouts[li]);
        for (int64_t off = 0; off < 16; off++) {
            sj_value v = {.u64 = 0}, got;
            bool want = off % (int64_t)al == 0;
            CHECK(want ? SJ_OK : SJ_E_ALIGN, sj_set(&nat, layouts[li], off, v, &E));
            CHECK(want ? SJ_OK : SJ_E_ALIGN, sj_get(&nat, layouts[li], off, &got, &E));
            if (!want) CHECK_MSG("for native segment");
            for (size_t k = 0; k < NHEAP; k++) {
                sj_segment h;
                CHECK(SJ_OK, sj_segment_of_array(heap_kinds[k], backing,
                                                 (int64_t)(64 / heap_sizes[k]), &h, &E));
                want = al <= heap_sizes[k] && off % (int64_t)al == 0;
                memset(backing, 0, sizeof backing);
                v.u64 = 0x0102030405060708ull;
                CHECK(want ? SJ_OK : SJ_E_ALIGN, sj_set(&h, layouts[li], off, v, &E));
                CHECK(want ? SJ_OK : SJ_E_ALIGN, sj_get(&h, layouts[li], off, &got, &E));
                if (want) {
                    uint64_t n = sj_layout_size(layouts[li]);
                    assert_memory_equal((uint8_t *)backing + off, &v, n); /* little-endian host */
                    assert_memory_equal(&got, &v, n);
                } else {
                    CHECK_MSG("for heap segment of max alignment");
                }
            }
        }
    }
    for (size_t li = 0; li < nl; li++)
        sj_layout_unref(layouts[li]);
    CHECK(SJ_OK, sj_arena_close(a, &E));
}

static void test_alignment_messages_and_slices(void **state) {
    (void)state;
    int16_t arr[8] = {0};
    sj_segment h, hs;
    sj_layout *i4 = value(SJ_I32), *i2 = value(SJ_I16);
    sj_value v;
    CHECK(SJ_OK, sj_segment_of_array(SJ_HEAP_I16, arr, 8, &h, &E));
    CHECK(SJ_E_ALIGN, sj_get(&h, i4, 3, &v, &E));
    assert_string_equal(E.message,
                        "offset 3 is not aligned to 4 for heap segment of max alignment 2 "
                        "(virtual address 3)");
    CHECK(SJ_E_ALIGN, sj_get(&h, i4, 4, &v, &E)); /* aligned offset, but 4 > max alignment 2 */

    /* heap slices: alignment is relative to the virtual address */
    int32_t arr4[8] = {0};
    CHECK(SJ_OK, sj_segment_of_array(SJ_HEAP_I32, arr4, 8, &h, &E));
    CHECK(SJ_OK, sj_segment_slice(&h, 2, 20, &hs, &E));
    CHECK(SJ_OK, sj_get(&hs, i2, 0, &v, &E));
    CHECK(SJ_E_ALIGN, sj_get(&hs, i4, 0, &v, &E));
    assert_string_equal(E.message,
                        "offset 0 is not aligned to 4 for heap segment of max alignment 2 "
                        "(virtual address 2)"); /* the slice's, as sj_segment_max_align says */
    CHECK(SJ_OK, sj_get(&hs, i4, 2, &v, &E));
    CHECK(SJ_E_BOUNDS, sj_get(&hs, i4, 18, &v, &E)); /* bounds relative to the slice */

    /* the real address of a heap array does not matter: misaligned backing store */
    static uint8_t raw[80];
    uint8_t *odd = raw + 1;
    sj_layout *j8 = value(SJ_I64);
    CHECK(SJ_OK, sj_segment_of_array(SJ_HEAP_I64, odd, 8, &h, &E));
    v.i64 = -42;
    CHECK(SJ_OK, sj_set(&h, j8, 8, v, &E));
    int64_t back;
    memcpy(&back, odd + 8, 8);
    assert_int_equal(back, -42);

    /* native slices: real addresses */
    sj_arena a = open_arena(SJ_ARENA_CONFINED);
    sj_segment n = alloc(a, 32), ns;
    CHECK(SJ_OK, sj_segment_slice(&n, 1, 20, &ns, &E));
    CHECK(SJ_OK, sj_get(&ns, i4, 3, &v, &E));
    CHECK(SJ_E_ALIGN, sj_get(&ns, i4, 0, &v, &E));
    char want[128];
    snprintf(want, sizeof want, "offset 0 is not aligned to 4 for native segment (address 0x%llx)",
             (unsigned long long)sj_segment_address(&ns));
    assert_string_equal(E.message, want);
    /* a smaller alignment than the size: accepted anywhere */
    sj_layout *j8a1 = with_align(value(SJ_I64), 1);
    v.i64 = -42;
    CHECK(SJ_OK, sj_set(&ns, j8a1, 3, v, &E));
    CHECK(SJ_OK, sj_get(&ns, j8a1, 3, &v, &E));
    assert_int_equal(v.i64, -42);
    int8_t bytes[16] = {0};
    CHECK(SJ_OK, sj_segment_of_array(SJ_HEAP_I8, bytes, 16, &h, &E));
    CHECK(SJ_OK, sj_set(&h, j8a1, 5, v, &E));
    CHECK(SJ_E_ALIGN, sj_set(&h, i2, 4, v, &E));
    sj_layout_unref(j8a1);
    sj_layout_unref(j8);
    sj_layout_unref(i4);
    sj_layout_unref(i2);
    CHECK(SJ_OK, sj_arena_close(a, &E));
}

/* ---- lifetime, threads, check order ---- */

typedef struct access_job {
    sj_segment seg;
    const sj_layout *l;
    int64_t off;
    sj_status get, set;
} access_job;

static void *access_thread(void *arg) {
    access_job *j = arg;
    sj_value v = {.i32 = 5};
    j->set = sj_set(&j->seg, j->l, j->off, v, NULL);
    j->get = sj_get(&j->seg, j->l, j->off, &v, NULL);
    return NULL;
}

static void run_access_thread(access_job *j) {
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, access_thread, j), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
}

static void test_closed_and_thread(void **state) {
    (void)state;
    sj_layout *i4 = value(SJ_I32);
    sj_value v = {.i32 = 1};

    sj_arena c = open_arena(SJ_ARENA_CONFINED);
    access_job j = {.seg = alloc(c, 16), .l = i4, .off = 4};
    run_access_thread(&j);
    assert_int_equal(j.set, SJ_E_THREAD);
    assert_int_equal(j.get, SJ_E_THREAD);
    assert_int_equal(((int32_t *)j.seg.base)[1], 0); /* nothing written */
    j.off = 2;                                       /* alignment is checked before the thread */
    run_access_thread(&j);
    assert_int_equal(j.set, SJ_E_ALIGN);
    assert_int_equal(j.get, SJ_E_ALIGN);
    j.off = 16; /* and bounds too */
    run_access_thread(&j);
    assert_int_equal(j.get, SJ_E_BOUNDS);
    CHECK(SJ_OK, sj_set(&j.seg, i4, 4, v, &E)); /* owner thread */
    sj_segment cs = j.seg;
    CHECK(SJ_OK, sj_arena_close(c, &E));
    CHECK(SJ_E_CLOSED, sj_get(&cs, i4, 4, &v, &E));
    CHECK(SJ_E_CLOSED, sj_set(&cs, i4, 4, v, &E));

    sj_arena s = open_arena(SJ_ARENA_SHARED);
    access_job k = {.seg = alloc(s, 16), .l = i4, .off = 4};
    run_access_thread(&k);
    assert_int_equal(k.set, SJ_OK);
    assert_int_equal(k.get, SJ_OK);
    assert_int_equal(((int32_t *)k.seg.base)[1], 5);
    CHECK(SJ_OK, sj_arena_close(s, &E));
    run_access_thread(&k);
    assert_int_equal(k.set, SJ_E_CLOSED);
    assert_int_equal(k.get, SJ_E_CLOSED);
    sj_layout_unref(i4);
}

static void test_check_order(void **state) {
    (void)state;
    sj_layout *i4 = value(SJ_I32);
    sj_value v = {.i32 = 1};
    sj_arena a = open_arena(SJ_ARENA_SHARED);
    sj_segment s = alloc(a, 16);
    sj_segment ro = sj_segment_readonly(&s);
    CHECK(SJ_OK, sj_get(&ro, i4, 4, &v, &E)); /* reads are fine */
    CHECK(SJ_E_READONLY, sj_set(&ro, i4, 4, v, &E));
    CHECK_MSG("read-only");
    CHECK(SJ_OK, sj_arena_close(a, &E));
    /* closed, misaligned, out of bounds and read-only: read-only wins for a write */
    CHECK(SJ_E_READONLY, sj_set(&ro, i4, 15, v, &E));
    /* for a read (no read-only check): bounds first */
    CHECK(SJ_E_BOUNDS, sj_get(&ro, i4, 15, &v, &E));
    /* closed, misaligned, in bounds: alignment */
    CHECK(SJ_E_ALIGN, sj_get(&s, i4, 2, &v, &E));
    CHECK(SJ_E_ALIGN, sj_set(&s, i4, 2, v, &E));
    /* closed only */
    CHECK(SJ_E_CLOSED, sj_get(&s, i4, 4, &v, &E));
    /* open segment: misaligned and out of bounds gives bounds */
    int32_t arr[4];
    sj_segment n;
    CHECK(SJ_OK, sj_segment_native(arr, 16, &n, &E));
    CHECK(SJ_E_BOUNDS, sj_get(&n, i4, 14, &v, &E));
    n = sj_segment_readonly(&n);
    CHECK(SJ_E_READONLY, sj_set(&n, i4, 14, v, &E));
    sj_layout_unref(i4);
}

/* ---- heap resolve ---- */

typedef struct mover {
    int calls;
    int32_t *current;
} mover;

static void *mover_resolve(void *owner) {
    mover *m = owner;
    m->calls++;
    return m->current;
}

static void test_heap_resolve_per_access(void **state) {
    (void)state;
    int32_t one[4] = {0}, two[4] = {0};
    mover m = {0, one};
    sj_segment h, hs;
    CHECK(SJ_OK, sj_segment_heap(SJ_HEAP_I32, 4, &m, mover_resolve, &h, &E));
    CHECK(SJ_OK, sj_segment_slice(&h, 8, 8, &hs, &E));
    assert_int_equal(m.calls, 0);
    sj_layout *i4 = value(SJ_I32);
    sj_value v = {.i32 = 77};
    CHECK(SJ_OK, sj_set(&h, i4, 4, v, &E));
    assert_int_equal(m.calls, 1);
    assert_int_equal(one[1], 77);

    /* the collector moves the array */
    memcpy(two, one, sizeof one);
    memset(one, 0xFF, sizeof one);
    m.current = two;
    CHECK(SJ_OK, sj_get(&h, i4, 4, &v, &E));
    assert_int_equal(v.i32, 77);
    assert_int_equal(m.calls, 2);
    v.i32 = 5;
    CHECK(SJ_OK, sj_set(&hs, i4, 4, v, &E)); /* slice: virtual address 8 + 4 */
    assert_int_equal(two[3], 5);
    assert_int_equal(one[3], -1);
    assert_int_equal(m.calls, 3);

    /* failing checks never resolve */
    CHECK(SJ_E_BOUNDS, sj_get(&h, i4, 16, &v, &E));
    CHECK(SJ_E_ALIGN, sj_get(&h, i4, 2, &v, &E));
    sj_segment ro = sj_segment_readonly(&h);
    CHECK(SJ_E_READONLY, sj_set(&ro, i4, 0, v, &E));
    assert_int_equal(m.calls, 3);

    /* a resolve that answers NULL is an error, not a crash */
    m.current = NULL;
    CHECK(SJ_E_ARG, sj_get(&h, i4, 0, &v, &E));
    sj_layout_unref(i4);
}

/* ---- layout paths ---- */

/* [[10:[10:[i4(x)i4(y)]]](data)]: size 800, align 4 */
static sj_layout *grid_layout(sj_order order) {
    sj_layout *x = with_name(with_order(value(SJ_I32), order), "x");
    sj_layout *y = with_name(with_order(value(SJ_I32), order), "y");
    const sj_layout *xy[2] = {x, y};
    sj_layout *pt = NULL, *row = NULL, *grid = NULL, *root = NULL;
    CHECK(SJ_OK, sj_layout_struct(xy, 2, &pt, &E));
    CHECK(SJ_OK, sj_layout_sequence(10, pt, &row, &E));
    CHECK(SJ_OK, sj_layout_sequence(10, row, &grid, &E));
    grid = with_name(grid, "data");
    const sj_layout *m[1] = {grid};
    CHECK(SJ_OK, sj_layout_struct(m, 1, &root, &E));
    sj_layout_unref(x);
    sj_layout_unref(y);
    sj_layout_unref(pt);
    sj_layout_unref(row);
    sj_layout_unref(grid);
    assert_int_equal(sj_layout_size(root), 800);
    assert_int_equal(sj_layout_align(root), 4);
    return root;
}

static sj_path *path(const sj_layout *root, const char *text) {
    sj_path *p = NULL;
    CHECK(SJ_OK, sj_path_parse(root, text, &p, &E));
    return p;
}

static void test_path_access(void **state) {
    (void)state;
    sj_layout *root = grid_layout(SJ_ORDER_LITTLE), *i4 = value(SJ_I32);
    sj_arena a = open_arena(SJ_ARENA_CONFINED);
    sj_segment s = alloc(a, 1024);
    sj_path *p = path(root, "data[*][*].x");
    sj_value v = {.i32 = 42}, got;
    int64_t idx[2] = {1, 0};
    CHECK(SJ_OK, sj_set_path(&s, p, 0, idx, 2, v, &E));
    CHECK(SJ_OK, sj_get(&s, i4, 80, &got, &E)); /* SEMANTICS 4.5 example: offset 80 */
    assert_int_equal(got.i32, 42);
    got.i32 = 0;
    CHECK(SJ_OK, sj_get_path(&s, p, 0, idx, 2, &got, &E));
    assert_int_equal(got.i32, 42);

    /* with a base offset: root at 16, element (9, 9) */
    idx[0] = 9;
    idx[1] = 9;
    v.i32 = -7;
    CHECK(SJ_OK, sj_set_path(&s, p, 16, idx, 2, v, &E));
    CHECK(SJ_OK, sj_get(&s, i4, 16 + 9 * 80 + 9 * 8, &got, &E));
    assert_int_equal(got.i32, -7);

    /* ranges and fixed indices */
    sj_path *pr = path(root, "data[1::3][*].y"); /* bound 3 */
    int64_t r[2] = {2, 5};
    v.i32 = 604;
    CHECK(SJ_OK, sj_set_path(&s, pr, 0, r, 2, v, &E));
    CHECK(SJ_OK, sj_get(&s, i4, 7 * 80 + 5 * 8 + 4, &got, &E));
    assert_int_equal(got.i32, 604);
    r[0] = 3;
    CHECK(SJ_E_BOUNDS, sj_get_path(&s, pr, 0, r, 2, &got, &E));
    sj_path *pn = path(root, "data[9::-2][0].x"); /* bound 5, index 4 is row 1 */
    int64_t one = 4;
    CHECK(SJ_OK, sj_get_path(&s, pn, 0, &one, 1, &got, &E));
    assert_int_equal(got.i32, 42);
    sj_path *pf = path(root, "data[3][4].y");
    v.i32 = 276;
    CHECK(SJ_OK, sj_set_path(&s, pf, 0, NULL, 0, v, &E));
    CHECK(SJ_OK, sj_get(&s, i4, 3 * 80 + 4 * 8 + 4, &got, &E));
    assert_int_equal(got.i32, 276);

    sj_path_free(p);
    sj_path_free(pr);
    sj_path_free(pn);
    sj_path_free(pf);
    sj_layout_unref(root);
    sj_layout_unref(i4);
    CHECK(SJ_OK, sj_arena_close(a, &E));
}

static void test_path_errors(void **state) {
    (void)state;
    sj_layout *root = grid_layout(SJ_ORDER_LITTLE);
    sj_arena a = open_arena(SJ_ARENA_CONFINED);
    sj_segment s = alloc(a, 1024), small, ro = sj_segment_readonly(&s);
    CHECK(SJ_OK, sj_segment_slice(&s, 0, 400, &small, &E));
    sj_path *p = path(root, "data[*][*].x");
    sj_path *q = path(root, "data[*]");
    sj_value v = {.i32 = 1};
    int64_t ok[2] = {0, 0}, bad[2] = {0, 10}, neg[2] = {-1, 0};

    CHECK(SJ_E_PATH, sj_get_path(&s, q, 0, ok, 1, &v, &E));
    CHECK_MSG("does not end on a value");
    CHECK(SJ_E_ARG, sj_get_path(&s, p, 0, ok, 1, &v, &E)); /* count */
    CHECK(SJ_E_ARG, sj_get_path(&s, p, 0, ok, 3, &v, &E));
    CHECK(SJ_E_ARG, sj_get_path(&s, p, 0, NULL, 2, &v, &E));
    CHECK(SJ_E_BOUNDS, sj_get_path(&s, p, 0, bad, 2, &v, &E));
    CHECK_MSG("free index 1 is 10");
    CHECK_MSG("[0, 10)");
    CHECK(SJ_E_BOUNDS, sj_get_path(&s, p, 0, neg, 2, &v, &E));
    CHECK_MSG("free index 0 is -1");

    /* the root must fit at base, even when the leaf alone would */
    CHECK(SJ_E_BOUNDS, sj_get_path(&small, p, 0, ok, 2, &v, &E));
    CHECK_MSG("800 bytes at offset 0 is out of bounds for segment of size 400");
    CHECK(SJ_E_BOUNDS, sj_get_path(&s, p, 228, ok, 2, &v, &E));
    CHECK(SJ_OK, sj_get_path(&s, p, 224, ok, 2, &v, &E));
    CHECK(SJ_E_BOUNDS, sj_get_path(&s, p, -4, ok, 2, &v, &E));
    /* the root must be aligned at base */
    CHECK(SJ_E_ALIGN, sj_get_path(&s, p, 2, ok, 2, &v, &E));
    CHECK_MSG("not aligned to 4");

    /* order: index -> read-only -> bounds -> alignment -> closed */
    CHECK(SJ_E_BOUNDS, sj_set_path(&ro, p, 0, bad, 2, v, &E)); /* index before read-only */
    CHECK_MSG("free index");
    CHECK(SJ_E_READONLY, sj_set_path(&ro, p, 226, ok, 2, v, &E)); /* read-only before bounds */
    CHECK(SJ_OK, sj_get_path(&ro, p, 0, ok, 2, &v, &E));
    CHECK(SJ_E_BOUNDS, sj_get_path(&s, p, 226, ok, 2, &v, &E)); /* bounds before alignment */
    CHECK(SJ_OK, sj_arena_close(a, &E));
    CHECK(SJ_E_ALIGN, sj_get_path(&s, p, 2, ok, 2, &v, &E)); /* alignment before closed */
    CHECK(SJ_E_CLOSED, sj_get_path(&s, p, 0, ok, 2, &v, &E));
    CHECK(SJ_E_CLOSED, sj_set_path(&s, p, 0, ok, 2, v, &E));
    CHECK(SJ_E_BOUNDS, sj_get_path(&s, p, 0, bad, 2, &v, &E)); /* indices first of all */

    sj_path_free(p);
    sj_path_free(q);
    sj_layout_unref(root);
}

static void test_path_heap_and_order(void **state) {
    (void)state;
    sj_layout *root = grid_layout(SJ_ORDER_BIG);
    sj_path *p = path(root, "data[*][*].y");
    int64_t idx[2] = {0, 1};
    sj_value v = {.i32 = 0x11223344}, got;

    /* heap: the root's alignment 4 needs an array of at least 4-byte elements */
    static int16_t shorts[512];
    static int32_t ints[256];
    static int64_t longs[128];
    sj_segment h, hs;
    CHECK(SJ_OK, sj_segment_of_array(SJ_HEAP_I16, shorts, 512, &h, &E));
    CHECK(SJ_E_ALIGN, sj_set_path(&h, p, 0, idx, 2, v, &E));
    CHECK_MSG("max alignment 2");
    CHECK(SJ_OK, sj_segment_of_array(SJ_HEAP_I32, ints, 256, &h, &E));
    CHECK(SJ_OK, sj_set_path(&h, p, 0, idx, 2, v, &E));
    assert_memory_equal((uint8_t *)ints + 12, "\x11\x22\x33\x44", 4); /* big-endian leaf */
    CHECK(SJ_OK, sj_get_path(&h, p, 0, idx, 2, &got, &E));
    assert_int_equal(got.i32, 0x11223344);
    CHECK(SJ_E_ALIGN, sj_get_path(&h, p, 2, idx, 2, &got, &E));
    CHECK(SJ_OK, sj_get_path(&h, p, 4, idx, 2, &got, &E));
    CHECK(SJ_OK, sj_segment_of_array(SJ_HEAP_I64, longs, 128, &h, &E));
    CHECK(SJ_OK, sj_segment_slice(&h, 4, 800, &hs, &E)); /* virtual address 4 */
    CHECK(SJ_OK, sj_set_path(&hs, p, 0, idx, 2, v, &E));
    assert_memory_equal((uint8_t *)longs + 16, "\x11\x22\x33\x44", 4);
    CHECK(SJ_E_BOUNDS, sj_set_path(&hs, p, 4, idx, 2, v, &E));

    sj_path_free(p);
    sj_layout_unref(root);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds_round_trip),
        cmocka_unit_test(test_non_value_layout),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_alignment_matrix),
        cmocka_unit_test(test_alignment_messages_and_slices),
        cmocka_unit_test(test_closed_and_thread),
        cmocka_unit_test(test_check_order),
        cmocka_unit_test(test_heap_resolve_per_access),
        cmocka_unit_test(test_path_access),
        cmocka_unit_test(test_path_errors),
        cmocka_unit_test(test_path_heap_and_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
