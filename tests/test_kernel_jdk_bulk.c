/* tests/test_kernel_jdk_bulk.c: the cases of the JDK's own foreign-memory tests of bulk
 * operations (test/jdk/java/foreign: TestSegmentCopy, TestArrayCopy, TestMemoryCopy,
 * TestLargeSegmentCopy's arithmetic, TestMismatch, TestFill) carried over to segjit's C API:
 * element copy with byte-order swaps, byte copy, fill, mismatch (instance and static
 * range forms), overlapping copies (memmove), heap <-> native copies, count and offset
 * overflow and the check order of SEMANTICS 4.2. Each case says which JDK test it follows;
 * the JDK 25 results quoted were probed with Temurin 25. Kernels run on the tier under test
 * (tests/tier.h); the one-shot calls too (main sets SEGJIT_TIER to that tier).
 *
 * A Java byte[]/char[]/short[]/int[]/float[]/long[]/double[] is a heap segment of kind
 * I8/U16/I16/I32/F32/I64/F64 (sj_segment_of_array, or pinned: sj_segment_heap_pinned);
 * MemorySegment.copy(array, index, seg, layout, off, n) is a copy from a heap segment at
 * index * element size with the native-order layout of the array's carrier.
 *
 * Where the JDK and SEMANTICS.md differ and SEMANTICS decides, the test follows SEMANTICS
 * and says so (search "SEMANTICS" below).
 *
 * Mismatch over an empty range answers as JDK 25's static MemorySegment.mismatch does, with
 * no lifetime or thread check (-1 for two empty ranges, 0 for one), since it reads nothing
 * (test_jdk_mismatch_empty_range_lifetime).
 */
#define _GNU_SOURCE 1 /* setenv */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <pthread.h>

#include "tier.h"

/* ---- segments of every kind the JDK tests use ---- */

enum { C_NATIVE, C_ARENA, C_HEAP, C_PINNED };

typedef struct jkind {
    const char *name;
    int cls;
    int heap; /* heap element kind (C_HEAP, C_PINNED) */
} jkind;

static const jkind K_ARENA = {"arena", C_ARENA, -1};
static const jkind K_NATIVE = {"native", C_NATIVE, -1};
static const jkind K_HEAP_I8 = {"heap byte[]", C_HEAP, SJ_HEAP_I8};

/* Every heap element kind, plain and pinned. */
static const jkind K_HEAPS[] = {
    {"heap byte[]", C_HEAP, SJ_HEAP_I8},     {"heap char[]", C_HEAP, SJ_HEAP_U16},
    {"heap short[]", C_HEAP, SJ_HEAP_I16},   {"heap int[]", C_HEAP, SJ_HEAP_I32},
    {"heap float[]", C_HEAP, SJ_HEAP_F32},   {"heap long[]", C_HEAP, SJ_HEAP_I64},
    {"heap double[]", C_HEAP, SJ_HEAP_F64},  {"pinned byte[]", C_PINNED, SJ_HEAP_I8},
    {"pinned int[]", C_PINNED, SJ_HEAP_I32}, {"pinned long[]", C_PINNED, SJ_HEAP_I64},
};
#define N_HEAPS (sizeof K_HEAPS / sizeof K_HEAPS[0])

/* A segment of `size` bytes; for tbuf kinds `skip` bytes past a 64-aligned start (a heap
 * segment is then a slice of its array at virtual address 64 + skip). */
typedef struct jseg {
    int cls;
    tbuf b; /* C_NATIVE, C_HEAP, C_PINNED */
    sj_arena arena;
    sj_segment seg;
    uint8_t *data;
    int pins, unpins;
} jseg;

static void *jseg_resolve(void *owner) {
    return ((jseg *)owner)->b.mem;
}
static void jseg_pin(void *owner) {
    ((jseg *)owner)->pins++;
}
static void jseg_unpin(void *owner) {
    ((jseg *)owner)->unpins++;
}

static void jseg_init(jseg *s, const jkind *k, size_t size, size_t skip) {
    memset(s, 0, sizeof *s);
    s->cls = k->cls;
    sj_error err = {0};
    if (k->cls == C_ARENA) {
        assert_int_equal(sj_arena_open(SJ_ARENA_CONFINED, &s->arena, &err), SJ_OK);
        assert_status(sj_arena_allocate(s->arena, (int64_t)size, 1, &s->seg, &err), SJ_OK, &err);
        s->data = (uint8_t *)(uintptr_t)sj_segment_address(&s->seg);
        return;
    }
    tbuf_init(&s->b, size, skip, k->cls == C_NATIVE ? -1 : k->heap);
    memset(s->b.data, 0, size);
    s->data = s->b.data;
    s->seg = s->b.seg;
    if (k->cls == C_PINNED) {
        unsigned e = test_heap_elem(k->heap);
        sj_segment whole;
        assert_int_equal(sj_segment_heap_pinned((sj_heap_kind)k->heap, (int64_t)(s->b.total / e), s,
                                                jseg_resolve, jseg_pin, jseg_unpin, &whole, &err),
                         SJ_OK);
        assert_int_equal(
            sj_segment_slice(&whole, (int64_t)s->b.start, (int64_t)size, &s->seg, &err), SJ_OK);
    }
}

static void jseg_free(jseg *s) {
    sj_error err = {0};
    if (s->cls == C_ARENA) {
        assert_int_equal(sj_arena_close(s->arena, &err), SJ_OK);
        return;
    }
    tbuf_check_guards(&s->b);
    assert_int_equal(s->pins, s->unpins); /* every pin matched by one unpin */
    tbuf_free(&s->b);
}

/* Does a kernel over this segment run on the interpreter whatever the tier? */
static bool jseg_moving(const jseg *s) {
    return s->cls == C_HEAP;
}

/* The two segments of a copy case, `size` bytes each: a of kind ka (`skip` bytes past its
 * start), b of kind kb. */
static void jseg_pair(jseg *a, const jkind *ka, jseg *b, const jkind *kb, size_t size,
                      size_t skip) {
    jseg_init(a, ka, size, skip);
    jseg_init(b, kb, size, 0);
}

static void jseg_pair_free(jseg *a, jseg *b) {
    jseg_free(a);
    jseg_free(b);
}

/* A case over two fresh 16-byte segments, a of kind ka and b of kind kb; ctx is its own. */
typedef void pair_case(const jkind *ka, jseg *a, const jkind *kb, jseg *b, void *ctx);

/* Runs c for every ordered pair of the n kinds. */
static void each_kind_pair(const jkind *const *kinds, size_t n, pair_case *c, void *ctx) {
    for (size_t k1 = 0; k1 < n; k1++)
        for (size_t k2 = 0; k2 < n; k2++) {
            jseg a, b;
            jseg_pair(&a, kinds[k1], &b, kinds[k2], 16, 0);
            c(kinds[k1], &a, kinds[k2], &b, ctx);
            jseg_pair_free(&a, &b);
        }
}

/* ---- plain segments and layouts of the single-call cases ---- */

/* A heap segment over the n elements of arr (a Java array of element kind `kind`). */
static sj_segment heap_seg(sj_heap_kind kind, void *arr, int64_t n) {
    sj_segment s;
    sj_error err = {0};
    assert_status(sj_segment_of_array(kind, arr, n, &s, &err), SJ_OK, &err);
    return s;
}

static sj_segment native_seg(void *mem, int64_t size) {
    sj_segment s;
    sj_error err = {0};
    assert_status(sj_segment_native(mem, size, &s, &err), SJ_OK, &err);
    return s;
}

/* A segment of `size` bytes of a confined arena, closed before it is returned. */
static sj_segment closed_seg(int64_t size) {
    sj_arena arena;
    sj_segment s;
    sj_error err = {0};
    assert_int_equal(sj_arena_open(SJ_ARENA_CONFINED, &arena, &err), SJ_OK);
    assert_status(sj_arena_allocate(arena, size, 1, &s, &err), SJ_OK, &err);
    assert_int_equal(sj_arena_close(arena, &err), SJ_OK);
    return s;
}

/* Bytes 0..n-1 at data are 0, 1, 2, ... (mod 256): what the copies of counting bytes wrote. */
static void assert_counting(const uint8_t *data, int n) {
    for (int i = 0; i < n; i++)
        if (data[i] != (uint8_t)i) fail_msg("byte %d is %u, expected %u", i, data[i], (uint8_t)i);
}

static void unref_all(sj_layout *const *ls, size_t n) {
    for (size_t i = 0; i < n; i++)
        sj_layout_unref(ls[i]);
}
/* Drops the test's reference to each layout named: UNREF(a, b, c). */
#define UNREF(...)                                                                                 \
    unref_all((sj_layout *const[]){__VA_ARGS__},                                                   \
              sizeof((sj_layout *const[]){__VA_ARGS__}) / sizeof(sj_layout *))

/* ---- element types of TestSegmentCopy (unaligned, both byte orders) ---- */

enum { T_BYTE, T_SHORT, T_CHAR, T_INT, T_FLOAT, T_LONG, T_DOUBLE };

typedef struct jtype {
    const char *text;
    int carrier;
} jtype;

static const jtype TYPES[] = {
    {"b1", T_BYTE},    {"1%s2", T_SHORT},  {"1%c2", T_CHAR},   {"1%i4", T_INT},  {"1%f4", T_FLOAT},
    {"1%j8", T_LONG},  {"1%d8", T_DOUBLE}, {"1%S2", T_SHORT},  {"1%C2", T_CHAR}, {"1%I4", T_INT},
    {"1%F4", T_FLOAT}, {"1%J8", T_LONG},   {"1%D8", T_DOUBLE},
};
#define N_TYPES (sizeof TYPES / sizeof TYPES[0])

/* The value the JDK's converter gives for int i. */
static sj_value jvalue(int carrier, int i) {
    sj_value v;
    memset(&v, 0, sizeof v);
    switch (carrier) {
        case T_BYTE:
            v.i8 = (int8_t)i;
            break;
        case T_SHORT:
            v.i16 = (int16_t)i;
            break;
        case T_CHAR:
            v.c16 = (uint16_t)i;
            break;
        case T_INT:
            v.i32 = i;
            break;
        case T_FLOAT:
            v.f32 = (float)i;
            break;
        case T_LONG:
            v.i64 = i;
            break;
        default:
            v.f64 = (double)i;
            break;
    }
    return v;
}

/* Are a and b the same value of the carrier? Compared bit for bit over the carrier's bytes
 * (every member of the union starts at its first byte; the values compared are exact). */
static bool jvalue_eq(int carrier, sj_value a, sj_value b) {
    static const size_t size[] = {[T_BYTE] = 1,  [T_SHORT] = 2, [T_CHAR] = 2,  [T_INT] = 4,
                                  [T_FLOAT] = 4, [T_LONG] = 8,  [T_DOUBLE] = 8};
    return memcmp(&a, &b, size[carrier]) == 0;
}

/* ---- shared kernels (built once, on the tier under test) ---- */

static sj_kernel *g_mismatch, *g_bytes; /* mismatch; b1 -> b1 copy */
static sj_layout *g_b1;

static int group_setup(void **state) {
    (void)state;
    sj_error err = {0};
    if (sj_layout_parse("b1", &g_b1, &err) != SJ_OK) return -1;
    if (sj_kernel_mismatch(&g_mismatch, &err) != SJ_OK) return -1;
    if (sj_kernel_copy(g_b1, g_b1, &g_bytes, &err) != SJ_OK) return -1;
    sj_kernel_set_tier(g_mismatch, test_tier());
    sj_kernel_set_tier(g_bytes, test_tier());
    return 0;
}

static int group_teardown(void **state) {
    (void)state;
    sj_kernel_free(g_mismatch);
    sj_kernel_free(g_bytes);
    sj_layout_unref(g_b1);
    return 0;
}

/* A kernel copying src -> dst on the tier under test. */
static sj_kernel *copy_kernel(const sj_layout *src, const sj_layout *dst) {
    sj_error err = {0};
    sj_kernel *k = NULL;
    return test_kernel(sj_kernel_copy(src, dst, &k, &err), &k, &err);
}

/* One element copy, through the kernel k (tier under test) or the one-shot sj_copy. */
static sj_status run_copy(sj_kernel *k, bool oneshot, const sj_segment *s, const sj_layout *sl,
                          int64_t soff, const sj_segment *d, const sj_layout *dl, int64_t doff,
                          int64_t count, sj_error *err) {
    if (oneshot) return sj_copy(s, sl, soff, d, dl, doff, count, err);
    sj_args a = {s, soff, d, doff, count};
    return sj_kernel_run(k, &a, NULL, err);
}

/* ---- TestSegmentCopy ---- */

/* The kinds TestSegmentCopy pairs (NATIVE, ARRAY of byte[]), with the other heap kinds and
 * a pinned one to reach compiled code with heap segments. */
static const jkind *const COPY_KINDS[] = {
    &K_ARENA, &K_HEAP_I8, &K_HEAPS[1], &K_HEAPS[5], &K_HEAPS[9],
};
#define N_COPY_KINDS (sizeof COPY_KINDS / sizeof COPY_KINDS[0])

/* TestSegmentCopy.testByteCopy: 16-byte segments, every pair of offsets, JAVA_BYTE. */
static void byte_offsets_case(const jkind *ka, jseg *a, const jkind *kb, jseg *b, void *ctx) {
    (void)ctx;
    for (int o1 = 0; o1 < 16; o1++)
        for (int o2 = 0; o2 < 16; o2++) {
            int n = 16 - (o1 > o2 ? o1 : o2);
            for (int i = 0; i < n; i++)
                a->data[o1 + i] = (uint8_t)i;
            sj_error err = {0};
            bool oneshot = (o1 + o2) % 2 != 0;
            assert_status(run_copy(g_bytes, oneshot, &a->seg, g_b1, o1, &b->seg, g_b1, o2, n, &err),
                          SJ_OK, &err);
            for (int i = 0; i < n; i++)
                if (b->data[o2 + i] != (uint8_t)i)
                    fail_msg("%s -> %s at %d -> %d: byte %d is %u", ka->name, kb->name, o1, o2, i,
                             b->data[o2 + i]);
            if (!oneshot && n > 0) test_check_tier(g_bytes, jseg_moving(a) || jseg_moving(b));
        }
}

static void test_segment_copy_byte_offsets(void **state) {
    (void)state;
    each_kind_pair(COPY_KINDS, N_COPY_KINDS, byte_offsets_case, NULL);
}

/* TestSegmentCopy.testByteCopySizes: sizes 0..512 at offset 0 (element copy of JAVA_BYTE,
 * and the byte copy MemorySegment.copy(src, 0, dst, 0, size)). */
static void test_segment_copy_byte_sizes(void **state) {
    (void)state;
    for (size_t k1 = 0; k1 < N_COPY_KINDS; k1++)
        for (size_t k2 = 0; k2 < N_COPY_KINDS; k2++)
            for (int size = 0; size < 513; size += (k1 + k2 == 0 || size < 70) ? 1 : 13) {
                jseg a, b;
                jseg_pair(&a, COPY_KINDS[k1], &b, COPY_KINDS[k2], (size_t)size, (size_t)size % 8);
                for (int i = 0; i < size; i++)
                    a.data[i] = (uint8_t)i;
                sj_error err = {0};
                assert_status(sj_copy(&a.seg, g_b1, 0, &b.seg, g_b1, 0, size, &err), SJ_OK, &err);
                assert_counting(b.data, size);
                memset(b.data, 0, (size_t)size);
                assert_status(sj_copy_bytes(&a.seg, 0, &b.seg, 0, size, &err), SJ_OK, &err);
                assert_counting(b.data, size);
                memset(b.data, 0, (size_t)size);
                sj_args args = {&a.seg, 0, &b.seg, 0, size};
                assert_status(sj_kernel_run(g_bytes, &args, NULL, &err), SJ_OK, &err);
                assert_counting(b.data, size);
                if (size > 0) test_check_tier(g_bytes, jseg_moving(&a) || jseg_moving(&b));
                jseg_pair_free(&a, &b);
            }
}

/* TestSegmentCopy.testReadOnlyCopy (a read-only destination, even for 0 elements: IAE) and
 * badCopy6Arg (int[] into a read-only native JAVA_INT segment). */
static void readonly_case(const jkind *ka, jseg *a, const jkind *kb, jseg *b, void *ctx) {
    (void)ka, (void)kb, (void)ctx;
    sj_segment ro = sj_segment_readonly(&b->seg);
    sj_error err = {0};
    assert_status(sj_copy(&a->seg, g_b1, 0, &ro, g_b1, 0, 0, &err), SJ_E_READONLY, &err);
    assert_status(sj_copy_bytes(&a->seg, 0, &ro, 0, 0, &err), SJ_E_READONLY, &err);
    sj_args args = {&a->seg, 0, &ro, 0, 0};
    assert_status(sj_kernel_run(g_bytes, &args, NULL, &err), SJ_E_READONLY, &err);
}

static void test_segment_copy_readonly(void **state) {
    (void)state;
    each_kind_pair(COPY_KINDS, N_COPY_KINDS, readonly_case, NULL);
    /* badCopy6Arg */
    sj_layout *i4 = test_layout("i4");
    int32_t src[1] = {42};
    sj_segment hs = heap_seg(SJ_HEAP_I32, src, 1), dst;
    sj_error err = {0};
    sj_arena arena;
    assert_int_equal(sj_arena_open(SJ_ARENA_CONFINED, &arena, &err), SJ_OK);
    assert_int_equal(sj_arena_allocate_layout(arena, i4, &dst, &err), SJ_OK);
    sj_segment ro = sj_segment_readonly(&dst);
    assert_status(sj_copy(&hs, i4, 0, &ro, i4, 0, 1, &err), SJ_E_READONLY, &err);
    assert_non_null(strstr(err.message, "read-only"));
    assert_int_equal(sj_arena_close(arena, &err), SJ_OK);
    sj_layout_unref(i4);
}

/* TestSegmentCopy.testBadOverflow: copy(byte[100] segment, T, 0, same, T, 0, Long.MAX_VALUE)
 * for every type wider than a byte: IOOBE. With it, TestLargeSegmentCopy's arithmetic (a
 * byte size past Integer.MAX_VALUE is computed in 64 bits, never truncated) and offsets at
 * the end of the long range. */
static void test_segment_copy_bad_overflow(void **state) {
    (void)state;
    int8_t arr[100];
    memset(arr, 7, sizeof arr);
    sj_segment h = heap_seg(SJ_HEAP_I8, arr, 100);
    sj_error err = {0};
    for (size_t t = 0; t < N_TYPES; t++) {
        sj_layout *l = test_layout(TYPES[t].text);
        if (sj_layout_size(l) > 1) {
            sj_kernel *k = copy_kernel(l, l);
            assert_status(sj_copy(&h, l, 0, &h, l, 0, INT64_MAX, &err), SJ_E_BOUNDS, &err);
            sj_args a = {&h, 0, &h, 0, INT64_MAX};
            assert_status(sj_kernel_run(k, &a, NULL, &err), SJ_E_BOUNDS, &err);
            /* a count whose byte size wraps to a small value (2^64 + size) */
            int64_t wrap = (int64_t)(UINT64_C(1) << 63) / (int64_t)sj_layout_size(l) * 2 + 1;
            /* SEMANTICS 4.2 (count so large the offsets overflow: SJ_E_BOUNDS). JDK 25
             * multiplies without a check here: copy(byte[100], JAVA_INT_UNALIGNED, 0, same,
             * JAVA_INT_UNALIGNED, 8, (1L << 62) + 1) returns normally, copying 4 bytes. */
            assert_status(sj_copy(&h, l, 0, &h, l, 8, wrap, &err), SJ_E_BOUNDS, &err);
            sj_args b = {&h, 0, &h, 8, wrap};
            assert_status(sj_kernel_run(k, &b, NULL, &err), SJ_E_BOUNDS, &err);
            sj_kernel_free(k);
        }
        sj_layout_unref(l);
    }
    /* JAVA_LONG_UNALIGNED, 2^60 elements: the JDK's size is Long.MIN_VALUE, IOOBE */
    sj_layout *j8 = test_layout("1%j8");
    assert_status(sj_copy(&h, j8, 0, &h, j8, 8, INT64_C(1) << 60, &err), SJ_E_BOUNDS, &err);
    /* TestLargeSegmentCopy: Integer.MAX_VALUE / 8 + 100 longs are 2147484440 bytes, more
     * than an int holds: out of bounds of these 100 bytes, with the 64-bit size */
    int64_t longs = INT32_MAX / 8 + 100;
    assert_status(sj_copy(&h, j8, 0, &h, j8, 0, longs, &err), SJ_E_BOUNDS, &err);
    assert_non_null(strstr(err.message, "2147484440"));
    sj_layout_unref(j8);
    /* offsets at the end of the range: IOOBE, for 1 element and for none */
    assert_status(sj_copy(&h, g_b1, INT64_MAX, &h, g_b1, 0, 1, &err), SJ_E_BOUNDS, &err);
    assert_status(sj_copy(&h, g_b1, 0, &h, g_b1, INT64_MAX, 1, &err), SJ_E_BOUNDS, &err);
    assert_status(sj_copy(&h, g_b1, INT64_MAX, &h, g_b1, 0, 0, &err), SJ_E_BOUNDS, &err);
    assert_status(sj_copy_bytes(&h, INT64_MAX, &h, 0, 1, &err), SJ_E_BOUNDS, &err);
    assert_status(sj_copy_bytes(&h, 1, &h, 0, INT64_MAX, &err), SJ_E_BOUNDS, &err);
    assert_status(sj_copy(&h, g_b1, 0, &h, g_b1, 0, INT64_MIN, &err), SJ_E_BOUNDS, &err);
    /* zero elements at the very end is fine, one byte past it is not */
    assert_status(sj_copy(&h, g_b1, 100, &h, g_b1, 100, 0, &err), SJ_OK, &err);
    assert_status(sj_copy(&h, g_b1, 101, &h, g_b1, 0, 0, &err), SJ_E_BOUNDS, &err);
    for (int i = 0; i < 100; i++)
        assert_int_equal(arr[i], 7); /* nothing written by any of them */
}

/* TestSegmentCopy.testElementCopy: every pair of types of one carrier (both orders), every
 * pair of offsets in 16-byte segments, values i through the source type, read back through
 * the destination type. */
static const jkind *const ELEM_KINDS[] = {&K_ARENA, &K_HEAP_I8, &K_HEAPS[9]};
#define N_ELEM_KINDS (sizeof ELEM_KINDS / sizeof ELEM_KINDS[0])

/* The two types of an element copy case, their layouts and the kernel copying them. */
typedef struct elem_types {
    size_t t1, t2;
    sj_layout *l1, *l2;
    sj_kernel *k;
} elem_types;

static void elements_case(const jkind *ka, jseg *a, const jkind *kb, jseg *b, void *ctx) {
    const elem_types *e = ctx;
    int carrier = TYPES[e->t1].carrier;
    int64_t z = (int64_t)sj_layout_size(e->l1);
    for (int64_t o1 = 0; o1 < 16; o1++)
        for (int64_t o2 = 0; o2 < 16; o2++) {
            int64_t n1 = (16 - o1) / z, n2 = (16 - o2) / z, n = n1 < n2 ? n1 : n2;
            sj_error err = {0};
            for (int64_t i = 0; i < n; i++)
                assert_status(sj_set(&a->seg, e->l1, o1 + i * z, jvalue(carrier, (int)i), &err),
                              SJ_OK, &err);
            bool oneshot = (o1 + o2) % 2 != 0;
            assert_status(run_copy(e->k, oneshot, &a->seg, e->l1, o1, &b->seg, e->l2, o2, n, &err),
                          SJ_OK, &err);
            for (int64_t i = 0; i < n; i++) {
                sj_value v;
                assert_status(sj_get(&b->seg, e->l2, o2 + i * z, &v, &err), SJ_OK, &err);
                if (!jvalue_eq(carrier, v, jvalue(carrier, (int)i)))
                    fail_msg("%s (%s) -> %s (%s), offsets %lld -> %lld: element %lld differs",
                             TYPES[e->t1].text, ka->name, TYPES[e->t2].text, kb->name,
                             (long long)o1, (long long)o2, (long long)i);
            }
            if (!oneshot && n > 0) test_check_tier(e->k, jseg_moving(a) || jseg_moving(b));
        }
}

static void test_segment_copy_elements(void **state) {
    (void)state;
    for (size_t t1 = 0; t1 < N_TYPES; t1++)
        for (size_t t2 = 0; t2 < N_TYPES; t2++) {
            if (TYPES[t1].carrier != TYPES[t2].carrier) continue;
            elem_types e = {t1, t2, test_layout(TYPES[t1].text), test_layout(TYPES[t2].text), NULL};
            e.k = copy_kernel(e.l1, e.l2);
            each_kind_pair(ELEM_KINDS, N_ELEM_KINDS, elements_case, &e);
            sj_kernel_free(e.k);
            UNREF(e.l1, e.l2);
        }
}

/* TestSegmentCopy / TestArrayCopy testHyperAlignedSrc, testHyperAlignedDst: JAVA_BYTE
 * aligned to 2 on either side: IAE. */
static void test_segment_copy_hyper_aligned(void **state) {
    (void)state;
    int8_t arr[4] = {1, 2, 3, 4}, other[4] = {1, 2, 3, 4};
    sj_segment h = heap_seg(SJ_HEAP_I8, arr, 4), o = heap_seg(SJ_HEAP_I8, other, 4);
    sj_error err = {0};
    sj_layout *b2 = test_layout("2%b1");
    assert_status(sj_copy(&o, g_b1, 0, &h, b2, 0, 4, &err), SJ_E_ARG, &err);
    assert_status(sj_copy(&h, b2, 0, &o, g_b1, 0, 4, &err), SJ_E_ARG, &err);
    sj_kernel *k = NULL;
    assert_int_equal(sj_kernel_copy(b2, g_b1, &k, &err), SJ_E_ARG);
    assert_int_equal(sj_kernel_copy(g_b1, b2, &k, &err), SJ_E_ARG);
    /* JAVA_LONG.withByteAlignment(16) over a long[]: IAE, "alignment greater than its size" */
    sj_layout *j16 = test_layout("16%j8"), *j8 = test_layout("j8");
    int64_t longs[4] = {0};
    sj_segment lh = heap_seg(SJ_HEAP_I64, longs, 4);
    assert_status(sj_copy(&lh, j16, 0, &lh, j8, 8, 1, &err), SJ_E_ARG, &err);
    assert_non_null(strstr(err.message, "alignment"));
    for (int i = 0; i < 4; i++)
        assert_int_equal(arr[i], i + 1);
    UNREF(b2, j16, j8);
}

/* TestSegmentCopy testCopy5ArgWithNegativeValues, testCopy7ArgWithNegativeValues,
 * testCopyFromArrayWithNegativeValues, testCopyToArrayWithNegativeValues: -1 as either
 * offset (or array index) or as the count: IOOBE. */
static void test_segment_copy_negative_values(void **state) {
    (void)state;
    int8_t sa[4] = {1, 2, 3, 4}, da[4] = {1, 2, 3, 4};
    sj_segment s = heap_seg(SJ_HEAP_I8, sa, 4), d = heap_seg(SJ_HEAP_I8, da, 4);
    sj_error err = {0};
    /* 5 arguments */
    assert_status(sj_copy_bytes(&s, -1, &d, 0, 4, &err), SJ_E_BOUNDS, &err);
    assert_status(sj_copy_bytes(&s, 0, &d, -1, 4, &err), SJ_E_BOUNDS, &err);
    assert_status(sj_copy_bytes(&s, 0, &d, 0, -1, &err), SJ_E_BOUNDS, &err);
    /* 7 arguments, and the array forms (a byte[] is a heap segment, index = offset) */
    for (int oneshot = 0; oneshot < 2; oneshot++) {
        assert_status(run_copy(g_bytes, oneshot, &s, g_b1, -1, &d, g_b1, 0, 4, &err), SJ_E_BOUNDS,
                      &err);
        assert_status(run_copy(g_bytes, oneshot, &s, g_b1, 0, &d, g_b1, -1, 4, &err), SJ_E_BOUNDS,
                      &err);
        assert_status(run_copy(g_bytes, oneshot, &s, g_b1, 0, &d, g_b1, 0, -1, &err), SJ_E_BOUNDS,
                      &err);
    }
    /* a char[] at offset -2 is out of bounds, at -1 first misaligned (JDK: IOOBE, IAE) */
    uint16_t chars[4] = {0};
    uint8_t nat[16] = {0};
    sj_segment ch = heap_seg(SJ_HEAP_U16, chars, 4), ns = native_seg(nat, 16);
    sj_layout *c2 = test_layout("c2");
    assert_status(sj_copy(&ch, c2, -2, &ns, c2, 0, 1, &err), SJ_E_BOUNDS, &err);
    assert_status(sj_copy(&ch, c2, -1, &ns, c2, 0, 1, &err), SJ_E_ALIGN, &err);
    sj_layout_unref(c2);
    for (int i = 0; i < 4; i++)
        assert_int_equal(da[i], i + 1);
}

/* ---- TestArrayCopy ---- */

/* The array kinds: the layout of the array's own elements (its carrier, native order,
 * aligned to the element size) and the segment side's layouts (withByteAlignment(1)),
 * little and big endian. */
static const struct {
    sj_heap_kind kind;
    const char *le, *be;         /* the array side */
    const char *le_seg, *be_seg; /* the segment side */
} ARRAYS[] = {
    {SJ_HEAP_I8, "b1", "b1", "b1", "b1"},      {SJ_HEAP_U16, "c2", "C2", "1%c2", "1%C2"},
    {SJ_HEAP_I16, "s2", "S2", "1%s2", "1%S2"}, {SJ_HEAP_I32, "i4", "I4", "1%i4", "1%I4"},
    {SJ_HEAP_F32, "f4", "F4", "1%f4", "1%F4"}, {SJ_HEAP_I64, "j8", "J8", "1%j8", "1%J8"},
    {SJ_HEAP_F64, "d8", "D8", "1%d8", "1%D8"},
};
#define N_ARRAYS (sizeof ARRAYS / sizeof ARRAYS[0])

#define SEG_LENGTH 32
#define SEG_OFFSET 8

/* An array whose segments are taken over it in one of several ways. */
enum {
    V_HEAP,   /* both sides heap segments over the array */
    V_ALIAS,  /* the array side a heap segment, the other side a native segment over it */
    V_PINNED, /* both sides pinned heap segments over it */
    V_NATIVE, /* both sides native segments over it */
    V_COUNT
};

typedef struct jarray {
    uint8_t *mem; /* SEG_LENGTH bytes, 8-aligned */
    int pins, unpins;
} jarray;

static void *ja_resolve(void *owner) {
    return ((jarray *)owner)->mem;
}
static void ja_pin(void *owner) {
    ((jarray *)owner)->pins++;
}
static void ja_unpin(void *owner) {
    ((jarray *)owner)->unpins++;
}

/* The segment of variant v over the array: the array's own side (arr true) or the view. */
static sj_segment ja_seg(jarray *a, sj_heap_kind kind, int v, bool arr) {
    int64_t n = SEG_LENGTH / (int64_t)test_heap_elem(kind);
    if (v == V_NATIVE || (v == V_ALIAS && !arr)) return native_seg(a->mem, SEG_LENGTH);
    if (v != V_PINNED) return heap_seg(kind, a->mem, n);
    sj_segment s;
    sj_error err = {0};
    assert_int_equal(sj_segment_heap_pinned(kind, n, a, ja_resolve, ja_pin, ja_unpin, &s, &err),
                     SJ_OK);
    return s;
}

/* srcSegment(32): bytes 0..31 */
static void ja_init(jarray *a) {
    a->mem = aligned_alloc(8, SEG_LENGTH);
    assert_non_null(a->mem);
    for (int i = 0; i < SEG_LENGTH; i++)
        a->mem[i] = (uint8_t)i;
    a->pins = a->unpins = 0;
}

static void ja_free(jarray *a) {
    assert_int_equal(a->pins, a->unpins);
    free(a->mem);
}

/* The bytes of srcSegment(32) after copying n elements of e bytes from soff to doff as if
 * through a temporary buffer, each byte-reversed when swap. */
static void ja_expect(uint8_t *out, int64_t soff, int64_t doff, int64_t n, int64_t e, bool swap) {
    uint8_t orig[SEG_LENGTH];
    for (int i = 0; i < SEG_LENGTH; i++)
        orig[i] = out[i] = (uint8_t)i;
    for (int64_t j = 0; j < n; j++)
        for (int64_t b = 0; b < e; b++)
            out[doff + j * e + b] = orig[soff + j * e + (swap ? e - 1 - b : b)];
}

static bool big_endian(void) {
    return sj_native_order() == SJ_ORDER_BIG;
}
/* the array side */
static const char *native_text(size_t i) {
    return big_endian() ? ARRAYS[i].be : ARRAYS[i].le;
}
/* the segment side, in the native order or the other one */
static const char *seg_text(size_t i, bool swap) {
    return big_endian() != swap ? ARRAYS[i].be_seg : ARRAYS[i].le_seg;
}

/* TestArrayCopy testSelfCopy (shift 8 bytes, the truth segment compared) and
 * testUnalignedCopy (shift 7 bytes; the JDK checks only that it runs: here its bytes too):
 * copyFromArray and copyToArray where the segment is a view of the array itself, up and
 * down, with and without a byte swap, for every array kind. */
static void array_copy_case(size_t ai, bool up, bool swap, int64_t shift, int v) {
    sj_heap_kind kind = ARRAYS[ai].kind;
    int64_t e = (int64_t)test_heap_elem(kind), shifts = SEG_OFFSET / e, n = SEG_LENGTH / e;
    int64_t len = n - shifts;
    sj_layout *nl = test_layout(native_text(ai)), *bl = test_layout(seg_text(ai, swap));
    sj_error err = {0};
    uint8_t expect[SEG_LENGTH];
    /* CopyFrom: MemorySegment.copy(array, srcIndex, view, layout(bo), dstOffset, len) */
    jarray a;
    ja_init(&a);
    sj_segment as = ja_seg(&a, kind, v, true), vs = ja_seg(&a, kind, v, false);
    int64_t src_index = up ? 0 : shifts, dst_off = up ? shift : 0;
    assert_status(sj_copy(&as, nl, src_index * e, &vs, bl, dst_off, len, &err), SJ_OK, &err);
    ja_expect(expect, src_index * e, dst_off, len, e, swap && e > 1);
    if (memcmp(a.mem, expect, SEG_LENGTH) != 0)
        fail_msg("copyFromArray %s %s%s shift %lld variant %d: wrong bytes", native_text(ai),
                 up ? "up" : "down", swap ? " swapped" : "", (long long)shift, v);
    ja_free(&a);
    /* CopyTo: MemorySegment.copy(view.asReadOnly(), layout(bo), srcOffset, array, dstIndex,
     * len), through a kernel */
    ja_init(&a);
    as = ja_seg(&a, kind, v, true);
    vs = ja_seg(&a, kind, v, false);
    sj_segment ro = sj_segment_readonly(&vs);
    int64_t src_off = up ? 0 : shift, dst_index = up ? shifts : 0;
    sj_kernel *k = copy_kernel(bl, nl);
    sj_args args = {&ro, src_off, &as, dst_index * e, len};
    assert_status(sj_kernel_run(k, &args, NULL, &err), SJ_OK, &err);
    ja_expect(expect, src_off, dst_index * e, len, e, swap && e > 1);
    if (memcmp(a.mem, expect, SEG_LENGTH) != 0)
        fail_msg("copyToArray %s %s%s shift %lld variant %d: wrong bytes", native_text(ai),
                 up ? "up" : "down", swap ? " swapped" : "", (long long)shift, v);
    test_check_tier(k, v == V_HEAP || v == V_ALIAS);
    sj_kernel_free(k);
    ja_free(&a);
    sj_layout_unref(nl);
    sj_layout_unref(bl);
}

static void test_array_copy_self(void **state) {
    (void)state;
    for (size_t ai = 0; ai < N_ARRAYS; ai++)
        for (int mode = 0; mode < 4; mode++)
            for (int v = 0; v < V_COUNT; v++)
                array_copy_case(ai, mode < 2, mode % 2 != 0, SEG_OFFSET, v);
}

static void test_array_copy_unaligned(void **state) {
    (void)state;
    for (size_t ai = 0; ai < N_ARRAYS; ai++)
        for (int mode = 0; mode < 4; mode++)
            for (int v = 0; v < V_COUNT; v++)
                array_copy_case(ai, mode < 2, mode % 2 != 0, SEG_OFFSET - 1, v);
}

/* TestArrayCopy testCopyOobLength, testCopyNegativeIndices, testCopyNegativeOffsets,
 * testCopyOobIndices, testCopyOobOffsets (IOOBE), testCopyReadOnlyDest (IAE), every array
 * kind; nothing is written. */
static void test_array_copy_errors(void **state) {
    (void)state;
    for (size_t ai = 0; ai < N_ARRAYS; ai++) {
        sj_heap_kind kind = ARRAYS[ai].kind;
        int64_t e = (int64_t)test_heap_elem(kind), n = SEG_LENGTH / e;
        sj_layout *nl = test_layout(native_text(ai)), *sl = test_layout(seg_text(ai, false));
        sj_kernel *from = copy_kernel(nl, sl), *to = copy_kernel(sl, nl);
        for (int v = 0; v < V_COUNT; v++)
            for (int oneshot = 0; oneshot < 2; oneshot++) {
                jarray a;
                ja_init(&a);
                sj_segment as = ja_seg(&a, kind, v, true), vs = ja_seg(&a, kind, v, false);
                sj_segment ro = sj_segment_readonly(&vs);
                sj_error err = {0};
                static const struct {
                    int64_t from_index, from_off, to_off, to_index, count_factor;
                    sj_status st;
                } cases[] = {
                    /* copyFromArray(arr, idx, count, view, off) then copyToArray(ro, off, arr,
                     * idx, count) as (array index, view offset) pairs */
                    {0, 0, 0, 0, 2, SJ_E_BOUNDS},                           /* OobLength */
                    {-1, 0, 0, -1, 1, SJ_E_BOUNDS},                         /* NegativeIndices */
                    {0, -1, -1, 0, 1, SJ_E_BOUNDS},                         /* NegativeOffsets */
                    {INT64_MAX, 0, 0, INT64_MAX, 1, SJ_E_BOUNDS},           /* OobIndices */
                    {0, SEG_LENGTH + 1, SEG_OFFSET + 1, 0, 1, SJ_E_BOUNDS}, /* OobOffsets */
                };
                for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
                    int64_t fi = cases[c].from_index == INT64_MAX ? n + 1 : cases[c].from_index;
                    int64_t ti = cases[c].to_index == INT64_MAX ? n + 1 : cases[c].to_index;
                    int64_t count = n * cases[c].count_factor;
                    assert_status(run_copy(from, oneshot, &as, nl, fi * e, &vs, sl,
                                           cases[c].from_off, count, &err),
                                  cases[c].st, &err);
                    assert_status(run_copy(to, oneshot, &ro, sl, cases[c].to_off, &as, nl, ti * e,
                                           count, &err),
                                  cases[c].st, &err);
                }
                /* testCopyReadOnlyDest */
                assert_status(run_copy(from, oneshot, &as, nl, 0, &ro, sl, 0, n, &err),
                              SJ_E_READONLY, &err);
                for (int i = 0; i < SEG_LENGTH; i++)
                    assert_int_equal(a.mem[i], i);
                ja_free(&a);
            }
        sj_kernel_free(from);
        sj_kernel_free(to);
        sj_layout_unref(nl);
        sj_layout_unref(sl);
    }
}

/* TestArrayCopy testCarrierMismatchSrc, testCarrierMismatchDst: JAVA_INT between an int[]
 * segment and a byte[] (whose elements are JAVA_BYTE): IAE, the layouts' sizes differ. */
static void test_array_copy_carrier_mismatch(void **state) {
    (void)state;
    int32_t ints[4] = {1, 2, 3, 4};
    int8_t bytes[4] = {1, 2, 3, 4};
    sj_segment is = heap_seg(SJ_HEAP_I32, ints, 4), bs = heap_seg(SJ_HEAP_I8, bytes, 4);
    sj_error err = {0};
    sj_layout *i4 = test_layout("i4");
    assert_status(sj_copy(&is, i4, 0, &bs, g_b1, 0, 4, &err), SJ_E_ARG, &err);
    assert_status(sj_copy(&bs, g_b1, 0, &is, i4, 0, 4, &err), SJ_E_ARG, &err);
    sj_layout_unref(i4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(ints[i], i + 1);
        assert_int_equal(bytes[i], i + 1);
    }
}

/* ---- TestMemoryCopy ---- */

/* slices(): every slice of sizes 16, 8, 4, 2, 1 at multiples of its size of one 16-byte
 * segment per kind; for every ordered pair, s2.copyFrom(s1.asSlice(0, size)). */
static void test_memory_copy_slices(void **state) {
    (void)state;
    static const jkind *const kinds[] = {&K_ARENA, &K_HEAP_I8, &K_HEAPS[6], &K_HEAPS[8]};
    enum { NK = sizeof kinds / sizeof kinds[0] };
    static const int sizes[] = {16, 8, 4, 2, 1};
    jseg segs[NK];
    struct {
        int seg, first, size;
    } sl[NK * 31];
    int ns = 0;
    for (int s = 0; s < NK; s++) {
        jseg_init(&segs[s], kinds[s], 16, (size_t)s);
        for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++)
            for (int i = 0; i < 16; i += sizes[z]) {
                sl[ns].seg = s, sl[ns].first = i, sl[ns].size = sizes[z];
                ns++;
            }
    }
    for (int x = 0; x < ns; x++)
        for (int y = 0; y < ns; y++) {
            sj_error err = {0};
            sj_segment s1, s2, part;
            assert_int_equal(
                sj_segment_slice(&segs[sl[x].seg].seg, sl[x].first, sl[x].size, &s1, &err), SJ_OK);
            assert_int_equal(
                sj_segment_slice(&segs[sl[y].seg].seg, sl[y].first, sl[y].size, &s2, &err), SJ_OK);
            int size = sl[x].size < sl[y].size ? sl[x].size : sl[y].size;
            uint8_t *d1 = segs[sl[x].seg].data + sl[x].first,
                    *d2 = segs[sl[y].seg].data + sl[y].first;
            memset(d2, 0, (size_t)size);
            for (int i = 0; i < size; i++)
                d1[i] = (uint8_t)i;
            assert_int_equal(sj_segment_slice(&s1, 0, size, &part, &err), SJ_OK);
            if ((x + y) % 2)
                assert_status(sj_copy_bytes(&part, 0, &s2, 0, size, &err), SJ_OK, &err);
            else {
                sj_args a = {&part, 0, &s2, 0, size};
                assert_status(sj_kernel_run(g_bytes, &a, NULL, &err), SJ_OK, &err);
            }
            for (int i = 0; i < size; i++)
                if (d2[i] != (uint8_t)i)
                    fail_msg("slice %d of %s -> slice %d of %s: byte %d is %u", sl[x].first,
                             kinds[sl[x].seg]->name, sl[y].first, kinds[sl[y].seg]->name, i, d2[i]);
        }
    for (int s = 0; s < NK; s++)
        jseg_free(&segs[s]);
}

/* ---- copy checks (SEMANTICS 4.2 order), carriers, heap alignment, lifetime ---- */

/* Each row: the JDK 25 call and its result, and segjit's expected status. */
static void test_copy_check_order(void **state) {
    (void)state;
    int8_t arr[100] = {0};
    sj_segment h = heap_seg(SJ_HEAP_I8, arr, 100);
    sj_error err = {0};
    sj_segment ro = sj_segment_readonly(&h);
    sj_layout *b2 = test_layout("2%b1"), *s2u = test_layout("1%s2"), *i4 = test_layout("i4"),
              *i4u = test_layout("1%i4");
    /* copy(h, JAVA_BYTE.withByteAlignment(2), 0, h, JAVA_BYTE, 0, -1): IOOBE (count first) */
    assert_status(sj_copy(&h, b2, 0, &h, g_b1, 0, -1, &err), SJ_E_BOUNDS, &err);
    /* copy(h, JAVA_BYTE, 0, h, JAVA_SHORT_UNALIGNED, 0, -1): IOOBE */
    assert_status(sj_copy(&h, g_b1, 0, &h, s2u, 0, -1, &err), SJ_E_BOUNDS, &err);
    /* copy(h, JAVA_INT, 1, h, JAVA_INT_UNALIGNED, 0, -1): IOOBE */
    assert_status(sj_copy(&h, i4, 1, &h, i4u, 0, -1, &err), SJ_E_BOUNDS, &err);
    /* copy(h, JAVA_INT, 0, ...) on a byte[]: IAE "Source segment incompatible with alignment" */
    assert_status(sj_copy(&h, i4, 0, &h, i4u, 4, 1, &err), SJ_E_ALIGN, &err);
    /* copy(h, JAVA_INT, 1, h, JAVA_INT_UNALIGNED, 0, 1000): IAE (alignment before bounds) */
    assert_status(sj_copy(&h, i4, 1, &h, i4u, 0, 1000, &err), SJ_E_ALIGN, &err);
    /* copy(h, JAVA_BYTE, 0, h.asReadOnly(), JAVA_BYTE, 0, 1000): IOOBE (source bounds first) */
    assert_status(sj_copy(&h, g_b1, 0, &ro, g_b1, 0, 1000, &err), SJ_E_BOUNDS, &err);
    /* copy(h, JAVA_BYTE, 0, h.asReadOnly(), JAVA_BYTE, 90, 20): IAE read-only */
    assert_status(sj_copy(&h, g_b1, 0, &ro, g_b1, 90, 20, &err), SJ_E_READONLY, &err);
    /* copy(h, 0, h.asReadOnly(), 0, -1): IOOBE; copy(h, -1, h.asReadOnly(), 0, 1): IOOBE;
     * copy(h, 0, h.asReadOnly(), 0, 101): IOOBE */
    assert_status(sj_copy_bytes(&h, 0, &ro, 0, -1, &err), SJ_E_BOUNDS, &err);
    assert_status(sj_copy_bytes(&h, -1, &ro, 0, 1, &err), SJ_E_BOUNDS, &err);
    assert_status(sj_copy_bytes(&h, 0, &ro, 0, 101, &err), SJ_E_BOUNDS, &err);
    /* native JAVA_INT into int[].asReadOnly() at offset 2: IAE alignment (before read-only) */
    int32_t ints[4] = {0};
    uint8_t nat[64] __attribute__((aligned(16))) = {0};
    sj_segment is = heap_seg(SJ_HEAP_I32, ints, 4), ns = native_seg(nat, 64);
    sj_segment iro = sj_segment_readonly(&is);
    assert_status(sj_copy(&ns, i4, 0, &iro, i4, 2, 1, &err), SJ_E_ALIGN, &err);
    assert_non_null(strstr(err.message, "destination"));
    /* copy(byte[], JAVA_INT_UNALIGNED, 0, int[], JAVA_INT, 2, 1000): IAE (destination
     * alignment before source bounds) */
    sj_layout *i4n = test_layout("1%i4");
    assert_status(sj_copy(&h, i4n, 0, &is, i4, 2, 1000, &err), SJ_E_ALIGN, &err);
    assert_non_null(strstr(err.message, "destination"));
    /* over a closed arena: copy(closed, JAVA_BYTE, 0, h.asReadOnly(), JAVA_BYTE, 0, 1): IAE
     * read-only; copy(closed, .., h, JAVA_BYTE, 100, 1) and copy(h, JAVA_BYTE, 100, closed,
     * .., 1): IOOBE; closed.asReadOnly().fill(1): IAE; mismatch(closed, 0, 4, h, 0, 101):
     * IOOBE (lifetime last) */
    sj_segment n = closed_seg(16);
    assert_status(sj_copy(&n, g_b1, 0, &ro, g_b1, 0, 1, &err), SJ_E_READONLY, &err);
    assert_status(sj_copy(&n, g_b1, 0, &h, g_b1, 100, 1, &err), SJ_E_BOUNDS, &err);
    assert_status(sj_copy(&h, g_b1, 100, &n, g_b1, 0, 1, &err), SJ_E_BOUNDS, &err);
    sj_segment nro = sj_segment_readonly(&n);
    assert_status(sj_fill_bytes(&nro, 0, 16, 1, &err), SJ_E_READONLY, &err);
    int64_t r = 99;
    assert_status(sj_mismatch(&n, 0, 4, &h, 0, 101, &r, &err), SJ_E_BOUNDS, &err);
    sj_layout_unref(i4n);
    for (int i = 0; i < 100; i++)
        assert_int_equal(arr[i], 0);
    UNREF(b2, s2u, i4, i4u);
}

/* Copies between layouts of one size but other carriers (MemorySegment.copy takes any
 * value layouts of equal size): JAVA_INT -> JAVA_FLOAT big endian swaps the bytes,
 * JAVA_BOOLEAN -> JAVA_BYTE moves them as they are, ADDRESS -> JAVA_LONG big endian swaps. */
static void test_copy_other_carriers(void **state) {
    (void)state;
    sj_error err = {0};
    /* int[]{0x01020304} -> byte[4] as JAVA_FLOAT_UNALIGNED big endian: [1, 2, 3, 4] */
    int32_t one[1] = {0x01020304};
    uint8_t out4[4] = {0};
    sj_segment is = heap_seg(SJ_HEAP_I32, one, 1), os = heap_seg(SJ_HEAP_I8, out4, 4);
    sj_layout *i4 = test_layout(sj_native_order() == SJ_ORDER_BIG ? "I4" : "i4");
    sj_layout *f4be = test_layout("1%F4");
    sj_kernel *k = copy_kernel(i4, f4be);
    sj_args a = {&is, 0, &os, 0, 1};
    assert_status(sj_kernel_run(k, &a, NULL, &err), SJ_OK, &err);
    static const uint8_t be4[4] = {1, 2, 3, 4};
    assert_memory_equal(out4, be4, 4);
    sj_kernel_free(k);
    /* byte[]{2, 0, 1, -1} as JAVA_BOOLEAN -> JAVA_BYTE: [2, 0, 1, -1] */
    int8_t bools[4] = {2, 0, 1, -1}, bout[4] = {0};
    sj_segment bs = heap_seg(SJ_HEAP_I8, bools, 4), bo = heap_seg(SJ_HEAP_I8, bout, 4);
    sj_layout *z1 = test_layout("z1");
    assert_status(sj_copy(&bs, z1, 0, &bo, g_b1, 0, 4, &err), SJ_OK, &err);
    assert_memory_equal(bout, bools, 4);
    /* long[]{0x0102030405060708} as ADDRESS -> byte[9] at 1 as ADDRESS_UNALIGNED big endian:
     * [0, 1, 2, 3, 4, 5, 6, 7, 8]; and as JAVA_LONG_UNALIGNED big endian */
    int64_t addr[2] = {INT64_C(0x0102030405060708), 0};
    uint8_t out9[9] = {0};
    sj_segment as = heap_seg(SJ_HEAP_I64, addr, 2), o9 = heap_seg(SJ_HEAP_I8, out9, 9),
               n9 = native_seg(out9, 9);
    sj_layout *a8 = test_layout(sj_native_order() == SJ_ORDER_BIG ? "A8" : "a8");
    sj_layout *a8be = test_layout("1%A8"), *j8be = test_layout("1%J8");
    static const uint8_t be9[9] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
    for (int dst = 0; dst < 2; dst++)
        for (int l = 0; l < 2; l++) {
            memset(out9, 0, 9);
            k = copy_kernel(a8, l ? j8be : a8be);
            sj_args b = {&as, 0, dst ? &n9 : &o9, 1, 1};
            assert_status(sj_kernel_run(k, &b, NULL, &err), SJ_OK, &err);
            assert_memory_equal(out9, be9, 9);
            test_check_tier(k, true);
            sj_kernel_free(k);
        }
    UNREF(i4, f4be, z1, a8, a8be, j8be);
}

/* Rule 3.3 on sliced heap segments, as the JDK answers (copy to a native segment): */
static void test_copy_heap_slice_alignment(void **state) {
    (void)state;
    static const struct {
        sj_heap_kind kind;
        int64_t count, slice;
        const char *layout;
        int64_t off;
        bool ok;
    } cases[] = {
        {SJ_HEAP_I16, 8, 1, "s2", 1, true},   /* short[].asSlice(1), JAVA_SHORT at 1: OK */
        {SJ_HEAP_I16, 8, 1, "s2", 0, false},  /* ... at 0: IAE */
        {SJ_HEAP_I64, 4, 12, "i4", 0, true},  /* long[].asSlice(12), JAVA_INT at 0: OK */
        {SJ_HEAP_I64, 4, 12, "j8", 4, true},  /* ... JAVA_LONG at 4: OK */
        {SJ_HEAP_I64, 4, 12, "j8", 0, false}, /* ... JAVA_LONG at 0: IAE */
        {SJ_HEAP_F32, 4, 2, "f4", 2, true},   /* float[].asSlice(2), JAVA_FLOAT at 2: OK */
        {SJ_HEAP_F32, 4, 2, "f4", 0, false},  /* ... at 0: IAE */
        {SJ_HEAP_I32, 4, 0, "d8", 0, false},  /* int[], JAVA_DOUBLE at 0: IAE */
        {SJ_HEAP_F64, 4, 0, "d8", 8, true},   /* double[], JAVA_DOUBLE at 8: OK */
        {SJ_HEAP_U16, 4, 0, "c2", -1, false}, /* char[], JAVA_CHAR at -1: IAE (not IOOBE) */
    };
    uint8_t nat[64] __attribute__((aligned(16)));
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (int dir = 0; dir < 2; dir++) {
            uint64_t arr[8] = {0};
            sj_segment whole = heap_seg(cases[c].kind, arr, cases[c].count), h;
            sj_segment ns = native_seg(nat, 64);
            sj_error err = {0};
            assert_int_equal(sj_segment_slice(&whole, cases[c].slice,
                                              (int64_t)sj_segment_size(&whole) - cases[c].slice, &h,
                                              &err),
                             SJ_OK);
            sj_layout *l = test_layout(cases[c].layout);
            sj_status st = dir ? sj_copy(&ns, l, 0, &h, l, cases[c].off, 1, &err)
                               : sj_copy(&h, l, cases[c].off, &ns, l, 0, 1, &err);
            if (st != (cases[c].ok ? SJ_OK : SJ_E_ALIGN))
                fail_msg("case %zu (%s at %lld, %s): %s (%s)", c, cases[c].layout,
                         (long long)cases[c].off, dir ? "into the heap" : "out of the heap",
                         sj_status_name(st), err.message);
            sj_layout_unref(l);
        }
}

/* A call made on another thread. */
typedef struct thr_call {
    int op; /* 0 byte copy, 1 element copy (b1), 2 mismatch, 3 fill */
    const sj_segment *a, *b;
    int64_t n, m;
    sj_status st;
    int64_t r;
} thr_call;

static void *thr_main(void *p) {
    thr_call *c = p;
    sj_error err = {0};
    c->r = -7;
    switch (c->op) {
        case 0:
            c->st = sj_copy_bytes(c->a, 0, c->b, 0, c->n, &err);
            break;
        case 1:
            c->st = sj_copy(c->a, g_b1, 0, c->b, g_b1, 0, c->n, &err);
            break;
        case 2:
            c->st = sj_mismatch(c->a, 0, c->n, c->b, 0, c->m, &c->r, &err);
            break;
        default:
            c->st = sj_fill_bytes(c->a, 0, c->n, (uint8_t)-71, &err);
            break;
    }
    return NULL;
}

static thr_call on_thread(int op, const sj_segment *a, const sj_segment *b, int64_t n, int64_t m) {
    thr_call c = {op, a, b, n, m, SJ_OK, 0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, thr_main, &c), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    return c;
}

/* The segments of the lifetime cases: h over a byte[100] of zeros, n of 16 bytes of an
 * arena already closed, live of 16 bytes of a confined arena open until lifetimes_end. */
typedef struct lifetimes {
    int8_t arr[100];
    sj_segment h, n, live;
    sj_arena arena;
} lifetimes;

static void lifetimes_begin(lifetimes *t) {
    sj_error err = {0};
    memset(t->arr, 0, sizeof t->arr);
    t->h = heap_seg(SJ_HEAP_I8, t->arr, 100);
    t->n = closed_seg(16);
    assert_int_equal(sj_arena_open(SJ_ARENA_CONFINED, &t->arena, &err), SJ_OK);
    assert_status(sj_arena_allocate(t->arena, 16, 1, &t->live, &err), SJ_OK, &err);
}

static void lifetimes_end(lifetimes *t) {
    sj_error err = {0};
    assert_int_equal(sj_arena_close(t->arena, &err), SJ_OK);
}

/* Element copies and byte copies over a closed arena or from another thread. */
static void test_copy_lifetime(void **state) {
    (void)state;
    sj_error err = {0};
    lifetimes t;
    lifetimes_begin(&t);
    /* copy(closed, JAVA_BYTE, 0, h, JAVA_BYTE, 0, 0): ISE, either side */
    assert_status(sj_copy(&t.n, g_b1, 0, &t.h, g_b1, 0, 0, &err), SJ_E_CLOSED, &err);
    assert_status(sj_copy(&t.h, g_b1, 0, &t.n, g_b1, 0, 0, &err), SJ_E_CLOSED, &err);
    /* copy(closed, 0, h, 0, 1): ISE; copy(closed, JAVA_BYTE, 0, h, JAVA_BYTE, 0, 17): IOOBE
     * (bounds before lifetime) */
    assert_status(sj_copy_bytes(&t.n, 0, &t.h, 0, 1, &err), SJ_E_CLOSED, &err);
    assert_status(sj_copy(&t.n, g_b1, 0, &t.h, g_b1, 0, 17, &err), SJ_E_BOUNDS, &err);
    assert_status(sj_copy_bytes(&t.n, 17, &t.h, 0, 0, &err), SJ_E_BOUNDS, &err);
    /* SEMANTICS 4.2 (closed/thread is a check of every copy, as in the JDK's element copy
     * above): JDK 25's five-argument copy(closed, 0, h, 0, 0) returns normally. */
    assert_status(sj_copy_bytes(&t.n, 0, &t.h, 0, 0, &err), SJ_E_CLOSED, &err);
    /* a confined arena's segment from another thread: WrongThreadException for the element
     * copy (even of 0 elements) and the byte copy of 1 byte */
    assert_int_equal(on_thread(1, &t.live, &t.h, 0, 0).st, SJ_E_THREAD);
    assert_int_equal(on_thread(1, &t.h, &t.live, 0, 0).st, SJ_E_THREAD);
    assert_int_equal(on_thread(0, &t.live, &t.h, 1, 0).st, SJ_E_THREAD);
    /* SEMANTICS 4.2 again: JDK 25's copy(live, 0, h, 0, 0) from another thread returns */
    assert_int_equal(on_thread(0, &t.live, &t.h, 0, 0).st, SJ_E_THREAD);
    lifetimes_end(&t);
}

/* Offsets at the ends of the long range on a long[] (whole, and sliced at 8): alignment is
 * judged on the wrapped address first, as the JDK does. */
static void test_copy_extreme_offsets(void **state) {
    (void)state;
    int64_t longs[8] = {0};
    sj_segment lh = heap_seg(SJ_HEAP_I64, longs, 8), lh8;
    sj_error err = {0};
    assert_int_equal(sj_segment_slice(&lh, 8, 56, &lh8, &err), SJ_OK);
    sj_layout *j8 = test_layout("j8");
    sj_kernel *k = copy_kernel(j8, j8);
    for (int oneshot = 0; oneshot < 2; oneshot++) {
        /* copy(long[], JAVA_LONG, Long.MAX_VALUE, ...): IAE (alignment) */
        assert_status(run_copy(k, oneshot, &lh, j8, INT64_MAX, &lh, j8, 0, 1, &err), SJ_E_ALIGN,
                      &err);
        /* ... Long.MAX_VALUE - 7, Long.MIN_VALUE: IOOBE; the same on the slice at 8 */
        assert_status(run_copy(k, oneshot, &lh, j8, INT64_MAX - 7, &lh, j8, 0, 1, &err),
                      SJ_E_BOUNDS, &err);
        assert_status(run_copy(k, oneshot, &lh, j8, INT64_MIN, &lh, j8, 0, 1, &err), SJ_E_BOUNDS,
                      &err);
        assert_status(run_copy(k, oneshot, &lh8, j8, INT64_MAX - 7, &lh, j8, 0, 1, &err),
                      SJ_E_BOUNDS, &err);
        assert_status(run_copy(k, oneshot, &lh, j8, 0, &lh8, j8, INT64_MIN, 1, &err), SJ_E_BOUNDS,
                      &err);
        /* copy(long[], JAVA_LONG, 0, long[].asReadOnly(), JAVA_LONG, 4, 0): IAE (alignment,
         * even for no element, and before read-only) */
        sj_segment ro = sj_segment_readonly(&lh);
        assert_status(run_copy(k, oneshot, &lh, j8, 0, &ro, j8, 4, 0, &err), SJ_E_ALIGN, &err);
    }
    /* copy(byte[], JAVA_INT, 1, byte[], JAVA_INT_UNALIGNED, 0, 0): IAE */
    int8_t arr[8] = {0};
    sj_segment h = heap_seg(SJ_HEAP_I8, arr, 8);
    sj_layout *i4 = test_layout("i4"), *i4u = test_layout("1%i4");
    assert_status(sj_copy(&h, i4, 1, &h, i4u, 0, 0, &err), SJ_E_ALIGN, &err);
    /* empty arrays: copy(new byte[0] segment, 0, h, 0, 0), new byte[0] segment.fill(1),
     * copy(new long[0] segment, JAVA_LONG, 0, h, JAVA_LONG_UNALIGNED, 8, 0): OK */
    sj_segment e8 = heap_seg(SJ_HEAP_I8, NULL, 0), e64 = heap_seg(SJ_HEAP_I64, NULL, 0);
    sj_layout *j8u = test_layout("1%j8");
    assert_status(sj_copy_bytes(&e8, 0, &h, 0, 0, &err), SJ_OK, &err);
    assert_status(sj_fill_bytes(&e8, 0, 0, 1, &err), SJ_OK, &err);
    assert_status(sj_copy(&e64, j8, 0, &h, j8u, 8, 0, &err), SJ_OK, &err);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(longs[i], 0);
        assert_int_equal(arr[i], 0);
    }
    sj_kernel_free(k);
    UNREF(j8, j8u, i4, i4u);
}

/* Small overlapping copies within one array, against the JDK's bytes (memmove). */
static void test_copy_overlap_small(void **state) {
    (void)state;
    sj_error err = {0};
    for (int kind = 0; kind < 2; kind++) { /* a byte[] heap segment, a native one */
        int8_t b[10];
        sj_segment whole = kind ? native_seg(b, 10) : heap_seg(SJ_HEAP_I8, b, 10), up, low;
        /* s = {0..7}: s.asSlice(1).copyFrom(s.asSlice(0, 7)) = [0, 0, 1, 2, 3, 4, 5, 6] */
        for (int i = 0; i < 10; i++)
            b[i] = (int8_t)i;
        assert_int_equal(sj_segment_slice(&whole, 1, 7, &up, &err), SJ_OK);
        assert_int_equal(sj_segment_slice(&whole, 0, 7, &low, &err), SJ_OK);
        assert_status(sj_copy_bytes(&low, 0, &up, 0, 7, &err), SJ_OK, &err);
        static const int8_t r1[8] = {0, 0, 1, 2, 3, 4, 5, 6};
        assert_memory_equal(b, r1, 8);
        /* s.asSlice(0, 7).copyFrom(s.asSlice(1)) = [1, 2, 3, 4, 5, 6, 7, 7] */
        for (int i = 0; i < 10; i++)
            b[i] = (int8_t)i;
        assert_status(sj_copy_bytes(&up, 0, &low, 0, 7, &err), SJ_OK, &err);
        static const int8_t r2[8] = {1, 2, 3, 4, 5, 6, 7, 7};
        assert_memory_equal(b, r2, 8);
        /* s = {0..9}: copy(s, JAVA_INT_UNALIGNED (LE), 0, s, JAVA_INT_UNALIGNED BE, 1, 2) =
         * [0, 3, 2, 1, 0, 7, 6, 5, 4, 9] */
        for (int i = 0; i < 10; i++)
            b[i] = (int8_t)i;
        sj_layout *le = test_layout("1%i4"), *be = test_layout("1%I4");
        sj_kernel *k = copy_kernel(le, be);
        sj_args a = {&whole, 0, &whole, 1, 2};
        assert_status(sj_kernel_run(k, &a, NULL, &err), SJ_OK, &err);
        static const int8_t r3[10] = {0, 3, 2, 1, 0, 7, 6, 5, 4, 9};
        assert_memory_equal(b, r3, 10);
        test_check_tier(k, kind == 0);
        sj_kernel_free(k);
        UNREF(le, be);
    }
}

/* ---- TestMismatch ---- */

/* MemorySegment.mismatch(a, af, at, b, bf, bt): sj_mismatch, and the mismatch kernel on
 * the tier under test over the common length (index, or -1 when that much is equal). */
static int64_t jmismatch(const sj_segment *a, int64_t af, int64_t at, const sj_segment *b,
                         int64_t bf, int64_t bt) {
    sj_error err = {0};
    int64_t r = -2;
    assert_status(sj_mismatch(a, af, at, b, bf, bt, &r, &err), SJ_OK, &err);
    int64_t n = at - af < bt - bf ? at - af : bt - bf;
    sj_args args = {a, af, b, bf, n};
    sj_result res;
    assert_status(sj_kernel_run(g_mismatch, &args, &res, &err), SJ_OK, &err);
    assert_int_equal(res.i64, r >= 0 && r < n ? r : -1);
    return r;
}

/* s1.mismatch(s2) */
static int64_t jmismatch_all(const sj_segment *a, const sj_segment *b) {
    return jmismatch(a, 0, (int64_t)sj_segment_size(a), b, 0, (int64_t)sj_segment_size(b));
}

/* slicesStatic(): two lists, each of the slices of sizes 16, 8 and 1 at multiples of the
 * size of a 16-byte native segment and a 16-byte heap segment (byte[] in the JDK; here the
 * second list's heap segment is a long[] and both heap segments are slices of their
 * arrays at an odd virtual address). */
typedef struct mslice {
    jseg *owner;
    int64_t off, size;
} mslice;

typedef struct mlists {
    jseg segs[4];
    mslice a[38], b[38];
    int na, nb;
} mlists;

static void mlists_init(mlists *m) {
    static const int sizes[] = {16, 8, 1};
    const jkind *kinds[4] = {&K_ARENA, &K_HEAP_I8, &K_NATIVE, &K_HEAPS[5]};
    m->na = m->nb = 0;
    for (int s = 0; s < 4; s++) {
        jseg_init(&m->segs[s], kinds[s], 16, s % 2 ? 3 : 0);
        for (int z = 0; z < 3; z++)
            for (int i = 0; i < 16; i += sizes[z]) {
                mslice x = {&m->segs[s], i, sizes[z]};
                if (s < 2)
                    m->a[m->na++] = x;
                else
                    m->b[m->nb++] = x;
            }
    }
}

static void mlists_free(mlists *m) {
    for (int s = 0; s < 4; s++)
        jseg_free(&m->segs[s]);
}

static sj_segment mslice_seg(const mslice *x) {
    sj_segment s;
    sj_error err = {0};
    assert_int_equal(sj_segment_slice(&x->owner->seg, x->off, x->size, &s, &err), SJ_OK);
    return s;
}

/* initializeSegment: byte i = i */
static void mslice_init(const mslice *x) {
    for (int64_t i = 0; i < x->size; i++)
        x->owner->data[x->off + i] = (uint8_t)i;
}

/* Runs check on every pair of slicesStatic(): x from the first list, y from the second. */
static void each_slice_pair(void (*check)(const mslice *x, const mslice *y)) {
    mlists m;
    mlists_init(&m);
    for (int i = 0; i < m.na; i++)
        for (int j = 0; j < m.nb; j++)
            check(&m.a[i], &m.b[j]);
    mlists_free(&m);
}

/* A test case running check on every pair of slicesStatic(). */
#define SLICE_PAIRS_TEST(name, check)                                                              \
    static void name(void **state) {                                                               \
        (void)state;                                                                               \
        each_slice_pair(check);                                                                    \
    }

/* testNegativeSrcFromOffset, testNegativeDstFromOffset, testNegativeSrcToOffset,
 * testNegativeDstToOffset, testNegativeSrcLength, testNegativeDstLength: IOOBE for every
 * pair of slices; with the range ends of the long range (JDK: IOOBE). */
static void negative_pair(const mslice *x, const mslice *y) {
    sj_segment s1 = mslice_seg(x), s2 = mslice_seg(y);
    static const int64_t r[][4] = {
        {-1, 0, 0, 0},         {0, 0, -1, 0}, {0, -1, 0, 0},        {0, 0, 0, -1},
        {3, 2, 0, 0},          {0, 0, 3, 2},  {5, INT64_MIN, 0, 0}, {INT64_MAX, INT64_MIN, 0, 0},
        {-1, INT64_MAX, 0, 0}, {0, 0, 0, 17},
    };
    for (size_t c = 0; c < sizeof r / sizeof r[0]; c++) {
        sj_error err = {0};
        int64_t out = 99;
        assert_status(sj_mismatch(&s1, r[c][0], r[c][1], &s2, r[c][2], r[c][3], &out, &err),
                      SJ_E_BOUNDS, &err);
        assert_int_equal(out, 99);
    }
}

SLICE_PAIRS_TEST(test_mismatch_negative, negative_pair)

/* testSameValues: identical contents; -1, or the shorter size for a proper prefix. */
static void same_values_pair(const mslice *x, const mslice *y) {
    mslice_init(x);
    mslice_init(y);
    sj_segment s1 = mslice_seg(x), s2 = mslice_seg(y);
    int64_t expect = x->size == y->size ? -1 : x->size < y->size ? x->size : y->size;
    assert_int_equal(jmismatch_all(&s1, &s2), expect);
    assert_int_equal(jmismatch_all(&s2, &s1), expect);
}

SLICE_PAIRS_TEST(test_mismatch_same_values, same_values_pair)

/* testSameValuesStatic: the static form, x's whole range against y's range up to each end
 * offset from y->off below y->size; called both ways. */
static void same_values_static_way(const mslice *x, const mslice *y) {
    for (int64_t e = y->off; e < y->size; e++) {
        int64_t bytes = e - y->off, expect = bytes == x->size  ? -1
                                             : x->size < bytes ? x->size
                                                               : bytes;
        assert_int_equal(
            jmismatch(&x->owner->seg, x->off, x->off + x->size, &y->owner->seg, y->off, e), expect);
    }
}

static void same_values_static_pair(const mslice *x, const mslice *y) {
    mslice_init(x);
    mslice_init(y);
    same_values_static_way(x, y);
    same_values_static_way(y, x);
}

SLICE_PAIRS_TEST(test_mismatch_same_values_static, same_values_static_pair)

/* testDifferentValues: the second slice's bytes set to 0xFF from its end down. */
static void different_values_pair(const mslice *x, const mslice *y) {
    mslice_init(x);
    mslice_init(y);
    sj_segment s1 = mslice_seg(x), s2 = mslice_seg(y);
    for (int64_t k = y->size - 1; k >= 0; k--) {
        y->owner->data[y->off + k] = 0xFF;
        int64_t expect = x->size >= y->size ? k : (x->size < k ? x->size : k);
        assert_int_equal(jmismatch_all(&s1, &s2), expect);
        assert_int_equal(jmismatch_all(&s2, &s1), expect);
    }
}

SLICE_PAIRS_TEST(test_mismatch_different_values, different_values_pair)

/* testDifferentValuesStatic: x's whole range against y's first e bytes, for each e from
 * k + 1 below y->size, where byte k differs: k; called both ways. */
static void different_static_way(const mslice *x, const mslice *y, int64_t k) {
    for (int64_t e = k + 1; e < y->size; e++)
        assert_int_equal(
            jmismatch(&x->owner->seg, x->off, x->off + x->size, &y->owner->seg, y->off, e + y->off),
            k);
}

static void different_values_static_pair(const mslice *x, const mslice *y) {
    for (int64_t k = y->size - 1; k >= 0; k--) {
        if (k >= x->size) continue;
        mslice_init(x);
        mslice_init(y);
        y->owner->data[y->off + k] = 0xFF;
        different_static_way(x, y, k);
        different_static_way(y, x, k);
    }
}

SLICE_PAIRS_TEST(test_mismatch_different_values_static, different_values_static_pair)

static uint64_t rnd_state;
static uint64_t rnd_next(void) {
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}
static int64_t rnd_below(int64_t n) {
    return (int64_t)(rnd_next() % (uint64_t)n);
}

/* random(): sizes 1..63, 147 rounds each; the destination 0..8 bytes longer; in half the
 * rounds bytes [beginDiff, endDiff] changed. Source and destination alternate between an
 * arena segment and a heap segment (an int[] slice in the JDK's stead of native only). */
static void test_mismatch_random(void **state) {
    (void)state;
    rnd_state = 42;
    for (int64_t size = 1; size < 64; size++) {
        for (int round = 0; round < 147; round++) {
            int64_t extra = rnd_below(9);
            jseg s, d;
            jseg_init(&s, round % 2 ? &K_ARENA : &K_HEAPS[3], (size_t)size, (size_t)round % 4);
            jseg_init(&d, round % 3 ? &K_ARENA : &K_HEAPS[0], (size_t)(size + extra), 0);
            for (int64_t j = 0; j < size; j++)
                s.data[j] = (uint8_t)rnd_next();
            sj_error err = {0};
            assert_status(sj_copy_bytes(&s.seg, 0, &d.seg, 0, size, &err), SJ_OK, &err);
            for (int64_t j = size; j < size + extra; j++)
                d.data[j] = (uint8_t)rnd_next();
            if (rnd_next() & 1) {
                int64_t begin = rnd_below(size), end = begin + rnd_below(size - begin);
                for (int64_t j = begin; j <= end; j++) {
                    uint8_t v;
                    do
                        v = (uint8_t)rnd_next();
                    while (v == d.data[j]);
                    d.data[j] = v;
                }
                assert_int_equal(jmismatch_all(&s.seg, &d.seg), begin);
                assert_int_equal(jmismatch_all(&d.seg, &s.seg), begin);
            } else {
                int64_t expect = extra == 0 ? -1 : size;
                assert_int_equal(jmismatch_all(&s.seg, &d.seg), expect);
                assert_int_equal(jmismatch_all(&d.seg, &s.seg), expect);
            }
            jseg_free(&s);
            jseg_free(&d);
        }
    }
}

/* testEmpty, testSameSegment, testClosed, testThreadAccess */
static void test_mismatch_misc(void **state) {
    (void)state;
    sj_error err = {0};
    /* testEmpty: byte[0] against itself and against an empty slice of a native segment */
    sj_segment e0 = heap_seg(SJ_HEAP_I8, NULL, 0), nat, nat0;
    assert_int_equal(jmismatch_all(&e0, &e0), -1);
    sj_arena arena;
    assert_int_equal(sj_arena_open(SJ_ARENA_CONFINED, &arena, &err), SJ_OK);
    assert_int_equal(sj_arena_allocate(arena, 4, 4, &nat, &err), SJ_OK);
    assert_int_equal(sj_segment_slice(&nat, 0, 0, &nat0, &err), SJ_OK);
    assert_int_equal(jmismatch_all(&e0, &nat0), -1);
    assert_int_equal(jmismatch_all(&nat0, &e0), -1);
    /* testSameSegment */
    int8_t same[10] = {1, 2, 3, 4, 1, 2, 3, 4, 1, 4};
    sj_segment ss = heap_seg(SJ_HEAP_I8, same, 10);
    assert_int_equal(jmismatch(&ss, 0, 4, &ss, 4, 8), -1);
    assert_int_equal(jmismatch(&ss, 0, 4, &ss, 1, 5), 0);
    assert_int_equal(jmismatch(&ss, 0, 2, &ss, 8, 10), 1);
    assert_int_equal(jmismatch(&ss, 0, 8, &ss, 0, 8), -1);
    /* an int[] against a byte[] of the same bytes and one more: 8 (JDK) */
    int32_t ints[2] = {0x01020304, 0x05060708};
    uint8_t bytes[9];
    memcpy(bytes, ints, 8);
    bytes[8] = 9;
    sj_segment is = heap_seg(SJ_HEAP_I32, ints, 2), bs = heap_seg(SJ_HEAP_I8, bytes, 9);
    assert_int_equal(jmismatch_all(&is, &bs), 8);
    /* testThreadAccess: a confined segment against byte[4] from another thread, either way:
     * WrongThreadException */
    int8_t four[4] = {0};
    sj_segment fs = heap_seg(SJ_HEAP_I8, four, 4);
    thr_call c = on_thread(2, &fs, &nat, 4, 4);
    assert_int_equal(c.st, SJ_E_THREAD);
    assert_int_equal(c.r, -7);
    assert_int_equal(on_thread(2, &nat, &fs, 4, 4).st, SJ_E_THREAD);
    assert_int_equal(sj_arena_close(arena, &err), SJ_OK);
    /* testClosed: s1.mismatch(s1), s1.mismatch(s2), s2.mismatch(s1) after close: ISE */
    sj_segment s1, s2;
    assert_int_equal(sj_arena_open(SJ_ARENA_CONFINED, &arena, &err), SJ_OK);
    assert_int_equal(sj_arena_allocate(arena, 4, 1, &s1, &err), SJ_OK);
    assert_int_equal(sj_arena_allocate(arena, 4, 1, &s2, &err), SJ_OK);
    assert_int_equal(sj_arena_close(arena, &err), SJ_OK);
    int64_t r = 99;
    assert_status(sj_mismatch(&s1, 0, 4, &s1, 0, 4, &r, &err), SJ_E_CLOSED, &err);
    assert_status(sj_mismatch(&s1, 0, 4, &s2, 0, 4, &r, &err), SJ_E_CLOSED, &err);
    assert_status(sj_mismatch(&s2, 0, 4, &s1, 0, 4, &r, &err), SJ_E_CLOSED, &err);
    /* closed and out of bounds: IOOBE (bounds first) */
    assert_status(sj_mismatch(&s1, 0, 5, &bs, 0, 0, &r, &err), SJ_E_BOUNDS, &err);
    assert_int_equal(r, 99);
    sj_args args = {&s1, 0, &s2, 0, 4};
    sj_result res;
    assert_status(sj_kernel_run(g_mismatch, &args, &res, &err), SJ_E_CLOSED, &err);
}

/* JDK 25 answers the static mismatch with an empty range without a
 * lifetime or thread check. MemorySegment.mismatch(closed, 0, 0, h, 0, 0) = -1,
 * mismatch(closed, 0, 0, h, 0, 5) = 0, mismatch(closed, 0, 5, h, 0, 0) = 0,
 * mismatch(closed, 3, 3, closed, 3, 3) = -1, closed.asSlice(0, 0).mismatch(h.asSlice(0, 0))
 * = -1; from another thread mismatch(confined, 0, 0, h, 0, 0) = -1 and
 * mismatch(confined, 0, 0, h, 0, 5) = 0. (Both ranges non-empty: ISE / WrongThread.) */
static void test_jdk_mismatch_empty_range_lifetime(void **state) {
    (void)state;
    sj_error err = {0};
    lifetimes t;
    lifetimes_begin(&t);
    int64_t r = 99;
    assert_status(sj_mismatch(&t.n, 0, 0, &t.h, 0, 0, &r, &err), SJ_OK, &err);
    assert_int_equal(r, -1);
    assert_status(sj_mismatch(&t.n, 0, 0, &t.h, 0, 5, &r, &err), SJ_OK, &err);
    assert_int_equal(r, 0);
    assert_status(sj_mismatch(&t.n, 0, 5, &t.h, 0, 0, &r, &err), SJ_OK, &err);
    assert_int_equal(r, 0);
    assert_status(sj_mismatch(&t.n, 3, 3, &t.n, 3, 3, &r, &err), SJ_OK, &err);
    assert_int_equal(r, -1);
    thr_call c = on_thread(2, &t.live, &t.h, 0, 0);
    assert_int_equal(c.st, SJ_OK);
    assert_int_equal(c.r, -1);
    c = on_thread(2, &t.live, &t.h, 0, 5);
    assert_int_equal(c.st, SJ_OK);
    assert_int_equal(c.r, 0);
    lifetimes_end(&t);
}

/* ---- TestFill ---- */

#define FILL_VALUE ((uint8_t)-71) /* negative values are treated as expected */

/* The fill kernel of JAVA_BYTE with FILL_VALUE, on the tier under test. */
static sj_kernel *fill_kernel(void) {
    sj_value v;
    memset(&v, 0, sizeof v);
    v.i8 = (int8_t)FILL_VALUE;
    sj_error err = {0};
    sj_kernel *k = NULL;
    return test_kernel(sj_kernel_fill(g_b1, v, &k, &err), &k, &err);
}

/* testFill: slices 0..9 of a 10-byte arena segment filled (the one-shot, and the fill
 * kernel of JAVA_BYTE on the tier under test); with it heap segments of every kind, sliced
 * at odd virtual addresses. */
static void test_fill_sizes(void **state) {
    (void)state;
    sj_error err = {0};
    sj_kernel *k = fill_kernel();
    const jkind *kinds[1 + N_HEAPS + 1];
    size_t nk = 0;
    kinds[nk++] = &K_ARENA;
    kinds[nk++] = &K_NATIVE;
    for (size_t i = 0; i < N_HEAPS; i++)
        kinds[nk++] = &K_HEAPS[i];
    for (size_t ki = 0; ki < nk; ki++)
        for (int len = 0; len < 10; len++)
            for (int way = 0; way < 3; way++) {
                jseg s;
                jseg_init(&s, kinds[ki], 10, (size_t)(ki % 4));
                sj_segment slice;
                assert_int_equal(sj_segment_slice(&s.seg, 0, len, &slice, &err), SJ_OK);
                if (way == 0) {
                    assert_status(sj_fill_bytes(&slice, 0, len, FILL_VALUE, &err), SJ_OK, &err);
                } else if (way == 1) { /* the offset form over the whole segment */
                    assert_status(sj_fill_bytes(&s.seg, 0, len, FILL_VALUE, &err), SJ_OK, &err);
                } else {
                    sj_args a = {NULL, 0, &slice, 0, len};
                    assert_status(sj_kernel_run(k, &a, NULL, &err), SJ_OK, &err);
                    if (len > 0) test_check_tier(k, jseg_moving(&s));
                }
                for (int i = 0; i < 10; i++)
                    if (s.data[i] != (i < len ? FILL_VALUE : 0))
                        fail_msg("%s, fill of %d bytes (way %d): byte %d is %u", kinds[ki]->name,
                                 len, way, i, s.data[i]);
                jseg_free(&s);
            }
    sj_kernel_free(k);
}

/* testReadOnly (IAE), testConfinement (WrongThreadException), testScope (ISE, also for an
 * empty segment). */
static void test_fill_errors(void **state) {
    (void)state;
    sj_error err = {0};
    sj_kernel *k = fill_kernel();
    for (int len = 0; len < 10; len++) {
        sj_arena a;
        sj_segment s;
        assert_int_equal(sj_arena_open(SJ_ARENA_CONFINED, &a, &err), SJ_OK);
        assert_int_equal(sj_arena_allocate(a, 10, 1, &s, &err), SJ_OK);
        /* testReadOnly */
        sj_segment ro = sj_segment_readonly(&s);
        assert_status(sj_fill_bytes(&ro, 0, 10, FILL_VALUE, &err), SJ_E_READONLY, &err);
        sj_args ra = {NULL, 0, &ro, 0, 10};
        assert_status(sj_kernel_run(k, &ra, NULL, &err), SJ_E_READONLY, &err);
        /* an empty read-only slice too: h.asReadOnly().asSlice(0, 0).fill(v) is IAE */
        assert_status(sj_fill_bytes(&ro, 0, 0, FILL_VALUE, &err), SJ_E_READONLY, &err);
        /* testConfinement */
        assert_int_equal(on_thread(3, &s, NULL, 10, 0).st, SJ_E_THREAD);
        /* an empty slice from another thread: WrongThreadException as well */
        assert_int_equal(on_thread(3, &s, NULL, 0, 0).st, SJ_E_THREAD);
        for (int i = 0; i < 10; i++)
            assert_int_equal(((uint8_t *)(uintptr_t)sj_segment_address(&s))[i], 0);
        assert_int_equal(sj_arena_close(a, &err), SJ_OK);
        /* testScope: allocate(len), close, fill: ISE */
        assert_int_equal(sj_arena_open(SJ_ARENA_CONFINED, &a, &err), SJ_OK);
        assert_int_equal(sj_arena_allocate(a, len, 1, &s, &err), SJ_OK);
        assert_int_equal(sj_arena_close(a, &err), SJ_OK);
        assert_status(sj_fill_bytes(&s, 0, len, FILL_VALUE, &err), SJ_E_CLOSED, &err);
        sj_args sa = {NULL, 0, &s, 0, len};
        assert_status(sj_kernel_run(k, &sa, NULL, &err), SJ_E_CLOSED, &err);
    }
    sj_kernel_free(k);
}

int main(void) {
    /* the one-shot calls (sj_copy, sj_copy_bytes, sj_fill_bytes, sj_mismatch) on the tier
     * under test as well */
    setenv("SEGJIT_TIER", test_tier() == SJ_TIER_JIT ? "jit" : "interp", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_segment_copy_byte_offsets),
        cmocka_unit_test(test_segment_copy_byte_sizes),
        cmocka_unit_test(test_segment_copy_readonly),
        cmocka_unit_test(test_segment_copy_bad_overflow),
        cmocka_unit_test(test_segment_copy_elements),
        cmocka_unit_test(test_segment_copy_hyper_aligned),
        cmocka_unit_test(test_segment_copy_negative_values),
        cmocka_unit_test(test_array_copy_self),
        cmocka_unit_test(test_array_copy_unaligned),
        cmocka_unit_test(test_array_copy_errors),
        cmocka_unit_test(test_array_copy_carrier_mismatch),
        cmocka_unit_test(test_memory_copy_slices),
        cmocka_unit_test(test_copy_check_order),
        cmocka_unit_test(test_copy_other_carriers),
        cmocka_unit_test(test_copy_heap_slice_alignment),
        cmocka_unit_test(test_copy_lifetime),
        cmocka_unit_test(test_copy_extreme_offsets),
        cmocka_unit_test(test_copy_overlap_small),
        cmocka_unit_test(test_mismatch_negative),
        cmocka_unit_test(test_mismatch_same_values),
        cmocka_unit_test(test_mismatch_same_values_static),
        cmocka_unit_test(test_mismatch_different_values),
        cmocka_unit_test(test_mismatch_different_values_static),
        cmocka_unit_test(test_mismatch_random),
        cmocka_unit_test(test_mismatch_misc),
        cmocka_unit_test(test_jdk_mismatch_empty_range_lifetime),
        cmocka_unit_test(test_fill_sizes),
        cmocka_unit_test(test_fill_errors),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
