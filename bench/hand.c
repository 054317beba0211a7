/* bench/hand.c: the hand-written, unchecked C loops of the bench (see hand.h), built
 * at -O3 -march=native like code a user would tune. Plain C only: no segjit calls, no
 * timing, no tricks a C programmer would not write for these layouts. */
#include "hand.h"

#include <stddef.h>
#include <string.h>

/* bench/CMakeLists.txt builds the main loops a second time with clang, renamed
 * hand_clang_* (HAND) and without the rest (HAND_MAIN_ONLY). */
#ifndef HAND
#define HAND(name) hand_##name
#endif

int64_t HAND(w1_sum)(const int32_t *restrict a, int64_t n) {
    int64_t s = 0;
    for (int64_t i = 0; i < n; i++)
        s += a[i];
    return s;
}

#ifndef HAND_MAIN_ONLY
bool hand_w3_sum_checked(const uint8_t *base, uint64_t size, int64_t n, int64_t *out) {
    int64_t s = 0;
    for (int64_t i = 0; i < n; i++) {
        uint64_t off = (uint64_t)i * 4;
        if (off > size || size - off < 4) return false;           /* bounds */
        if (((uintptr_t)base + off) & (uintptr_t)3) return false; /* alignment */
        int32_t v;
        memcpy(&v, base + off, sizeof v);
        s += v;
    }
    *out = s;
    return true;
}

double hand_w7_sum_y(const hand_rec *r, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++)
        s += r[i].y;
    return s;
}

int hand_w7_get_y(const void *acc, const uint8_t *base, int64_t offset, const int64_t *idx,
                  size_t count, double *out, void *err) {
    (void)acc;
    (void)count;
    (void)err;
    memcpy(out, base + offset + idx[0] * (int64_t)sizeof(hand_rec) + offsetof(hand_rec, y),
           sizeof *out);
    return 0;
}
#endif

double HAND(w2_sum_y)(const hand_rec *restrict r, int64_t n) {
    /* Element i goes to lane i % 8, in increasing i: the order src/plan.h fixes, so
     * that every tier and this loop give the same bits. */
    double l[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        l[0] += r[i].y;
        l[1] += r[i + 1].y;
        l[2] += r[i + 2].y;
        l[3] += r[i + 3].y;
        l[4] += r[i + 4].y;
        l[5] += r[i + 5].y;
        l[6] += r[i + 6].y;
        l[7] += r[i + 7].y;
    }
    for (int k = 0; i < n; i++, k++)
        l[k] += r[i].y;
    return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
}

void HAND(w4_convert)(const hand_w4_src *restrict src, uint8_t *restrict dst, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        uint8_t *d = dst + i * HAND_W4_DST_SIZE;
        uint16_t c = __builtin_bswap16((uint16_t)src[i].c);
        uint32_t a = __builtin_bswap32((uint32_t)src[i].a);
        uint64_t b = __builtin_bswap64((uint64_t)src[i].b);
        memcpy(d, &c, 2);
        memcpy(d + 2, &a, 4);
        memcpy(d + 6, &b, 8);
    }
}

void HAND(w5_split)(const hand_rec *restrict r, int32_t *restrict id, int32_t *restrict x,
                    double *restrict y, int64_t *restrict z, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        id[i] = r[i].id;
        x[i] = r[i].x;
        y[i] = r[i].y;
        z[i] = r[i].z;
    }
}

void HAND(w6_bswap)(const uint32_t *restrict src, uint32_t *restrict dst, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        dst[i] = __builtin_bswap32(src[i]);
}

#ifndef HAND_MAIN_ONLY
#define HAND_W9(N)                                                                                 \
    void hand_w9_f4_d8_##N(const float *src, double *dst, int64_t recs) {                          \
        typedef struct {                                                                           \
            float v[N];                                                                            \
        } in;                                                                                      \
        typedef struct {                                                                           \
            double v[N];                                                                           \
        } out;                                                                                     \
        const in *s = (const in *)src;                                                             \
        out *d = (out *)dst;                                                                       \
        for (int64_t r = 0; r < recs; r++)                                                         \
            for (int j = 0; j < N; j++)                                                            \
                d[r].v[j] = s[r].v[j];                                                             \
    }
HAND_W9(16)
HAND_W9(256)
HAND_W9(4096)

void hand_w9_reverse64(const int32_t *src, int32_t *dst, int64_t recs) {
    for (int64_t r = 0; r < recs; r++)
        for (int j = 0; j < 64; j++)
            dst[r * 64 + 63 - j] = src[r * 64 + j];
}
#endif
