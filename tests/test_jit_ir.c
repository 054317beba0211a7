/* tests/test_jit_ir.c: the JIT tier on hand-built plans (plan.h), through the provider
 * seam (jit_api.h): the optimized IR of a dense int32 sum is vectorized (SEGJIT_DUMP),
 * and every plan kind - copy, swap, convert, zero, fill, reductions, mismatch - gives the
 * bytes plan.h defines, against references written here. Skips when built without it. */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jit_api.h"
#include "jit_loader.h"
#include "plan.h"

static const sj_jit_provider *P;
static char g_dump[64];

/* ---- Plans by hand ---- */

static sj_plan move_plan(int64_t ss, uint64_t sa, int64_t ds, uint64_t da, sj_move *m, size_t n) {
    sj_plan p;
    memset(&p, 0, sizeof p);
    p.op = SJ_PLAN_MOVE;
    p.src.used = true;
    p.src.stride = ss;
    p.src.elem_align = sa;
    p.dst.used = true;
    p.dst.writes = true;
    p.dst.stride = ds;
    p.dst.elem_align = da;
    p.moves = m;
    p.nmoves = n;
    p.what = "test";
    return p;
}

static sj_plan reduce_plan(sj_reduce_op op, sj_kind kind, bool swap, int64_t stride, uint64_t align,
                           uint32_t off) {
    sj_plan p;
    memset(&p, 0, sizeof p);
    p.op = SJ_PLAN_REDUCE;
    p.src.used = true;
    p.src.stride = stride;
    p.src.elem_align = align;
    p.red.op = (uint8_t)op;
    p.red.kind = (uint8_t)kind;
    p.red.swap = swap;
    p.red.off = off;
    p.what = "reduce";
    return p;
}

static sj_move mv_copy(uint32_t so, uint32_t dof, uint32_t len) {
    sj_move m = {.kind = SJ_MOVE_COPY, .len = len, .src_off = so, .dst_off = dof};
    return m;
}
static sj_move mv_swap(uint32_t so, uint32_t dof, uint32_t len, uint8_t width) {
    sj_move m = {.kind = SJ_MOVE_SWAP, .width = width, .len = len, .src_off = so, .dst_off = dof};
    return m;
}
static sj_move mv_conv(uint32_t so, sj_kind sk, bool ssw, uint32_t dof, sj_kind dk, bool dsw) {
    sj_move m = {.kind = SJ_MOVE_CONVERT,
                 .src_kind = (uint8_t)sk,
                 .dst_kind = (uint8_t)dk,
                 .src_swap = ssw,
                 .dst_swap = dsw,
                 .src_off = so,
                 .dst_off = dof};
    return m;
}
static sj_move mv_zero(uint32_t dof, uint32_t len) {
    sj_move m = {.kind = SJ_MOVE_ZERO, .len = len, .dst_off = dof};
    return m;
}

static sj_loop_fn compile(const sj_plan *p, sj_jit_code **code) {
    char why[256] = "";
    sj_loop_fn fn = NULL;
    if (P->compile(p, &fn, code, why, sizeof why) != 0)
        fail_msg("the JIT declined a plan: %s", why);
    assert_non_null(fn);
    return fn;
}

/* ---- References (plan.h, restated) ---- */

static unsigned ksz(unsigned k) {
    static const unsigned s[SJ_KIND_COUNT] = {1, 1, 1, 2, 2, 2, 4, 4, 4, 8, 8, 8, 8};
    return s[k];
}
static bool kfloat(unsigned k) {
    return k == SJ_F32 || k == SJ_F64;
}
static bool ksigned(unsigned k) {
    return k == SJ_I8 || k == SJ_I16 || k == SJ_I32 || k == SJ_I64;
}

/* Little-endian host (checked in main). */
static uint64_t rd(const uint8_t *p, unsigned n, bool swap) {
    uint64_t v = 0;
    for (unsigned k = 0; k < n; k++)
        v |= (uint64_t)p[swap ? n - 1 - k : k] << (8 * k);
    return v;
}
static void wr(uint8_t *p, unsigned n, bool swap, uint64_t v) {
    for (unsigned k = 0; k < n; k++)
        p[swap ? n - 1 - k : k] = (uint8_t)(v >> (8 * k));
}
static double f64_of(uint64_t b) {
    double d;
    memcpy(&d, &b, 8);
    return d;
}
static uint64_t bits_f64(double d) {
    uint64_t b;
    memcpy(&b, &d, 8);
    return b;
}
static float f32_of(uint64_t b) {
    uint32_t u = (uint32_t)b;
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static uint64_t bits_f32(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static uint64_t saturate(double x, unsigned dk) {
    if (x != x) return 0;
    double t = trunc(x);
    unsigned bits = ksz(dk) * 8;
    if (ksigned(dk)) {
        double hi = ldexp(1.0, (int)bits - 1);
        int64_t v = t >= hi   ? (int64_t)(bits == 64 ? INT64_MAX : (INT64_C(1) << (bits - 1)) - 1)
                    : t < -hi ? (bits == 64 ? INT64_MIN : -(INT64_C(1) << (bits - 1)))
                              : (int64_t)t;
        return (uint64_t)v;
    }
    double hi = ldexp(1.0, (int)bits);
    if (t >= hi) return bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
    if (t < 0) return 0;
    return (uint64_t)t;
}

static void ref_convert(unsigned sk, const uint8_t *s, bool ssw, unsigned dk, uint8_t *d,
                        bool dsw) {
    uint64_t bits = rd(s, ksz(sk), ssw), out;
    if (kfloat(sk)) {
        double x = sk == SJ_F32 ? (double)f32_of(bits) : f64_of(bits);
        if (dk == SJ_BOOL)
            out = x != 0;
        else if (dk == SJ_F32)
            out = sk == SJ_F32 ? bits : bits_f32((float)x);
        else if (dk == SJ_F64)
            out = sk == SJ_F64 ? bits : bits_f64(x);
        else
            out = saturate(x, dk);
    } else {
        unsigned n = ksz(sk) * 8;
        uint64_t u = sk == SJ_BOOL ? bits != 0 : bits;
        int64_t sv = n == 64 ? (int64_t)u : (int64_t)(u << (64 - n)) >> (64 - n);
        if (ksigned(sk)) u = (uint64_t)sv;
        if (dk == SJ_BOOL)
            out = u != 0;
        else if (dk == SJ_F32)
            out = bits_f32(ksigned(sk) ? (float)sv : (float)u);
        else if (dk == SJ_F64)
            out = bits_f64(ksigned(sk) ? (double)sv : (double)u);
        else
            out = u;
    }
    wr(d, ksz(dk), dsw, out);
}

static void ref_move(const sj_plan *p, const uint8_t *src, uint8_t *dst, int64_t count) {
    int64_t ss = p->src.used ? p->src.stride : 0;
    for (int64_t i = 0; i < count; i++) {
        const uint8_t *se = src + i * ss;
        uint8_t *de = dst + i * p->dst.stride;
        for (size_t k = 0; k < p->nmoves; k++) {
            const sj_move *m = &p->moves[k];
            switch (m->kind) {
                case SJ_MOVE_COPY:
                    memcpy(de + m->dst_off, se + m->src_off, m->len);
                    break;
                case SJ_MOVE_ZERO:
                    memset(de + m->dst_off, 0, m->len);
                    break;
                case SJ_MOVE_SWAP:
                    for (uint32_t u = 0; u < m->len; u += m->width)
                        for (unsigned b = 0; b < m->width; b++)
                            de[m->dst_off + u + b] = se[m->src_off + u + m->width - 1 - b];
                    break;
                default:
                    ref_convert(m->src_kind, se + m->src_off, m->src_swap, m->dst_kind,
                                de + m->dst_off, m->dst_swap);
                    break;
            }
        }
    }
}

/* ---- Data ---- */

static uint64_t g_rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

/* Bits that exercise conversions: specials, boundaries and random values. */
static uint64_t interesting(unsigned kind) {
    static const double specials[] = {
        0.0,          -0.0,         0.5,    -0.5,    1.0,     -1.0,    127.5,
        128.0,        -129.0,       255.9,  256.0,   32767.9, 65536.0, -2147483648.0,
        2147483648.0, 4294967296.0, 9.3e18, -9.3e18, 1.9e19,  1e300,   -1e300,
        INFINITY,     -INFINITY,    NAN,    -NAN,    1e-310};
    size_t ns = sizeof specials / sizeof specials[0];
    uint64_t r = rnd();
    if (kind == SJ_F64 && r % 3 == 0) return bits_f64(specials[(r >> 8) % ns]);
    if (kind == SJ_F32 && r % 3 == 0) return bits_f32((float)specials[(r >> 8) % ns]);
    if (kind == SJ_F64 && r % 3 == 1)
        return bits_f64((double)(int64_t)(rnd() >> (rnd() % 64)) * ((r & 256) ? -1.25 : 1.0));
    if (kind == SJ_F32 && r % 3 == 1)
        return bits_f32((float)(int64_t)(rnd() >> (rnd() % 64)) * ((r & 256) ? -1.25f : 1.0f));
    return rnd() >> (r % 3 == 2 ? (rnd() % 64) : 0);
}

static void fill_random(uint8_t *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)rnd();
}

/* Runs the plan compiled and by the reference on the same random input, with destination
 * sentinel bytes, and compares every destination byte (padding included). */
static void check_move(const sj_plan *p, int64_t count, size_t src_bytes, size_t dst_bytes,
                       size_t src_base, size_t dst_base) {
    sj_jit_code *code = NULL;
    sj_loop_fn fn = compile(p, &code);
    uint8_t *src = malloc(src_bytes + 64), *d1 = malloc(dst_bytes + 64),
            *d2 = malloc(dst_bytes + 64);
    assert_non_null(src);
    assert_non_null(d1);
    assert_non_null(d2);
    fill_random(src, src_bytes + 64);
    memset(d1, 0xEE, dst_bytes + 64);
    memset(d2, 0xEE, dst_bytes + 64);
    assert_int_equal(fn(src + src_base, d1 + dst_base, count, NULL), 0);
    ref_move(p, src + src_base, d2 + dst_base, count);
    if (memcmp(d1, d2, dst_bytes + 64) != 0) {
        for (size_t i = 0; i < dst_bytes + 64; i++)
            if (d1[i] != d2[i])
                fail_msg("byte %zu (element %zu): JIT %02x, expected %02x", i,
                         (i - dst_base) / (p->dst.stride ? (size_t)llabs(p->dst.stride) : 1), d1[i],
                         d2[i]);
    }
    P->release(code);
    free(src);
    free(d1);
    free(d2);
}

/* ---- Tests ---- */

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    if (s) s[n] = '\0';
    fclose(f);
    return s;
}

/* Removes the dumps (and the directory itself when also_dir). */
static void clear_dump_dir(bool also_dir) {
    DIR *d = opendir(g_dump);
    if (!d) return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", g_dump, de->d_name);
        unlink(path);
    }
    closedir(d);
    if (also_dir) rmdir(g_dump);
}

/* The dump whose name starts with prefix (NULL when none). */
static char *find_dump(const char *prefix) {
    DIR *d = opendir(g_dump);
    if (!d) return NULL;
    char *text = NULL;
    struct dirent *de;
    while ((de = readdir(d)) && !text) {
        if (strncmp(de->d_name, prefix, strlen(prefix)) == 0) {
            char path[512];
            snprintf(path, sizeof path, "%s/%s", g_dump, de->d_name);
            text = read_file(path);
        }
    }
    closedir(d);
    return text;
}

static void test_sum_i32_is_vectorized(void **state) {
    (void)state;
    clear_dump_dir(false);
    sj_plan p = reduce_plan(SJ_REDUCE_SUM, SJ_I32, false, 4, 4, 0);
    sj_jit_code *code;
    sj_loop_fn fn = compile(&p, &code);
    enum { N = 1003 };
    int32_t *v = malloc(N * sizeof *v);
    assert_non_null(v);
    int64_t want = 0;
    for (int i = 0; i < N; i++) {
        v[i] = (int32_t)rnd();
        want += v[i];
    }
    int64_t got = 0;
    assert_int_equal(fn((const uint8_t *)v, NULL, N, &got), 0);
    assert_int_equal(got, want);
    free(v);
    P->release(code);

    char *ir = find_dump("sj_reduce_");
    if (!ir) fail_msg("no sj_reduce_*.ll in %s (SEGJIT_DUMP)", g_dump);
    bool vec_body = strstr(ir, "vector.body") != NULL;
    bool vec_type = strstr(ir, "x i32>") != NULL || strstr(ir, "x i64>") != NULL;
    if (!vec_body || !vec_type)
        fail_msg("int32 sum was not vectorized (vector.body %d, vector type %d):\n%s", vec_body,
                 vec_type, ir);
    free(ir);
}

static void test_swap_i32_is_vectorized(void **state) {
    (void)state;
    clear_dump_dir(false);
    sj_move m = mv_swap(0, 0, 4, 4);
    sj_plan p = move_plan(4, 4, 4, 4, &m, 1);
    check_move(&p, 1000, 4000, 4000, 0, 0);
    char *ir = find_dump("sj_move_");
    if (!ir) fail_msg("no sj_move_*.ll in %s", g_dump);
    if (!strstr(ir, "vector.body") || !strstr(ir, "llvm.bswap.v"))
        fail_msg("int32 byte swap was not vectorized:\n%s", ir);
    free(ir);
}

/* The IR of one move plan, checked for bytes against the reference first. */
static char *move_ir(const sj_plan *p, int64_t count, size_t src_bytes, size_t dst_bytes) {
    clear_dump_dir(false);
    check_move(p, count, src_bytes, dst_bytes, 0, 0);
    char *ir = find_dump("sj_move_");
    if (!ir) fail_msg("no sj_move_*.ll in %s", g_dump);
    return ir;
}

/* Strided records: stores into them (scatter) and sparse loads from them (an i32 of a
 * 64-byte record) stay scalar, never masked scatters or gathers; a dense record read (the
 * AoS -> SoA workload's 24-byte record, all of it) is still vectorized, preferring 512-bit
 * vectors where single-destination strided loops prefer 256. */
static void test_strided_records_not_scattered(void **state) {
    (void)state;
    enum { N = 257 };
    sj_move m = mv_copy(0, 4, 4);
    sj_plan scatter = move_plan(4, 4, 8, 8, &m, 1);
    char *ir = move_ir(&scatter, N, 4 * N, 8 * N);
    if (strstr(ir, "masked.scatter") || strstr(ir, "vector.body"))
        fail_msg("a scatter into 8-byte records was vectorized:\n%s", ir);
    free(ir);

    m = mv_copy(60, 0, 4);
    sj_plan sparse = move_plan(64, 64, 4, 4, &m, 1);
    ir = move_ir(&sparse, N, 64 * N, 4 * N);
    if (strstr(ir, "masked.gather") || strstr(ir, "vector.body"))
        fail_msg("a gather of 4 bytes from 64-byte records was vectorized:\n%s", ir);
    if (!strstr(ir, "\"prefer-vector-width\"=\"256\""))
        fail_msg("a strided single-destination loop does not prefer 256-bit vectors:\n%s", ir);
    free(ir);

    /* W5: {i32 id; i32 x; f64 y; i64 z} records into four dense arrays, one pass */
    sj_move ms[4] = {mv_copy(0, 0, 4), mv_copy(4, 0, 4), mv_copy(8, 0, 8), mv_copy(16, 0, 8)};
    sj_plan soa = move_plan(24, 8, 0, 1, ms, 4);
    soa.dst.used = false;
    soa.ndst = 4;
    for (uint8_t k = 0; k < 4; k++) {
        ms[k].dst_stream = k;
        soa.dsts[k] =
            (sj_side){.used = true, .writes = true, .stride = ms[k].len, .elem_align = ms[k].len};
    }
    clear_dump_dir(false);
    sj_jit_code *code;
    sj_loop_fn fn = compile(&soa, &code);
    uint64_t *rec = malloc(3 * 8 * N), *out[4];
    assert_non_null(rec);
    fill_random((uint8_t *)rec, 3 * 8 * N);
    for (int k = 0; k < 4; k++) {
        out[k] = malloc(8 * N);
        assert_non_null(out[k]);
    }
    assert_int_equal(fn((const uint8_t *)rec, (uint8_t *)out, N, NULL), 0);
    for (int i = 0; i < N; i++)
        for (int k = 0; k < 4; k++)
            assert_memory_equal((uint8_t *)out[k] + (size_t)i * ms[k].len,
                                (uint8_t *)rec + (size_t)i * 24 + ms[k].src_off, ms[k].len);
    for (int k = 0; k < 4; k++)
        free(out[k]);
    free(rec);
    P->release(code);
    ir = find_dump("sj_move_");
    if (!ir) fail_msg("no sj_move_*.ll in %s", g_dump);
    if (!strstr(ir, "vector.body")) fail_msg("the AoS -> SoA gather was not vectorized:\n%s", ir);
    /* several destinations: 512-bit vectors where the host has them (docs/JIT.md) */
    if (!strstr(ir, "\"prefer-vector-width\"=\"512\""))
        fail_msg("the AoS -> SoA gather does not prefer 512-bit vectors:\n%s", ir);
    free(ir);
}

static void test_block_copy(void **state) {
    (void)state;
    for (uint32_t len = 1; len <= 40; len += 3) {
        sj_move m = mv_copy(0, 0, len);
        sj_plan p = move_plan(len, 1, len, 1, &m, 1);
        p.block_copy = true;
        for (int64_t n = 0; n < 20; n += 7)
            check_move(&p, n, len * 20, len * 20, 1, 3);
    }
}

static void test_copy_strided(void **state) {
    (void)state;
    static const uint32_t lens[] = {1, 2, 3, 4, 5, 7, 8, 12, 16, 24, 100};
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        uint32_t len = lens[k];
        sj_move m = mv_copy(2, 3, len);
        sj_plan p = move_plan(len + 5, 1, len + 9, 1, &m, 1);
        check_move(&p, 37, 38 * (len + 5), 38 * (len + 9), 0, 0);
        /* misaligned bases with alignment 1 */
        check_move(&p, 37, 38 * (len + 5), 38 * (len + 9), 1, 7);
        /* negative strides: element 0 is at the highest address */
        p.src.stride = -(int64_t)(len + 5);
        p.dst.stride = -(int64_t)(len + 9);
        check_move(&p, 37, 38 * (len + 5), 38 * (len + 9), 37 * (len + 5), 37 * (len + 9));
    }
    /* aligned records: 8-byte fields at proved alignment 8 */
    sj_move ms[3] = {mv_copy(0, 8, 8), mv_copy(8, 0, 8), mv_copy(16, 16, 4)};
    sj_plan p = move_plan(24, 8, 24, 8, ms, 3);
    check_move(&p, 100, 2400, 2400, 0, 0);
}

static void test_swap(void **state) {
    (void)state;
    static const uint8_t widths[] = {2, 4, 8};
    static const uint32_t units[] = {1, 2, 3, 16, 17, 40};
    for (size_t w = 0; w < 3; w++)
        for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
            uint32_t len = widths[w] * units[u];
            sj_move m = mv_swap(1, 2, len, widths[w]);
            sj_plan p = move_plan(len + 3, 1, len + 4, 1, &m, 1);
            check_move(&p, 29, 30 * (len + 3), 30 * (len + 4), 0, 0);
            check_move(&p, 29, 30 * (len + 3), 30 * (len + 4), 3, 5);
            /* dense and aligned */
            sj_move md = mv_swap(0, 0, len, widths[w]);
            sj_plan pd = move_plan(len, widths[w], len, widths[w], &md, 1);
            check_move(&pd, 301, 301 * len, 301 * len, 0, 0);
        }
    /* a record: LE {i32 a; i64 b; i16 c} padded (24) -> BE packed {i16 c; i32 a; i64 b} (14) */
    sj_move rec[3] = {mv_swap(16, 0, 2, 2), mv_swap(0, 2, 4, 4), mv_swap(8, 6, 8, 8)};
    sj_plan pr = move_plan(24, 8, 14, 2, rec, 3);
    check_move(&pr, 1000, 24000, 14000, 0, 0);
}

/* Swaps of several units are vectors (jit/emit.c, emit_swap_vectors): a record of two
 * arrays of 100 int32 swapped into the other's place is a loop over 64-byte blocks and one
 * vector for the rest; elements that are one swap each, back to back, are one loop over
 * all their units. The bytes are checked first (plans no other test compiles: a cached
 * plan writes no dump). */
static void test_swap_arrays_are_vectors(void **state) {
    (void)state;
    sj_move two[2] = {mv_swap(400, 0, 400, 4), mv_swap(0, 400, 400, 4)};
    sj_plan pr = move_plan(800, 4, 800, 4, two, 2);
    char *ir = move_ir(&pr, 37, 37 * 800, 37 * 800);
    if (!strstr(ir, "v_block") || !strstr(ir, "llvm.bswap.v16i32") ||
        !strstr(ir, "llvm.bswap.v4i32"))
        fail_msg("a record of two [100:i4] swaps is not blocks of 16 and a vector of 4:\n%s", ir);
    free(ir);
    sj_move one = mv_swap(0, 0, 80, 4);
    sj_plan pd = move_plan(80, 4, 80, 4, &one, 1);
    ir = move_ir(&pd, 301, 301 * 80, 301 * 80);
    if (!strstr(ir, "v_units")) fail_msg("[20:i4] elements are not one loop over units:\n%s", ir);
    free(ir);
}

struct conv_case {
    sj_kind sk;
    uint64_t in;
    sj_kind dk;
    uint64_t want;
};

static void test_convert_table(void **state) {
    (void)state;
    const struct conv_case cases[] = {
        {SJ_F64, bits_f64(3.9), SJ_I32, 3},
        {SJ_F64, bits_f64(-3.9), SJ_I32, (uint32_t)-3},
        {SJ_F64, bits_f64(1e10), SJ_I32, INT32_MAX},
        {SJ_F64, bits_f64(-1e10), SJ_I32, (uint32_t)INT32_MIN},
        {SJ_F64, bits_f64(NAN), SJ_I32, 0},
        {SJ_F64, bits_f64(-NAN), SJ_I64, 0},
        {SJ_F64, bits_f64(INFINITY), SJ_I64, INT64_MAX},
        {SJ_F64, bits_f64(-INFINITY), SJ_I64, (uint64_t)INT64_MIN},
        {SJ_F64, bits_f64(9223372036854775808.0), SJ_I64, INT64_MAX},
        {SJ_F64, bits_f64(-INFINITY), SJ_U32, 0},
        {SJ_F64, bits_f64(-0.5), SJ_U8, 0},
        {SJ_F64, bits_f64(-1.5), SJ_U64, 0},
        {SJ_F64, bits_f64(300.7), SJ_U8, 255},
        {SJ_F64, bits_f64(1e30), SJ_U64, UINT64_MAX},
        {SJ_F64, bits_f64(65535.9), SJ_CHAR, 65535},
        {SJ_F32, bits_f32(1e20f), SJ_I16, 32767},
        {SJ_F32, bits_f32(-129.9f), SJ_I8, (uint8_t)-128},
        {SJ_F32, bits_f32(NAN), SJ_U16, 0},
        {SJ_I32, (uint32_t)-1, SJ_U64, UINT64_MAX},
        {SJ_U32, 0xffffffffu, SJ_I64, 4294967295u},
        {SJ_I64, 0x123456789ull, SJ_I16, 0x6789},
        {SJ_I8, 0x80, SJ_I32, 0xffffff80u},
        {SJ_U8, 0x80, SJ_I32, 0x80},
        {SJ_I16, (uint16_t)-2, SJ_F32, bits_f32(-2.0f)},
        {SJ_U64, UINT64_MAX, SJ_F32, 0x5f800000u},
        {SJ_U64, (UINT64_C(1) << 53) + 1, SJ_F64, bits_f64(9007199254740992.0)},
        {SJ_I64, (uint64_t)INT64_MAX, SJ_F64, bits_f64(9223372036854775807.0)},
        {SJ_I32, 16777217, SJ_F32, bits_f32(16777216.0f)},
        {SJ_F64, bits_f64(0.1), SJ_F32, bits_f32(0.1f)},
        {SJ_F32, bits_f32(0.1f), SJ_F64, bits_f64((double)0.1f)},
        {SJ_F64, bits_f64(1e300), SJ_F32, bits_f32(INFINITY)},
        {SJ_F64, bits_f64(NAN), SJ_BOOL, 1},
        {SJ_F64, bits_f64(-0.0), SJ_BOOL, 0},
        {SJ_F32, bits_f32(1e-40f), SJ_BOOL, 1},
        {SJ_I8, 0, SJ_BOOL, 0},
        {SJ_I8, 0xfb, SJ_BOOL, 1},
        {SJ_U64, UINT64_C(1) << 63, SJ_BOOL, 1},
        {SJ_BOOL, 7, SJ_I32, 1},
        {SJ_BOOL, 7, SJ_F64, bits_f64(1.0)},
        {SJ_BOOL, 0, SJ_F32, bits_f32(0.0f)},
        {SJ_BOOL, 2, SJ_BOOL, 1},
        {SJ_ADDR, 0xdeadbeefcafeull, SJ_U32, 0xbeefcafeu},
        {SJ_CHAR, 0xffff, SJ_I64, 0xffff},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const struct conv_case *k = &cases[c];
        for (int sw = 0; sw < 4; sw++) {
            bool ssw = sw & 1, dsw = (sw >> 1) & 1;
            sj_move m = mv_conv(0, k->sk, ssw, 0, k->dk, dsw);
            sj_plan p = move_plan(8, 8, 8, 8, &m, 1);
            sj_jit_code *code;
            sj_loop_fn fn = compile(&p, &code);
            uint8_t in[8] = {0}, out[8];
            memset(out, 0xEE, sizeof out);
            wr(in, ksz(k->sk), ssw, k->in);
            fn(in, out, 1, NULL);
            uint64_t got = rd(out, ksz(k->dk), dsw);
            if (got != k->want)
                fail_msg("case %zu (kind %d -> %d, swaps %d/%d): got %#llx, want %#llx", c, k->sk,
                         k->dk, ssw, dsw, (unsigned long long)got, (unsigned long long)k->want);
            for (unsigned b = ksz(k->dk); b < 8; b++)
                assert_int_equal(out[b], 0xEE);
            P->release(code);
        }
    }
}

/* Every pair of kinds, both orders, random and special values, strided and misaligned. */
static void test_convert_all_pairs(void **state) {
    (void)state;
    enum { N = 67 };
    for (unsigned sk = 0; sk < SJ_KIND_COUNT; sk++)
        for (unsigned dk = 0; dk < SJ_KIND_COUNT; dk++)
            for (int sw = 0; sw < 4; sw++) {
                bool ssw = sw & 1, dsw = (sw >> 1) & 1;
                sj_move m = mv_conv(1, (sj_kind)sk, ssw, 3, (sj_kind)dk, dsw);
                sj_plan p = move_plan(11, 1, 13, 1, &m, 1);
                sj_jit_code *code;
                sj_loop_fn fn = compile(&p, &code);
                uint8_t src[N * 11], d1[N * 13], d2[N * 13];
                for (int i = 0; i < N; i++)
                    wr(src + i * 11 + 1, ksz(sk), ssw, interesting(sk));
                memset(d1, 0xEE, sizeof d1);
                memset(d2, 0xEE, sizeof d2);
                fn(src, d1, N, NULL);
                ref_move(&p, src, d2, N);
                for (int i = 0; i < N * 13; i++)
                    if (d1[i] != d2[i])
                        fail_msg("kind %u -> %u swaps %d/%d, element %d: JIT %02x want %02x "
                                 "(source bits %#llx)",
                                 sk, dk, ssw, dsw, i / 13, d1[i], d2[i],
                                 (unsigned long long)rd(src + (i / 13) * 11 + 1, ksz(sk), ssw));
                P->release(code);
            }
}

static void test_zero_and_mixed(void **state) {
    (void)state;
    static const uint32_t lens[] = {1, 2, 3, 4, 6, 8, 16, 17, 64};
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        sj_move ms[3] = {mv_zero(0, lens[k]), mv_copy(0, lens[k], 4),
                         mv_conv(4, SJ_I16, false, lens[k] + 4, SJ_F64, true)};
        sj_plan p = move_plan(8, 1, lens[k] + 12, 1, ms, 3);
        check_move(&p, 50, 400, 50 * (lens[k] + 12), 0, 0);
    }
}

static void test_fill(void **state) {
    (void)state;
    static const uint32_t lens[] = {1, 2, 4, 8};
    for (size_t k = 0; k < 4; k++) {
        sj_move m = mv_copy(0, 0, lens[k]);
        sj_plan p = move_plan(0, 8, lens[k], lens[k], &m, 1);
        p.src.used = false; /* as plan.c builds a fill: the source is fill_bits */
        check_move(&p, 1001, 16, 1001 * lens[k], 0, 0);
        p.src.stride = 12345; /* ignored: an unused source is read at element 0 */
        check_move(&p, 77, 16, 77 * lens[k], 0, 0);
        /* strided destination */
        sj_plan q = move_plan(0, 8, lens[k] + 8, 1, &m, 1);
        check_move(&q, 77, 16, 77 * (lens[k] + 8), 0, 1);
    }
}

/* Reference reductions (plan.h). */
static void ref_reduce(const sj_plan *p, const uint8_t *src, int64_t n, uint64_t *out) {
    unsigned k = p->red.kind;
    if (kfloat(k)) {
        double l[8] = {0};
        double m = p->red.op == SJ_REDUCE_MIN ? INFINITY : -INFINITY;
        bool nan = false;
        for (int64_t i = 0; i < n; i++) {
            uint64_t b = rd(src + i * p->src.stride + p->red.off, ksz(k), p->red.swap);
            double v = k == SJ_F32 ? (double)f32_of(b) : f64_of(b);
            l[i % 8] += v;
            if (v != v)
                nan = true;
            else if (p->red.op == SJ_REDUCE_MIN ? (v < m || (v == m && signbit(v)))
                                                : (v > m || (v == m && !signbit(v))))
                m = v;
        }
        double sum = ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
        if (p->red.op == SJ_REDUCE_SUM) /* a NaN sum is the default NaN */
            *out = sum != sum ? UINT64_C(0x7ff8000000000000) : bits_f64(sum);
        else
            *out = nan ? UINT64_C(0x7ff8000000000000) : bits_f64(m);
        return;
    }
    unsigned bits = ksz(k) * 8;
    bool sg = ksigned(k);
    uint64_t acc = 0;
    int64_t smin = bits == 64 ? INT64_MIN : -(INT64_C(1) << (bits - 1));
    int64_t smax = bits == 64 ? INT64_MAX : (INT64_C(1) << (bits - 1)) - 1;
    uint64_t umax = k == SJ_BOOL ? 1 : bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
    if (p->red.op == SJ_REDUCE_MIN)
        acc = sg ? (uint64_t)smax : umax;
    else if (p->red.op == SJ_REDUCE_MAX)
        acc = sg ? (uint64_t)smin : 0;
    for (int64_t i = 0; i < n; i++) {
        uint64_t u = rd(src + i * p->src.stride + p->red.off, ksz(k), p->red.swap);
        if (k == SJ_BOOL)
            u = u != 0;
        else if (sg && bits < 64)
            u = (uint64_t)((int64_t)(u << (64 - bits)) >> (64 - bits));
        if (p->red.op == SJ_REDUCE_SUM)
            acc += u;
        else if (sg)
            acc = (p->red.op == SJ_REDUCE_MIN) == ((int64_t)u < (int64_t)acc) ? u : acc;
        else
            acc = (p->red.op == SJ_REDUCE_MIN) == (u < acc) ? u : acc;
    }
    *out = acc;
}

static void check_reduce(const sj_plan *p, const uint8_t *src, int64_t n) {
    sj_jit_code *code;
    sj_loop_fn fn = compile(p, &code);
    uint64_t got = 0xdeadull, want = 0;
    assert_int_equal(fn(src, NULL, n, &got), 0);
    ref_reduce(p, src, n, &want);
    if (got != want)
        fail_msg("reduce op %u kind %u swap %u stride %lld n %lld: got %#llx (%g), want %#llx "
                 "(%g)",
                 p->red.op, p->red.kind, p->red.swap, (long long)p->src.stride, (long long)n,
                 (unsigned long long)got, f64_of(got), (unsigned long long)want, f64_of(want));
    P->release(code);
}

static void test_reduce_all_kinds(void **state) {
    (void)state;
    static const int64_t counts[] = {0, 1, 2, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 1001};
    enum { MAXN = 1001, STRIDE = 24 };
    uint8_t *buf = malloc(MAXN * STRIDE + 8);
    assert_non_null(buf);
    for (unsigned k = 0; k < SJ_KIND_COUNT; k++)
        for (unsigned op = 0; op < 3; op++)
            for (int swap = 0; swap < 2; swap++)
                for (int strided = 0; strided < 2; strided++) {
                    int64_t stride = strided ? STRIDE : (int64_t)ksz(k);
                    uint32_t off = strided ? 8 : 0;
                    sj_plan p = reduce_plan((sj_reduce_op)op, (sj_kind)k, swap, stride,
                                            strided ? 8 : ksz(k), off);
                    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
                        for (int64_t i = 0; i < MAXN; i++)
                            wr(buf + i * stride + off, ksz(k), swap,
                               c % 3 == 0 ? rnd() : interesting(k));
                        check_reduce(&p, buf, counts[c]);
                    }
                }
    free(buf);
}

/* The 8-lane order is visible: data whose sum depends on the order. */
static void test_float_sum_order(void **state) {
    (void)state;
    enum { N = 203 };
    double v[N];
    for (int i = 0; i < N; i++)
        v[i] = (i % 3 == 0 ? 1e16 : i % 3 == 1 ? 1.0 : -1e16) * (1.0 + (double)(rnd() % 1000) / 7);
    sj_plan p = reduce_plan(SJ_REDUCE_SUM, SJ_F64, false, 8, 8, 0);
    for (int n = 0; n <= N; n++)
        check_reduce(&p, (const uint8_t *)v, n);
    double naive = 0;
    for (int i = 0; i < N; i++)
        naive += v[i];
    uint64_t got;
    ref_reduce(&p, (const uint8_t *)v, N, &got);
    if (bits_f64(naive) == got)
        print_message("note: the naive and 8-lane sums agree on this data\n");
}

static void test_float_minmax_specials(void **state) {
    (void)state;
    const double cases[][4] = {
        {0.0, -0.0, 1.0, 2.0}, {-0.0, 0.0, -0.0, 0.0},          {NAN, 1.0, 2.0, 3.0},
        {1.0, 2.0, 3.0, -NAN}, {INFINITY, -INFINITY, 0.0, 1.0}, {5.0, 4.0, 3.0, 2.0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (unsigned op = 1; op < 3; op++) {
            sj_plan p = reduce_plan((sj_reduce_op)op, SJ_F64, false, 8, 8, 0);
            for (int n = 0; n <= 4; n++)
                check_reduce(&p, (const uint8_t *)cases[c], n);
            float f[4];
            for (int i = 0; i < 4; i++)
                f[i] = (float)cases[c][i];
            sj_plan q = reduce_plan((sj_reduce_op)op, SJ_F32, false, 4, 4, 0);
            check_reduce(&q, (const uint8_t *)f, 4);
        }
}

static void test_mismatch(void **state) {
    (void)state;
    sj_plan p;
    memset(&p, 0, sizeof p);
    p.op = SJ_PLAN_MISMATCH;
    p.src.used = p.dst.used = true;
    p.src.stride = p.dst.stride = 1;
    sj_jit_code *code;
    sj_loop_fn fn = compile(&p, &code);
    uint8_t a[300], b[300];
    fill_random(a, sizeof a);
    for (int n = 0; n < 100; n++) {
        memcpy(b, a, sizeof b);
        assert_int_equal(fn(a + 1, b + 1, n, NULL), -1);
        for (int at = 0; at < n; at += 1 + at / 9) {
            memcpy(b, a, sizeof b);
            b[1 + at] ^= (uint8_t)(1u << (at % 8));
            assert_int_equal(fn(a + 1, b + 1, n, NULL), at);
            b[1 + n] ^= 1; /* past the end: ignored */
            assert_int_equal(fn(a + 1, b + 1, n, NULL), at);
        }
    }
    assert_int_equal(fn(a, b, -5, NULL), -1);
    P->release(code);
}

static void test_cache_and_decline(void **state) {
    (void)state;
    sj_jit_stats s0, s1;
    P->stats(&s0);
    sj_move m = mv_copy(0, 0, 6);
    sj_plan p = move_plan(6, 2, 8, 8, &m, 1);
    sj_jit_code *c1, *c2;
    sj_loop_fn f1 = compile(&p, &c1);
    sj_move m2 = m; /* an equal plan in other memory hits the cache */
    sj_plan p2 = move_plan(6, 2, 8, 8, &m2, 1);
    p2.what = "another name";
    sj_loop_fn f2 = compile(&p2, &c2);
    assert_ptr_equal(f1, f2);
    assert_ptr_equal(c1, c2);
    P->stats(&s1);
    assert_int_equal(s1.cache_hits, s0.cache_hits + 1);
    assert_int_equal(s1.compiled, s0.compiled + 1);
    /* a different alignment is a different kernel */
    sj_plan p3 = move_plan(6, 2, 8, 4, &m2, 1);
    sj_jit_code *c3;
    compile(&p3, &c3);
    assert_ptr_not_equal(c3, c1);
    P->release(c3);
    P->release(c1);
    P->release(c2);

    sj_move bad = mv_swap(0, 0, 6, 4);
    sj_plan pb = move_plan(8, 1, 8, 1, &bad, 1);
    sj_loop_fn fn = NULL;
    sj_jit_code *code = NULL;
    char why[128] = "";
    assert_int_not_equal(P->compile(&pb, &fn, &code, why, sizeof why), 0);
    assert_non_null(strstr(why, "units"));
    sj_jit_stats s2;
    P->stats(&s2);
    assert_int_equal(s2.declines, s1.declines + 1);
    assert_non_null(strstr(P->describe(), "LLVM"));

    /* the cap counts what is emitted: a swap of 159 2-byte units is a loop over 64-byte
     * blocks and a vector of 31 units, weighing 35 (1 + 2 + 16 + 16); 1900 of them are
     * over 65,536 and declined before LLVM sees them */
    enum { NS = 1900, LEN = 318 };
    sj_move *many = malloc(NS * sizeof *many);
    assert_non_null(many);
    for (uint32_t i = 0; i < NS; i++)
        many[i] = mv_swap(i * LEN, (NS - 1 - i) * LEN, LEN, 2);
    sj_plan pm = move_plan(NS * LEN, 2, NS * LEN, 2, many, NS);
    why[0] = 0;
    assert_int_not_equal(P->compile(&pm, &fn, &code, why, sizeof why), 0);
    if (!strstr(why, "weighing 66500")) fail_msg("decline: %s", why);
    free(many);
}

/* ---- Compile latency (printed, not asserted: machines are shared and noisy) ---- */

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_latency(void **state) {
    (void)state;
    enum { K = 41 };
    uint64_t t[K];
    sj_jit_code *codes[K];
    for (int i = 0; i < K; i++) { /* distinct W4-like conversions */
        sj_move ms[3] = {mv_swap(16, 0, 2, 2), mv_conv(0, SJ_I32, false, 2, SJ_I64, true),
                         mv_swap(8, 10, 8, 8)};
        ms[2].dst_off = 10 + (uint32_t)i;
        sj_plan p = move_plan(24, 8, 18 + i, 1, ms, 3);
        uint64_t t0 = now_ns();
        compile(&p, &codes[i]);
        t[i] = now_ns() - t0;
    }
    qsort(t, K, sizeof t[0], cmp_u64);
    sj_move ms[3] = {mv_swap(16, 0, 2, 2), mv_conv(0, SJ_I32, false, 2, SJ_I64, true),
                     mv_swap(8, 10, 8, 8)};
    sj_plan p = move_plan(24, 8, 18, 1, ms, 3);
    uint64_t hit[K];
    for (int i = 0; i < K; i++) {
        sj_jit_code *c;
        sj_loop_fn fn;
        char why[64];
        uint64_t t0 = now_ns();
        assert_int_equal(P->compile(&p, &fn, &c, why, sizeof why), 0);
        hit[i] = now_ns() - t0;
        P->release(c);
    }
    qsort(hit, K, sizeof hit[0], cmp_u64);
    for (int i = 0; i < K; i++)
        P->release(codes[i]);
    sj_jit_stats s;
    P->stats(&s);
    print_message("jit latency: further distinct kernel median %.3f ms (min %.3f, max %.3f); "
                  "cache hit median %.3f us\n",
                  t[K / 2] / 1e6, t[0] / 1e6, t[K - 1] / 1e6, hit[K / 2] / 1e3);
    print_message("jit phases so far: init %.2f ms, IR %.2f ms, passes %.2f ms, codegen %.2f ms "
                  "over %llu kernels\n",
                  s.ns_init / 1e6, s.ns_ir / 1e6, s.ns_opt / 1e6, s.ns_codegen / 1e6,
                  (unsigned long long)s.compiled);
}

int main(void) {
    const uint16_t one = 1;
    if (*(const uint8_t *)&one != 1) {
        printf("skip: the references here assume a little-endian host\n");
        return 0;
    }
    snprintf(g_dump, sizeof g_dump, "/tmp/segjit-test-jit-ir-XXXXXX");
    if (!mkdtemp(g_dump)) {
        perror("mkdtemp");
        return 1;
    }
    setenv("SEGJIT_DUMP", g_dump, 1); /* read when the JIT starts */

    /* the first kernel of the process, LLVM start included */
    uint64_t t0 = now_ns();
    char why[256] = "";
    P = sj_jit_provider_get(why, sizeof why);
    if (!P) {
        rmdir(g_dump);
        if (strcmp(why, "built without the JIT") == 0) {
            printf("skip: %s\n", why);
            return 0;
        }
        fprintf(stderr, "the JIT is built but did not load: %s\n", why);
        return 1;
    }
    uint64_t t1 = now_ns();
    sj_move m = mv_copy(0, 0, 4);
    sj_plan first = move_plan(4, 4, 8, 8, &m, 1);
    sj_loop_fn fn;
    sj_jit_code *code;
    if (P->compile(&first, &fn, &code, why, sizeof why) != 0) {
        fprintf(stderr, "first compile declined: %s\n", why);
        return 1;
    }
    uint64_t t2 = now_ns();
    P->release(code);
    printf("jit: %s; first kernel %.2f ms (load %.2f ms + compile incl. LLJIT start %.2f ms)\n",
           P->describe(), (t2 - t0) / 1e6, (t1 - t0) / 1e6, (t2 - t1) / 1e6);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sum_i32_is_vectorized),
        cmocka_unit_test(test_swap_i32_is_vectorized),
        cmocka_unit_test(test_strided_records_not_scattered),
        cmocka_unit_test(test_block_copy),
        cmocka_unit_test(test_copy_strided),
        cmocka_unit_test(test_swap),
        cmocka_unit_test(test_swap_arrays_are_vectors),
        cmocka_unit_test(test_convert_table),
        cmocka_unit_test(test_convert_all_pairs),
        cmocka_unit_test(test_zero_and_mixed),
        cmocka_unit_test(test_fill),
        cmocka_unit_test(test_reduce_all_kinds),
        cmocka_unit_test(test_float_sum_order),
        cmocka_unit_test(test_float_minmax_specials),
        cmocka_unit_test(test_mismatch),
        cmocka_unit_test(test_cache_and_decline),
        cmocka_unit_test(test_latency),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    clear_dump_dir(true);
    return rc;
}
