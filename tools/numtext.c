/* tools/numtext.c: shortest round-trip decimal text for f32 and f64 (see numtext.h).
 * f32: exact integer arithmetic on the value's rounding interval scaled by a power of ten,
 * one decimal digit short of the interval's width, in the manner of Giulietti's Schubfach
 * (docs/TOOL.md, exact floats). f64: for a precision p, the correctly rounded p-digit
 * rendering (%.*e) and its two neighbours are read back with strtod; the first that gives
 * the same bits wins. */
#include "numtext.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A decimal: `ndig` digits d[0].d[1]... times 10^exp, with a sign. */
typedef struct dec {
    bool neg;
    int ndig, exp;
    char d[24];
} dec;

/* Parses "-d.ddde+XX" (printf's %.*e) into *x. */
static void dec_parse(const char *s, dec *x) {
    x->neg = *s == '-';
    if (x->neg) s++;
    x->ndig = 0;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9') x->d[x->ndig++] = *s;
    x->exp = *s == 'e' ? atoi(s + 1) : 0;
}

/* The p-digit neighbour of *x one unit in the last place up (dir > 0) or down. */
static void dec_step(dec *x, int dir) {
    int i = x->ndig - 1;
    if (dir > 0) {
        while (i >= 0 && x->d[i] == '9')
            x->d[i--] = '0';
        if (i >= 0) {
            x->d[i]++;
        } else { /* 99..9 + 1 = 100..0, one decade up */
            x->d[0] = '1';
            x->exp++;
        }
    } else {
        while (i >= 0 && x->d[i] == '0')
            x->d[i--] = '9';
        x->d[i]--;            /* the first digit of a %e rendering is not 0 */
        if (x->d[0] == '0') { /* 100..0 - 1 = 099..9: 99..9 one decade down */
            memmove(x->d, x->d + 1, (size_t)x->ndig - 1);
            x->d[x->ndig - 1] = '9';
            x->exp--;
        }
    }
}

/* "-d.ddde<exp>", what strtof/strtod read back. */
static void dec_sci(const dec *x, char *buf, size_t n) {
    snprintf(buf, n, "%s%c%s%.*se%d", x->neg ? "-" : "", x->d[0], x->ndig > 1 ? "." : "",
             x->ndig - 1, x->d + 1, x->exp);
}

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

static bool reads_back(const dec *x, double v) {
    char s[NUMTEXT_MAX];
    dec_sci(x, s, sizeof s);
    double d = strtod(s, NULL);
    return memcmp(&d, &v, sizeof d) == 0;
}

/* ---- f64: searched ---- */

int numtext_f64(double v, char buf[NUMTEXT_MAX]) {
    if (isnan(v)) {
        snprintf(buf, NUMTEXT_MAX, "%s", signbit(v) ? "-nan" : "nan");
        return 0;
    }
    if (isinf(v)) {
        snprintf(buf, NUMTEXT_MAX, "%s", v < 0 ? "-inf" : "inf");
        return 0;
    }
    if (v == 0) {
        snprintf(buf, NUMTEXT_MAX, "%s", signbit(v) ? "-0" : "0");
        return 1;
    }
    /* Whether p digits suffice is monotone in p (a p-digit decimal that reads back is also
     * a (p+1)-digit one, and then the nearest (p+1)-digit rendering or its neighbour on the
     * other side reads back too), so the shortest p is found by bisection. */
    int lo = 1, hi = 17;
    dec best;
    bool found = false;
    while (lo <= hi) {
        int p = (lo + hi) / 2;
        char s[NUMTEXT_MAX];
        snprintf(s, sizeof s, "%.*e", p - 1, v);
        dec x, up, down;
        dec_parse(s, &x);
        up = down = x;
        dec_step(&up, 1);
        dec_step(&down, -1);
        const dec *pick = reads_back(&x, v)      ? &x
                          : reads_back(&down, v) ? &down
                          : reads_back(&up, v)   ? &up
                                                 : NULL;
        if (pick) {
            best = *pick;
            found = true;
            hi = p - 1;
        } else {
            lo = p + 1;
        }
    }
    if (found) {
        dec_text(&best, buf);
        return best.ndig;
    }
    snprintf(buf, NUMTEXT_MAX, "%.17g", v); /* not reached: 17 digits always suffice */
    return 17;
}

/* ---- f32: exact ---- */

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

/* floor(log10(2^q)) and floor(log10(3/4 * 2^q)) for |q| <= 200 (checked against exact
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

/* v = c * 2^q; its rounding interval [vl, vr] (closed when c is even: strtof rounds a tie
 * to the even significand) scaled by 10^-k is 1 to 10 wide, so it holds at most one
 * multiple of 10 (the shortest choice when present) and always s or s + 1, s = floor of
 * the scaled value (the nearer of the two, ties to even). */
int numtext_f32(float v, char buf[NUMTEXT_MAX]) {
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    bool neg = bits >> 31;
    int E = (int)(bits >> 23 & 0xff);
    uint32_t F = bits & 0x7fffff;
    if (E == 0xff) {
        strcpy(buf, F ? (neg ? "-nan" : "nan") : (neg ? "-inf" : "inf"));
        return 0;
    }
    if (E == 0 && F == 0) {
        strcpy(buf, neg ? "-0" : "0");
        return 1;
    }
    uint64_t c = E ? F | (uint32_t)1 << 23 : F;
    int q = E ? E - 150 : -149;
    uint64_t cb = c << 2, cbr = cb + 2, cbl;
    int k;
    if (F == 0 && E > 1) { /* the next value down is half as far */
        cbl = cb - 1;
        k = flog10_3q_pow2(q);
    } else {
        cbl = cb - 2;
        k = flog10_pow2(q);
    }
    uint64_t vb = scale_odd(cb, q, k), vbl = scale_odd(cbl, q, k), vbr = scale_odd(cbr, q, k);
    uint64_t out = c & 1; /* an odd c excludes the interval's ends */
    uint64_t s = vb >> 2, pick;
    int e = k;
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
    dec_from(neg, pick, e, &x);
    dec_text(&x, buf);
    return x.ndig;
}
