/* src/text.c: the canonical text form of layouts (SEMANTICS 2.7): the printer
 * sj_layout_print, the parser sj_layout_parse, and sj_layout_parse_auto's choice between it
 * and the description language. The C-like language is in cdecl.c, the table in table.c. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Deepest bracket nesting the parser accepts (it recurses once per level). */
#define TEXT_MAX_DEPTH 256

/* Carrier letter (little-endian spelling) and unsigned prefix of each kind. */
static const struct {
    char letter;
    bool u;
} carriers[SJ_KIND_COUNT] = {
    [SJ_BOOL] = {'z', false}, [SJ_I8] = {'b', false},  [SJ_U8] = {'b', true},
    [SJ_CHAR] = {'c', false}, [SJ_I16] = {'s', false}, [SJ_U16] = {'s', true},
    [SJ_I32] = {'i', false},  [SJ_U32] = {'i', true},  [SJ_F32] = {'f', false},
    [SJ_I64] = {'j', false},  [SJ_U64] = {'j', true},  [SJ_F64] = {'d', false},
    [SJ_ADDR] = {'a', false},
};

/* ---- printer ---- */

static void print_name(sj_buf *b, const char *name) {
    sj_buf_putc(b, '(');
    for (const char *s = name; *s; s++) {
        if (*s == ')' || *s == '\\') sj_buf_putc(b, '\\');
        sj_buf_putc(b, *s);
    }
    sj_buf_putc(b, ')');
}

static void print_layout(sj_buf *b, const sj_layout *l, bool own_name) {
    if (sj_buf_full(b)) return; /* a cut text (sj_layout_cut) needs no more */
    if (sj_layout_align(l) != sj_layout_natural_align(l))
        sj_buf_printf(b, "%" PRIu64 "%%", sj_layout_align(l));
    switch (sj_layout_tag(l)) {
        case SJ_VALUE: {
            sj_kind k = sj_layout_kind(l);
            char letter = carriers[k].letter;
            if (sj_layout_order(l) == SJ_ORDER_BIG) letter = (char)(letter - 'a' + 'A');
            if (carriers[k].u) sj_buf_putc(b, 'u');
            sj_buf_printf(b, "%c%u", letter, sj_kind_size(k));
            break;
        }
        case SJ_PADDING:
            sj_buf_printf(b, "x%" PRIu64, sj_layout_size(l));
            break;
        case SJ_SEQUENCE: {
            uint64_t es = sj_layout_size(sj_layout_elem(l)), n = sj_layout_elem_count(l);
            if (n == (uint64_t)INT64_MAX / (es ? es : 1))
                sj_buf_puts(b, "[*:"); /* the JDK's notation for the largest count */
            else
                sj_buf_printf(b, "[%" PRIu64 ":", n);
            print_layout(b, sj_layout_elem(l), true);
            sj_buf_putc(b, ']');
            break;
        }
        case SJ_STRUCT:
        case SJ_UNION: {
            bool is_union = sj_layout_tag(l) == SJ_UNION;
            size_t n = sj_layout_member_count(l);
            sj_buf_putc(b, '[');
            for (size_t i = 0; i < n && !sj_buf_full(b); i++) {
                const sj_layout *m = sj_layout_member(l, i);
                if (is_union && i > 0) sj_buf_putc(b, '|');
                /* `x14 16%f4`, not `x1416%f4`: a space keeps the two numbers apart. */
                if (!is_union && i > 0 && !b->failed && b->len > 0 && b->data[b->len - 1] >= '0' &&
                    b->data[b->len - 1] <= '9' && sj_layout_align(m) != sj_layout_natural_align(m))
                    sj_buf_putc(b, ' ');
                print_layout(b, m, true);
            }
            /* `[|]` is the empty union, `[i4|]` a union of one member. */
            if (is_union && n <= 1) sj_buf_putc(b, '|');
            sj_buf_putc(b, ']');
            break;
        }
    }
    if (own_name && sj_layout_name(l)) print_name(b, sj_layout_name(l));
}

sj_status sj_layout_print(const sj_layout *l, char **out, sj_error *err) {
    if (!l || !out) return sj_fail(err, SJ_E_ARG, "print: NULL argument");
    sj_buf b = {0};
    print_layout(&b, l, true);
    return sj_buf_finish(&b, out, err);
}

char *sj_layout_text_prefix(const sj_layout *l, bool own_name, size_t limit) {
    char *text = NULL;
    sj_buf b = {.limit = limit};
    print_layout(&b, l, own_name);
    return sj_buf_finish(&b, &text, NULL) == SJ_OK ? text : NULL;
}

const char *sj_layout_cut(const sj_layout *l, char *buf, size_t cap) {
    buf[0] = '\0';
    char *text = l ? sj_layout_text_prefix(l, true, cap) : NULL; /* as far as the cut needs */
    if (text) sj_snip(buf, cap, text);
    free(text);
    return buf;
}

/* ---- parser ---- */

typedef struct parser {
    const char *text;
    size_t pos;
    unsigned depth;
    sj_error *err;
} parser;

/* An error at byte position pos of the text: sj_fail_at. */
#define fail_at(p, pos, ...) sj_fail_at((p)->err, (p)->text, (pos), __VA_ARGS__)

/* A constructor failed: keep its status, put the position of the construct in front. */
static sj_status fail_ctor(parser *p, size_t pos, const sj_error *inner) {
    return fail_at(p, pos, inner->status, "%s", inner->message);
}

/* "end of text", "'x'" or "byte 0x01": what the parser found at pos. */
static const char *found(const parser *p, size_t pos, char buf[16]) {
    unsigned char c = (unsigned char)p->text[pos];
    if (c == 0) return "end of text";
    if (c >= 0x20 && c < 0x7f)
        snprintf(buf, 16, "'%c'", (char)c);
    else
        snprintf(buf, 16, "byte 0x%02x", c);
    return buf;
}

static sj_status expected(parser *p, const char *what) {
    char buf[16];
    return fail_at(p, p->pos, SJ_E_PARSE, "expected %s, found %s", what, found(p, p->pos, buf));
}

static char peek(const parser *p) {
    return p->text[p->pos];
}
static bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

static void skip_ws(parser *p) {
    for (;;) {
        char c = peek(p);
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
        p->pos++;
    }
}

/* Decimal number at pos (a digit is there); SJ_E_PARSE past INT64_MAX. */
static sj_status parse_number(parser *p, int64_t *out) {
    size_t start = p->pos;
    uint64_t v = 0;
    while (is_digit(peek(p))) {
        unsigned d = (unsigned)(peek(p) - '0');
        if (v > ((uint64_t)INT64_MAX - d) / 10) {
            while (is_digit(peek(p)))
                p->pos++;
            return fail_at(p, start, SJ_E_PARSE, "number %.*s is too large", (int)(p->pos - start),
                           p->text + start);
        }
        v = v * 10 + d;
        p->pos++;
    }
    *out = (int64_t)v;
    return SJ_OK;
}

static sj_status parse_element(parser *p, bool have_align, int64_t align, size_t align_pos,
                               const uint64_t *offset, sj_layout **out);

/* Digits at pos that are an alignment (a power of two) followed by '%': the JDK writes a
 * member's alignment right after the previous member's size (`s22%i4`, `x11%i4`). */
static bool alignment_at(const parser *p, size_t pos) {
    uint64_t v = 0;
    size_t i = pos;
    for (; is_digit(p->text[i]); i++) { /* every digit (2^40 has 13), none past 2^62 */
        v = v * 10 + (uint64_t)(p->text[i] - '0');
        if (v > (UINT64_C(1) << 62)) return false;
    }
    return i > pos && p->text[i] == '%' && v && (v & (v - 1)) == 0;
}

/* The value of the n digits at s, false past INT64_MAX. */
static bool digits_value(const char *s, size_t n, uint64_t *out) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (v > ((uint64_t)INT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* Digits at pos: how many the size takes when the rest may be the next member's
 * alignment. A value's size is one digit (carrier sizes are fixed).
 *
 * Padding is ambiguous: the JDK prints `[128%i4 x124 128%i4]` as `[128%i4x124128%i4]`,
 * and the digits `124128` split as x124 then 128%, or x12412 then 8% (a valid layout too,
 * of size 12420). The split is decided by what the layout means (README, "The JDK's
 * unseparated notation"). For padding at struct offset `offset` (NULL where the padding
 * is not a struct member), the candidates are the splits into a size P >= 1 and an
 * alignment A (a power of two, no leading zero) that put the next member at an aligned
 * offset, (offset + P) % A == 0. Among them:
 *   1. the one where P is the padding that reaches A from offset, the smallest P >= 1
 *      with (offset + P) % A == 0: what a C compiler or jextract writes before an
 *      over-aligned (or under-aligned) member, and so what the JDK prints in practice;
 *   2. else the longest P (the smallest alignment);
 *   3. else (no split is valid, or no offset is known) the longest P whose rest is a
 *      power of two, and the struct constructor reports the misaligned member. */
static size_t size_digits(const parser *p, bool value, const uint64_t *offset) {
    const char *s = p->text + p->pos;
    size_t n = 0;
    while (is_digit(s[n]))
        n++;
    if (value) return n > 1 && alignment_at(p, p->pos + 1) ? 1 : n;
    if (s[n] != '%') return n;
    size_t valid = 0, syntactic = 0;
    for (size_t k = n - 1; k >= 1; k--) { /* k digits of size, n - k of alignment */
        if (!alignment_at(p, p->pos + k)) continue;
        if (!syntactic) syntactic = k;
        uint64_t size, align;
        if (!offset || s[k] == '0' || !digits_value(s, k, &size) ||
            !digits_value(s + k, n - k, &align) || size == 0)
            continue;
        uint64_t reach = align - *offset % align; /* the smallest P >= 1 reaching A */
        if (size == reach) return k;
        if (!valid && (*offset % align + size % align) % align == 0) valid = k;
    }
    if (valid) return valid;
    return syntactic ? syntactic : n;
}

/* A decimal number of exactly `digits` digits at pos. */
static sj_status parse_digits(parser *p, size_t digits, int64_t *out) {
    parser q = *p;
    char buf[32];
    if (digits >= sizeof buf) return parse_number(p, out);
    memcpy(buf, p->text + p->pos, digits);
    buf[digits] = 0;
    q.text = buf;
    q.pos = 0;
    sj_status st = parse_number(&q, out);
    if (st != SJ_OK) return parse_number(p, out); /* the message, at the real position */
    p->pos += digits;
    return SJ_OK;
}

/* `(name)` at pos; `\)` and `\\` stand for `)` and `\`, any other `\` for itself. */
static sj_status parse_name(parser *p, char **out) {
    size_t open = p->pos++;
    sj_buf b = {0};
    for (;;) {
        char c = peek(p);
        if (c == ')') break;
        if (c == 0) {
            free(b.data);
            unsigned line, col;
            sj_line_col(p->text, open, &line, &col);
            return fail_at(p, p->pos, SJ_E_PARSE,
                           "expected ')' to close the name opened at %u:%u, found end of text",
                           line, col);
        }
        if (c == '\\') { /* else a backslash itself, as the JDK prints `i4(a\\b)` */
            char e = p->text[p->pos + 1];
            if (e == ')' || e == '\\') c = p->text[++p->pos];
        }
        sj_buf_putc(&b, c);
        p->pos++;
    }
    p->pos++;
    char *name = NULL;
    sj_status st = sj_buf_finish(&b, &name, NULL);
    if (st != SJ_OK) return fail_at(p, open, st, "out of memory reading a name");
    *out = name;
    return SJ_OK;
}

/* A value `[u]Ln` (letter L, size n) or padding `xN`, at pos; offset is where it sits in
 * its struct (NULL when it is not a struct member), for size_digits. */
static sj_status parse_leaf(parser *p, const uint64_t *offset, sj_layout **out) {
    size_t start = p->pos;
    char c = peek(p);
    sj_error inner;
    if (c == 'x') {
        p->pos++;
        if (!is_digit(peek(p))) return expected(p, "the padding size after 'x'");
        int64_t size = 0;
        sj_status st = parse_digits(p, size_digits(p, false, offset), &size);
        if (st != SJ_OK) return st;
        if (sj_layout_padding(size, out, &inner) != SJ_OK) return fail_ctor(p, start, &inner);
        return SJ_OK;
    }
    bool u = false;
    if (c == 'u') {
        u = true;
        c = p->text[++p->pos];
    }
    bool big = c >= 'A' && c <= 'Z';
    char lower = big ? (char)(c - 'A' + 'a') : c;
    sj_kind kind = SJ_KIND_COUNT;
    for (int k = 0; k < SJ_KIND_COUNT; k++)
        if (carriers[k].letter == lower && carriers[k].u == u) kind = (sj_kind)k;
    if (kind == SJ_KIND_COUNT) {
        if (u) return expected(p, "one of 'b', 's', 'i', 'j' (or upper case) after 'u'");
        return expected(p, "a layout");
    }
    p->pos++;
    if (!is_digit(peek(p))) return expected(p, "the size of the value");
    size_t size_pos = p->pos;
    int64_t size = 0;
    sj_status st = parse_digits(p, size_digits(p, true, NULL), &size);
    if (st != SJ_OK) return st;
    if (size != (int64_t)sj_kind_size(kind))
        return fail_at(p, size_pos, SJ_E_PARSE, "expected size %u after '%.*s', found %" PRId64,
                       sj_kind_size(kind), (int)(size_pos - start), p->text + start, size);
    sj_layout *v;
    if (sj_layout_value(kind, &v, &inner) != SJ_OK) return fail_ctor(p, start, &inner);
    sj_order order = big ? SJ_ORDER_BIG : SJ_ORDER_LITTLE;
    if (sj_layout_order(v) != order) {
        sj_layout *o;
        st = sj_layout_with_order(v, order, &o, &inner);
        sj_layout_unref(v);
        if (st != SJ_OK) return fail_ctor(p, start, &inner);
        v = o;
    }
    *out = v;
    return SJ_OK;
}

typedef struct members {
    sj_layout **v;
    size_t *pos; /* where each member starts in the text, for errors that name a member */
    size_t n, cap;
    uint64_t end; /* the sum of the members' sizes: the next struct member's offset */
} members;

static void members_free(members *m) {
    for (size_t i = 0; i < m->n; i++)
        sj_layout_unref(m->v[i]);
    free(m->v);
    free(m->pos);
}

static bool members_push(members *m, sj_layout *l, size_t pos) {
    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 8;
        sj_layout **v = realloc(m->v, cap * sizeof *v);
        if (!v) return false;
        m->v = v;
        size_t *pv = realloc(m->pos, cap * sizeof *pv);
        if (!pv) return false;
        m->pos = pv;
        m->cap = cap;
    }
    m->pos[m->n] = pos;
    m->v[m->n++] = l;
    uint64_t size = sj_layout_size(l);
    m->end = m->end > UINT64_MAX - size ? UINT64_MAX : m->end + size;
    return true;
}

/* Where a struct constructor's error points: at "member #K" when it names one. */
static size_t member_error_pos(const members *m, const char *message, size_t fallback) {
    const char *at = strstr(message, "member #");
    if (!at) return fallback;
    char *end = NULL;
    unsigned long long k = strtoull(at + 8, &end, 10);
    return end != at + 8 && k < m->n ? m->pos[k] : fallback;
}

/* A member into m; on failure nothing is left to release but m itself. A struct member
 * sits at m->end, a union member at 0 (the first member is read before the '|' that makes
 * a union, at 0 either way). */
static sj_status parse_member(parser *p, members *m, bool is_union, bool have_align, int64_t align,
                              size_t align_pos) {
    size_t start = have_align ? align_pos : p->pos;
    sj_layout *l = NULL;
    uint64_t offset = is_union ? 0 : m->end;
    sj_status st = parse_element(p, have_align, align, align_pos, &offset, &l);
    if (st != SJ_OK) return st;
    if (!members_push(m, l, start)) {
        sj_layout_unref(l);
        return fail_at(p, start, SJ_E_NOMEM, "out of memory reading a member");
    }
    return SJ_OK;
}

/* `[...]` at pos: struct, union or sequence. */
static sj_status parse_bracket(parser *p, sj_layout **out) {
    size_t open = p->pos++;
    if (p->depth >= TEXT_MAX_DEPTH)
        return fail_at(p, open, SJ_E_PARSE, "layout nested deeper than %d brackets",
                       TEXT_MAX_DEPTH);
    p->depth++;
    members m = {0};
    sj_status st = SJ_OK;
    sj_error inner;
    bool is_union = false;
    skip_ws(p);
    if (peek(p) == '|') { /* `[|]`: the empty union */
        p->pos++;
        skip_ws(p);
        if (peek(p) != ']') {
            st = expected(p, "']' after '[|'");
            goto done;
        }
        is_union = true;
    } else if (is_digit(peek(p)) || peek(p) == '*') { /* `[N:elem]`, `[*:elem]`, or `A%...` */
        size_t num_pos = p->pos;
        int64_t n = -1; /* `*`: the largest count whose size fits (the JDK's notation) */
        if (peek(p) == '*') {
            p->pos++;
            skip_ws(p);
            if (peek(p) != ':') {
                st = expected(p, "':' after '[*'");
                goto done;
            }
        } else if ((st = parse_number(p, &n)) != SJ_OK) {
            goto done;
        }
        skip_ws(p);
        if (peek(p) == ':') {
            p->pos++;
            sj_layout *elem;
            if ((st = parse_element(p, false, 0, 0, NULL, &elem)) != SJ_OK) goto done;
            skip_ws(p);
            if (peek(p) != ']') {
                sj_layout_unref(elem);
                st = expected(p, "']' after the sequence element");
                goto done;
            }
            if (n < 0) n = INT64_MAX / (int64_t)(sj_layout_size(elem) ? sj_layout_size(elem) : 1);
            st = sj_layout_sequence(n, elem, out, &inner);
            sj_layout_unref(elem);
            if (st != SJ_OK) st = fail_ctor(p, open, &inner);
            p->pos++;
            goto done;
        }
        if (peek(p) != '%') {
            st = expected(p, "':' or '%' after a number");
            goto done;
        }
        p->pos++;
        if ((st = parse_member(p, &m, false, true, n, num_pos)) != SJ_OK) goto done;
    } else if (peek(p) == 0) {
        st = expected(p, "a member or ']'");
        goto done;
    } else if (peek(p) != ']') {
        if ((st = parse_member(p, &m, is_union, false, 0, 0)) != SJ_OK) goto done;
    }
    skip_ws(p);
    if (m.n == 1 && peek(p) == '|') { /* a union: `[a|b|c]`, or `[a|]` with one member */
        is_union = true;
        while (peek(p) == '|') {
            p->pos++;
            skip_ws(p);
            if (m.n == 1 && peek(p) == ']') break;
            if ((st = parse_member(p, &m, is_union, false, 0, 0)) != SJ_OK) goto done;
            skip_ws(p);
        }
        if (peek(p) != ']') {
            st = expected(p, "'|' or ']'");
            goto done;
        }
    } else {
        while (peek(p) != ']') {
            if (peek(p) == 0) {
                st = expected(p, "a member or ']'");
                goto done;
            }
            if ((st = parse_member(p, &m, is_union, false, 0, 0)) != SJ_OK) goto done;
            skip_ws(p);
        }
    }
    p->pos++; /* the ']' */
    const sj_layout *const *mv = (const sj_layout *const *)m.v;
    st = is_union ? sj_layout_union(mv, m.n, out, &inner) : sj_layout_struct(mv, m.n, out, &inner);
    if (st != SJ_OK) st = fail_ctor(p, member_error_pos(&m, inner.message, open), &inner);
done:
    members_free(&m);
    p->depth--;
    return st;
}

/* `[A%] core [(name)]`. When the caller already read `A%`, have_align says so; offset is
 * where the element sits in its struct, NULL when it is not a struct member. */
static sj_status parse_element(parser *p, bool have_align, int64_t align, size_t align_pos,
                               const uint64_t *offset, sj_layout **out) {
    sj_status st;
    sj_error inner;
    skip_ws(p);
    if (!have_align && is_digit(peek(p))) {
        align_pos = p->pos;
        if ((st = parse_number(p, &align)) != SJ_OK) return st;
        skip_ws(p);
        if (peek(p) != '%') return expected(p, "'%' after an alignment");
        p->pos++;
        have_align = true;
        skip_ws(p);
    }
    sj_layout *l = NULL;
    char c = peek(p);
    if (c == '[')
        st = parse_bracket(p, &l);
    else if (c == 0 || c == ']' || c == '|' || c == ':' || c == '(' || c == ')' || c == '%')
        st = expected(p, "a layout");
    else
        st = parse_leaf(p, offset, &l);
    if (st != SJ_OK) return st;
    skip_ws(p);
    if (peek(p) == '(') {
        size_t name_pos = p->pos;
        char *name = NULL;
        if ((st = parse_name(p, &name)) != SJ_OK) goto fail;
        sj_layout *named;
        st = sj_layout_with_name(l, name, &named, &inner);
        free(name);
        if (st != SJ_OK) {
            st = fail_ctor(p, name_pos, &inner);
            goto fail;
        }
        sj_layout_unref(l);
        l = named;
    }
    if (have_align) {
        sj_layout *aligned;
        if ((st = sj_layout_with_align(l, align, &aligned, &inner)) != SJ_OK) {
            st = fail_ctor(p, align_pos, &inner);
            goto fail;
        }
        sj_layout_unref(l);
        l = aligned;
    }
    *out = l;
    return SJ_OK;
fail:
    sj_layout_unref(l);
    return st;
}

sj_status sj_layout_parse(const char *text, sj_layout **out, sj_error *err) {
    if (!text || !out) return sj_fail(err, SJ_E_ARG, "parse: NULL argument");
    parser p = {.text = text, .err = err};
    sj_layout *l = NULL;
    sj_status st = parse_element(&p, false, 0, 0, NULL, &l);
    if (st != SJ_OK) return st;
    skip_ws(&p);
    if (peek(&p) != 0) {
        sj_layout_unref(l);
        return expected(&p, "end of text");
    }
    *out = l;
    return SJ_OK;
}

/* ---- dispatch ---- */

/* True when the text reads as the description language: it contains `struct`, `union`, `;`
 * or `{` outside the `(name)` parts of a canonical form. A `(` without a closing `)` is not
 * a name, so comments with a stray parenthesis do not hide the rest of a C text. */
static bool looks_like_c(const char *text) {
    bool unclosed = false; /* a '(' found no ')' after it: neither will a later one */
    for (const char *s = text; *s; s++) {
        if (*s == '(' && !unclosed) {
            const char *e = s + 1;
            while (*e && *e != ')')
                e += (e[0] == '\\' && e[1]) ? 2 : 1;
            if (*e == ')') {
                s = e;
                continue;
            }
            unclosed = true;
        }
        if (*s == ';' || *s == '{' || strncmp(s, "struct", 6) == 0 || strncmp(s, "union", 5) == 0)
            return true;
    }
    return false;
}

sj_status sj_layout_parse_auto(const char *text, sj_layout **out, sj_error *err) {
    if (!text || !out) return sj_fail(err, SJ_E_ARG, "parse: NULL argument");
    return looks_like_c(text) ? sj_layout_parse_c(text, out, err) : sj_layout_parse(text, out, err);
}
