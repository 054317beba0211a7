/* tests/builders.h: layouts and paths built for the tests of layouts, text and paths, each
 * call asserted to succeed (the failure's status and message reported). The builders
 * consume the layouts they are given, so that they nest:
 * S(2, VAL(SJ_I32), NAME(PAD(4), "p")). Include after cmocka.h. */
#ifndef SEGJIT_TESTS_BUILDERS_H
#define SEGJIT_TESTS_BUILDERS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "segjit/layout.h"

#include "tier.h" /* test_path */

/* Fails the test when a builder's call st did not succeed; `what` names the call. */
static inline void build_ok(sj_status st, const sj_error *err, const char *what) {
    if (st != SJ_OK) fail_msg("%s: %s %s", what, sj_status_name(st), err->message);
}

/* A value of kind k, in the native byte order. */
static inline sj_layout *VAL(sj_kind k) {
    sj_layout *l = NULL;
    sj_error err = {0};
    build_ok(sj_layout_value(k, &l, &err), &err, "value");
    return l;
}

static inline sj_layout *ORD(sj_layout *l, sj_order order) {
    sj_layout *r = NULL;
    sj_error err = {0};
    build_ok(sj_layout_with_order(l, order, &r, &err), &err, "with_order");
    sj_layout_unref(l);
    return r;
}

static inline sj_layout *NAME(sj_layout *l, const char *name) {
    sj_layout *r = NULL;
    sj_error err = {0};
    build_ok(sj_layout_with_name(l, name, &r, &err), &err, "with_name");
    sj_layout_unref(l);
    return r;
}

static inline sj_layout *ALIGN(sj_layout *l, int64_t a) {
    sj_layout *r = NULL;
    sj_error err = {0};
    build_ok(sj_layout_with_align(l, a, &r, &err), &err, "with_align");
    sj_layout_unref(l);
    return r;
}

static inline sj_layout *PAD(int64_t n) {
    sj_layout *l = NULL;
    sj_error err = {0};
    build_ok(sj_layout_padding(n, &l, &err), &err, "padding");
    return l;
}

static inline sj_layout *SEQ(int64_t n, sj_layout *e) {
    sj_layout *l = NULL;
    sj_error err = {0};
    build_ok(sj_layout_sequence(n, e, &l, &err), &err, "sequence");
    sj_layout_unref(e);
    return l;
}

/* A struct (or union) of the n members in m, which it consumes; NULL when it cannot be
 * built, with the status in *st. */
static inline sj_layout *group_try(bool is_union, size_t n, sj_layout **m, sj_status *st) {
    sj_layout *l = NULL;
    const sj_layout *const *cm = (const sj_layout *const *)m;
    *st = is_union ? sj_layout_union(cm, n, &l, NULL) : sj_layout_struct(cm, n, &l, NULL);
    for (size_t i = 0; i < n; i++)
        sj_layout_unref(m[i]);
    return *st == SJ_OK ? l : NULL;
}

/* The same, asserted to succeed. */
static inline sj_layout *group_ok(bool is_union, size_t n, sj_layout **m) {
    sj_status st;
    sj_layout *l = group_try(is_union, n, m, &st);
    if (st != SJ_OK)
        fail_msg("%s of %zu members: %s", is_union ? "union" : "struct", n, sj_status_name(st));
    return l;
}

/* Copies the n (at most 16) layout arguments of ap into m. */
static inline void group_args(sj_layout **m, size_t n, va_list ap) {
    assert_true(n <= 16);
    for (size_t i = 0; i < n; i++)
        m[i] = va_arg(ap, sj_layout *);
}

/* A struct of the n layouts that follow. */
static inline sj_layout *S(size_t n, ...) {
    sj_layout *m[16];
    va_list ap;
    va_start(ap, n);
    group_args(m, n, ap);
    va_end(ap);
    return group_ok(false, n, m);
}

/* A union of the n layouts that follow. */
static inline sj_layout *U(size_t n, ...) {
    sj_layout *m[16];
    va_list ap;
    va_start(ap, n);
    group_args(m, n, ap);
    va_end(ap);
    return group_ok(true, n, m);
}

/* ---- text ---- */

typedef sj_status (*parse_fn)(const char *text, sj_layout **out, sj_error *err);

/* The layout `parse` (sj_layout_parse, sj_layout_parse_c, ...) makes of text. */
static inline sj_layout *parsed_by(parse_fn parse, const char *what, const char *text) {
    sj_layout *l = NULL;
    sj_error err = {0};
    sj_status st = parse(text, &l, &err);
    if (st != SJ_OK) fail_msg("%s '%s': %s %s", what, text, sj_status_name(st), err.message);
    return l;
}

static inline sj_layout *parse_ok(const char *text) {
    return parsed_by(sj_layout_parse, "parse", text);
}

/* `parse` of text fails with status and exactly message, in err.status too, and writes no
 * layout. */
static inline void parse_fails_with(parse_fn parse, const char *what, const char *text,
                                    sj_status status, const char *message) {
    sj_layout *sentinel = (sj_layout *)&sentinel, *l = sentinel;
    sj_error err = {0};
    sj_status st = parse(text, &l, &err);
    if (st != status || strcmp(err.message, message) != 0)
        fail_msg("%s '%.80s': got %s \"%s\", want %s \"%s\"", what, text, sj_status_name(st),
                 err.message, sj_status_name(status), message);
    assert_ptr_equal(l, sentinel); /* a failed call writes nothing */
    assert_int_equal(err.status, status);
}

/* The canonical text of l; the caller frees it. */
static inline char *print_ok(const sj_layout *l) {
    char *s = NULL;
    sj_error err = {0};
    build_ok(sj_layout_print(l, &s, &err), &err, "print");
    return s;
}

/* The path of `text` in root (tests/tier.h's test_path), and not NULL. */
static inline sj_path *path_ok(const sj_layout *root, const char *text) {
    sj_path *p = test_path(root, text);
    assert_non_null(p);
    return p;
}

#endif
