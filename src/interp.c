/* src/interp.c: the interpreter. A plan is turned once (sj_interp_prepare) into a list of
 * steps, each a precompiled inner loop picked from a menu (width x contiguous/strided x
 * swap, a conversion per kind pair, a reduction per kind; for records of many fields, lists
 * of moves of one kind), then run block by block.
 * No checks and no segments here: kernel.c hands over raw pointers that passed them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "internal.h"
#include "interp.h"

#if defined(__GNUC__)
#define SJ_INLINE static inline __attribute__((always_inline))
#define UNROLL4   _Pragma("GCC unroll 4")
#else
#define SJ_INLINE static inline
#define UNROLL4
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
 * the first-level cache while every move runs over it), and the block length limits: wide
 * records run a few at a time (a floor of 64 put 310 KB blocks of 4.8 KB records out of
 * the cache; docs/JIT.md, "Wide records on the interpreter"). */
#define BLOCK_BYTES 16384
#define BLOCK_MIN   1
#define BLOCK_MAX   4096

typedef struct step step;
/* A list's move: its offsets within the source (low half) and destination element (high),
 * one load (two loads of 32 bits measured 6% slower on 3000 fields). */
typedef uint64_t pair;
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
    /* A list (wide records): npairs moves of one kind per element (lists below). */
    pair *pairs;
    size_t npairs;
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
        if (!st->sswap && !st->dswap && ss == (int64_t)sizeof(ST) && ds == (int64_t)sizeof(DT)) {  \
            for (int64_t i = 0; i < n; i++) /* packed values: the compiler's vector loop */        \
                cv1_##SK##_##DK(s + i * (int64_t)sizeof(ST), d + i * (int64_t)sizeof(DT), 0, 0);   \
        } else if (!st->sswap && !st->dswap) {                                                     \
            for (int64_t i = 0; i < n; i++)                                                        \
                cv1_##SK##_##DK(s + i * ss, d + i * ds, 0, 0);                                     \
        } else {                                                                                   \
            const int sw = st->sswap, dw = st->dswap;                                              \
            for (int64_t i = 0; i < n; i++)                                                        \
                cv1_##SK##_##DK(s + i * ss, d + i * ds, sw, dw);                                   \
        }                                                                                          \
    }                                                                                              \
    static void cvl_##SK##_##DK(const step *st, const uint8_t *s, uint8_t *d, int64_t n) {         \
        const pair *p = st->pairs;                                                                 \
        const size_t np = st->npairs;                                                              \
        const int64_t ss = st->ss, ds = st->ds;                                                    \
        const int sw = st->sswap, dw = st->dswap;                                                  \
        for (int64_t i = 0; i < n; i++, s += ss, d += ds)                                          \
            for (size_t j = 0; j < np; j++)                                                        \
                cv1_##SK##_##DK(s + (uint32_t)p[j], d + (p[j] >> 32), sw, dw);                     \
    }

#define CONV_ROW(SK, ST, SU) DST_KINDS(DEF_CONV, SK, ST, SU)
SRC_KINDS(CONV_ROW)
#undef CONV_ROW

#define CONV_ENTRY(SK, ST, SU, DK, DT, DU) [SJ_##SK][SJ_##DK] = cv_##SK##_##DK,
#define CONV_TABLE_ROW(SK, ST, SU)         DST_KINDS(CONV_ENTRY, SK, ST, SU)
static const step_fn conv_table[SJ_KIND_COUNT][SJ_KIND_COUNT] = {SRC_KINDS(CONV_TABLE_ROW)};
#undef CONV_TABLE_ROW
#undef CONV_ENTRY

#define CONVL_ENTRY(SK, ST, SU, DK, DT, DU) [SJ_##SK][SJ_##DK] = cvl_##SK##_##DK,
#define CONVL_TABLE_ROW(SK, ST, SU)         DST_KINDS(CONVL_ENTRY, SK, ST, SU)
static const step_fn convl_table[SJ_KIND_COUNT][SJ_KIND_COUNT] = {SRC_KINDS(CONVL_TABLE_ROW)};
#undef CONVL_TABLE_ROW
#undef CONVL_ENTRY

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
    SJ_HOT static void swap_u##W(const step *st, const uint8_t *s, uint8_t *d, int64_t n) {        \
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

/* ---- lists: many moves of one kind per element, element by element ----
 * Wide records of distinct fields: one call runs every move of a kind over a block, so the
 * cost of a step is paid per kind, not per field. Unrolled: the offsets' loads then issue
 * ahead of the moves (7-15% on 1000-3000 fields; docs/JIT.md, wide records). */

#define DEF_LIST(W)                                                                                \
    static void copyl_##W(const step *st, const uint8_t *s, uint8_t *d, int64_t n) {               \
        const pair *p = st->pairs;                                                                 \
        const size_t np = st->npairs;                                                              \
        const int64_t ss = st->ss, ds = st->ds;                                                    \
        for (int64_t i = 0; i < n; i++, s += ss, d += ds)                                          \
            UNROLL4 for (size_t j = 0; j < np; j++) {                                              \
                pair x = p[j];                                                                     \
                memcpy(d + (x >> 32), s + (uint32_t)x, W);                                         \
            }                                                                                      \
    }                                                                                              \
    static void zerol_##W(const step *st, const uint8_t *s, uint8_t *d, int64_t n) {               \
        (void)s;                                                                                   \
        const pair *p = st->pairs;                                                                 \
        const size_t np = st->npairs;                                                              \
        const int64_t ds = st->ds;                                                                 \
        for (int64_t i = 0; i < n; i++, d += ds)                                                   \
            UNROLL4 for (size_t j = 0; j < np; j++) memset(d + (p[j] >> 32), 0, W);                \
    }
DEF_LIST(1)
DEF_LIST(2)
DEF_LIST(4)
DEF_LIST(8)
DEF_LIST(16)

#define DEF_LIST_SWAP(W, U)                                                                        \
    static void swapl_##W(const step *st, const uint8_t *s, uint8_t *d, int64_t n) {               \
        const pair *p = st->pairs;                                                                 \
        const size_t np = st->npairs;                                                              \
        const int64_t ss = st->ss, ds = st->ds;                                                    \
        for (int64_t i = 0; i < n; i++, s += ss, d += ds)                                          \
            UNROLL4 for (size_t j = 0; j < np; j++) {                                              \
                pair x = p[j];                                                                     \
                U u;                                                                               \
                memcpy(&u, s + (uint32_t)x, W);                                                    \
                u = BSW##W(u);                                                                     \
                memcpy(d + (x >> 32), &u, W);                                                      \
            }                                                                                      \
    }
DEF_LIST_SWAP(2, uint16_t)
DEF_LIST_SWAP(4, uint32_t)
DEF_LIST_SWAP(8, uint64_t)

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
    return block >= 8 ? block & ~(int64_t)7 : block;
}

static void free_steps(step *v, size_t n) {
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].pairs);
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

/* What preparing reads besides the moves: the plan, and whether it may run in place. */
typedef struct prep {
    const sj_plan *p;
    bool in_place;
} prep;

static bool add_moves(builder *b, const step *proto, const prep *c, const sj_move *moves, size_t n);

/* How deeply loops nest in moves[0..n) (0: no loop). A body said to run past n is cut
 * there (add_moves refuses such a plan). */
static unsigned loop_height(const sj_move *moves, size_t n) {
    unsigned h = 0;
    for (size_t i = 0; i < n; i++) {
        if (moves[i].kind != SJ_MOVE_LOOP) continue;
        size_t body = sj_move_body(&moves[i], n - i);
        unsigned k = 1 + loop_height(&moves[i + 1], body);
        if (k > h) h = k;
        i += body;
    }
    return h;
}

static bool add_loop(builder *b, const step *proto, const prep *c, const sj_move *hdr) {
    if (hdr->len == 0 || hdr->body == 0) return true;
    builder sub = {0}, across = {0};
    step inner = *proto;
    inner.ss = proto->ss ? (int64_t)hdr->src_stride : 0; /* a fill's source stays put */
    inner.ds = (int64_t)hdr->dst_stride;
    /* The column form only where it runs: loops of at most ACROSS_MAX iterations. It builds
     * the body a second time, so only for bodies of at most one level of loops: built at
     * every level, deep nests of short loops would cost 2^depth. */
    bool across_form = hdr->len <= ACROSS_MAX && loop_height(hdr + 1, hdr->body) <= 1;
    bool ok = add_moves(&sub, &inner, c, hdr + 1, hdr->body) && sub.n > 0 &&
              (!across_form || add_moves(&across, proto, c, hdr + 1, hdr->body)) &&
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

/* The steps of moves[*i] (a loop: with its body, *i then its last move). */
static bool add_move(builder *b, const step *proto0, const prep *c, const sj_move *moves, size_t n,
                     size_t *i) {
    const sj_move *m = &moves[*i];
    step proto = *proto0;
    if (c->p->ndst) { /* each move on its stream's stride */
        if (m->dst_stream >= c->p->ndst) return false;
        proto.stream = m->dst_stream;
        proto.ds = c->p->dsts[m->dst_stream].stride;
    }
    switch (m->kind) {
        case SJ_MOVE_COPY:
            return add_copy(b, &proto, m);
        case SJ_MOVE_SWAP:
            return add_swap(b, &proto, m);
        case SJ_MOVE_CONVERT:
            return add_convert(b, &proto, m);
        case SJ_MOVE_ZERO:
            return add_zero(b, &proto, m);
        case SJ_MOVE_LOOP: {
            bool ok = m->body <= n - *i - 1 && add_loop(b, &proto, c, m);
            *i += m->body;
            return ok;
        }
    }
    return false;
}

/* ---- lists: a level's moves grouped by kind (lists above) ---- */

/* Fewest pieces at one level, and in one group, that make lists worth their inner loop
 * (measured: groups of 2 run faster as two column steps); the longest swap (units) and
 * copy or zero (bytes) split into pieces. */
#define LIST_MIN        8
#define SHORT_LOOP_MAX  16 /* loops of one move written out, at a level of several */
#define GROUP_MIN       3
#define LIST_SWAP_UNITS 8
#define LIST_BYTES      64

/* A piece's class: copies and zeros of 1-16 bytes, swaps of one 2-8 byte unit, or one
 * conversion with its two swaps. */
enum {
    CLS_COPY = 0,
    CLS_ZERO = 5,
    CLS_SWAP = 10,
    CLS_CONV = 13,
    CLS_COUNT = CLS_CONV + SJ_KIND_COUNT * SJ_KIND_COUNT * 4
};

typedef struct piece {
    uint32_t cls, src_off, dst_off;
    uint32_t group; /* the list it joins */
} piece;

static unsigned log2_w(unsigned w) {
    return w >= 16 ? 4 : w >= 8 ? 3 : w >= 4 ? 2 : w >= 2 ? 1 : 0;
}

/* Pieces of 16, 8, 4, 2 and 1 bytes of a copy or zero (add_copy's and add_zero's split). */
static size_t split_bytes(uint32_t cls0, const sj_move *m, piece *out) {
    size_t k = 0;
    for (uint32_t done = 0; done < m->len;) {
        unsigned w = 16;
        while (w > m->len - done)
            w /= 2;
        out[k++] = (piece){cls0 + log2_w(w), m->src_off + done, m->dst_off + done, 0};
        done += w;
    }
    return k;
}

/* m's pieces into out (room for LIST_BYTES / 16 + 4 >= LIST_SWAP_UNITS); 0: m takes steps
 * of its own (a loop, a long copy, zero or swap, an unknown kind). */
static size_t move_pieces(const sj_move *m, piece *out) {
    switch (m->kind) {
        case SJ_MOVE_COPY:
            return m->len && m->len <= LIST_BYTES ? split_bytes(CLS_COPY, m, out) : 0;
        case SJ_MOVE_ZERO:
            return m->len && m->len <= LIST_BYTES ? split_bytes(CLS_ZERO, m, out) : 0;
        case SJ_MOVE_SWAP: {
            unsigned w = m->width, units = w ? m->len / w : 0;
            if ((w != 2 && w != 4 && w != 8) || units == 0 || units > LIST_SWAP_UNITS) return 0;
            for (unsigned j = 0; j < units; j++)
                out[j] =
                    (piece){CLS_SWAP + log2_w(w) - 1, m->src_off + j * w, m->dst_off + j * w, 0};
            return units;
        }
        case SJ_MOVE_CONVERT:
            if (m->src_kind >= SJ_KIND_COUNT || m->dst_kind >= SJ_KIND_COUNT) return 0;
            out[0] = (piece){CLS_CONV + ((m->src_kind * SJ_KIND_COUNT + m->dst_kind) * 4u +
                                         (m->src_swap != 0) * 2u + (m->dst_swap != 0)),
                             m->src_off, m->dst_off, 0};
            return 1;
    }
    return 0;
}

typedef struct ospan {
    uint64_t lo, hi;
} ospan;

static int by_lo(const void *a, const void *b) {
    uint64_t x = ((const ospan *)a)->lo, y = ((const ospan *)b)->lo;
    return x < y ? -1 : x > y;
}

/* The bytes m reads (src) or writes within an element: [lo, hi), empty when hi == lo. */
static ospan move_span(const sj_move *m, bool src) {
    sj_span r = src ? sj_move_read_span(m) : sj_move_write_span(m);
    return (ospan){r.lo, r.lo + r.len};
}

/* Whether a level's moves keep their bytes within one element's stride, so that lists may
 * run element by element (false: not every loop-free move does). *any_order: the moves
 * may also run in any order: no loop, no two write the same byte, and in a plan that may
 * run in place (src is dst) none writes what another reads (a stronger test that sorts:
 * reads of distinct moves apart as well). */
static bool level_cells(const prep *c, const step *proto, const sj_move *moves, size_t n,
                        bool *any_order) {
    ospan *v = malloc(2 * n * sizeof *v);
    if (!v) return false;
    uint64_t sspan = (uint64_t)abs_i64(proto->ss), dspan = (uint64_t)abs_i64(proto->ds);
    size_t k = 0;
    bool cells = true;
    *any_order = true;
    for (size_t i = 0; i < n && cells; i++) {
        const sj_move *m = &moves[i];
        if (m->kind == SJ_MOVE_LOOP) {
            *any_order = false;
            i += m->body;
            continue;
        }
        ospan w = move_span(m, false), r = move_span(m, true);
        cells = w.hi <= dspan && (!c->in_place || r.hi <= sspan);
        if (w.hi > w.lo) v[k++] = w;
        if (c->in_place && r.hi > r.lo && (r.lo != w.lo || r.hi != w.hi)) v[k++] = r;
    }
    if (cells && *any_order && k) {
        qsort(v, k, sizeof *v, by_lo);
        uint64_t hi = v[0].hi;
        for (size_t i = 1; i < k && *any_order; i++) {
            *any_order = v[i].lo >= hi;
            if (v[i].hi > hi) hi = v[i].hi;
        }
    }
    free(v);
    return cells;
}

static const step_fn copyl_fns[5] = {copyl_1, copyl_2, copyl_4, copyl_8, copyl_16};
static const step_fn zerol_fns[5] = {zerol_1, zerol_2, zerol_4, zerol_8, zerol_16};
static const step_fn swapl_fns[3] = {swapl_2, swapl_4, swapl_8};
static const step_fn swap1_fns[3] = {swap_s2, swap_s4, swap_s8};

/* The loop of class cls into s (fn, len, swaps): a list's, or the column loop add_copy,
 * add_zero, add_swap or add_convert would pick for one piece. */
static void class_step(uint32_t cls, bool list, step *s) {
    if (cls >= CLS_CONV) {
        uint32_t x = cls - CLS_CONV, sk = x / 4 / SJ_KIND_COUNT, dk = x / 4 % SJ_KIND_COUNT;
        s->sswap = (x >> 1) & 1;
        s->dswap = x & 1;
        s->fn = list ? convl_table[sk][dk] : conv_table[sk][dk];
        s->len = 0;
    } else if (cls >= CLS_SWAP) {
        s->fn = list ? swapl_fns[cls - CLS_SWAP] : swap1_fns[cls - CLS_SWAP];
        s->len = 1; /* units */
    } else if (cls >= CLS_ZERO) {
        s->len = 1u << (cls - CLS_ZERO);
        s->fn = list ? zerol_fns[cls - CLS_ZERO] : zero_fn(s->len);
    } else {
        s->len = 1u << (cls - CLS_COPY);
        s->fn = list ? copyl_fns[cls - CLS_COPY] : copy_fn(s->len, s->ss, s->ds);
    }
}

/* Steps for pieces pc[0..k) of one class: a list, or below GROUP_MIN a column step each. */
static bool add_group(builder *b, const step *proto, const piece *pc, size_t k) {
    step s = *proto;
    class_step(pc[0].cls, k >= GROUP_MIN, &s);
    if (k < GROUP_MIN) {
        for (size_t j = 0; j < k; j++)
            if (!add_step(b, s.fn, &s, pc[j].src_off, pc[j].dst_off, s.len)) return false;
        return true;
    }
    s.pairs = malloc(k * sizeof *s.pairs);
    if (!s.pairs) return false;
    s.npairs = k;
    for (size_t j = 0; j < k; j++)
        s.pairs[j] = (pair)pc[j].dst_off << 32 | pc[j].src_off;
    if (add_step(b, s.fn, &s, 0, 0, s.len)) return true;
    free(s.pairs);
    return false;
}

#define PIECES_MAX (LIST_BYTES / 16 + 4)

/* The pieces of a level's moves, each given its group: with any order, one group per class;
 * else one per run of a class (a move with steps of its own ends the run). */
static size_t level_pieces(const sj_move *moves, size_t n, bool any_order, piece *out,
                           uint32_t *gid, uint32_t *ngroups) {
    piece tmp[PIECES_MAX];
    size_t k = 0;
    uint32_t g = 0, last = UINT32_MAX;
    for (size_t i = 0; i < n; i++) {
        size_t np = moves[i].kind == SJ_MOVE_LOOP ? 0 : move_pieces(&moves[i], out ? out + k : tmp);
        if (moves[i].kind == SJ_MOVE_LOOP) i += moves[i].body;
        if (!np) last = UINT32_MAX;
        for (size_t j = 0; out && j < np; j++) {
            uint32_t cls = out[k + j].cls;
            if (any_order) {
                if (gid[cls] == UINT32_MAX) gid[cls] = g++;
                out[k + j].group = gid[cls];
            } else {
                if (cls != last) g++;
                out[k + j].group = g - 1;
                last = cls;
            }
        }
        k += np;
    }
    if (ngroups) *ngroups = g;
    return k;
}
/* A level's steps with lists (level_pieces' groups), each at its first piece's place;
 * the other moves' steps as add_move makes them, in order. -1: no lists here (too few
 * pieces, or elements not apart). */
static int add_lists(builder *b, const step *proto, const prep *c, const sj_move *moves, size_t n) {
    bool any_order;
    if (n < 2 || c->p->ndst || proto->ss == 0 || !level_cells(c, proto, moves, n, &any_order))
        return -1;
    size_t np = level_pieces(moves, n, any_order, NULL, NULL, NULL);
    if (np < LIST_MIN) return -1;
    piece *pc = malloc(np * sizeof *pc), *sorted = malloc(np * sizeof *sorted);
    uint32_t *gid = malloc(CLS_COUNT * sizeof *gid), ng = 0;
    size_t *at = NULL;
    bool ok = pc && sorted && gid;
    if (ok) {
        memset(gid, 0xff, CLS_COUNT * sizeof *gid);
        level_pieces(moves, n, any_order, pc, gid, &ng);
        at = calloc((size_t)ng + 1, sizeof *at);
        ok = at != NULL;
    }
    if (ok) { /* pieces by group, each group in move order: sorted[at[g]..at[g+1]) */
        for (size_t j = 0; j < np; j++)
            at[pc[j].group + 1]++;
        for (uint32_t g = 0; g < ng; g++)
            at[g + 1] += at[g];
        for (size_t j = 0; j < np; j++)
            sorted[at[pc[j].group]++] = pc[j];
        for (uint32_t g = ng; g > 0; g--) /* at[g] moved to group g's end: back by one */
            at[g] = at[g - 1];
        at[0] = 0;
    }
    piece tmp[PIECES_MAX];
    uint32_t next = 0; /* groups are numbered in order of their first piece */
    size_t j = 0;
    for (size_t i = 0; i < n && ok; i++) {
        size_t k = moves[i].kind == SJ_MOVE_LOOP ? 0 : move_pieces(&moves[i], tmp);
        if (!k) {
            ok = add_move(b, proto, c, moves, n, &i);
            continue;
        }
        for (; k > 0 && ok; k--, j++) {
            if (pc[j].group != next) continue;
            ok = add_group(b, proto, &sorted[at[next]], at[next + 1] - at[next]);
            next++;
        }
    }
    free(pc);
    free(sorted);
    free(gid);
    free(at);
    return ok;
}

/* Whether loop m is short with one move for body: run as that move, once per iteration. */
static bool short_loop(const sj_move *m, size_t left) {
    return m->kind == SJ_MOVE_LOOP && m->body == 1 && left > 1 && m[1].kind != SJ_MOVE_LOOP &&
           m->len <= SHORT_LOOP_MAX;
}

/* moves[0..n) with every short loop written out as its iterations (they run in order, so
 * this is the same treatment), for lists to take; NULL when there are fewer than two such
 * loops (or no memory): the moves then run as they are. */
static sj_move *unroll_short(const prep *c, const step *proto, const sj_move *moves, size_t n,
                             size_t *out_n) {
    size_t loops = 0, len = 0;
    for (size_t i = 0; i < n; i++) {
        bool s = short_loop(&moves[i], n - i);
        size_t body = moves[i].kind == SJ_MOVE_LOOP ? sj_move_body(&moves[i], n - i) : 0;
        loops += s;
        len += s ? moves[i].len : 1 + body;
        i += body;
    }
    sj_move *v = loops >= 2 && !c->p->ndst ? malloc(len * sizeof *v) : NULL;
    if (!v) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const sj_move *m = &moves[i];
        if (!short_loop(m, n - i)) { /* a loop with its body (cut at n: refused later) */
            size_t take = 1 + (m->kind == SJ_MOVE_LOOP ? sj_move_body(m, n - i) : 0);
            memcpy(&v[k], m, take * sizeof *v);
            k += take;
            i += take - 1;
            continue;
        }
        for (uint32_t it = 0; it < m->len; it++) { /* a fill's source stays put */
            sj_move e = m[1];
            e.src_off += m->src_off + (proto->ss ? it * m->src_stride : 0);
            e.dst_off += m->dst_off + it * m->dst_stride;
            v[k++] = e;
        }
        i++;
    }
    *out_n = k;
    return v;
}

/* Steps for moves[0..n), a loop's body included with its header. */
static bool add_moves(builder *b, const step *proto, const prep *c, const sj_move *moves,
                      size_t n) {
    size_t un;
    sj_move *u = unroll_short(c, proto, moves, n, &un);
    if (u) {
        bool ok = add_moves(b, proto, c, u, un);
        free(u);
        return ok;
    }
    int r = add_lists(b, proto, c, moves, n);
    if (r >= 0) return r;
    for (size_t i = 0; i < n; i++)
        if (!add_move(b, proto, c, moves, n, &i)) return false;
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
            prep c = {p, sj_plan_in_place(p)};
            if (!add_moves(&b, &proto, &c, p->moves, p->nmoves)) {
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
