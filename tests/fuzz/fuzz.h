/* tests/fuzz/fuzz.h: helpers shared by the libFuzzer targets of tests/fuzz/: the entry point,
 * the check that aborts (so the fuzzer reports it) when a property fails, the checks every
 * failed call must pass and the layout invariants of SEMANTICS 2.2-2.7 (print/parse round
 * trip, structural rules). The targets' own logic does not belong here. */
#ifndef SEGJIT_FUZZ_H
#define SEGJIT_FUZZ_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "segjit/segjit.h"

/* Every target defines it; libFuzzer or tests/fuzz/replay.c calls it. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#if defined(__GNUC__)
__attribute__((noreturn, format(printf, 4, 5)))
#endif
static inline void
fz_fail(const char *file, int line, const char *cond, const char *fmt, ...) {
    fprintf(stderr, "\n*** fuzz property violated at %s:%d: %s\n*** ", file, line, cond);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    fflush(stderr);
    abort();
}

/* FZ_CHECK(cond, "fmt", ...): aborts with the message when cond is false. */
#define FZ_CHECK(cond, ...)                                                                        \
    do {                                                                                           \
        if (!(cond)) fz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                              \
    } while (0)

/* A NUL-terminated copy of the input (text stops at an embedded NUL). */
static inline char *fz_cstr(const uint8_t *data, size_t size) {
    char *s = malloc(size + 1);
    if (!s) abort();
    if (size) memcpy(s, data, size);
    s[size] = 0;
    return s;
}

/* Does the message start with "L:C: " (decimal line and column), and does that position
 * lie in text (line 1.. number of lines, column 1.. line length + 1)? */
static inline bool fz_has_position(const char *msg, const char *text, bool *in_text) {
    const char *p = msg;
    unsigned long line = 0, col = 0;
    if (*p < '0' || *p > '9') return false;
    while (*p >= '0' && *p <= '9')
        line = line * 10 + (unsigned long)(*p++ - '0');
    if (*p++ != ':') return false;
    if (*p < '0' || *p > '9') return false;
    while (*p >= '0' && *p <= '9')
        col = col * 10 + (unsigned long)(*p++ - '0');
    if (*p != ':') return false;
    /* the position must be a place in the text (the column after a line's end counts) */
    *in_text = false;
    if (text && line >= 1 && col >= 1) {
        const char *s = text;
        for (unsigned long l = 1; l < line && s; l++) {
            s = strchr(s, '\n');
            if (s) s++;
        }
        if (s) {
            const char *e = strchr(s, '\n');
            size_t len = e ? (size_t)(e - s) : strlen(s);
            *in_text = col <= len + 1;
        }
    }
    return true;
}

#define FZ_BIT(s) (1u << (s))

/* Checks of every failed call: the status is one of `allowed` (a bit per status), err
 * carries it and a non-empty one-line message; SJ_E_PARSE messages start
 * with a line:column inside `text` (when text is given). */
static inline void fz_check_failure(const char *what, const char *text, sj_status st,
                                    const sj_error *err, unsigned allowed) {
    FZ_CHECK(st != SJ_OK && st < SJ_STATUS_COUNT, "%s: status %d", what, (int)st);
    FZ_CHECK(allowed & (1u << st), "%s: unexpected status %s (%s) for input '%.200s'", what,
             sj_status_name(st), err->message, text ? text : "");
    FZ_CHECK(err->status == st, "%s: error status %s, returned %s", what,
             sj_status_name(err->status), sj_status_name(st));
    const char *nul = memchr(err->message, 0, SJ_ERROR_MAX);
    size_t n = nul ? (size_t)(nul - err->message) : SJ_ERROR_MAX;
    FZ_CHECK(n > 0 && n < SJ_ERROR_MAX, "%s: %s with an empty or unterminated message", what,
             sj_status_name(st));
    FZ_CHECK(!strchr(err->message, '\n'), "%s: message is not one line: '%s'", what, err->message);
    if (st == SJ_E_PARSE) {
        bool in_text = false;
        FZ_CHECK(fz_has_position(err->message, text, &in_text),
                 "%s: SJ_E_PARSE message without line:column: '%s'", what, err->message);
        FZ_CHECK(!text || in_text, "%s: position of '%s' is outside the text '%.200s'", what,
                 err->message, text);
    }
}

/* Structural rules of SEMANTICS 2.1-2.5 on every node of l (recursion depth is bounded by
 * the parsers' nesting limits). */
static inline void fz_validate_layout(const sj_layout *l) {
    uint64_t size = sj_layout_size(l), align = sj_layout_align(l);
    FZ_CHECK(align && (align & (align - 1)) == 0, "alignment %llu is not a power of two",
             (unsigned long long)align);
    switch (sj_layout_tag(l)) {
        case SJ_VALUE: {
            sj_kind k = sj_layout_kind(l);
            FZ_CHECK((unsigned)k < SJ_KIND_COUNT, "value kind %d", (int)k);
            FZ_CHECK(size == sj_kind_size(k), "value %s of size %llu", sj_kind_name(k),
                     (unsigned long long)size);
            sj_order o = sj_layout_order(l);
            FZ_CHECK(o == SJ_ORDER_LITTLE || o == SJ_ORDER_BIG, "value order %d", (int)o);
            break;
        }
        case SJ_STRUCT:
        case SJ_UNION: {
            bool is_struct = sj_layout_tag(l) == SJ_STRUCT;
            uint64_t off = 0, max_size = 0, max_align = 1;
            for (size_t i = 0; i < sj_layout_member_count(l); i++) {
                const sj_layout *m = sj_layout_member(l, i);
                FZ_CHECK(m != NULL, "member %zu is NULL", i);
                fz_validate_layout(m);
                uint64_t ma = sj_layout_align(m), ms = sj_layout_size(m);
                uint64_t mo = sj_layout_member_offset(l, i);
                FZ_CHECK(mo == (is_struct ? off : 0), "member %zu at offset %llu, expected %llu", i,
                         (unsigned long long)mo, (unsigned long long)(is_struct ? off : 0));
                FZ_CHECK(mo % ma == 0, "member %zu at offset %llu misaligned for %llu", i,
                         (unsigned long long)mo, (unsigned long long)ma);
                FZ_CHECK(!__builtin_add_overflow(off, ms, &off) || !is_struct,
                         "struct size overflows");
                if (ms > max_size) max_size = ms;
                if (ma > max_align) max_align = ma;
            }
            FZ_CHECK(size == (is_struct ? off : max_size), "group size %llu, members give %llu",
                     (unsigned long long)size, (unsigned long long)(is_struct ? off : max_size));
            FZ_CHECK(align >= max_align, "group alignment %llu below member alignment %llu",
                     (unsigned long long)align, (unsigned long long)max_align);
            break;
        }
        case SJ_SEQUENCE: {
            const sj_layout *e = sj_layout_elem(l);
            FZ_CHECK(e != NULL, "sequence without element");
            fz_validate_layout(e);
            uint64_t es = sj_layout_size(e), ea = sj_layout_align(e), n = sj_layout_elem_count(l);
            uint64_t total = 0;
            FZ_CHECK(n <= (uint64_t)INT64_MAX, "sequence count %llu", (unsigned long long)n);
            FZ_CHECK(!__builtin_mul_overflow(n, es, &total) && total == size,
                     "sequence size %llu for %llu x %llu", (unsigned long long)size,
                     (unsigned long long)n, (unsigned long long)es);
            FZ_CHECK(es % ea == 0,
                     "sequence element size %llu not a multiple of its alignment %llu",
                     (unsigned long long)es, (unsigned long long)ea);
            FZ_CHECK(align >= ea, "sequence alignment %llu below element alignment %llu",
                     (unsigned long long)align, (unsigned long long)ea);
            break;
        }
        case SJ_PADDING:
            FZ_CHECK(size > 0, "padding of size 0");
            break;
        default:
            FZ_CHECK(false, "layout tag %d", (int)sj_layout_tag(l));
    }
}

/* print(l) parses back to an equal layout with the same hash, prints the same again, and
 * reads as the canonical form through parse_auto too; the table prints and is stable. */
static inline void fz_check_roundtrip(const sj_layout *l, const char *origin) {
    fz_validate_layout(l);
    sj_error err = {0};
    char *t1 = NULL;
    sj_status st = sj_layout_print(l, &t1, &err);
    FZ_CHECK(st == SJ_OK, "print failed: %s %s (input '%.200s')", sj_status_name(st), err.message,
             origin);
    sj_layout *l2 = NULL;
    st = sj_layout_parse(t1, &l2, &err);
    FZ_CHECK(st == SJ_OK, "printed form '%.200s' does not parse: %s %s (input '%.200s')", t1,
             sj_status_name(st), err.message, origin);
    FZ_CHECK(sj_layout_equal(l, l2), "parse(print(L)) != L for '%.200s' (input '%.200s')", t1,
             origin);
    FZ_CHECK(sj_layout_equal(l2, l), "equality not symmetric for '%.200s'", t1);
    FZ_CHECK(sj_layout_hash(l) == sj_layout_hash(l2), "hash differs after round trip of '%.200s'",
             t1);
    char *t2 = NULL;
    st = sj_layout_print(l2, &t2, &err);
    FZ_CHECK(st == SJ_OK, "second print failed: %s", err.message);
    FZ_CHECK(strcmp(t1, t2) == 0, "print not stable: '%.200s' then '%.200s'", t1, t2);

    sj_layout *l3 = NULL;
    st = sj_layout_parse_auto(t1, &l3, &err);
    FZ_CHECK(st == SJ_OK && sj_layout_equal(l, l3),
             "parse_auto does not read the canonical form '%.200s': %s %s", t1, sj_status_name(st),
             st == SJ_OK ? "(different layout)" : err.message);

    char *tab1 = NULL, *tab2 = NULL;
    st = sj_layout_table(l, &tab1, &err);
    FZ_CHECK(st == SJ_OK && tab1, "table of '%.200s' failed: %s %s", t1, sj_status_name(st),
             err.message);
    st = sj_layout_table(l2, &tab2, &err);
    FZ_CHECK(st == SJ_OK && tab2 && strcmp(tab1, tab2) == 0,
             "table of the re-parsed '%.200s' differs", t1);
    free(tab1);
    free(tab2);
    sj_layout_unref(l3);
    free(t2);
    sj_layout_unref(l2);
    free(t1);
}

#endif
