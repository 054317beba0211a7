/* src/path.c: layout paths (SEMANTICS 4.5): the path text parser, resolution of steps
 * against a layout into base offset, leaf and free indices, and offset computation.
 * Layout construction is in layout.c; segment access through a path does not belong here. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Path text grammar (whitespace: space, tab, newline, allowed between tokens):
 *
 *   path  := step*                      the empty path selects the root itself
 *   step  := '.' name | name            member by name (first match among duplicates)
 *          | '.'? '#' int               member by index
 *          | '[' int ']'                sequence element
 *          | '[' ']' | '[' '*' ']'      open element (a free index)
 *          | '[' int '::' int ']'       open element from start with step (step may be < 0)
 *   name  := [A-Za-z0-9_$]+ | quoted
 *   int   := '-'? [0-9]+                (signed 64-bit)
 *
 * A quoted name `'any chars'` selects members whose names are not identifiers; inside
 * the quotes `\'` stands for a quote and `\\` for a backslash. A name without the
 * leading '.' may only start the path or follow a `]`, so `a b` and `#1x` are errors. */

struct sj_path {
    sj_layout *root;
    sj_layout *leaf;
    int64_t base;
    size_t nfree;
    int64_t stride[SJ_PATH_MAX_FREE];
    int64_t bound[SJ_PATH_MAX_FREE];
    char *text;
};

/* One step as the resolver sees it: parsed steps own their name, API steps borrow it. */
typedef struct step {
    sj_step_kind kind;
    char *name;
    int64_t index, step;
    int line, col; /* position of the step in the text it came from (1-based) */
} step;

/* ---- rendering ---- */

static bool is_ident_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '$';
}

static bool is_ident(const char *s) {
    if (!*s) return false;
    for (; *s; s++)
        if (!is_ident_char(*s)) return false;
    return true;
}

static void render_name(sj_buf *b, const char *name) {
    if (is_ident(name)) {
        sj_buf_puts(b, name);
        return;
    }
    sj_buf_putc(b, '\'');
    for (const char *s = name; *s; s++) {
        if (*s == '\'' || *s == '\\') sj_buf_putc(b, '\\');
        sj_buf_putc(b, *s);
    }
    sj_buf_putc(b, '\'');
}

/* Appends the canonical text of one step; `dot` asks for the '.' before a name. */
static void render_step(sj_buf *b, const step *s, bool dot) {
    switch (s->kind) {
        case SJ_STEP_NAME:
            if (dot) sj_buf_putc(b, '.');
            render_name(b, s->name);
            break;
        case SJ_STEP_MEMBER:
            sj_buf_printf(b, "#%" PRId64, s->index);
            break;
        case SJ_STEP_INDEX:
            sj_buf_printf(b, "[%" PRId64 "]", s->index);
            break;
        case SJ_STEP_OPEN:
            sj_buf_puts(b, "[*]");
            break;
        case SJ_STEP_RANGE:
            sj_buf_printf(b, "[%" PRId64 "::%" PRId64 "]", s->index, s->step);
            break;
    }
}

/* "sequence layout [10:i4]", the canonical text cut to fit an error line. */
static void describe(const sj_layout *l, char *dst, size_t cap) {
    char cut[96];
    sj_layout_cut(l, cut, sizeof cut);
    snprintf(dst, cap, "%s layout%s%s", sj_tag_name(sj_layout_tag(l)), cut[0] ? " " : "", cut);
}

/* ---- resolution ---- */

typedef struct resolver {
    const char *text; /* path text for messages: the source, or the rendered form */
    sj_error *err;
} resolver;

/* Fails with `status` naming the step, its position, the layout it applied to and the
 * path: "step 'x' at column 5 of 'data.x': member selection on a sequence layout [..]". */
static sj_status step_fail(const resolver *r, sj_status status, const step *s, const sj_layout *at,
                           const char *fmt, ...) SJ_PRINTF(5, 6);
static sj_status step_fail(const resolver *r, sj_status status, const step *s, const sj_layout *at,
                           const char *fmt, ...) {
    if (!r->err) return status;
    sj_buf b = {0};
    render_step(&b, s, false);
    char stxt[48], ptxt[64], what[128], ltxt[128], pos[40];
    sj_snip(stxt, sizeof stxt, b.data && !b.failed ? b.data : "?");
    free(b.data);
    sj_snip(ptxt, sizeof ptxt, r->text);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (s->line > 1)
        snprintf(pos, sizeof pos, "line %d, column %d", s->line, s->col);
    else
        snprintf(pos, sizeof pos, "column %d", s->col);
    ltxt[0] = 0;
    if (at) describe(at, ltxt, sizeof ltxt);
    return sj_fail(r->err, status, "step '%s' at %s of '%s': %s%s%s", stxt, pos, ptxt, what,
                   at ? " " : "", ltxt);
}

/* A stride that cannot fit 64 bits is only accepted when the index can never move
 * (bound <= 1, as in `[3::9223372036854775807]`, which the JDK accepts): it reads 0. */
static bool stride_of(int64_t k, uint64_t elem_size, int64_t bound, int64_t *out) {
    int64_t st;
    if (elem_size > (uint64_t)INT64_MAX || __builtin_mul_overflow(k, (int64_t)elem_size, &st)) {
        if (bound > 1) return false;
        st = 0;
    }
    *out = st;
    return true;
}

static sj_status resolve(const sj_layout *root, const step *steps, size_t n, const char *text,
                         char *owned_text, sj_path **out, sj_error *err) {
    resolver r = {text, err};
    sj_path p = {0};
    const sj_layout *cur = root;
    uint64_t base = 0;
    sj_status st = SJ_OK;
    for (size_t i = 0; i < n && st == SJ_OK; i++) {
        const step *s = &steps[i];
        sj_tag tag = sj_layout_tag(cur);
        bool group = tag == SJ_STRUCT || tag == SJ_UNION;
        uint64_t add = 0;
        const sj_layout *next = NULL;
        switch (s->kind) {
            case SJ_STEP_NAME:
            case SJ_STEP_MEMBER: {
                if (s->kind == SJ_STEP_MEMBER && s->index < 0) {
                    st = step_fail(&r, SJ_E_PATH, s, NULL, "negative member index");
                    break;
                }
                if (!group) {
                    st = step_fail(&r, SJ_E_PATH, s, cur, "member selection on a");
                    break;
                }
                size_t m = sj_layout_member_count(cur), k = m;
                if (s->kind == SJ_STEP_NAME) {
                    if ((k = sj_layout_member_index(cur, s->name)) == SIZE_MAX) {
                        char nm[48];
                        sj_snip(nm, sizeof nm, s->name);
                        st = step_fail(&r, SJ_E_PATH, s, cur, "no member named '%s' in", nm);
                        break;
                    }
                } else if ((uint64_t)s->index >= m) {
                    st =
                        step_fail(&r, SJ_E_PATH, s, cur,
                                  "member index %" PRId64 " past member count %zu of", s->index, m);
                    break;
                } else {
                    k = (size_t)s->index;
                }
                next = sj_layout_member(cur, k);
                add = sj_layout_member_offset(cur, k);
                break;
            }
            case SJ_STEP_INDEX:
            case SJ_STEP_OPEN:
            case SJ_STEP_RANGE: {
                /* Checks on the step alone come first, as the JDK makes them when it
                 * builds the path element. */
                if (s->kind == SJ_STEP_INDEX && s->index < 0) {
                    st = step_fail(&r, SJ_E_PATH, s, NULL, "negative sequence index");
                    break;
                }
                if (s->kind == SJ_STEP_RANGE && s->index < 0) {
                    st = step_fail(&r, SJ_E_PATH, s, NULL, "negative start index");
                    break;
                }
                if (s->kind == SJ_STEP_RANGE && s->step == 0) {
                    st = step_fail(&r, SJ_E_PATH, s, NULL, "step must not be 0");
                    break;
                }
                if (tag != SJ_SEQUENCE) {
                    st = step_fail(&r, SJ_E_PATH, s, cur, "sequence element selection on a");
                    break;
                }
                uint64_t count = sj_layout_elem_count(cur);
                next = sj_layout_elem(cur);
                uint64_t esize = sj_layout_size(next);
                if (s->kind == SJ_STEP_INDEX) {
                    if ((uint64_t)s->index >= count) {
                        st = step_fail(&r, SJ_E_PATH, s, cur,
                                       "index %" PRId64 " past count %" PRIu64 " of", s->index,
                                       count);
                        break;
                    }
                    add = (uint64_t)s->index * esize; /* < count * esize, the layout size */
                    break;
                }
                if (p.nfree == SJ_PATH_MAX_FREE) {
                    st = step_fail(&r, SJ_E_ARG, s, NULL, "more than %d free indices",
                                   SJ_PATH_MAX_FREE);
                    break;
                }
                int64_t bound, k = 1;
                if (s->kind == SJ_STEP_OPEN) {
                    bound = (int64_t)count;
                } else {
                    /* The JDK requires the start inside the sequence even when the
                     * range would be empty: `[0::1]` on a count 0 sequence fails. */
                    if ((uint64_t)s->index >= count) {
                        st = step_fail(&r, SJ_E_PATH, s, cur,
                                       "start %" PRId64 " past count %" PRIu64 " of", s->index,
                                       count);
                        break;
                    }
                    k = s->step;
                    /* bound = ceil((N - s) / k) for k > 0, ceil((s + 1) / -k) for k < 0 */
                    uint64_t span = k > 0 ? count - (uint64_t)s->index : (uint64_t)s->index + 1;
                    uint64_t mag = k > 0 ? (uint64_t)k : (uint64_t)(-(k + 1)) + 1;
                    bound = (int64_t)(span / mag + (span % mag != 0));
                    add = (uint64_t)s->index * esize;
                }
                if (!stride_of(k, esize, bound, &p.stride[p.nfree])) {
                    st = step_fail(&r, SJ_E_OVERFLOW, s, cur,
                                   "stride %" PRId64 " x %" PRIu64 " bytes overflows 64 bits in", k,
                                   esize);
                    break;
                }
                p.bound[p.nfree++] = bound;
                break;
            }
            default:
                st = step_fail(&r, SJ_E_ARG, s, NULL, "unknown step kind");
                break;
        }
        if (st != SJ_OK) break;
        if (!sj_add_u64(base, add, &base) || base > (uint64_t)INT64_MAX) {
            st = step_fail(&r, SJ_E_OVERFLOW, s, cur, "offset overflows 64 bits in");
            break;
        }
        cur = next;
    }
    if (st != SJ_OK) {
        free(owned_text);
        return st;
    }
    sj_path *res = malloc(sizeof *res);
    if (!res) {
        free(owned_text);
        return sj_fail(err, SJ_E_NOMEM, "out of memory resolving path '%s'", text);
    }
    *res = p;
    res->root = sj_layout_ref(root);
    res->leaf = sj_layout_ref(cur);
    res->base = (int64_t)base;
    res->text = owned_text;
    *out = res;
    return SJ_OK;
}

/* ---- parsing ---- */

typedef struct parser {
    const char *text;
    const char *p;
    int line;
    const char *line_start;
    sj_error *err;
} parser;

static int col_of(const parser *ps, const char *at) {
    return (int)(at - ps->line_start) + 1;
}

static void skip_ws(parser *ps) {
    for (;;) {
        char c = *ps->p;
        if (c == ' ' || c == '\t' || c == '\r') {
            ps->p++;
        } else if (c == '\n') {
            ps->p++;
            ps->line++;
            ps->line_start = ps->p;
        } else {
            return;
        }
    }
}

/* "1:COL: expected WHAT, found 'c'" (or "found end of path"). */
static sj_status expected(const parser *ps, const char *at, const char *what) {
    char found[24];
    if (!*at)
        snprintf(found, sizeof found, "end of path");
    else if ((unsigned char)*at < 0x20 || (unsigned char)*at >= 0x7f)
        snprintf(found, sizeof found, "byte 0x%02x", (unsigned char)*at);
    else
        snprintf(found, sizeof found, "'%c'", *at);
    return sj_fail(ps->err, SJ_E_PARSE, "%d:%d: expected %s, found %s", ps->line, col_of(ps, at),
                   what, found);
}

static sj_status parse_int(parser *ps, const char *what, int64_t *out) {
    const char *start = ps->p, *d = ps->p;
    bool neg = *d == '-';
    if (neg) d++;
    if (*d < '0' || *d > '9') return expected(ps, start, what);
    uint64_t mag = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    bool over = false;
    for (; *d >= '0' && *d <= '9'; d++) {
        unsigned digit = (unsigned)(*d - '0');
        if (mag > (limit - digit) / 10)
            over = true;
        else
            mag = mag * 10 + digit;
    }
    if (over)
        return sj_fail(ps->err, SJ_E_PARSE, "%d:%d: expected %s that fits 64 bits, found %.*s",
                       ps->line, col_of(ps, start), what, (int)(d - start > 40 ? 40 : d - start),
                       start);
    ps->p = d;
    *out = neg ? (int64_t)(0 - mag) : (int64_t)mag;
    return SJ_OK;
}

static sj_status parse_name(parser *ps, char **out) {
    const char *start = ps->p;
    if (*start == '\'') {
        const char *q = start + 1;
        size_t n = 0;
        for (; *q && *q != '\''; q++, n++)
            if (*q == '\\' && (q[1] == '\'' || q[1] == '\\')) q++;
        if (!*q) {
            /* Position the error at the end: the closing quote is what is missing. */
            const char *end = q;
            parser at = *ps;
            for (const char *c = ps->p; c < end; c++)
                if (*c == '\n') {
                    at.line++;
                    at.line_start = c + 1;
                }
            return expected(&at, end, "a closing quote after the quoted name");
        }
        char *name = malloc(n + 1);
        if (!name) return sj_fail(ps->err, SJ_E_NOMEM, "out of memory parsing path");
        size_t k = 0;
        for (const char *c = start + 1; c < q; c++) {
            if (*c == '\\' && (c[1] == '\'' || c[1] == '\\')) c++;
            name[k++] = *c;
        }
        name[k] = 0;
        for (const char *c = start; c < q; c++)
            if (*c == '\n') {
                ps->line++;
                ps->line_start = c + 1;
            }
        ps->p = q + 1;
        *out = name;
        return SJ_OK;
    }
    const char *e = start;
    while (is_ident_char(*e))
        e++;
    if (e == start) return expected(ps, start, "a member name");
    char *name = malloc((size_t)(e - start) + 1);
    if (!name) return sj_fail(ps->err, SJ_E_NOMEM, "out of memory parsing path");
    memcpy(name, start, (size_t)(e - start));
    name[e - start] = 0;
    ps->p = e;
    *out = name;
    return SJ_OK;
}

/* Parses '[' ... ']' with ps->p on the '['. */
static sj_status parse_bracket(parser *ps, step *s) {
    ps->p++;
    skip_ws(ps);
    if (*ps->p == ']' || *ps->p == '*') {
        s->kind = SJ_STEP_OPEN;
        if (*ps->p == '*') {
            ps->p++;
            skip_ws(ps);
        }
        if (*ps->p != ']') return expected(ps, ps->p, "']'");
        ps->p++;
        return SJ_OK;
    }
    if (*ps->p != '-' && (*ps->p < '0' || *ps->p > '9'))
        return expected(ps, ps->p, "an index, '*' or ']'");
    sj_status st = parse_int(ps, "an index", &s->index);
    if (st != SJ_OK) return st;
    skip_ws(ps);
    if (*ps->p == ']') {
        s->kind = SJ_STEP_INDEX;
        ps->p++;
        return SJ_OK;
    }
    if (ps->p[0] != ':' || ps->p[1] != ':') return expected(ps, ps->p, "']' or '::'");
    ps->p += 2;
    skip_ws(ps);
    if ((st = parse_int(ps, "a step", &s->step)) != SJ_OK) return st;
    skip_ws(ps);
    if (*ps->p != ']') return expected(ps, ps->p, "']'");
    ps->p++;
    s->kind = SJ_STEP_RANGE;
    return SJ_OK;
}

static void free_steps(step *steps, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(steps[i].name);
    free(steps);
}

static sj_status parse_steps(parser *ps, step **out, size_t *count) {
    step *steps = NULL;
    size_t n = 0, cap = 0;
    bool bare_ok = true; /* a name without '.' may come next */
    sj_status st = SJ_OK;
    for (;;) {
        skip_ws(ps);
        char c = *ps->p;
        if (!c) break;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            step *grown = realloc(steps, ncap * sizeof *steps);
            if (!grown) {
                st = sj_fail(ps->err, SJ_E_NOMEM, "out of memory parsing path");
                break;
            }
            steps = grown;
            cap = ncap;
        }
        step *s = &steps[n];
        memset(s, 0, sizeof *s);
        s->line = ps->line;
        s->col = col_of(ps, ps->p);
        if (c == '[') {
            st = parse_bracket(ps, s);
            bare_ok = true;
        } else if (c == '.' || c == '#' || c == '\'' || is_ident_char(c)) {
            if (c != '.' && c != '#' && !bare_ok) {
                st = expected(ps, ps->p, "'.', '#', '[' or end of path");
                break;
            }
            if (c == '.') {
                ps->p++;
                skip_ws(ps);
                if (*ps->p != '#' && *ps->p != '\'' && !is_ident_char(*ps->p)) {
                    st = expected(ps, ps->p, "a member name after '.'");
                    break;
                }
                /* messages point at the name, as they show it without the '.' */
                s->line = ps->line;
                s->col = col_of(ps, ps->p);
            }
            if (*ps->p == '#') {
                ps->p++;
                skip_ws(ps);
                s->kind = SJ_STEP_MEMBER;
                if (*ps->p != '-' && (*ps->p < '0' || *ps->p > '9'))
                    st = expected(ps, ps->p, "a member index after '#'");
                else
                    st = parse_int(ps, "a member index", &s->index);
            } else {
                s->kind = SJ_STEP_NAME;
                st = parse_name(ps, &s->name);
            }
            bare_ok = false;
        } else {
            st = expected(ps, ps->p, n ? "'.', '#', '[' or end of path" : "a path step");
        }
        if (st != SJ_OK) break;
        n++;
    }
    if (st != SJ_OK) {
        free_steps(steps, n); /* a failed step owns no name */
        return st;
    }
    *out = steps;
    *count = n;
    return SJ_OK;
}

static sj_status render_all(const step *steps, size_t n, step *pos, char **out, sj_error *err) {
    sj_buf b = {0};
    for (size_t i = 0; i < n; i++) {
        if (pos) {
            pos[i].line = 1;
            pos[i].col = (int)b.len + 1 + (i > 0 && steps[i].kind == SJ_STEP_NAME);
        }
        render_step(&b, &steps[i], i > 0);
    }
    return sj_buf_finish(&b, out, err);
}

sj_status sj_path_parse(const sj_layout *root, const char *text, sj_path **out, sj_error *err) {
    if (!root || !text || !out) return sj_fail(err, SJ_E_ARG, "path parse: NULL argument");
    parser ps = {text, text, 1, text, err};
    step *steps = NULL;
    size_t n = 0;
    sj_status st = parse_steps(&ps, &steps, &n);
    if (st != SJ_OK) return st;
    char *norm = NULL;
    if ((st = render_all(steps, n, NULL, &norm, err)) == SJ_OK)
        st = resolve(root, steps, n, text, norm, out, err);
    free_steps(steps, n);
    return st;
}

sj_status sj_path_resolve(const sj_layout *root, const sj_path_step *in, size_t count,
                          sj_path **out, sj_error *err) {
    if (!root || !out || (count && !in)) return sj_fail(err, SJ_E_ARG, "path: NULL argument");
    for (size_t i = 0; i < count; i++) {
        if ((unsigned)in[i].kind > SJ_STEP_RANGE)
            return sj_fail(err, SJ_E_ARG, "path: step %zu has unknown kind %d", i, (int)in[i].kind);
        if (in[i].kind == SJ_STEP_NAME && !in[i].name)
            return sj_fail(err, SJ_E_ARG, "path: step %zu selects a member by a NULL name", i);
    }
    step *steps = calloc(count ? count : 1, sizeof *steps);
    if (!steps) return sj_fail(err, SJ_E_NOMEM, "out of memory resolving path");
    for (size_t i = 0; i < count; i++) {
        steps[i].kind = in[i].kind;
        steps[i].name = (char *)in[i].name; /* borrowed: never freed here */
        steps[i].index = in[i].index;
        steps[i].step = in[i].step;
    }
    char *text = NULL;
    sj_status st = render_all(steps, count, steps, &text, err);
    if (st == SJ_OK) st = resolve(root, steps, count, text, text, out, err);
    free(steps);
    return st;
}

void sj_path_free(sj_path *p) {
    if (!p) return;
    sj_layout_unref(p->root);
    sj_layout_unref(p->leaf);
    free(p->text);
    free(p);
}

/* ---- queries ---- */

const sj_layout *sj_path_root(const sj_path *p) {
    return p ? p->root : NULL;
}
const sj_layout *sj_path_leaf(const sj_path *p) {
    return p ? p->leaf : NULL;
}
int64_t sj_path_base_offset(const sj_path *p) {
    return p ? p->base : 0;
}
size_t sj_path_free_count(const sj_path *p) {
    return p ? p->nfree : 0;
}
int64_t sj_path_stride(const sj_path *p, size_t i) {
    return p && i < p->nfree ? p->stride[i] : 0;
}
int64_t sj_path_bound(const sj_path *p, size_t i) {
    return p && i < p->nfree ? p->bound[i] : 0;
}
void sj_path_resolved(const sj_path *p, const sj_layout **root, const sj_layout **leaf,
                      int64_t *base, size_t *nfree, int64_t *stride, int64_t *bound) {
    *root = p->root;
    *leaf = p->leaf;
    *base = p->base;
    *nfree = p->nfree;
    memcpy(stride, p->stride, p->nfree * sizeof *stride);
    memcpy(bound, p->bound, p->nfree * sizeof *bound);
}

const char *sj_path_text(const sj_path *p) {
    return p ? p->text : NULL;
}

/* The message of a failed sj_path_offset, formatted only when a check failed. */
static sj_status path_offset_fail(const sj_path *p, const int64_t *indices, size_t count,
                                  sj_error *err) SJ_COLD;

sj_status sj_path_offset(const sj_path *p, const int64_t *indices, size_t count, int64_t *out,
                         sj_error *err) {
    if (!p || !out || (count && !indices))
        return sj_fail(err, SJ_E_ARG, "path offset: NULL argument");
    if (count != p->nfree) return path_offset_fail(p, indices, count, err);
    int64_t off = p->base;
    for (size_t i = 0; i < count; i++)
        if (indices[i] < 0 || indices[i] >= p->bound[i])
            return path_offset_fail(p, indices, count, err);
    for (size_t i = 0; i < count; i++) {
        int64_t term;
        if (__builtin_mul_overflow(indices[i], p->stride[i], &term) ||
            __builtin_add_overflow(off, term, &off))
            return path_offset_fail(p, indices, count, err);
    }
    *out = off;
    return SJ_OK;
}

static sj_status path_offset_fail(const sj_path *p, const int64_t *indices, size_t count,
                                  sj_error *err) {
    char ptxt[64];
    sj_snip(ptxt, sizeof ptxt, p->text);
    if (count != p->nfree)
        return sj_fail(err, SJ_E_ARG, "path '%s' has %zu free indices, %zu given", ptxt, p->nfree,
                       count);
    for (size_t i = 0; i < count; i++)
        if (indices[i] < 0 || indices[i] >= p->bound[i])
            return sj_fail(err, SJ_E_BOUNDS,
                           "path '%s': free index %zu is %" PRId64 ", outside [0, %" PRId64 ")",
                           ptxt, i, indices[i], p->bound[i]);
    return sj_fail(err, SJ_E_OVERFLOW, "path '%s': offset overflows 64 bits", ptxt);
}
