/* bench/hand.h: the hand-written C loops the bench compares segjit with: for each
 * workload, the unchecked loop a C programmer would write for that exact layout
 * (hand.c, built at -O3 -march=native). Nothing about segjit or timing here. */
#ifndef SEGJIT_BENCH_HAND_H
#define SEGJIT_BENCH_HAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* W2 record, C layout: [i4(id)i4(x)d8(y)j8(z)], 24 bytes. */
typedef struct hand_rec {
    int32_t id;
    int32_t x;
    double y;
    int64_t z;
} hand_rec;

/* W4 source record, C layout with C padding: [i4(a)x4j8(b)s2(c)x6], 24 bytes. */
typedef struct hand_w4_src {
    int32_t a;
    int64_t b;
    int16_t c;
} hand_w4_src;

/* W4 destination record: [1%S2(c)1%I4(a)1%J8(b)], 14 bytes, packed, big-endian. */
#define HAND_W4_DST_SIZE 14

/* W1 (and W3): sum of n int32 into an int64. */
int64_t hand_w1_sum(const int32_t *a, int64_t n);

/* W3: the same sum written naively with a bounds test and an alignment test per
 * element (what a checked accessor does on every call). Returns false on a failed
 * test (never in the bench). */
bool hand_w3_sum_checked(const uint8_t *base, uint64_t size, int64_t n, int64_t *out);

/* W2: sum of the y fields, in the order segjit's plans fix for floating-point
 * reductions (src/plan.h): 8 double lanes, element i into lane i % 8 in increasing i,
 * lanes combined as ((l0+l1)+(l2+l3))+((l4+l5)+(l6+l7)). */
double hand_w2_sum_y(const hand_rec *r, int64_t n);

/* W7: the same sum as the plain loop a user writes, one record after another (the order
 * of W7's loops through sj_get_path and accessors). */
double hand_w7_sum_y(const hand_rec *r, int64_t n);

/* W7's floor: the y of record idx[0] at base + offset, unchecked, in an out-of-line function
 * with an accessor's signature (its other arguments unused): what a call per element costs
 * a user loop before any check. Returns 0. */
int hand_w7_get_y(const void *acc, const uint8_t *base, int64_t offset, const int64_t *idx,
                  size_t count, double *out, void *err);

/* W4: record conversion, little-endian padded -> packed big-endian (dst: 14n bytes). */
void hand_w4_convert(const hand_w4_src *src, uint8_t *dst, int64_t n);

/* W5: array of structs -> struct of arrays, one pass. */
void hand_w5_split(const hand_rec *r, int32_t *id, int32_t *x, double *y, int64_t *z, int64_t n);

/* W6: int32 copy with each element byte-reversed. */
void hand_w6_bswap(const uint32_t *src, uint32_t *dst, int64_t n);

/* The loops of W1, W2, W4, W5 and W6 built by clang (bench/CMakeLists.txt; present when
 * SEGJIT_BENCH_CLANG is defined): the bench compares with the faster of the two. */
int64_t hand_clang_w1_sum(const int32_t *a, int64_t n);
double hand_clang_w2_sum_y(const hand_rec *r, int64_t n);
void hand_clang_w4_convert(const hand_w4_src *src, uint8_t *dst, int64_t n);
void hand_clang_w5_split(const hand_rec *r, int32_t *id, int32_t *x, double *y, int64_t *z,
                         int64_t n);
void hand_clang_w6_bswap(const uint32_t *src, uint32_t *dst, int64_t n);

/* W9: records of n floats converted to records of n doubles, n fixed at compile time as a
 * C programmer's struct fixes it (float v[16]; ...); recs records. */
void hand_w9_f4_d8_16(const float *src, double *dst, int64_t recs);
void hand_w9_f4_d8_256(const float *src, double *dst, int64_t recs);
void hand_w9_f4_d8_4096(const float *src, double *dst, int64_t recs);

/* W9: a record of 64 int32 fields f0..f63 into one whose fields are in reverse order. */
void hand_w9_reverse64(const int32_t *src, int32_t *dst, int64_t recs);

#endif
