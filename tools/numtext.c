/* tools/numtext.c: shortest round-trip decimal text for f32 and f64 (see numtext.h).
 * Both are exact integer arithmetic on the value's rounding interval scaled by a power of
 * ten, one decimal digit short of the interval's width, in the manner of Giulietti's
 * Schubfach (docs/TOOL.md, Numbers): f32 with exact 128-bit products, f64 with 128-bit
 * approximations of the powers of ten (built at first use) and an exact big-integer check
 * when an approximate product cannot decide. Nothing is read back. */
#include "numtext.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* A decimal: `ndig` digits d[0].d[1]... times 10^exp, with a sign. */
typedef struct dec {
    bool neg;
    int ndig, exp;
    char d[24];
} dec;

/* The final text, %g style with trailing zeros removed: plain notation for decimal
 * exponents -4..max(digits, 6) - 1, else d.ddde+XX (two exponent digits at least). */
static void dec_text(const dec *x, char *buf) {
    int k = x->ndig;
    while (k > 1 && x->d[k - 1] == '0')
        k--;
    int p = x->ndig > 6 ? x->ndig : 6, e = x->exp;
    char *o = buf;
    if (x->neg) *o++ = '-';
    if (e < -4 || e >= p) {
        *o++ = x->d[0];
        if (k > 1) {
            *o++ = '.';
            memcpy(o, x->d + 1, (size_t)k - 1);
            o += k - 1;
        }
        *o++ = 'e';
        *o++ = e < 0 ? '-' : '+';
        int a = e < 0 ? -e : e;
        if (a >= 100) *o++ = (char)('0' + a / 100);
        *o++ = (char)('0' + a / 10 % 10);
        *o++ = (char)('0' + a % 10);
    } else if (e < 0) {
        *o++ = '0';
        *o++ = '.';
        for (int i = 0; i < -e - 1; i++)
            *o++ = '0';
        memcpy(o, x->d, (size_t)k);
        o += k;
    } else if (k <= e + 1) {
        memcpy(o, x->d, (size_t)k);
        o += k;
        for (int i = k; i < e + 1; i++)
            *o++ = '0';
    } else {
        memcpy(o, x->d, (size_t)e + 1);
        o += e + 1;
        *o++ = '.';
        memcpy(o, x->d + e + 1, (size_t)(k - e - 1));
        o += k - e - 1;
    }
    *o = '\0';
}

/* ---- powers of five, decimal exponents, the shortest pick ---- */

__extension__ typedef unsigned __int128 u128; /* gcc and clang */

static const uint64_t pow5_64[28] = {1u,
                                     5u,
                                     25u,
                                     125u,
                                     625u,
                                     3125u,
                                     15625u,
                                     78125u,
                                     390625u,
                                     1953125u,
                                     9765625u,
                                     48828125u,
                                     244140625u,
                                     1220703125u,
                                     6103515625u,
                                     30517578125u,
                                     152587890625u,
                                     762939453125u,
                                     3814697265625u,
                                     19073486328125u,
                                     95367431640625u,
                                     476837158203125u,
                                     2384185791015625u,
                                     11920928955078125u,
                                     59604644775390625u,
                                     298023223876953125u,
                                     1490116119384765625u,
                                     7450580596923828125u};

static u128 pow5(int m) { /* m <= 54 */
    return m < 28 ? pow5_64[m] : (u128)pow5_64[27] * pow5_64[m - 27];
}

/* floor(log10(2^q)) and floor(log10(3/4 * 2^q)) for |q| <= 1200 (checked against exact
 * arithmetic over that range), arithmetic right shifts written as floor division. */
static int floor_div_2_41(int64_t t) {
    return (int)(t >= 0 ? t >> 41 : -((-t + ((int64_t)1 << 41) - 1) >> 41));
}
static int flog10_pow2(int q) {
    return floor_div_2_41((int64_t)q * 661971961083);
}
static int flog10_3q_pow2(int q) {
    return floor_div_2_41((int64_t)q * 661971961083 - 274743187322);
}

/* The decimal n * 10^e (n > 0) as digits without trailing zeros. */
static void dec_from(bool neg, uint64_t n, int e, dec *x) {
    char tmp[24];
    int len = 0;
    for (; n; n /= 10)
        tmp[len++] = (char)('0' + n % 10);
    x->neg = neg;
    x->exp = e + len - 1;
    int z = 0;
    while (z < len - 1 && tmp[z] == '0')
        z++;
    x->ndig = len - z;
    for (int i = 0; i < x->ndig; i++)
        x->d[i] = tmp[len - 1 - i];
}

/* The shortest decimal in the rounding interval of v = c * 2^q as text. vb, vbl, vbr are
 * 4v, 4vl, 4vr times 10^-k rounded to odd: an even integer lies at or above an exact value
 * iff it lies at or above its rounding, so every comparison below is exact. The interval
 * (closed when c is even: strtof/strtod round a tie to the even significand) scaled by 10^-k
 * is 1 to 10 wide, so it holds at most one multiple of 10 (the shortest choice when present)
 * and always s or s + 1, s = floor of the scaled value (the nearer of the two, ties to even
 * digits). Returns the digit count. */
static int pick_text(bool neg, uint64_t c, int k, uint64_t vb, uint64_t vbl, uint64_t vbr,
                     char *buf) {
    uint64_t out = c & 1; /* an odd c excludes the interval's ends */
    uint64_t s = vb >> 2, pick;
    uint64_t sp10 = s / 10 * 10, tp10 = sp10 + 10;
    bool upin = vbl + out <= sp10 << 2, wpin = (tp10 << 2) + out <= vbr;
    if (upin != wpin) {
        pick = upin ? sp10 : tp10;
    } else {
        uint64_t t = s + 1;
        bool uin = vbl + out <= s << 2, win = (t << 2) + out <= vbr;
        if (uin != win) {
            pick = uin ? s : t;
        } else { /* both inside: the nearer, a tie to the even one */
            uint64_t mid = (s << 2) + 2;
            pick = vb < mid || (vb == mid && !(s & 1)) ? s : t;
        }
    }
    dec x;
    dec_from(neg, pick, k, &x);
    dec_text(&x, buf);
    return x.ndig;
}

/* NaN, infinities and zeros; false for other values. */
static bool special_text(bool neg, bool maxexp, bool zero_mant, bool zero_exp, char *buf,
                         int *ndig) {
    if (maxexp) {
        strcpy(buf, zero_mant ? (neg ? "-inf" : "inf") : (neg ? "-nan" : "nan"));
        *ndig = 0;
        return true;
    }
    if (zero_exp && zero_mant) {
        strcpy(buf, neg ? "-0" : "0");
        *ndig = 1;
        return true;
    }
    return false;
}

/* ---- f32: exact products ---- */

/* x * 2^q * 10^-k rounded to odd (the floor, with its lowest bit set when inexact): an
 * integer n lies at or above the exact value iff 4n >= the rounded one, and so on for
 * every comparison with an even integer. x < 2^27; the result fits in 32 bits. */
static uint64_t scale_odd(uint64_t x, int q, int k) {
    if (k >= 0) { /* then q >= k: x * 2^(q-k) / 5^k, under 2^100 */
        u128 num = (u128)x << (q - k), den = pow5(k);
        u128 quo = num / den;
        return (uint64_t)quo | (quo * den != num);
    }
    u128 f = pow5(-k); /* under 2^105; the product x * f under 2^132 */
    u128 lo = (u128)(uint64_t)f * x, hi = (u128)(uint64_t)(f >> 64) * x + (lo >> 64);
    uint64_t l0 = (uint64_t)lo; /* product = hi * 2^64 + l0 */
    int sh = k - q;             /* the product times 2^-sh */
    if (sh <= 0) return (uint64_t)((((hi << 64) | l0)) << -sh);
    if (sh >= 64) {
        int s = sh - 64;
        u128 below = s ? hi & (((u128)1 << s) - 1) : 0;
        return (uint64_t)(hi >> s) | (l0 != 0 || below != 0);
    }
    uint64_t r = (uint64_t)(hi << (64 - sh)) | (l0 >> sh);
    return r | ((l0 & (((uint64_t)1 << sh) - 1)) != 0);
}

int numtext_f32(float v, char buf[NUMTEXT_MAX]) {
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    bool neg = bits >> 31;
    int E = (int)(bits >> 23 & 0xff), n;
    uint32_t F = bits & 0x7fffff;
    if (special_text(neg, E == 0xff, F == 0, E == 0, buf, &n)) return n;
    uint64_t c = E ? F | (uint32_t)1 << 23 : F;
    int q = E ? E - 150 : -149;
    uint64_t cb = c << 2;
    bool closer = F == 0 && E > 1; /* the next value down is half as far */
    int k = closer ? flog10_3q_pow2(q) : flog10_pow2(q);
    return pick_text(neg, c, k, scale_odd(cb, q, k), scale_odd(cb - (closer ? 1 : 2), q, k),
                     scale_odd(cb + 2, q, k), buf);
}

/* ---- f64: 128-bit powers of ten ---- */

/* Unsigned integers of up to 896 bits, 32-bit limbs from the lowest, no leading zero limb:
 * enough for 2^864 (the table below) and for both sides of scale64_exact (under 830 bits). */
enum { BIG_LIMBS = 28 };
typedef struct big {
    int n;
    uint32_t w[BIG_LIMBS];
} big;

static void big_set(big *a, uint64_t v) {
    a->w[0] = (uint32_t)v;
    a->w[1] = (uint32_t)(v >> 32);
    a->n = a->w[1] ? 2 : a->w[0] ? 1 : 0;
}

static void big_mul(big *a, uint32_t m) { /* m > 0 */
    uint64_t carry = 0;
    for (int i = 0; i < a->n; i++) {
        uint64_t t = (uint64_t)a->w[i] * m + carry;
        a->w[i] = (uint32_t)t;
        carry = t >> 32;
    }
    if (carry) a->w[a->n++] = (uint32_t)carry;
}

static void big_mul_pow5(big *a, int e) {
    for (; e >= 13; e -= 13)
        big_mul(a, (uint32_t)pow5_64[13]);
    if (e) big_mul(a, (uint32_t)pow5_64[e]);
}

static void big_div5(big *a) { /* floor(a / 5) */
    uint64_t r = 0;
    for (int i = a->n - 1; i >= 0; i--) {
        uint64_t t = r << 32 | a->w[i];
        a->w[i] = (uint32_t)(t / 5);
        r = t % 5;
    }
    while (a->n && !a->w[a->n - 1])
        a->n--;
}

static void big_shl(big *a, int s) {
    int q = s / 32, r = s % 32, n = a->n;
    if (n == 0) return;
    uint32_t top = r ? a->w[n - 1] >> (32 - r) : 0;
    for (int i = n - 1; i >= 0; i--) /* top down, so no limb is read after it is written */
        a->w[i + q] = a->w[i] << r | (r && i ? a->w[i - 1] >> (32 - r) : 0);
    memset(a->w, 0, sizeof a->w[0] * (size_t)q);
    a->n = n + q;
    if (top) a->w[a->n++] = top;
}

static int big_cmp(const big *a, const big *b) {
    if (a->n != b->n) return a->n < b->n ? -1 : 1;
    for (int i = a->n - 1; i >= 0; i--)
        if (a->w[i] != b->w[i]) return a->w[i] < b->w[i] ? -1 : 1;
    return 0;
}

static int big_bitlen(const big *a) {
    if (!a->n) return 0;
    int b = 32 * a->n;
    for (uint32_t t = a->w[a->n - 1]; !(t >> 31); t <<= 1)
        b--;
    return b;
}

/* Bits pos .. pos + 127 of a (those below bit 0 are zeros); *below: any set bit under pos. */
static u128 big_window(const big *a, int pos, bool *below) {
    u128 g = 0;
    for (int i = pos + 127; i >= pos; i--)
        g = g << 1 | (i >= 0 && i < 32 * a->n && (a->w[i / 32] >> (i % 32) & 1));
    *below = false;
    for (int i = 0; i < pos && i < 32 * a->n && !*below; i++)
        *below = a->w[i / 32] >> (i % 32) & 1;
    return g;
}

/* 10^t for t in [-292, 324] (what |k| reaches for doubles, subnormals included) as
 * g * 2^e, g = ceil(10^t * 2^-e) in [2^127, 2^128); exact when 10^t = g * 2^e (t 0..55).
 * Built once with exact big integers rather than kept as a generated source table. */
enum { P10_MIN = -292, P10_MAX = 324, P10_L = 864 };
static struct p10 {
    u128 g;
    int e;
    bool exact;
} p10[P10_MAX - P10_MIN + 1];
static pthread_once_t p10_once = PTHREAD_ONCE_INIT;

static void p10_set(int t, const big *a, int scale, bool inexact) { /* 10^t = a * 2^scale */
    bool below;
    int pos = big_bitlen(a) - 128;
    struct p10 *p = &p10[t - P10_MIN];
    p->g = big_window(a, pos, &below);
    p->exact = !(below || inexact);
    p->e = pos + scale;
    if (!p->exact && ++p->g == 0) { /* rounded up to 2^128 */
        p->g = (u128)1 << 127;
        p->e++;
    }
}

static void p10_init(void) {
    big a;
    big_set(&a, 1);
    for (int t = 0; t <= P10_MAX; t++) { /* a = 5^t, 10^t = 5^t * 2^t */
        if (t) big_mul(&a, 5);
        p10_set(t, &a, t, false);
    }
    big_set(&a, 1);
    big_shl(&a, P10_L);
    for (int t = -1; t >= P10_MIN; t--) { /* a = floor(2^L / 5^-t), 10^t = that * 2^(t-L) */
        big_div5(&a);
        p10_set(t, &a, t - P10_L, true); /* 2^L / 5^-t is no integer */
    }
}

/* x * 2^q * 10^-k rounded to odd exactly, given fl, its floor or one more: both sides are
 * compared as integers, times 5^k (k > 0) or 2^(k-q) (when q < k <= 0). */
static uint64_t scale64_exact(uint64_t x, int q, int k, uint64_t fl) {
    big a, b;
    big_set(&a, x);
    big_set(&b, fl);
    if (k > 0) { /* then q > k: x * 2^(q-k) against fl * 5^k */
        big_shl(&a, q - k);
        big_mul_pow5(&b, k);
    } else { /* x * 5^-k * 2^(q-k) against fl */
        big_mul_pow5(&a, -k);
        big_shl(q >= k ? &a : &b, q >= k ? q - k : k - q);
    }
    int c = big_cmp(&a, &b);
    return c >= 0 ? fl | (c > 0) : (fl - 1) | 1;
}

/* x * 2^q * 10^-k rounded to odd, x < 2^55: x * g shifted, where g * 2^e is 10^-k rounded
 * up by less than 2^e. The product then exceeds the exact one by less than x, so its
 * fraction bits, when at least x, show the exact value is no integer and has the same
 * floor; when under x (the exact value is an integer, or may be just below one) the exact
 * comparison decides. */
static uint64_t scale64(uint64_t x, int q, int k) {
    const struct p10 *p = &p10[-k - P10_MIN];
    u128 lo = (u128)x * (uint64_t)p->g, hi = (u128)x * (uint64_t)(p->g >> 64) + (lo >> 64);
    int sh = -(q + p->e) - 64; /* the product is hi * 2^64 + (uint64_t)lo; sh is 60 to 64 */
    uint64_t fl = (uint64_t)(hi >> sh), l = (uint64_t)lo;
    bool fhi = (hi & (((u128)1 << sh) - 1)) != 0;
    if (p->exact) return fl | (fhi || l);
    if (fhi || l >= x) return fl | 1;
    return scale64_exact(x, q, k, fl);
}

int numtext_f64(double v, char buf[NUMTEXT_MAX]) {
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    bool neg = bits >> 63;
    int E = (int)(bits >> 52 & 0x7ff), n;
    uint64_t F = bits & (((uint64_t)1 << 52) - 1);
    if (special_text(neg, E == 0x7ff, F == 0, E == 0, buf, &n)) return n;
    pthread_once(&p10_once, p10_init);
    uint64_t c = E ? F | (uint64_t)1 << 52 : F;
    int q = E ? E - 1075 : -1074;
    uint64_t cb = c << 2;
    bool closer = F == 0 && E > 1; /* the next value down is half as far */
    int k = closer ? flog10_3q_pow2(q) : flog10_pow2(q);
    return pick_text(neg, c, k, scale64(cb, q, k), scale64(cb - (closer ? 1 : 2), q, k),
                     scale64(cb + 2, q, k), buf);
}
