/* tests/oracle.h: the value conversion rules of SEMANTICS 4.3 (and plan.h's saturating
 * float -> integer), written for the tests apart from src/convert.h: a value is read
 * byte by byte into an exact long double (x86's 64-bit significand holds every integer
 * kind and every float exactly), then written to the destination kind from that number.
 * Losslessness is decided from each kind's range and precision, not from widths. */
#ifndef SEGJIT_TEST_ORACLE_H
#define SEGJIT_TEST_ORACLE_H

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <segjit/layout.h>

_Static_assert(LDBL_MANT_DIG >= 64, "the oracle needs a long double that holds every int64");

/* Integer kinds as ranges; floats as their count of significand bits. */
typedef struct oracle_kind {
    bool is_float, is_bool;
    long double lo, hi; /* integers: the range */
    int digits;         /* floats: significand bits */
} oracle_kind;

static inline oracle_kind oracle_kind_of(sj_kind k) {
    oracle_kind o = {false, false, 0, 0, 0};
    switch (k) {
        case SJ_BOOL:
            o.is_bool = true;
            o.lo = 0;
            o.hi = 1;
            break;
        case SJ_I8:
            o.lo = -128.0L;
            o.hi = 127.0L;
            break;
        case SJ_U8:
            o.hi = 255.0L;
            break;
        case SJ_I16:
            o.lo = -32768.0L;
            o.hi = 32767.0L;
            break;
        case SJ_CHAR: /* a UTF-16 unit: u16 */
        case SJ_U16:
            o.hi = 65535.0L;
            break;
        case SJ_I32:
            o.lo = -2147483648.0L;
            o.hi = 2147483647.0L;
            break;
        case SJ_U32:
            o.hi = 4294967295.0L;
            break;
        case SJ_I64:
            o.lo = -9223372036854775808.0L;
            o.hi = 9223372036854775807.0L;
            break;
        case SJ_ADDR: /* an address: u64 */
        case SJ_U64:
            o.hi = 18446744073709551615.0L;
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
    if (t.is_float) { /* every integer of the range exact? */
        long double exact = ldexpl(1.0L, t.digits);
        return -f.lo > exact || f.hi > exact;
    }
    return f.lo < t.lo || f.hi > t.hi;
}

/* The exact number a value holds. Floats are returned as is (NaN, infinities, -0). */
static inline long double oracle_read(sj_kind k, const uint8_t *p, bool big) {
    size_t n = (size_t)sj_kind_size(k);
    uint64_t u = 0;
    for (size_t i = 0; i < n; i++)
        u |= (uint64_t)p[big ? i : n - 1 - i] << (8 * (n - 1 - i));
    switch (k) {
        case SJ_BOOL:
            return u != 0;
        case SJ_I8:
            return (long double)(int8_t)u;
        case SJ_I16:
            return (long double)(int16_t)u;
        case SJ_I32:
            return (long double)(int32_t)u;
        case SJ_I64:
            return (long double)(int64_t)u;
        case SJ_F32: {
            uint32_t b = (uint32_t)u;
            float f;
            memcpy(&f, &b, 4);
            return f;
        }
        case SJ_F64: {
            double d;
            memcpy(&d, &u, 8);
            return d;
        }
        default:
            return (long double)u; /* unsigned kinds, char, addr */
    }
}

/* Writes x as kind k: floats round to nearest; an integer source wraps (two's complement,
 * the low bits); a float source to an integer truncates toward zero and saturates, NaN
 * gives 0; bool is x != 0. */
static inline void oracle_write(sj_kind k, long double x, bool from_float, uint8_t *p, bool big) {
    size_t n = (size_t)sj_kind_size(k);
    oracle_kind o = oracle_kind_of(k);
    uint64_t u;
    if (k == SJ_F32) {
        float f = (float)x;
        uint32_t b;
        memcpy(&b, &f, 4);
        u = b;
    } else if (k == SJ_F64) {
        double d = (double)x;
        memcpy(&u, &d, 8);
    } else if (o.is_bool) {
        u = x != 0;
    } else if (from_float) {
        long double t = isnan(x) ? 0 : truncl(x);
        if (t < o.lo) t = o.lo;
        if (t > o.hi) t = o.hi;
        u = t < 0 ? (uint64_t)(int64_t)t : (uint64_t)t;
    } else {
        u = x < 0 ? (uint64_t)(int64_t)x : (uint64_t)x; /* integers are exact here */
    }
    for (size_t i = 0; i < n; i++)
        p[big ? n - 1 - i : i] = (uint8_t)(u >> (8 * i));
}

/* One value of kind sk at src (big-endian when s_big) into kind dk at dst. */
static inline void oracle_convert(sj_kind sk, const uint8_t *src, bool s_big, sj_kind dk,
                                  uint8_t *dst, bool d_big) {
    oracle_write(dk, oracle_read(sk, src, s_big), oracle_kind_of(sk).is_float, dst, d_big);
}

#endif
