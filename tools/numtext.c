/* tools/numtext.c: shortest round-trip decimal text for f32 and f64 (see numtext.h). For
 * a precision p, the correctly rounded p-digit rendering (%.*e) and its two p-digit
 * neighbours are read back with the reader of the value's own width; the first that gives
 * the same bits wins (the nearest rendering may fail where a neighbour succeeds). */
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

/* The final text, %g style with trailing zeros removed. */
static void dec_text(const dec *x, char *buf, size_t n) {
    int k = x->ndig;
    while (k > 1 && x->d[k - 1] == '0')
        k--;
    int p = x->ndig > 6 ? x->ndig : 6, e = x->exp;
    const char *sign = x->neg ? "-" : "";
    if (e < -4 || e >= p) {
        snprintf(buf, n, "%s%c%s%.*se%c%02d", sign, x->d[0], k > 1 ? "." : "", k - 1, x->d + 1,
                 e < 0 ? '-' : '+', e < 0 ? -e : e);
    } else if (e < 0) {
        snprintf(buf, n, "%s0.%.*s%.*s", sign, -e - 1, "0000", k, x->d);
    } else if (k <= e + 1) {
        snprintf(buf, n, "%s%.*s%.*s", sign, k, x->d, e + 1 - k, "0000000000000000000000");
    } else {
        snprintf(buf, n, "%s%.*s.%.*s", sign, e + 1, x->d, k - e - 1, x->d + e + 1);
    }
}

static bool reads_back(const dec *x, bool single, const void *bits) {
    char s[NUMTEXT_MAX];
    dec_sci(x, s, sizeof s);
    if (single) {
        float f = strtof(s, NULL);
        return memcmp(&f, bits, sizeof f) == 0;
    }
    double d = strtod(s, NULL);
    return memcmp(&d, bits, sizeof d) == 0;
}

static int shortest(double v, bool single, const void *bits, char *buf) {
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
    int lo = 1, hi = single ? 9 : 17;
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
        const dec *pick = reads_back(&x, single, bits)      ? &x
                          : reads_back(&down, single, bits) ? &down
                          : reads_back(&up, single, bits)   ? &up
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
        dec_text(&best, buf, NUMTEXT_MAX);
        return best.ndig;
    }
    int maxp = single ? 9 : 17;
    snprintf(buf, NUMTEXT_MAX, "%.*g", maxp, v); /* not reached: maxp digits always suffice */
    return maxp;
}

int numtext_f32(float v, char buf[NUMTEXT_MAX]) {
    return shortest((double)v, true, &v, buf);
}

int numtext_f64(double v, char buf[NUMTEXT_MAX]) {
    return shortest(v, false, &v, buf);
}
