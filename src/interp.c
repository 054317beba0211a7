/* src/interp.c: the interpreter. A plan is turned once (sj_interp_prepare) into a list of
 * steps, each a precompiled inner loop picked from a menu (width x contiguous/strided x
 * swap, a conversion per kind pair, a reduction per kind), then run block by block.
 * No checks and no segments here: kernel.c hands over raw pointers that passed them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "internal.h"
#include "interp.h"

#if defined(__GNUC__)
#define SJ_INLINE static inline __attribute__((always_inline))
#else
#define SJ_INLINE static inline
#endif

/* Hot dense loops are also compiled for AVX2 and picked at load time (byte swaps and
 * widening sums need SSSE3/SSE4.1 shuffles that the x86-64 baseline lacks). */
/* Not under ThreadSanitizer: its runtime starts after the ifunc resolvers that pick a
 * clone run, and they crash it at load. */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SJ_NO_CLONES 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define SJ_NO_CLONES 1
#endif
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(SJ_NO_CLONES) &&    \
    ((defined(__clang__) && __clang_major__ >= 14) || (!defined(__clang__) && __GNUC__ >= 8))
#define SJ_HOT __attribute__((target_clones("avx2", "default")))
#else
#define SJ_HOT
#endif

/* Bytes of source or destination one block spans at most (so a block's data stays in
 * the first-level cache while every move runs over it), and the block length limits. */
#define BLOCK_BYTES 16384
#define BLOCK_MIN   64
#define BLOCK_MAX   4096

typedef struct step step;
typedef void (*step_fn)(const step *st, const uint8_t *s, uint8_t *d, int64_t n);
typedef void (*reduce_fn)(const uint8_t *s, int64_t ss, int64_t n, void *out);

/* One inner loop over n elements: s and d point at the elements' bases. */
struct step {
    step_fn fn;
    int64_t ss, ds;            /* element strides */
    uint32_t src_off, dst_off; /* within an element */
    uint32_t len;              /* bytes (copy, zero); units (swap) */
    int sswap, dswap;          /* conversions */
    unsigned stream;           /* multi-destination plans: the destination written */
    /* An inner loop (run_loop): `count` iterations of the body's steps, whose ss and ds
     * are the loop's strides, `block` iterations at a time. */
    step *body, *across; /* across: the body again, on the outer strides (short loops) */
    size_t nacross;
    size_t nbody;
    int64_t count, block, oblock; /* oblock: outer elements per block, across */
    int64_t iss, ids;             /* the loop's strides */
};

enum { MODE_MEMMOVE, MODE_STEPS, MODE_REDUCE, MODE_MISMATCH };

struct sj_interp {
    int mode;
    int64_t ss, ds;
    uint64_t elem_size; /* MEMMOVE */
    uint32_t red_off;   /* REDUCE: the value's offset within an element */
    int64_t block;      /* elements per block (STEPS) */
    unsigned ndst;      /* > 0: dst is an array of ndst stream pointers (STEPS) */
    size_t nsteps;
    step *steps;
    reduce_fn reduce;
};

/* ---- loads and stores of each kind (unaligned, optionally byte-swapped) ---- */

#define BSW1(x) (x)
#define BSW2(x) __builtin_bswap16(x)
#define BSW4(x) __builtin_bswap32(x)
#define BSW8(x) __builtin_bswap64(x)

#define DEF_LDST(K, T, U, N)                                                                       \
    SJ_INLINE T ld_##K(const uint8_t *p, int swap) {                                               \
        U u;                                                                                       \
        memcpy(&u, p, N);                                                                          \
        if (swap) u = BSW##N(u);                                                                   \
        T v;                                                                                       \
        memcpy(&v, &u, N);                                                                         \
        return v;                                                                                  \
    }                                                                                              \
    SJ_INLINE void st_##K(uint8_t *p, T v, int swap) {                                             \
        U u;                                                                                       \
        memcpy(&u, &v, N);                                                                         \
        if (swap) u = BSW##N(u);                                                                   \
        memcpy(p, &u, N);                                                                          \
    }

/* bool loads as 0 or 1 whatever the byte holds. */
SJ_INLINE uint8_t ld_BOOL(const uint8_t *p, int swap) {
    (void)swap;
    return p[0] != 0;
}
SJ_INLINE void st_BOOL(uint8_t *p, uint8_t v, int swap) {
    (void)swap;
    p[0] = v;
}
DEF_LDST(I8, int8_t, uint8_t, 1)
DEF_LDST(U8, uint8_t, uint8_t, 1)
DEF_LDST(CHAR, uint16_t, uint16_t, 2)
DEF_LDST(I16, int16_t, uint16_t, 2)
DEF_LDST(U16, uint16_t, uint16_t, 2)
DEF_LDST(I32, int32_t, uint32_t, 4)
DEF_LDST(U32, uint32_t, uint32_t, 4)
DEF_LDST(F32, float, uint32_t, 4)
DEF_LDST(I64, int64_t, uint64_t, 8)
DEF_LDST(U64, uint64_t, uint64_t, 8)
DEF_LDST(F64, double, uint64_t, 8)
DEF_LDST(ADDR, uint64_t, uint64_t, 8)

/* Every kind: X(K, C type, bits type). Two lists so that they can nest. */
#define SRC_KINDS(X)                                                                               \
    X(BOOL, uint8_t, uint8_t)                                                                      \
    X(I8, int8_t, uint8_t)                                                                         \
    X(U8, uint8_t, uint8_t)                                                                        \
    X(CHAR, uint16_t, uint16_t)                                                                    \
    X(I16, int16_t, uint16_t)                                                                      \
    X(U16, uint16_t, uint16_t)                                                                     \
    X(I32, int32_t, uint32_t)                                                                      \
    X(U32, uint32_t, uint32_t)                                                                     \
    X(F32, float, uint32_t)                                                                        \
    X(I64, int64_t, uint64_t)                                                                      \
    X(U64, uint64_t, uint64_t)                                                                     \
    X(F64, double, uint64_t)                                                                       \
    X(ADDR, uint64_t, uint64_t)

#define DST_KINDS(X, SK, ST, SU)                                                                   \
    X(SK, ST, SU, BOOL, uint8_t, uint8_t)                                                          \
    X(SK, ST, SU, I8, int8_t, uint8_t)                                                             \
    X(SK, ST, SU, U8, uint8_t, uint8_t)                                                            \
    X(SK, ST, SU, CHAR, uint16_t, uint16_t)                                                        \
    X(SK, ST, SU, I16, int16_t, uint16_t)                                                          \
    X(SK, ST, SU, U16, uint16_t, uint16_t)                                                         \
    X(SK, ST, SU, I32, int32_t, uint32_t)                                                          \
    X(SK, ST, SU, U32, uint32_t, uint32_t)                                                         \
    X(SK, ST, SU, F32, float, uint32_t)                                                            \
    X(SK, ST, SU, I64, int64_t, uint64_t)                                                          \
    X(SK, ST, SU, U64, uint64_t, uint64_t)                                                         \
    X(SK, ST, SU, F64, double, uint64_t)                                                           \
    X(SK, ST, SU, ADDR, uint64_t, uint64_t)

#define IS_FLOAT(k) ((k) == SJ_F32 || (k) == SJ_F64)

/* ---- conversions: one loop per (source kind, destination kind) ----
 * The rules of plan.h, written so that every branch but one folds away per pair; they
 * compute what sj_convert_value (convert.h) computes. */
#define DEF_CONV(SK, ST, SU, DK, DT, DU)                                                           \
    SJ_INLINE void cv1_##SK##_##DK(const uint8_t *s, uint8_t *d, int sswap, int dswap) {           \
        ST x = ld_##SK(s, sswap);                                                                  \
        DT y;                                                                                      \
        if (SJ_##DK == SJ_BOOL) {                                                                  \
            y = (DT)(x != 0);                                                                      \
        } else if (IS_FLOAT(SJ_##SK) && !IS_FLOAT(SJ_##DK)) {                                      \
            DU b = (DU)sj_sat_bits((double)x, SJ_##DK);                                            \
            memcpy(&y, &b, sizeof y);                                                              \
        } else if (IS_FLOAT(SJ_##DK)) {                                                            \
            y = (DT)x;                                                                             \
        } else {                                                                                   \
            DU b = (DU)(uint64_t)x; /* C conversion: low bits, sign- or zero-extended */           \
            memcpy(&y, &b, sizeof y);                                                              \
        }                                                                                          \
        st_##DK(d, y, dswap);                                                                      \
    }                                                                                              \
    static void cv_##SK##_##DK(const step *st, const uint8_t *s, uint8_t *d, int64_t n) {          \
        s += st->src_off;                                                                          \
        d += st->dst_off;                                                                          \
        const int64_t ss = st->ss, ds = st->ds;                                                    \
        if (!st->sswap && !st->dswap) {                                                            \
            for (int64_t i = 0; i < n; i++)                                                        \
                cv1_##SK##_##DK(s + i * ss, d + i * ds, 0, 0);                                     \
        } else {                                                                                   \
            const int sw = st->sswap, dw = st->dswap;                                              \
            for (int64_t i = 0; i < n; i++)                                                        \
                cv1_##SK##_##DK(s + i * ss, d + i * ds, sw, dw);                                   \
        }                                                                                          \
    }

#define CONV_ROW(SK, ST, SU) DST_KINDS(DEF_CONV, SK, ST, SU)
SRC_KINDS(CONV_ROW)
#undef CONV_ROW

#define CONV_ENTRY(SK, ST, SU, DK, DT, DU) [SJ_##SK][SJ_##DK] = cv_##SK##_##DK,
#define CONV_TABLE_ROW(SK, ST, SU)         DST_KINDS(CONV_ENTRY, SK, ST, SU)
static const step_fn conv_table[SJ_KIND_COUNT][SJ_KIND_COUNT] = {SRC_KINDS(CONV_TABLE_ROW)};
#undef CONV_TABLE_ROW
#undef CONV_ENTRY

/* ---- copies, swaps, zeros and fills of fixed widths ---- */

/* Whole block at once: both sides dense (stride == the move's length). */
static void copy_dense(const step *st, const uint8_t *s, uint8_t *d, int64_t n) {
    memcpy(d + st->dst_off, s + st->src_off, (size_t)n * st->len);
}

/* Any length, strided. */
static void copy_var(const step *st, const uint8_t *s, uint8_t *d, int64_t n) {
    s += st->src_off;
    d += st->dst_off;
    const int64_t ss = st->ss, ds = st->ds;
    const size_t len = st->len;
    for (int64_t i = 0; i < n; i++)
        memcpy(d + i * ds, s + i * ss, len);
}

#define DEF_COPY(W)                                                                                \
    static void copy_s##W(const step *st, const uint8_t *s, uint8_t *d, int64_t n) {               \
        s += st->src_off;                                                                          \
        d += st->dst_off;                                                                          \
        const int64_t ss = st->ss, ds = st->ds;                                                    \
        for (int64_t i = 0; i < n; i++)                                                            \
            memcpy(d + i * ds, s + i * ss, W);                                                     \
    }                                                                                              \
    /* Gather: contiguous destination. */                                                          \
    static void copy_g##W(const step *st, const uint8_t *s, uint8_t *d, int64_t n) {               \
        s += st->src_off;                                                                          \
        d += st->dst_off;                                                                          \
        const int64_t ss = st->ss;                                                                 \
        for (int64_t i = 0; i < n; i++)                                                            \
            memcpy(d + i * W, s + i * ss, W);                                                      \
    }                                                                                              \
    /* Scatter: contiguous source. */                                                              \
    static void copy_t##W(const step *st, const uint8_t *s, uint8_t *d, int64_t n) {               \
        s += st->src_off;                                                                          \
        d += st->dst_off;                                                                          \
        const int64_t ds = st->ds;                                                                 \
        for (int64_t i = 0; i < n; i++)                                                            \
            memcpy(d + i * ds, s + i * W, W);                                                      \
    }
DEF_COPY(1)
DEF_COPY(2)
DEF_COPY(4)
DEF_COPY(8)
DEF_COPY(16)

#define DEF_SWAP(W, U)                                                                             \
    /* One unit per element, strided. */                                                           \
    static void swap_s##W(const step *st, const uint8_t *s, uint8_t *d, int64_t n) {               \
        s += st->src_off;                                                                          \
        d += st->dst_off;                                                                          \
        const int64_t ss = st->ss, ds = st->ds;                                                    \
        for (int64_t i = 0; i < n; i++) {                                                          \
            U u;                                                                                   \
            memcpy(&u, s + i * ss, W);                                                             \
            u = BSW##W(u);                                                                         \
            memcpy(d + i * ds, &u, W);                                                             \
        }                                                                                          \
    }                                                                                              \
    /* Both sides dense: n * units contiguous units. */                                            \
    SJ_HOT static void swap_c##W(const step *st, const uint8_t *s, uint8_t *d, int64_t n) {        \
        s += st->src_off;                                                                          \
        d += st->dst_off;                                                                          \
        const int64_t total = n * (int64_t)st->len;                                                \
        for (int64_t i = 0; i < total; i++) {                                                      \
            U u;                                                                                   \
            memcpy(&u, s + i * W, W);                                                              \
            u = BSW##W(u);                                                                         \
            memcpy(d + i * W, &u, W);                                                              \
        }                                                                                          \
    }                                                                                              \
    /* Both sides dense and descending (a backward run: element 0 highest): groups of 16           \
     * units from the top, each group loaded whole before it is stored, so a destination           \
     * at or above its source never overwrites a unit not yet read. */                             \
    SJ_HOT static void swap_r##W(const step *st, const uint8_t *s, uint8_t *d, int64_t n) {        \
        const int64_t total = n * (int64_t)st->len, low = (n - 1) * (int64_t)st->len * W;          \
        s += st->src_off - low; /* the lowest unit */                                              \
        d += st->dst_off - low;                                                                    \
        int64_t i = total;                                                                         \
        for (; i >= 16; i -= 16) {                                                                 \
            U u[16];                                                                               \
            for (int k = 0; k < 16; k++) {                                                         \
                memcpy(&u[k], s + (i - 16 + k) * W, W);                                            \
                u[k] = BSW##W(u[k]);                                                               \
            }                                                                                      \
            for (int k = 0; k < 16; k++)                                                           \
                memcpy(d + (i - 16 + k) * W, &u[k], W);                                            \
        }                                                                                          \
        for (; i > 0; i--) {                                                                       \
            U u;                                                                                   \
            memcpy(&u, s + (i - 1) * W, W);                                                        \
            u = BSW##W(u);                                                                         \
            memcpy(d + (i - 1) * W, &u, W);                                                        \
        }                                                                                          \
    }                                                                                              \
    /* Several units per element, strided. */                                                      \
    static void swap_u##W(const step *st, const uint8_t *s, uint8_t *d, int64_t n) {               \
        s += st->src_off;                                                                          \
        d += st->dst_off;                                                                          \
        const int64_t ss = st->ss, ds = st->ds, units = st->len;                                   \
        for (int64_t i = 0; i < n; i++) {                                                          \
            const uint8_t *se = s + i * ss;                                                        \
            uint8_t *de = d + i * ds;                                                              \
            for (int64_t j = 0; j < units; j++) {                                                  \
                U u;                                                                               \
                memcpy(&u, se + j * W, W);                                                         \
                u = BSW##W(u);                                                                     \
                memcpy(de + j * W, &u, W);                                                         \
            }                                                                                      \
        }                                                                                          \
    }
DEF_SWAP(2, uint16_t)
DEF_SWAP(4, uint32_t)
DEF_SWAP(8, uint64_t)

static void zero_dense(const step *st, const uint8_t *s, uint8_t *d, int64_t n) {
    (void)s;
    memset(d + st->dst_off, 0, (size_t)n * st->len);
}

static void zero_var(const step *st, const uint8_t *s, uint8_t *d, int64_t n) {
    (void)s;
    d += st->dst_off;
    const int64_t ds = st->ds;
    const size_t len = st->len;
    for (int64_t i = 0; i < n; i++)
        memset(d + i * ds, 0, len);
}

#define DEF_ZERO(W)                                                                                \
    static void zero_s##W(const step *st, const uint8_t *s, uint8_t *d, int64_t n) {               \
        (void)s;                                                                                   \
        d += st->dst_off;                                                                          \
        const int64_t ds = st->ds;                                                                 \
        for (int64_t i = 0; i < n; i++)                                                            \
            memset(d + i * ds, 0, W);                                                              \
    }
DEF_ZERO(1)
DEF_ZERO(2)
DEF_ZERO(4)
DEF_ZERO(8)
DEF_ZERO(16)

/* Fills: the source is one element (stride 0), loaded once. */
static void fill_memset(const step *st, const uint8_t *s, uint8_t *d, int64_t n) {
    memset(d + st->dst_off, s[st->src_off], (size_t)n);
}

static void fill_var(const step *st, const uint8_t *s, uint8_t *d, int64_t n) {
    s += st->src_off;
    d += st->dst_off;
    const int64_t ds = st->ds;
    const size_t len = st->len;
    for (int64_t i = 0; i < n; i++)
        memcpy(d + i * ds, s, len);
}

#define DEF_FILL(W, U)                                                                             \
    static void fill_s##W(const step *st, const uint8_t *s, uint8_t *d, int64_t n) {               \
        U v;                                                                                       \
        memcpy(&v, s + st->src_off, W);                                                            \
        d += st->dst_off;                                                                          \
        const int64_t ds = st->ds;                                                                 \
        for (int64_t i = 0; i < n; i++)                                                            \
            memcpy(d + i * ds, &v, W);                                                             \
    }                                                                                              \
    static void fill_c##W(const step *st, const uint8_t *s, uint8_t *d, int64_t n) {               \
        U v;                                                                                       \
        memcpy(&v, s + st->src_off, W);                                                            \
        d += st->dst_off;                                                                          \
        for (int64_t i = 0; i < n; i++)                                                            \
            memcpy(d + i * W, &v, W);                                                              \
    }
DEF_FILL(2, uint16_t)
DEF_FILL(4, uint32_t)
DEF_FILL(8, uint64_t)

/* ---- reductions: one loop per kind, operation, swap and contiguity ---- */

/* Kinds by accumulator: X(K, C type, minimum, maximum). */
#define SIGNED_KINDS(X)                                                                            \
    X(I8, int8_t, INT8_MIN, INT8_MAX)                                                              \
    X(I16, int16_t, INT16_MIN, INT16_MAX)                                                          \
    X(I32, int32_t, INT32_MIN, INT32_MAX)                                                          \
    X(I64, int64_t, INT64_MIN, INT64_MAX)
#define UNSIGNED_KINDS(X)                                                                          \
    X(BOOL, uint8_t, 0, 1)                                                                         \
    X(U8, uint8_t, 0, UINT8_MAX)                                                                   \
    X(CHAR, uint16_t, 0, UINT16_MAX)                                                               \
    X(U16, uint16_t, 0, UINT16_MAX)                                                                \
    X(U32, uint32_t, 0, UINT32_MAX)                                                                \
    X(U64, uint64_t, 0, UINT64_MAX)                                                                \
    X(ADDR, uint64_t, 0, UINT64_MAX)
#define FLOAT_KINDS(X)                                                                             \
    X(F32, float, 0, 0)                                                                            \
    X(F64, double, 0, 0)

/* Integer reductions; ACC is int64_t (signed sources) or uint64_t. SUM wraps modulo 2^64. */
#define DEF_RED_INT(K, T, ACC, MINV, MAXV)                                                         \
    SJ_INLINE void rsum_##K(const uint8_t *s, int64_t ss, int64_t n, int sw, void *out) {          \
        uint64_t acc = 0;                                                                          \
        for (int64_t i = 0; i < n; i++)                                                            \
            acc += (uint64_t)(ACC)ld_##K(s + i * ss, sw);                                          \
        memcpy(out, &acc, 8);                                                                      \
    }                                                                                              \
    SJ_INLINE void rmin_##K(const uint8_t *s, int64_t ss, int64_t n, int sw, void *out) {          \
        T m = MAXV;                                                                                \
        for (int64_t i = 0; i < n; i++) {                                                          \
            T v = ld_##K(s + i * ss, sw);                                                          \
            m = v < m ? v : m;                                                                     \
        }                                                                                          \
        ACC r = m;                                                                                 \
        memcpy(out, &r, 8);                                                                        \
    }                                                                                              \
    SJ_INLINE void rmax_##K(const uint8_t *s, int64_t ss, int64_t n, int sw, void *out) {          \
        T m = MINV;                                                                                \
        for (int64_t i = 0; i < n; i++) {                                                          \
            T v = ld_##K(s + i * ss, sw);                                                          \
            m = v > m ? v : m;                                                                     \
        }                                                                                          \
        ACC r = m;                                                                                 \
        memcpy(out, &r, 8);                                                                        \
    }
#define DEF_RED_SIGNED(K, T, MINV, MAXV)   DEF_RED_INT(K, T, int64_t, MINV, MAXV)
#define DEF_RED_UNSIGNED(K, T, MINV, MAXV) DEF_RED_INT(K, T, uint64_t, MINV, MAXV)
SIGNED_KINDS(DEF_RED_SIGNED)
UNSIGNED_KINDS(DEF_RED_UNSIGNED)

/* Floating point: SUM in 8 double lanes, element i into lane i % 8, lanes combined as
 * ((l0+l1)+(l2+l3))+((l4+l5)+(l6+l7)) (plan.h). A NaN result of any of SUM, MIN, MAX is
 * the default NaN (0x7ff8000000000000); -0.0 orders below +0.0. */
static double default_nan(void) {
    uint64_t b = UINT64_C(0x7ff8000000000000);
    double d;
    memcpy(&d, &b, 8);
    return d;
}

#define DEF_RED_FLOAT(K, T, U1, U2)                                                                \
    SJ_INLINE void rsum_##K(const uint8_t *s, int64_t ss, int64_t n, int sw, void *out) {          \
        double l[SJ_REDUCE_LANES] = {0, 0, 0, 0, 0, 0, 0, 0};                                      \
        int64_t i = 0;                                                                             \
        for (; i + SJ_REDUCE_LANES <= n; i += SJ_REDUCE_LANES)                                     \
            for (int j = 0; j < SJ_REDUCE_LANES; j++)                                              \
                l[j] += (double)ld_##K(s + (i + j) * ss, sw);                                      \
        for (; i < n; i++)                                                                         \
            l[i % SJ_REDUCE_LANES] += (double)ld_##K(s + i * ss, sw);                              \
        double r = ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));              \
        if (r != r) r = default_nan(); /* which NaN an addition gives is not portable */           \
        memcpy(out, &r, 8);                                                                        \
    }                                                                                              \
    SJ_INLINE void rmin_##K(const uint8_t *s, int64_t ss, int64_t n, int sw, void *out) {          \
        double m = INFINITY;                                                                       \
        int nan = 0;                                                                               \
        for (int64_t i = 0; i < n; i++) {                                                          \
            double v = (double)ld_##K(s + i * ss, sw);                                             \
            if (v != v)                                                                            \
                nan = 1;                                                                           \
            else if (v < m || (v == m && signbit(v)))                                              \
                m = v;                                                                             \
        }                                                                                          \
        if (nan) m = default_nan();                                                                \
        memcpy(out, &m, 8);                                                                        \
    }                                                                                              \
    SJ_INLINE void rmax_##K(const uint8_t *s, int64_t ss, int64_t n, int sw, void *out) {          \
        double m = -INFINITY;                                                                      \
        int nan = 0;                                                                               \
        for (int64_t i = 0; i < n; i++) {                                                          \
            double v = (double)ld_##K(s + i * ss, sw);                                             \
            if (v != v)                                                                            \
                nan = 1;                                                                           \
            else if (v > m || (v == m && !signbit(v)))                                             \
                m = v;                                                                             \
        }                                                                                          \
        if (nan) m = default_nan();                                                                \
        memcpy(out, &m, 8);                                                                        \
    }
FLOAT_KINDS(DEF_RED_FLOAT)

/* Entry points: swap and contiguity fixed so each loop compiles to its simplest form. */
#define DEF_RED_ENTRY(K, OP)                                                                       \
    static void r##OP##_##K##_s0(const uint8_t *s, int64_t ss, int64_t n, void *o) {               \
        r##OP##_##K(s, ss, n, 0, o);                                                               \
    }                                                                                              \
    static void r##OP##_##K##_s1(const uint8_t *s, int64_t ss, int64_t n, void *o) {               \
        r##OP##_##K(s, ss, n, 1, o);                                                               \
    }                                                                                              \
    SJ_HOT static void r##OP##_##K##_c0(const uint8_t *s, int64_t ss, int64_t n, void *o) {        \
        (void)ss;                                                                                  \
        r##OP##_##K(s, (int64_t)sizeof(ld_##K(s, 0)), n, 0, o);                                    \
    }                                                                                              \
    SJ_HOT static void r##OP##_##K##_c1(const uint8_t *s, int64_t ss, int64_t n, void *o) {        \
        (void)ss;                                                                                  \
        r##OP##_##K(s, (int64_t)sizeof(ld_##K(s, 0)), n, 1, o);                                    \
    }
#define DEF_RED_ENTRIES(K, T, A, B)                                                                \
    DEF_RED_ENTRY(K, sum) DEF_RED_ENTRY(K, min) DEF_RED_ENTRY(K, max)
SIGNED_KINDS(DEF_RED_ENTRIES)
UNSIGNED_KINDS(DEF_RED_ENTRIES)
FLOAT_KINDS(DEF_RED_ENTRIES)

/* [kind][op][contiguous][swap] */
#define RED_ROW(K, T, A, B)                                                                        \
    [SJ_##K] = {{{rsum_##K##_s0, rsum_##K##_s1}, {rsum_##K##_c0, rsum_##K##_c1}},                  \
                {{rmin_##K##_s0, rmin_##K##_s1}, {rmin_##K##_c0, rmin_##K##_c1}},                  \
                {{rmax_##K##_s0, rmax_##K##_s1}, {rmax_##K##_c0, rmax_##K##_c1}}},
static const reduce_fn reduce_table[SJ_KIND_COUNT][3][2][2] = {
    SIGNED_KINDS(RED_ROW) UNSIGNED_KINDS(RED_ROW) FLOAT_KINDS(RED_ROW)};
#undef RED_ROW

/* ---- mismatch ---- */

static int64_t first_byte_of(uint64_t diff) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return __builtin_clzll(diff) / 8;
#else
    return __builtin_ctzll(diff) / 8;
#endif
}

static int64_t mismatch_bytes(const uint8_t *a, const uint8_t *b, int64_t n) {
    int64_t i = 0;
    while (n - i >= 256 && memcmp(a + i, b + i, 256) == 0)
        i += 256;
    for (; n - i >= 8; i += 8) {
        uint64_t x, y;
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        if (x != y) return i + first_byte_of(x ^ y);
    }
    for (; i < n; i++)
        if (a[i] != b[i]) return i;
    return -1;
}

/* ---- preparing: moves to steps ---- */

typedef struct builder {
    step *v;
    size_t n, cap;
} builder;

static bool add_step(builder *b, step_fn fn, const step *proto, uint32_t src_off, uint32_t dst_off,
                     uint32_t len) {
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 8;
        step *v = realloc(b->v, cap * sizeof *v);
        if (!v) return false;
        b->v = v;
        b->cap = cap;
    }
    step s = *proto;
    s.fn = fn;
    s.src_off = src_off;
    s.dst_off = dst_off;
    s.len = len;
    b->v[b->n++] = s;
    return true;
}

static step_fn copy_fn(unsigned w, int64_t ss, int64_t ds) {
    bool g = ds == (int64_t)w, t = ss == (int64_t)w;
    switch (w) {
        case 1:
            return g ? copy_g1 : t ? copy_t1 : copy_s1;
        case 2:
            return g ? copy_g2 : t ? copy_t2 : copy_s2;
        case 4:
            return g ? copy_g4 : t ? copy_t4 : copy_s4;
        case 8:
            return g ? copy_g8 : t ? copy_t8 : copy_s8;
        case 16:
            return g ? copy_g16 : t ? copy_t16 : copy_s16;
    }
    return NULL;
}

static step_fn zero_fn(unsigned w) {
    switch (w) {
        case 1:
            return zero_s1;
        case 2:
            return zero_s2;
        case 4:
            return zero_s4;
        case 8:
            return zero_s8;
        case 16:
            return zero_s16;
    }
    return NULL;
}

static bool add_copy(builder *b, const step *proto, const sj_move *m) {
    int64_t ss = proto->ss, ds = proto->ds;
    uint32_t len = m->len;
    if (ss == 0) { /* fill: one source element */
        bool dense = ds == (int64_t)len;
        switch (len) {
            case 1:
                return add_step(b, dense ? fill_memset : copy_s1, proto, m->src_off, m->dst_off, 1);
            case 2:
                return add_step(b, dense ? fill_c2 : fill_s2, proto, m->src_off, m->dst_off, 2);
            case 4:
                return add_step(b, dense ? fill_c4 : fill_s4, proto, m->src_off, m->dst_off, 4);
            case 8:
                return add_step(b, dense ? fill_c8 : fill_s8, proto, m->src_off, m->dst_off, 8);
            default:
                return add_step(b, fill_var, proto, m->src_off, m->dst_off, len);
        }
    }
    if (ss == (int64_t)len && ds == (int64_t)len)
        return add_step(b, copy_dense, proto, m->src_off, m->dst_off, len);
    if (len > 64) return add_step(b, copy_var, proto, m->src_off, m->dst_off, len);
    /* Short moves: pieces of 16, 8, 4, 2 and 1 bytes. */
    uint32_t done = 0;
    while (done < len) {
        unsigned w = 16;
        while (w > len - done)
            w /= 2;
        if (!add_step(b, copy_fn(w, ss, ds), proto, m->src_off + done, m->dst_off + done, w))
            return false;
        done += w;
    }
    return true;
}

static bool add_swap(builder *b, const step *proto, const sj_move *m) {
    uint32_t units = m->len / m->width;
    bool dense = proto->ss == (int64_t)m->len && proto->ds == (int64_t)m->len;
    bool down = proto->ss == -(int64_t)m->len && proto->ds == -(int64_t)m->len;
    step_fn fn = NULL;
    switch (m->width) {
        case 2:
            fn = dense ? swap_c2 : down ? swap_r2 : units == 1 ? swap_s2 : swap_u2;
            break;
        case 4:
            fn = dense ? swap_c4 : down ? swap_r4 : units == 1 ? swap_s4 : swap_u4;
            break;
        case 8:
            fn = dense ? swap_c8 : down ? swap_r8 : units == 1 ? swap_s8 : swap_u8;
            break;
        default:
            return false;
    }
    return add_step(b, fn, proto, m->src_off, m->dst_off, units);
}

static bool add_zero(builder *b, const step *proto, const sj_move *m) {
    if (proto->ds == (int64_t)m->len) return add_step(b, zero_dense, proto, 0, m->dst_off, m->len);
    if (m->len > 64) return add_step(b, zero_var, proto, 0, m->dst_off, m->len);
    uint32_t done = 0;
    while (done < m->len) {
        unsigned w = 16;
        while (w > m->len - done)
            w /= 2;
        if (!add_step(b, zero_fn(w), proto, 0, m->dst_off + done, w)) return false;
        done += w;
    }
    return true;
}

static bool add_convert(builder *b, const step *proto, const sj_move *m) {
    if (m->src_kind >= SJ_KIND_COUNT || m->dst_kind >= SJ_KIND_COUNT) return false;
    step s = *proto;
    s.sswap = m->src_swap != 0;
    s.dswap = m->dst_swap != 0;
    return add_step(b, conv_table[m->src_kind][m->dst_kind], &s, m->src_off, m->dst_off, 0);
}

static int64_t abs_i64(int64_t x) {
    return x < 0 ? -x : x;
}

/* Elements per block for a loop whose elements span ss and ds bytes. */
static int64_t block_for(int64_t ss, int64_t ds) {
    int64_t span = abs_i64(ss) > abs_i64(ds) ? abs_i64(ss) : abs_i64(ds);
    int64_t block = BLOCK_BYTES / (span ? span : 1);
    if (block < BLOCK_MIN) block = BLOCK_MIN;
    if (block > BLOCK_MAX) block = BLOCK_MAX;
    return block & ~(int64_t)7;
}

static void free_steps(step *v, size_t n) {
    for (size_t i = 0; v && i < n; i++) {
        free_steps(v[i].body, v[i].nbody);
        free_steps(v[i].across, v[i].nacross);
    }
    free(v);
}

#define ACROSS_MAX 8

/* An inner loop over each of n elements. Short loops (count <= ACROSS_MAX) run iteration by
 * iteration across the n elements (each body step a column of n); long ones element by
 * element, count iterations a block at a time. Distinct bytes either way: same result. */
static void run_loop(const step *st, const uint8_t *s, uint8_t *d, int64_t n) {
    const int64_t iss = st->iss, ids = st->ids, count = st->count, block = st->block;
    s += st->src_off;
    d += st->dst_off;
    if (st->across && count <= n) { /* outer elements a block at a time (cached) */
        for (int64_t i0 = 0; i0 < n; i0 += st->oblock) {
            int64_t ni = n - i0 < st->oblock ? n - i0 : st->oblock;
            const uint8_t *sb = s + i0 * st->ss;
            uint8_t *db = d + i0 * st->ds;
            for (int64_t k = 0; k < count; k++)
                for (size_t j = 0; j < st->nacross; j++)
                    st->across[j].fn(&st->across[j], sb + k * iss, db + k * ids, ni);
        }
        return;
    }
    for (int64_t i = 0; i < n; i++) {
        const uint8_t *se = s + i * st->ss;
        uint8_t *de = d + i * st->ds;
        for (int64_t k0 = 0; k0 < count; k0 += block) {
            int64_t nk = count - k0 < block ? count - k0 : block;
            for (size_t j = 0; j < st->nbody; j++)
                st->body[j].fn(&st->body[j], se + k0 * iss, de + k0 * ids, nk);
        }
    }
}

static bool add_moves(builder *b, const step *proto, const sj_plan *p, const sj_move *moves,
                      size_t n);

/* How deeply loops nest in moves[0..n) (0: no loop). A body said to run past n is cut
 * there (add_moves refuses such a plan). */
static unsigned loop_height(const sj_move *moves, size_t n) {
    unsigned h = 0;
    for (size_t i = 0; i < n; i++) {
        if (moves[i].kind != SJ_MOVE_LOOP) continue;
        size_t body = moves[i].body < n - i - 1 ? moves[i].body : n - i - 1;
        unsigned k = 1 + loop_height(&moves[i + 1], body);
        if (k > h) h = k;
        i += body;
    }
    return h;
}

static bool add_loop(builder *b, const step *proto, const sj_plan *p, const sj_move *hdr) {
    if (hdr->len == 0 || hdr->body == 0) return true;
    builder sub = {0}, across = {0};
    step inner = *proto;
    inner.ss = proto->ss ? (int64_t)hdr->src_stride : 0; /* a fill's source stays put */
    inner.ds = (int64_t)hdr->dst_stride;
    /* The column form only where it runs: loops of at most ACROSS_MAX iterations. It builds
     * the body a second time, so only for bodies of at most one level of loops: built at
     * every level, deep nests of short loops would cost 2^depth. */
    bool across_form = hdr->len <= ACROSS_MAX && loop_height(hdr + 1, hdr->body) <= 1;
    bool ok = add_moves(&sub, &inner, p, hdr + 1, hdr->body) && sub.n > 0 &&
              (!across_form || add_moves(&across, proto, p, hdr + 1, hdr->body)) &&
              add_step(b, run_loop, proto, hdr->src_off, hdr->dst_off, 0);
    if (!ok) {
        free_steps(sub.v, sub.n);
        free_steps(across.v, across.n);
        return false;
    }
    step *ls = &b->v[b->n - 1];
    ls->body = sub.v;
    ls->across = across.v;
    ls->nacross = across.n;
    ls->nbody = sub.n;
    ls->count = hdr->len;
    ls->iss = inner.ss;
    ls->ids = inner.ds;
    ls->block = block_for(inner.ss, inner.ds);
    ls->oblock = block_for(proto->ss, proto->ds);
    return true;
}

/* Steps for moves[0..n), a loop's body included with its header. */
static bool add_moves(builder *b, const step *proto0, const sj_plan *p, const sj_move *moves,
                      size_t n) {
    step proto = *proto0;
    for (size_t i = 0; i < n; i++) {
        const sj_move *m = &moves[i];
        bool ok;
        if (p->ndst) { /* each move on its stream's stride */
            if (m->dst_stream >= p->ndst) return false;
            proto.stream = m->dst_stream;
            proto.ds = p->dsts[m->dst_stream].stride;
        }
        switch (m->kind) {
            case SJ_MOVE_COPY:
                ok = add_copy(b, &proto, m);
                break;
            case SJ_MOVE_SWAP:
                ok = add_swap(b, &proto, m);
                break;
            case SJ_MOVE_CONVERT:
                ok = add_convert(b, &proto, m);
                break;
            case SJ_MOVE_ZERO:
                ok = add_zero(b, &proto, m);
                break;
            case SJ_MOVE_LOOP:
                ok = m->body <= n - i - 1 && add_loop(b, &proto, p, m);
                i += m->body;
                break;
            default:
                ok = false;
                break;
        }
        if (!ok) return false;
    }
    return true;
}

sj_status sj_interp_prepare(const sj_plan *p, sj_interp **out, sj_error *err) {
    if (!p || !out) return sj_fail(err, SJ_E_ARG, "interpreter: NULL plan or output");
    sj_interp *ip = calloc(1, sizeof *ip);
    if (!ip) return sj_fail(err, SJ_E_NOMEM, "interpreter: out of memory");
    ip->ss = p->src.stride;
    ip->ds = p->dst.stride;
    switch (p->op) {
        case SJ_PLAN_MISMATCH:
            ip->mode = MODE_MISMATCH;
            break;
        case SJ_PLAN_REDUCE: {
            if (p->red.kind >= SJ_KIND_COUNT || p->red.op > SJ_REDUCE_MAX) {
                free(ip);
                return sj_fail(err, SJ_E_ARG, "interpreter: reduction of unknown kind %u",
                               p->red.kind);
            }
            bool contig = p->src.stride == (int64_t)sj_kind_size((sj_kind)p->red.kind);
            ip->mode = MODE_REDUCE;
            ip->reduce = reduce_table[p->red.kind][p->red.op][contig][p->red.swap != 0];
            ip->red_off = p->red.off;
            break;
        }
        case SJ_PLAN_MOVE:
            if (p->block_copy) {
                ip->mode = MODE_MEMMOVE;
                ip->elem_size = p->moves[0].len;
                break;
            }
            ip->mode = MODE_STEPS;
            builder b = {0};
            step proto;
            memset(&proto, 0, sizeof proto);
            proto.ss = p->src.used ? p->src.stride : 0;
            proto.ds = p->dst.stride;
            ip->ndst = p->ndst;
            int64_t dspan = abs_i64(ip->ds);
            for (unsigned i = 0; i < p->ndst; i++)
                if (abs_i64(p->dsts[i].stride) > dspan) dspan = abs_i64(p->dsts[i].stride);
            if (!add_moves(&b, &proto, p, p->moves, p->nmoves)) {
                free_steps(b.v, b.n);
                free(ip);
                return sj_fail(err, SJ_E_NOMEM, "interpreter: cannot prepare %s plan",
                               p->what ? p->what : "a");
            }
            ip->steps = b.v;
            ip->nsteps = b.n;
            ip->block = block_for(ip->ss, dspan);
            break;
    }
    *out = ip;
    return SJ_OK;
}

void sj_interp_free(sj_interp *ip) {
    if (!ip) return;
    free_steps(ip->steps, ip->nsteps);
    free(ip);
}

int64_t sj_interp_run(const sj_interp *ip, const uint8_t *src, uint8_t *dst, int64_t count,
                      void *aux) {
    switch (ip->mode) {
        case MODE_MISMATCH:
            return count > 0 ? mismatch_bytes(src, dst, count) : -1;
        case MODE_REDUCE:
            if (count <= 0) {
                ip->reduce(NULL, 0, 0, aux); /* the identity; reads nothing */
                return 0;
            }
            ip->reduce(src + ip->red_off, ip->ss, count, aux);
            return 0;
        case MODE_MEMMOVE:
            if (count > 0) memmove(dst, src, (size_t)count * ip->elem_size);
            return 0;
        default:
            break;
    }
    if (count <= 0) return 0;
    if (ip->ndst) { /* dst: the streams' element-0 pointers */
        uint8_t *const *dp = (uint8_t *const *)(void *)dst;
        const int64_t ss = ip->ss, block = ip->block;
        for (int64_t i0 = 0; i0 < count; i0 += block) {
            int64_t n = count - i0 < block ? count - i0 : block;
            const uint8_t *s = src + i0 * ss;
            for (size_t k = 0; k < ip->nsteps; k++) {
                const step *st = &ip->steps[k];
                st->fn(st, s, dp[st->stream] + i0 * st->ds, n);
            }
        }
        return 0;
    }
    if (ip->nsteps == 1) {
        ip->steps[0].fn(&ip->steps[0], src, dst, count);
        return 0;
    }
    const int64_t ss = ip->ss, ds = ip->ds, block = ip->block;
    for (int64_t i0 = 0; i0 < count; i0 += block) {
        int64_t n = count - i0 < block ? count - i0 : block;
        const uint8_t *s = src + i0 * ss;
        uint8_t *d = dst + i0 * ds;
        for (size_t k = 0; k < ip->nsteps; k++)
            ip->steps[k].fn(&ip->steps[k], s, d, n);
    }
    return 0;
}
