/* tests/oracle.h: the value conversion rules of SEMANTICS 4.3 (and plan.h's saturating
 * float -> integer), written for the tests apart from src/convert.h: a value is read byte
 * by byte into an exact number (an integer as sign and 64-bit magnitude, a float as a
 * double), then written to the destination kind from that number. Losslessness is decided
 * from each kind's range and precision, not from widths. Plain double arithmetic only, so
 * that it also holds under valgrind (which has no 80-bit long double). */
#ifndef SEGJIT_TEST_ORACLE_H
#define SEGJIT_TEST_ORACLE_H

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <segjit/layout.h>

/* Integer kinds as the range [lo, hi) (powers of two, exact as doubles); floats as their
 * count of significand bits. */
typedef struct oracle_kind {
    bool is_float, is_bool;
    double lo, hi;
    int digits;
} oracle_kind;

static inline oracle_kind oracle_kind_of(sj_kind k) {
    oracle_kind o = {false, false, 0, 0, 0};
    switch (k) {
        case SJ_BOOL:
            o.is_bool = true;
            o.hi = 2;
            break;
        case SJ_I8:
            o.lo = -0x1p7;
            o.hi = 0x1p7;
            break;
        case SJ_U8:
            o.hi = 0x1p8;
            break;
        case SJ_I16:
            o.lo = -0x1p15;
            o.hi = 0x1p15;
            break;
        case SJ_CHAR: /* a UTF-16 unit: u16 */
        case SJ_U16:
            o.hi = 0x1p16;
            break;
        case SJ_I32:
            o.lo = -0x1p31;
            o.hi = 0x1p31;
            break;
        case SJ_U32:
            o.hi = 0x1p32;
            break;
        case SJ_I64:
            o.lo = -0x1p63;
            o.hi = 0x1p63;
            break;
        case SJ_ADDR: /* an address: u64 */
        case SJ_U64:
            o.hi = 0x1p64;
            break;
        case SJ_F32:
            o.is_float = true;
            o.digits = FLT_MANT_DIG;
            break;
        case SJ_F64:
            o.is_float = true;
            o.digits = DBL_MANT_DIG;
            break;
        default:
            break;
    }
    return o;
}

/* True when some value of `from` does not survive as a `to` (SJ_CONVERT_LOSSY needed). */
static inline bool oracle_is_lossy(sj_kind from, sj_kind to) {
    if (from == to) return false;
    oracle_kind f = oracle_kind_of(from), t = oracle_kind_of(to);
    if (f.is_bool) return false; /* 0 and 1 fit every kind */
    if (t.is_bool) return true;  /* 2 does not fit a bool */
    if (f.is_float) return !(t.is_float && t.digits >= f.digits);
    if (t.is_float) { /* every integer of the range exact? (|values| <= 2^digits) */
        double exact = ldexp(1.0, t.digits);
        return -f.lo > exact || f.hi > exact;
    }
    return f.lo < t.lo || f.hi > t.hi;
}

/* A value as the oracle holds it. */
typedef struct oracle_num {
    bool is_float;
    double f;     /* floats: the value itself (NaN, infinities, -0 included) */
    bool neg;     /* integers: the sign ... */
    uint64_t mag; /* ... and the magnitude (up to 2^64 - 1, or 2^63 when negative) */
} oracle_num;

static inline oracle_num oracle_read(sj_kind k, const uint8_t *p, bool big) {
    size_t n = (size_t)sj_kind_size(k);
    uint64_t u = 0;
    for (size_t i = 0; i < n; i++)
        u |= (uint64_t)p[big ? i : n - 1 - i] << (8 * (n - 1 - i));
    oracle_num v = {false, 0, false, 0};
    int64_t s;
    switch (k) {
        case SJ_BOOL:
            v.mag = u != 0;
            return v;
        case SJ_F32: {
            uint32_t b = (uint32_t)u;
            float f;
            memcpy(&f, &b, 4);
            v.is_float = true;
            v.f = f;
            return v;
        }
        case SJ_F64:
            v.is_float = true;
            memcpy(&v.f, &u, 8);
            return v;
        case SJ_I8:
            s = (int8_t)u;
            break;
        case SJ_I16:
            s = (int16_t)u;
            break;
        case SJ_I32:
            s = (int32_t)u;
            break;
        case SJ_I64:
            s = (int64_t)u;
            break;
        default: /* unsigned kinds, char, addr */
            v.mag = u;
            return v;
    }
    v.neg = s < 0;
    v.mag = v.neg ? 0 - (uint64_t)s : (uint64_t)s;
    return v;
}

/* Writes v as kind k: floats round to nearest; an integer source wraps (two's complement,
 * the low bits); a float source to an integer truncates toward zero and saturates, NaN
 * gives 0; bool is v != 0. */
static inline void oracle_write(sj_kind k, oracle_num v, uint8_t *p, bool big) {
    size_t n = (size_t)sj_kind_size(k);
    oracle_kind o = oracle_kind_of(k);
    uint64_t u;
    uint64_t bits = v.neg ? 0 - v.mag : v.mag; /* the two's complement pattern */
    if (k == SJ_F32 || k == SJ_F64) {
        double d = v.is_float ? v.f : v.neg ? (double)(int64_t)bits : (double)v.mag;
        if (k == SJ_F32) { /* from an integer, round the integer itself, not its double */
            float f = v.is_float ? (float)v.f : v.neg ? (float)(int64_t)bits : (float)v.mag;
            uint32_t b;
            memcpy(&b, &f, 4);
            u = b;
        } else {
            memcpy(&u, &d, 8);
        }
    } else if (o.is_bool) {
        u = v.is_float ? v.f != 0 : v.mag != 0;
    } else if (v.is_float) {
        double t = isnan(v.f) ? 0 : trunc(v.f);
        if (t < o.lo) {
            u = (uint64_t)(int64_t)o.lo; /* the minimum */
        } else if (t >= o.hi) {
            u = o.lo < 0 ? (uint64_t)(int64_t)(o.hi - 1 > 0x1p62 ? INT64_MAX : (int64_t)(o.hi - 1))
                         : (o.hi >= 0x1p64 ? UINT64_MAX : (uint64_t)(o.hi - 1));
        } else {
            u = t < 0 ? (uint64_t)(int64_t)t : (uint64_t)t;
        }
    } else {
        u = bits;
    }
    for (size_t i = 0; i < n; i++)
        p[big ? n - 1 - i : i] = (uint8_t)(u >> (8 * i));
}

/* One value of kind sk at src (big-endian when s_big) into kind dk at dst. */
static inline void oracle_convert(sj_kind sk, const uint8_t *src, bool s_big, sj_kind dk,
                                  uint8_t *dst, bool d_big) {
    oracle_write(dk, oracle_read(sk, src, s_big), dst, d_big);
}

#endif
