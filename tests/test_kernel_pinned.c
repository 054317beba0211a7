/* tests/test_kernel_pinned.c: kernels over heap segments with pin callbacks (issue 12,
 * item 6): the same bytes as over native memory, compiled code on the JIT tier, one pin and
 * one resolve per call and every pin matched by an unpin, failed calls included; pinned
 * storage that is not aligned to its element size runs on the interpreter (counted), with
 * the same result; a heap segment without callbacks keeps resolving per call. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "pinned.h"
#include "tier.h"

static sj_segment pinned(runtime_array *r, sj_heap_kind kind, int64_t count) {
    sj_segment s;
    sj_error err = {0};
    assert_int_equal(sj_segment_heap_pinned(kind, count, r, ra_resolve, ra_pin, ra_unpin, &s, &err),
                     SJ_OK);
    return s;
}

static void balanced(const runtime_array *r, int calls) {
    assert_int_equal(r->pins, calls);
    assert_int_equal(r->unpins, calls);
}

/* A W4-like conversion and a gather over pinned segments give what they give over native
 * memory, on the tier under test; each call pins and resolves each side once, but the call
 * that compiles its kernel, which lets go while LLVM runs and then pins again. */
static void test_same_bytes(void **state) {
    (void)state;
    enum { N = 5000 };
    sj_layout *src = test_layout("[i4(a)x4j8(b)s2(c)x6]"),
              *dst = test_layout("[1%S2(c)1%I4(a)1%J8(b)]");
    sj_kernel *k = NULL;
    sj_error err = {0};
    k = test_kernel(sj_kernel_convert(src, dst, 0, &k, &err), &k, &err);
    uint64_t *in = aligned_alloc(64, N * 24), *out = aligned_alloc(64, N * 24),
             *ref = aligned_alloc(64, N * 24);
    assert_non_null(in);
    assert_non_null(out);
    assert_non_null(ref);
    for (int i = 0; i < N * 3; i++)
        in[i] = (uint64_t)i * 0x9e3779b97f4a7c15u;
    memset(out, 0xAB, N * 24);
    memset(ref, 0xAB, N * 24);
    sj_segment ns, nd;
    assert_int_equal(sj_segment_native(in, N * 24, &ns, &err), SJ_OK);
    assert_int_equal(sj_segment_native(ref, N * 24, &nd, &err), SJ_OK);
    assert_status(sj_kernel_run(k, &(sj_args){&ns, 0, &nd, 0, N}, NULL, &err), SJ_OK, &err);

    runtime_array rs = {(uint8_t *)in, 0, 0, 0, false}, rd = {(uint8_t *)out, 0, 0, 0, false};
    sj_segment hs = pinned(&rs, SJ_HEAP_I64, N * 3), hd = pinned(&rd, SJ_HEAP_I8, N * 24);
    sj_counters c0, c1;
    sj_counters_get(&c0);
    assert_status(sj_kernel_run(k, &(sj_args){&hs, 0, &hd, 0, N}, NULL, &err), SJ_OK, &err);
    test_check_tier(k, false); /* pinned: compiled code on the JIT tier */
    sj_counters_get(&c1);
    assert_int_equal(c1.fallbacks_heap - c0.fallbacks_heap, 0);
    assert_memory_equal(out, ref, N * 24);
    balanced(&rs, 1);
    balanced(&rd, 1);
    assert_int_equal(rs.resolves, 1);
    assert_int_equal(rd.resolves, 1);

    /* a gather of b from the pinned source into a pinned int64 array, at an offset */
    sj_layout *root = test_layout("[*:[i4(a)x4j8(b)s2(c)x6]]"), *j8 = test_layout("j8");
    sj_path *pb = test_path(root, "[*].b");
    sj_kernel *g = NULL;
    g = test_kernel(sj_kernel_gather(pb, j8, 0, &g, &err), &g, &err);
    memset(out, 0, N * 24);
    runtime_array r64 = {(uint8_t *)out, 0, 0, 0, false};
    sj_segment h64 = pinned(&r64, SJ_HEAP_I64, N * 3);
    assert_status(sj_kernel_run(g, &(sj_args){&hs, 24, &h64, 8, N - 1}, NULL, &err), SJ_OK, &err);
    test_check_tier(g, false);
    for (int i = 1; i < N; i++)
        assert_int_equal(out[1 + (i - 1)], in[i * 3 + 1]);
    int again = test_tier() == SJ_TIER_JIT; /* g compiled in that call */
    balanced(&rs, 2 + again);
    balanced(&r64, 1 + again);
    assert_int_equal(r64.resolves, 1 + again);
    /* over the int8 view of the same array, offset 8 is not aligned for j8 (rule 3.3) */
    assert_int_equal(sj_kernel_run(g, &(sj_args){&hs, 24, &hd, 8, N - 1}, NULL, &err), SJ_E_ALIGN);
    balanced(&rd, 1);
    /* compiled now: one pin per call */
    assert_status(sj_kernel_run(g, &(sj_args){&hs, 24, &h64, 8, N - 1}, NULL, &err), SJ_OK, &err);
    balanced(&r64, 2 + again);

    free(in);
    free(out);
    free(ref);
    sj_kernel_free(k);
    sj_kernel_free(g);
    sj_path_free(pb);
    sj_layout_unref(root);
    sj_layout_unref(j8);
    sj_layout_unref(src);
    sj_layout_unref(dst);
}

/* Failed calls: checks that fail before the pin take none; failures after it (a resolve
 * that gives NULL, the other side's arena closed) give back every pin. */
static void test_failures_balanced(void **state) {
    (void)state;
    sj_layout *i4 = test_layout("i4"), *be = test_layout("I4");
    sj_kernel *k = NULL;
    sj_error err = {0};
    k = test_kernel(sj_kernel_copy(i4, be, &k, &err), &k, &err);
    int32_t a[64] = {0}, b[64] = {0};
    runtime_array rs = {(uint8_t *)a, 0, 0, 0, false}, rd = {(uint8_t *)b, 0, 0, 0, false};
    sj_segment hs = pinned(&rs, SJ_HEAP_I32, 64), hd = pinned(&rd, SJ_HEAP_I32, 64);
    /* bounds, alignment, read-only: before any pin */
    assert_int_equal(sj_kernel_run(k, &(sj_args){&hs, 0, &hd, 0, 65}, NULL, &err), SJ_E_BOUNDS);
    assert_int_equal(sj_kernel_run(k, &(sj_args){&hs, 2, &hd, 0, 4}, NULL, &err), SJ_E_ALIGN);
    sj_segment ro = sj_segment_readonly(&hd);
    assert_int_equal(sj_kernel_run(k, &(sj_args){&hs, 0, &ro, 0, 4}, NULL, &err), SJ_E_READONLY);
    balanced(&rs, 0);
    balanced(&rd, 0);
    /* the destination's resolve fails after the source was pinned */
    rd.gone = true;
    assert_int_equal(sj_kernel_run(k, &(sj_args){&hs, 0, &hd, 0, 4}, NULL, &err), SJ_E_ARG);
    balanced(&rs, 1);
    balanced(&rd, 1);
    rd.gone = false;
    /* a closed arena on the other side: no pin either */
    sj_arena arena;
    sj_segment nat;
    assert_int_equal(sj_arena_open(SJ_ARENA_CONFINED, &arena, &err), SJ_OK);
    assert_int_equal(sj_arena_allocate(arena, 256, 8, &nat, &err), SJ_OK);
    assert_int_equal(sj_arena_close(arena, &err), SJ_OK);
    assert_int_equal(sj_kernel_run(k, &(sj_args){&hs, 0, &nat, 0, 4}, NULL, &err), SJ_E_CLOSED);
    balanced(&rs, 1);
    /* count 0 touches nothing and pins nothing */
    assert_status(sj_kernel_run(k, &(sj_args){&hs, 0, &hd, 0, 0}, NULL, &err), SJ_OK, &err);
    balanced(&rs, 1);
    assert_status(sj_kernel_run(k, &(sj_args){&hs, 0, &hd, 0, 64}, NULL, &err), SJ_OK, &err);
    balanced(&rs, 2);
    balanced(&rd, 2);
    sj_kernel_free(k);
    sj_layout_unref(i4);
    sj_layout_unref(be);
}

/* An int64 array whose storage lies at an address that is 4 mod 8: rule 3.3 still
 * decides the checks (virtual addresses), and the call runs on the interpreter, counted,
 * with the result compiled code would give on aligned storage. Heap segments without
 * callbacks run on the interpreter, resolved per call. */
static void test_misplaced_and_moving(void **state) {
    (void)state;
    enum { N = 304 }; /* N * 8 + 64 is a multiple of 64 (aligned_alloc) */
    sj_layout *j8 = test_layout("j8"), *be = test_layout("J8");
    sj_kernel *k = NULL;
    sj_error err = {0};
    k = test_kernel(sj_kernel_copy(j8, be, &k, &err), &k, &err);
    uint8_t *mem = aligned_alloc(64, N * 8 + 64), *out = aligned_alloc(64, N * 8 + 64);
    assert_non_null(mem);
    assert_non_null(out);
    for (int i = 0; i < N * 8 + 64; i++)
        mem[i] = (uint8_t)(i * 7 + 1);
    runtime_array rs = {mem + 4, 0, 0, 0, false}, rd = {out, 0, 0, 0, false};
    sj_segment hs = pinned(&rs, SJ_HEAP_I64, N), hd = pinned(&rd, SJ_HEAP_I64, N);
    sj_counters c0, c1;
    sj_counters_get(&c0);
    assert_status(sj_kernel_run(k, &(sj_args){&hs, 0, &hd, 0, N}, NULL, &err), SJ_OK, &err);
    sj_counters_get(&c1);
    assert_int_equal(sj_kernel_last_tier(k), SJ_TIER_INTERP);
    assert_int_equal(c1.fallbacks_heap - c0.fallbacks_heap, test_tier() == SJ_TIER_JIT ? 1 : 0);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < 8; j++)
            assert_int_equal(out[i * 8 + j], mem[4 + i * 8 + 7 - j]);
    balanced(&rs, 1);
    balanced(&rd, 1);

    sj_segment moving;
    runtime_array rm = {mem, 0, 0, 0, false};
    assert_int_equal(sj_segment_heap(SJ_HEAP_I64, N, &rm, ra_resolve, &moving, &err), SJ_OK);
    assert_status(sj_kernel_run(k, &(sj_args){&moving, 0, &hd, 0, N}, NULL, &err), SJ_OK, &err);
    test_check_tier(k, true);
    assert_int_equal(rm.pins, 0);
    assert_true(rm.resolves >= 1);
    free(mem);
    free(out);
    sj_kernel_free(k);
    sj_layout_unref(j8);
    sj_layout_unref(be);
}

/* A pinned heap source and a native destination over the same array, shifted by one
 * element (SEMANTICS 4.2: overlap decided from the bytes): the result of memmove, from
 * compiled code on the JIT tier (straight, each element one value). */
static void test_overlap_with_native(void **state) {
    (void)state;
    enum { N = 5000 };
    sj_layout *a = test_layout("[j8(v)]"), *b = test_layout("[J8(v)]");
    sj_kernel *k = NULL;
    sj_error err = {0};
    k = test_kernel(sj_kernel_convert(a, b, 0, &k, &err), &k, &err);
    uint64_t *arr = aligned_alloc(64, N * 8), *orig = malloc(N * 8);
    assert_non_null(arr);
    assert_non_null(orig);
    for (int shift = -1; shift <= 1; shift += 2) {
        for (int i = 0; i < N; i++)
            arr[i] = (uint64_t)i * 0x9e3779b97f4a7c15u;
        memcpy(orig, arr, N * 8);
        runtime_array r = {(uint8_t *)arr, 0, 0, 0, false};
        sj_segment hs = pinned(&r, SJ_HEAP_I64, N), ns;
        assert_int_equal(sj_segment_native(arr, N * 8, &ns, &err), SJ_OK);
        sj_counters c0, c1;
        sj_counters_get(&c0);
        int64_t so = shift > 0 ? 8 : 0, dof = shift > 0 ? 0 : 8;
        assert_status(sj_kernel_run(k, &(sj_args){&hs, so, &ns, dof, N - 1}, NULL, &err), SJ_OK,
                      &err);
        test_check_tier(k, false);
        sj_counters_get(&c1);
        /* one value per element: straight, forward or backward, on either tier */
        assert_int_equal(c1.overlap_direct - c0.overlap_direct, 1);
        assert_int_equal(c1.overlap_chunked - c0.overlap_chunked, 0);
        assert_int_equal(c1.overlap_copies - c0.overlap_copies, 0);
        for (int i = 0; i < N - 1; i++)
            assert_int_equal(arr[dof / 8 + i], __builtin_bswap64(orig[so / 8 + i]));
        assert_int_equal(r.pins, r.unpins);
    }
    free(arr);
    free(orig);
    sj_kernel_free(k);
    sj_layout_unref(a);
    sj_layout_unref(b);
}

/* A pin callback that closes the arena of the call's other segment: the call holds that
 * arena, so the close answers SJ_E_BUSY (it used to wait for itself, forever) and the call
 * completes; after the call the arena closes. Confined and shared arenas. */
typedef struct closing_array {
    runtime_array ra;
    sj_arena arena;
    sj_status st;
    char msg[sizeof(((sj_error *)0)->message)];
} closing_array;

static void ca_pin(void *p) {
    closing_array *c = p;
    c->ra.pins++;
    sj_error err = {0};
    c->st = sj_arena_close(c->arena, &err);
    snprintf(c->msg, sizeof c->msg, "%s", err.message);
}

static void test_close_from_callback(void **state) {
    (void)state;
    sj_layout *j8 = test_layout("j8"), *J8 = test_layout("J8");
    sj_kernel *k = NULL;
    sj_error err = {0};
    k = test_kernel(sj_kernel_copy(j8, J8, &k, &err), &k, &err);
    { /* compiled first (the JIT tier): a call that compiles pins twice */
        uint64_t x[8] = {0}, y[8];
        sj_segment xs, ys;
        assert_status(sj_segment_native(x, sizeof x, &xs, &err), SJ_OK, &err);
        assert_status(sj_segment_native(y, sizeof y, &ys, &err), SJ_OK, &err);
        assert_status(sj_kernel_run(k, &(sj_args){&xs, 0, &ys, 0, 8}, NULL, &err), SJ_OK, &err);
    }
    for (int kind = 0; kind < 2; kind++) {
        sj_arena a;
        sj_segment nat;
        assert_status(sj_arena_open(kind ? SJ_ARENA_SHARED : SJ_ARENA_CONFINED, &a, &err), SJ_OK,
                      &err);
        assert_status(sj_arena_allocate(a, 64, 8, &nat, &err), SJ_OK, &err);
        for (int i = 0; i < 8; i++)
            ((uint64_t *)(void *)nat.base)[i] = (uint64_t)i + 1;
        uint64_t arr[8] = {0};
        closing_array c = {{(uint8_t *)arr, 0, 0, 0, false}, a, SJ_OK, ""};
        sj_segment h;
        assert_int_equal(
            sj_segment_heap_pinned(SJ_HEAP_I64, 8, &c, ra_resolve, ca_pin, ra_unpin, &h, &err),
            SJ_OK);
        assert_status(sj_kernel_run(k, &(sj_args){&nat, 0, &h, 0, 8}, NULL, &err), SJ_OK, &err);
        assert_int_equal(c.st, SJ_E_BUSY);
        assert_string_equal(c.msg, "arena close: a call on this thread is using the arena "
                                   "(closed from one of its callbacks)");
        for (int i = 0; i < 8; i++)
            assert_int_equal(arr[i], __builtin_bswap64((uint64_t)i + 1));
        balanced(&c.ra, 1);
        assert_true(sj_arena_is_alive(a));
        assert_status(sj_arena_close(a, &err), SJ_OK, &err);
        /* the other way round: the heap side is the source, the arena's segment the
         * destination; the arena is now closed, so the call fails and pins nothing */
        c.ra.pins = c.ra.unpins = 0;
        assert_int_equal(sj_kernel_run(k, &(sj_args){&h, 0, &nat, 0, 8}, NULL, &err), SJ_E_CLOSED);
        balanced(&c.ra, 0);
    }
    sj_kernel_free(k);
    sj_layout_unref(j8);
    sj_layout_unref(J8);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_close_from_callback), cmocka_unit_test(test_same_bytes),
        cmocka_unit_test(test_failures_balanced),   cmocka_unit_test(test_misplaced_and_moving),
        cmocka_unit_test(test_overlap_with_native),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
