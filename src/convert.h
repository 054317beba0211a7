/* src/convert.h: the scalar rules of record conversion (plan.h, SJ_MOVE_CONVERT) as static
 * inline functions: byte swaps, saturating float->int, which conversions are lossy, and
 * one reference conversion of a single value. Loops over many values belong in interp.c. */
#ifndef SEGJIT_CONVERT_H
#define SEGJIT_CONVERT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "segjit/layout.h"

static inline uint16_t sj_bswap16(uint16_t v) {
    return __builtin_bswap16(v);
}
static inline uint32_t sj_bswap32(uint32_t v) {
    return __builtin_bswap32(v);
}
static inline uint64_t sj_bswap64(uint64_t v) {
    return __builtin_bswap64(v);
}

/* ---- float -> integer: truncation toward zero, saturating, NaN -> 0 ----
 * Every bound below is a power of two (or zero), exactly representable as a double, and a
 * float widens to double exactly, so one set of functions serves f32 and f64 sources. */
#define SJ_SAT_FN(NAME, T, LO, HI, MINV, MAXV)                                                     \
    static inline T NAME(double x) {                                                               \
        if (x != x) return 0;                                                                      \
        if (x < (LO)) return MINV;                                                                 \
        if (x >= (HI)) return MAXV;                                                                \
        return (T)x;                                                                               \
    }
SJ_SAT_FN(sj_sat_i8, int8_t, -128.0, 128.0, INT8_MIN, INT8_MAX)
SJ_SAT_FN(sj_sat_u8, uint8_t, 0.0, 256.0, 0, UINT8_MAX)
SJ_SAT_FN(sj_sat_i16, int16_t, -32768.0, 32768.0, INT16_MIN, INT16_MAX)
SJ_SAT_FN(sj_sat_u16, uint16_t, 0.0, 65536.0, 0, UINT16_MAX)
SJ_SAT_FN(sj_sat_i32, int32_t, -2147483648.0, 2147483648.0, INT32_MIN, INT32_MAX)
SJ_SAT_FN(sj_sat_u32, uint32_t, 0.0, 4294967296.0, 0, UINT32_MAX)
SJ_SAT_FN(sj_sat_i64, int64_t, -9223372036854775808.0, 9223372036854775808.0, INT64_MIN, INT64_MAX)
SJ_SAT_FN(sj_sat_u64, uint64_t, 0.0, 18446744073709551616.0, 0, UINT64_MAX)
#undef SJ_SAT_FN

/* The bits (zero-extended to 64) of double x converted to the integer kind k. */
static inline uint64_t sj_sat_bits(double x, sj_kind k) {
    switch (k) {
        case SJ_BOOL:
            return x != 0;
        case SJ_I8:
            return (uint8_t)sj_sat_i8(x);
        case SJ_U8:
            return sj_sat_u8(x);
        case SJ_I16:
            return (uint16_t)sj_sat_i16(x);
        case SJ_CHAR:
        case SJ_U16:
            return sj_sat_u16(x);
        case SJ_I32:
            return (uint32_t)sj_sat_i32(x);
        case SJ_U32:
            return sj_sat_u32(x);
        case SJ_I64:
            return (uint64_t)sj_sat_i64(x);
        case SJ_U64:
        case SJ_ADDR:
            return sj_sat_u64(x);
        default:
            return 0;
    }
}

/* ---- lossy conversions ----
 * A conversion is lossless when the destination kind holds every value of the source
 * kind exactly; anything else needs SJ_CONVERT_LOSSY. char counts as u16, address as
 * u64; bool converts losslessly to anything, and nothing but bool converts losslessly to
 * bool. */

/* Integer kinds: width in bits and signedness (bool is not one of them here). */
static inline unsigned sj_int_bits(sj_kind k) {
    return 8u * sj_kind_size(k);
}

static inline bool sj_convert_is_lossy(sj_kind from, sj_kind to) {
    if (from == to) return false;
    if (to == SJ_BOOL) return true;
    if (from == SJ_BOOL) return false;
    bool ff = sj_kind_is_float(from), tf = sj_kind_is_float(to);
    if (ff && tf) return !(from == SJ_F32 && to == SJ_F64);
    if (ff) return true; /* float -> integer */
    unsigned fb = sj_int_bits(from);
    bool fs = sj_kind_is_signed(from);
    if (tf) return fb > (to == SJ_F32 ? 16u : 32u); /* 24 and 53 bit significands */
    unsigned tb = sj_int_bits(to);
    bool ts = sj_kind_is_signed(to);
    if (fs == ts) return tb < fb;
    if (!fs) return tb <= fb; /* unsigned -> signed needs one more bit */
    return true;              /* signed -> unsigned: negative values */
}

/* ---- one value, the reference ---- */

/* The bits of a value of `size` bytes at p, byte-reversed when `swap`. */
static inline uint64_t sj_load_bits(const uint8_t *p, unsigned size, bool swap) {
    switch (size) {
        case 1:
            return p[0];
        case 2: {
            uint16_t v;
            memcpy(&v, p, 2);
            return swap ? sj_bswap16(v) : v;
        }
        case 4: {
            uint32_t v;
            memcpy(&v, p, 4);
            return swap ? sj_bswap32(v) : v;
        }
        default: {
            uint64_t v;
            memcpy(&v, p, 8);
            return swap ? sj_bswap64(v) : v;
        }
    }
}

/* Stores the low `size` bytes of bits at p, byte-reversed when `swap`. */
static inline void sj_store_bits(uint8_t *p, unsigned size, bool swap, uint64_t bits) {
    switch (size) {
        case 1:
            p[0] = (uint8_t)bits;
            break;
        case 2: {
            uint16_t v = (uint16_t)bits;
            if (swap) v = sj_bswap16(v);
            memcpy(p, &v, 2);
            break;
        }
        case 4: {
            uint32_t v = (uint32_t)bits;
            if (swap) v = sj_bswap32(v);
            memcpy(p, &v, 4);
            break;
        }
        default: {
            uint64_t v = bits;
            if (swap) v = sj_bswap64(v);
            memcpy(p, &v, 8);
            break;
        }
    }
}

/* Converts one value of kind sk at src (swapped if sswap) into kind dk at dst (swapped
 * if dswap), with the rules of plan.h. The interpreter's loops compute the same thing. */
static inline void sj_convert_value(sj_kind sk, const uint8_t *src, bool sswap, sj_kind dk,
                                    uint8_t *dst, bool dswap) {
    unsigned ssz = sj_kind_size(sk), dsz = sj_kind_size(dk);
    uint64_t bits = sj_load_bits(src, ssz, sswap && ssz > 1);
    uint64_t out = 0;
    /* Source value as an integer (with its signedness) or as a double. */
    bool sfloat = sj_kind_is_float(sk);
    double f = 0;
    float f32 = 0;
    int64_t si = 0;
    uint64_t su = 0;
    bool ssigned = sj_kind_is_signed(sk);
    if (sk == SJ_F32) {
        uint32_t b32 = (uint32_t)bits;
        memcpy(&f32, &b32, 4);
        f = f32;
    } else if (sk == SJ_F64) {
        memcpy(&f, &bits, 8);
    } else if (sk == SJ_BOOL) {
        su = bits != 0;
        si = (int64_t)su;
    } else {
        switch (ssz) {
            case 1:
                si = ssigned ? (int8_t)(uint8_t)bits : (int64_t)(uint8_t)bits;
                break;
            case 2:
                si = ssigned ? (int16_t)(uint16_t)bits : (int64_t)(uint16_t)bits;
                break;
            case 4:
                si = ssigned ? (int32_t)(uint32_t)bits : (int64_t)(uint32_t)bits;
                break;
            default:
                si = (int64_t)bits;
                break;
        }
        su = ssz == 8 ? bits : (uint64_t)si;
    }
    if (dk == SJ_BOOL) {
        out = sfloat ? (f != 0) : (su != 0);
    } else if (dk == SJ_F32) {
        float r;
        if (sk == SJ_F32)
            r = f32;
        else if (sfloat)
            r = (float)f;
        else if (ssigned)
            r = (float)si;
        else
            r = (float)su;
        uint32_t b;
        memcpy(&b, &r, 4);
        out = b;
    } else if (dk == SJ_F64) {
        double r;
        if (sfloat)
            r = f;
        else if (ssigned)
            r = (double)si;
        else
            r = (double)su;
        memcpy(&out, &r, 8);
    } else if (sfloat) {
        out = sj_sat_bits(f, dk);
    } else {
        out = su; /* two's complement: the low bits, whatever the signedness */
    }
    sj_store_bits(dst, dsz, dswap && dsz > 1, out);
}

#endif
