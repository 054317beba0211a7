/* src/cdecl.c: the C-like description language (SEMANTICS 2.8): lexer, declarations, type
 * names, and the C layout rules (padding, tail padding, packed, align(N)) that turn them into
 * layouts; sj_layout_parse_c. The canonical text form is in text.c, the table in table.c. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Deepest nesting of struct/union bodies the parser accepts (it recurses once per level). */
#define CDECL_MAX_DEPTH 256
/* Most array dimensions on one declarator. */
#define CDECL_MAX_DIMS 32
/* Largest alignment accepted in align(N), alignas(N), aligned(N). */
#define CDECL_MAX_ALIGN ((int64_t)1 << 62)

typedef enum tok_kind { TK_END, TK_IDENT, TK_NUM, TK_PUNCT } tok_kind;

typedef struct token {
    tok_kind kind;
    size_t pos, len;
    uint64_t num; /* TK_NUM */
} token;

typedef enum entry_kind { E_STRUCT, E_UNION, E_TYPEDEF } entry_kind;

/* A declared struct or union tag, or a typedef name; one namespace for all three. */
typedef struct type_entry {
    char *name;
    sj_layout *layout;
    entry_kind kind;
} type_entry;

typedef struct cparser {
    const char *text;
    size_t pos;      /* where the lexer continues */
    size_t prev_end; /* end of the last consumed token */
    token tok;       /* the current token */
    sj_error *err;
    type_entry *types;
    size_t ntypes, cap;
    sj_name_index type_names; /* types by name (not ready after running out of memory: scan) */
    unsigned depth;
} cparser;

/* ---- errors ---- */

/* An error at byte position pos of the text: sj_fail_at. */
#define fail_at(p, pos, ...) sj_fail_at((p)->err, (p)->text, (pos), __VA_ARGS__)

/* A constructor failed: keep its status and message, put the position in front. */
static sj_status fail_ctor(cparser *p, size_t pos, sj_status st, const sj_error *inner) {
    return fail_at(p, pos, st, "%s", inner->message);
}

static const char *tok_found(const cparser *p, char buf[64]) {
    const token *t = &p->tok;
    switch (t->kind) {
        case TK_END:
            return "end of text";
        case TK_PUNCT:
            snprintf(buf, 64, "'%c'", p->text[t->pos]);
            break;
        case TK_IDENT:
        case TK_NUM:
            if (t->len > 40)
                snprintf(buf, 64, "'%.40s...'", p->text + t->pos);
            else
                snprintf(buf, 64, "'%.*s'", (int)t->len, p->text + t->pos);
            break;
    }
    return buf;
}

/* "expected <what>, found <current token>" at the current token. */
static sj_status expected(cparser *p, const char *fmt, ...) SJ_PRINTF(2, 3);
static sj_status expected(cparser *p, const char *fmt, ...) {
    char what[160], buf[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return fail_at(p, p->tok.pos, SJ_E_PARSE, "expected %s, found %s", what, tok_found(p, buf));
}

/* ---- lexer ---- */

static bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
static bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static bool is_alnum(char c) {
    return is_alpha(c) || is_digit(c);
}

static int digit_value(char c, unsigned base) {
    int d = -1;
    if (is_digit(c))
        d = c - '0';
    else if (c >= 'a' && c <= 'f')
        d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
        d = c - 'A' + 10;
    return d >= 0 && (unsigned)d < base ? d : -1;
}

/* Reads the token at p->pos into p->tok: comments and white space are skipped. */
static sj_status next(cparser *p) {
    const char *s = p->text;
    size_t i = p->pos;
    p->prev_end = p->tok.pos + p->tok.len;
    for (;;) {
        char c = s[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            i++;
        } else if (c == '/' && s[i + 1] == '/') {
            while (s[i] && s[i] != '\n')
                i++;
        } else if (c == '/' && s[i + 1] == '*') {
            size_t start = i;
            i += 2;
            while (s[i] && !(s[i] == '*' && s[i + 1] == '/'))
                i++;
            if (!s[i]) return fail_at(p, start, SJ_E_PARSE, "comment opened here is not closed");
            i += 2;
        } else {
            break;
        }
    }
    token t = {.pos = i, .len = 1};
    char c = s[i];
    if (c == 0) {
        t.kind = TK_END;
        t.len = 0;
    } else if (is_alpha(c)) {
        t.kind = TK_IDENT;
        while (is_alnum(s[i + t.len]))
            t.len++;
    } else if (is_digit(c)) {
        t.kind = TK_NUM;
        unsigned base = 10;
        size_t j = i;
        if (c == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X') && digit_value(s[i + 2], 16) >= 0) {
            base = 16;
            j += 2;
        }
        uint64_t v = 0;
        bool big = false;
        for (int d; (d = digit_value(s[j], base)) >= 0; j++) {
            if (v > ((uint64_t)INT64_MAX - (unsigned)d) / base)
                big = true;
            else
                v = v * base + (unsigned)d;
        }
        if (is_alnum(s[j])) {
            while (is_alnum(s[j]))
                j++;
            return fail_at(p, i, SJ_E_PARSE, "malformed number '%.*s'", (int)(j - i), s + i);
        }
        if (big) return fail_at(p, i, SJ_E_PARSE, "number %.*s is too large", (int)(j - i), s + i);
        t.len = j - i;
        t.num = v;
    } else if (strchr("{}[]();*,:-=+<>|&^~!/%", c)) { /* the operators for enum values */
        t.kind = TK_PUNCT;
    } else if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f) {
        return fail_at(p, i, SJ_E_PARSE, "unexpected character '%c'", c);
    } else {
        return fail_at(p, i, SJ_E_PARSE, "unexpected byte 0x%02x", (unsigned char)c);
    }
    p->tok = t;
    p->pos = i + t.len;
    return SJ_OK;
}

static bool is_punct(const cparser *p, char c) {
    return p->tok.kind == TK_PUNCT && p->text[p->tok.pos] == c;
}

static bool tok_eq(const token *t, const char *text, const char *word) {
    return t->kind == TK_IDENT && strlen(word) == t->len &&
           memcmp(text + t->pos, word, t->len) == 0;
}

static bool is_word(const cparser *p, const char *word) {
    return tok_eq(&p->tok, p->text, word);
}

static bool word_in(const token *t, const char *text, const char *const *list, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (tok_eq(t, text, list[i])) return true;
    return false;
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- type names ---- */

static const struct {
    const char *name;
    sj_kind kind;
} builtins[] = {
    {"i8", SJ_I8},         {"i16", SJ_I16},      {"i32", SJ_I32},      {"i64", SJ_I64},
    {"u8", SJ_U8},         {"u16", SJ_U16},      {"u32", SJ_U32},      {"u64", SJ_U64},
    {"f32", SJ_F32},       {"f64", SJ_F64},      {"ptr", SJ_ADDR},     {"int8_t", SJ_I8},
    {"int16_t", SJ_I16},   {"int32_t", SJ_I32},  {"int64_t", SJ_I64},  {"uint8_t", SJ_U8},
    {"uint16_t", SJ_U16},  {"uint32_t", SJ_U32}, {"uint64_t", SJ_U64}, {"char16_t", SJ_CHAR},
    {"size_t", SJ_U64},    {"ssize_t", SJ_I64},  {"intptr_t", SJ_I64}, {"ptrdiff_t", SJ_I64},
    {"uintptr_t", SJ_U64},
};

/* Words that combine into a C type: `unsigned long long int`, `signed char`, `void`. */
static const char *const c_type_words[] = {"signed", "unsigned", "char", "short", "int", "long",
                                           "float",  "double",   "void", "_Bool", "bool"};

/* Words of the language itself; with the type words, neither a type name nor a field name. */
static const char *const keywords[] = {"struct", "union", "enum", "typedef", "const", "volatile"};

/* Words with a meaning in some positions; not usable as type names. */
static const char *const soft_keywords[] = {"packed",  "be",       "le",           "align",
                                            "alignas", "_Alignas", "__attribute__"};

static bool is_c_type_word(const cparser *p) {
    return word_in(&p->tok, p->text, c_type_words, COUNT(c_type_words));
}

static bool is_qualifier(const cparser *p) {
    return is_word(p, "const") || is_word(p, "volatile");
}

static int builtin_index(const cparser *p) {
    for (size_t i = 0; i < COUNT(builtins); i++)
        if (is_word(p, builtins[i].name)) return (int)i;
    return -1;
}

static const char *type_name_at(const void *list, size_t i) {
    return ((const cparser *)list)->types[i].name;
}

static type_entry *lookup(cparser *p, const token *t) {
    if (sj_name_index_ready(&p->type_names)) {
        size_t i = sj_name_index_find_n(&p->type_names, type_name_at, p, p->text + t->pos, t->len);
        return i == SIZE_MAX ? NULL : &p->types[i];
    }
    for (size_t i = 0; i < p->ntypes; i++)
        if (tok_eq(t, p->text, p->types[i].name)) return &p->types[i];
    return NULL;
}

static void types_free(cparser *p) {
    for (size_t i = 0; i < p->ntypes; i++) {
        free(p->types[i].name);
        sj_layout_unref(p->types[i].layout);
    }
    free(p->types);
    sj_name_index_free(&p->type_names);
}

static const char *entry_word(entry_kind k) {
    return k == E_STRUCT ? "struct" : k == E_UNION ? "union" : "typedef";
}

static bool is_reserved_type_name(const token *t, const char *text) {
    for (size_t i = 0; i < COUNT(builtins); i++)
        if (tok_eq(t, text, builtins[i].name)) return true;
    return word_in(t, text, c_type_words, COUNT(c_type_words)) ||
           word_in(t, text, keywords, COUNT(keywords)) ||
           word_in(t, text, soft_keywords, COUNT(soft_keywords));
}

/* Declares the name in token t; the table takes its own reference to l. A typedef of the
 * very layout already declared under that name (`typedef struct a {..} a;`) is accepted. */
static sj_status add_type(cparser *p, const token *t, sj_layout *l, entry_kind kind) {
    int n = (int)t->len;
    const char *s = p->text + t->pos;
    if (is_reserved_type_name(t, p->text))
        return fail_at(p, t->pos, SJ_E_PARSE, "'%.*s' is a reserved word, not a type name", n, s);
    type_entry *e = lookup(p, t);
    if (e) {
        if (kind == E_TYPEDEF && sj_layout_equal(e->layout, l)) return SJ_OK;
        return fail_at(p, t->pos, SJ_E_PARSE, "type '%.*s' is already declared (as a %s)", n, s,
                       entry_word(e->kind));
    }
    if (p->ntypes == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 8;
        type_entry *v = realloc(p->types, cap * sizeof *v);
        if (!v) return fail_at(p, t->pos, SJ_E_NOMEM, "out of memory declaring '%.*s'", n, s);
        p->types = v;
        p->cap = cap;
    }
    char *name = malloc(t->len + 1);
    if (!name) return fail_at(p, t->pos, SJ_E_NOMEM, "out of memory declaring '%.*s'", n, s);
    memcpy(name, s, t->len);
    name[t->len] = 0;
    p->types[p->ntypes++] = (type_entry){name, sj_layout_ref(l), kind};
    /* indexed from the first type on; once out of memory the index is gone and lookups scan */
    if (p->ntypes == 1 || sj_name_index_ready(&p->type_names))
        sj_name_index_add(&p->type_names, type_name_at, p, p->ntypes - 1);
    return SJ_OK;
}

/* ---- layout helpers ---- */

static sj_status value_layout(cparser *p, size_t pos, sj_kind kind, sj_layout **out) {
    sj_error inner;
    sj_status st = sj_layout_value(kind, out, &inner);
    return st == SJ_OK ? SJ_OK : fail_ctor(p, pos, st, &inner);
}

/* *l = l with name (NULL: unchanged); consumes the old reference. */
static sj_status rename_layout(sj_layout **l, const char *name, sj_error *err) {
    if (!name) return SJ_OK;
    sj_layout *named;
    sj_status st = sj_layout_with_name(*l, name, &named, err);
    sj_layout_unref(*l);
    *l = st == SJ_OK ? named : NULL;
    return st;
}

/* *l = l with alignment a; consumes the old reference. */
static sj_status realign_layout(sj_layout **l, uint64_t a, sj_error *err) {
    if (sj_layout_align(*l) == a) return SJ_OK;
    sj_layout *aligned;
    sj_status st = sj_layout_with_align(*l, (int64_t)a, &aligned, err);
    sj_layout_unref(*l);
    *l = st == SJ_OK ? aligned : NULL;
    return st;
}

/* Groups and sequences already packed by one pack1 call are kept by address (owned
 * references) in a pointer map: a layout that shares a part many times (struct { s a; s b; }
 * nested) is rebuilt once per distinct part, not once per path to it. Out of memory, a part
 * is only not kept. */
static void drop_layout(void *l) {
    sj_layout_unref(l);
}

/* The layout rebuilt with alignment 1 at every level (a member of a packed struct): values
 * and padding get alignment 1, groups and sequences are rebuilt from rebuilt parts, so that
 * their natural alignment is 1 too. Offsets and padding inside stay as they are. */
static sj_status pack1_memo(const sj_layout *l, sj_ptr_map *pm, sj_layout **out, sj_error *err) {
    sj_status st;
    sj_layout *r = sj_ptr_map_get(pm, l, NULL);
    if (r) {
        *out = sj_layout_ref(r);
        return SJ_OK;
    }
    switch (sj_layout_tag(l)) {
        case SJ_VALUE:
        case SJ_PADDING:
            return sj_layout_with_align(l, 1, out, err);
        case SJ_SEQUENCE: {
            sj_layout *elem;
            if ((st = pack1_memo(sj_layout_elem(l), pm, &elem, err)) != SJ_OK) return st;
            st = sj_layout_sequence((int64_t)sj_layout_elem_count(l), elem, &r, err);
            sj_layout_unref(elem);
            break;
        }
        case SJ_STRUCT:
        case SJ_UNION: {
            size_t n = sj_layout_member_count(l);
            sj_layout **m = calloc(n ? n : 1, sizeof *m);
            if (!m) return sj_fail(err, SJ_E_NOMEM, "out of memory packing a struct");
            st = SJ_OK;
            for (size_t i = 0; i < n && st == SJ_OK; i++)
                st = pack1_memo(sj_layout_member(l, i), pm, &m[i], err);
            if (st == SJ_OK) {
                const sj_layout *const *cm = (const sj_layout *const *)m;
                st = sj_layout_tag(l) == SJ_STRUCT ? sj_layout_struct(cm, n, &r, err)
                                                   : sj_layout_union(cm, n, &r, err);
            }
            for (size_t i = 0; i < n; i++)
                sj_layout_unref(m[i]);
            free(m);
            break;
        }
        default:
            return sj_fail(err, SJ_E_ARG, "unknown layout");
    }
    if (st != SJ_OK) return st;
    if ((st = rename_layout(&r, sj_layout_name(l), err)) != SJ_OK) return st;
    if (sj_ptr_map_put(pm, l, NULL, r)) sj_layout_ref(r);
    *out = r;
    return SJ_OK;
}

static sj_status pack1(const sj_layout *l, sj_layout **out, sj_error *err) {
    sj_ptr_map pm = {0};
    sj_status st = pack1_memo(l, &pm, out, err);
    sj_ptr_map_free(&pm, drop_layout);
    return st;
}

/* The layout with byte order `order` on its value, or on the values of a (nested) sequence;
 * SJ_E_ARG for anything else. Names and alignments are kept. */
static sj_status set_order(const sj_layout *l, sj_order order, sj_layout **out, sj_error *err) {
    if (sj_layout_tag(l) == SJ_VALUE) return sj_layout_with_order(l, order, out, err);
    if (sj_layout_tag(l) != SJ_SEQUENCE)
        return sj_fail(err, SJ_E_ARG, "byte order applies to scalar fields");
    sj_layout *elem, *r;
    sj_status st = set_order(sj_layout_elem(l), order, &elem, err);
    if (st != SJ_OK) return st;
    st = sj_layout_sequence((int64_t)sj_layout_elem_count(l), elem, &r, err);
    sj_layout_unref(elem);
    if (st != SJ_OK) return st;
    if ((st = rename_layout(&r, sj_layout_name(l), err)) != SJ_OK) return st;
    if ((st = realign_layout(&r, sj_layout_align(l), err)) != SJ_OK) return st;
    *out = r;
    return SJ_OK;
}

/* ---- declarations ---- */

/* What precedes a declarator: qualifiers and a type. */
typedef struct dspec {
    sj_layout *layout; /* reference; NULL for void and for an undeclared struct tag */
    bool is_void;
    bool is_char;     /* plain `char`: its arrays are text (the element is named "char") */
    bool is_enum_def; /* `enum [tag] { ... }`: its integer, nothing declared */
    bool defined;     /* a struct or union with a body */
    bool tagged;      /* ... that has a tag */
    size_t type_pos, type_end;
    sj_order order; /* NATIVE when no be/le */
    size_t order_pos;
    int64_t align; /* 0 when no alignas */
    size_t align_pos;
} dspec;

/* A field waiting for the struct's layout rules. */
typedef struct field {
    sj_layout *l; /* named, byte order applied; alignment not yet applied */
    int64_t align;
    size_t align_pos;
    bool packed;
    size_t pos;
} field;

typedef struct fields {
    field *v;
    size_t n, cap;
    sj_name_index names; /* once more than SJ_NAME_INDEX_MIN fields (duplicate checks) */
    bool no_index;       /* out of memory once: scan */
} fields;

static void fields_free(fields *f) {
    for (size_t i = 0; i < f->n; i++)
        sj_layout_unref(f->v[i].l);
    free(f->v);
    sj_name_index_free(&f->names);
}

static const char *field_name_at(const void *list, size_t i) {
    return sj_layout_name(((const fields *)list)->v[i].l);
}

/* Whether a field of f is named `name`: through the index once the list is long. */
static bool fields_have(fields *f, const char *name) {
    if (!f->no_index && !sj_name_index_ready(&f->names) && f->n > SJ_NAME_INDEX_MIN)
        for (size_t i = 0; i < f->n && !f->no_index; i++)
            f->no_index = sj_name_index_add(&f->names, field_name_at, f, i) == SIZE_MAX - 1;
    if (sj_name_index_ready(&f->names))
        return sj_name_index_find(&f->names, field_name_at, f, name) != SIZE_MAX;
    for (size_t i = 0; i < f->n; i++) {
        const char *other = field_name_at(f, i);
        if (other && strcmp(other, name) == 0) return true;
    }
    return false;
}

static sj_status parse_dspec(cparser *p, dspec *d);

/* `( N )` at the current token, N a power of two; the largest of *align and N kept. */
static sj_status parse_align_arg(cparser *p, const char *what, int64_t *align, size_t *pos) {
    sj_status st;
    if (!is_punct(p, '(')) return expected(p, "'(' after '%s'", what);
    if ((st = next(p)) != SJ_OK) return st;
    if (p->tok.kind != TK_NUM) return expected(p, "an alignment in %s(...)", what);
    size_t num_pos = p->tok.pos;
    int64_t a = (int64_t)p->tok.num;
    if (!sj_is_pow2((uint64_t)a) || a > CDECL_MAX_ALIGN)
        return fail_at(p, num_pos, SJ_E_ARG, "%s(%" PRId64 "): not a power of two up to 2^62", what,
                       a);
    if ((st = next(p)) != SJ_OK) return st;
    if (!is_punct(p, ')')) return expected(p, "')' after %s(%" PRId64, what, a);
    if ((st = next(p)) != SJ_OK) return st;
    if (a > *align) {
        *align = a;
        *pos = num_pos;
    }
    return SJ_OK;
}

/* `__attribute__((packed, aligned(N)))`, any number of them; packed is refused where
 * packed is NULL. */
static sj_status parse_attributes(cparser *p, bool *packed, int64_t *align, size_t *align_pos) {
    sj_status st;
    while (is_word(p, "__attribute__")) {
        if ((st = next(p)) != SJ_OK) return st;
        for (int i = 0; i < 2; i++) {
            if (!is_punct(p, '(')) return expected(p, "'(' after '__attribute__'");
            if ((st = next(p)) != SJ_OK) return st;
        }
        while (!is_punct(p, ')')) {
            if (p->tok.kind != TK_IDENT) return expected(p, "an attribute");
            if ((is_word(p, "packed") || is_word(p, "__packed__")) && packed) {
                *packed = true;
                if ((st = next(p)) != SJ_OK) return st;
            } else if (is_word(p, "aligned") || is_word(p, "__aligned__")) {
                if ((st = next(p)) != SJ_OK) return st;
                if ((st = parse_align_arg(p, "aligned", align, align_pos)) != SJ_OK) return st;
            } else {
                return fail_at(p, p->tok.pos, SJ_E_PARSE, "unsupported attribute '%.*s'",
                               (int)p->tok.len, p->text + p->tok.pos);
            }
            if (!is_punct(p, ',')) break;
            if ((st = next(p)) != SJ_OK) return st;
        }
        for (int i = 0; i < 2; i++) {
            if (!is_punct(p, ')')) return expected(p, "')' to close '__attribute__'");
            if ((st = next(p)) != SJ_OK) return st;
        }
    }
    return SJ_OK;
}

/* `[N]...` after a declarator name into dims. */
static sj_status parse_dims(cparser *p, int64_t *dims, size_t *ndims) {
    sj_status st;
    *ndims = 0;
    while (is_punct(p, '[')) {
        if (*ndims == CDECL_MAX_DIMS)
            return fail_at(p, p->tok.pos, SJ_E_PARSE, "more than %d array dimensions",
                           CDECL_MAX_DIMS);
        if ((st = next(p)) != SJ_OK) return st;
        if (p->tok.kind != TK_NUM) return expected(p, "an array size");
        dims[(*ndims)++] = (int64_t)p->tok.num;
        if ((st = next(p)) != SJ_OK) return st;
        if (!is_punct(p, ']')) return expected(p, "']' after the array size");
        if ((st = next(p)) != SJ_OK) return st;
    }
    return SJ_OK;
}

/* The layout of one declarator: pointer, byte order, arrays, name (NULL: none). */
static sj_status build_declarator(cparser *p, const dspec *d, bool pointer, const int64_t *dims,
                                  size_t ndims, const char *name, size_t pos, sj_layout **out) {
    sj_error inner;
    sj_status st;
    sj_layout *l = NULL;
    int tn = (int)(d->type_end - d->type_pos);
    const char *ts = p->text + d->type_pos;
    if (pointer) {
        if ((st = value_layout(p, pos, SJ_ADDR, &l)) != SJ_OK) return st;
    } else if (d->is_void) {
        return fail_at(p, d->type_pos, SJ_E_PARSE, "'void' is only allowed as 'void *'");
    } else if (!d->layout) {
        return fail_at(p, d->type_pos, SJ_E_PARSE, "unknown type '%.*s'", tn, ts);
    } else {
        l = sj_layout_ref(d->layout);
    }
    if (d->order != SJ_ORDER_NATIVE) {
        sj_layout *o;
        st = set_order(l, d->order, &o, &inner);
        sj_layout_unref(l);
        if (st == SJ_E_ARG)
            return fail_at(p, d->order_pos, SJ_E_PARSE,
                           "byte order applies to scalar fields, not to '%.*s'", tn, ts);
        if (st != SJ_OK) return fail_ctor(p, d->order_pos, st, &inner);
        l = o;
    }
    /* `char name[N]` is text: its element is named "char" (the tool prints it as a string;
     * the canonical form keeps the mark as `[N:b1(char)]`). */
    if (d->is_char && ndims > 0 && !pointer && (st = rename_layout(&l, "char", &inner)) != SJ_OK)
        return fail_ctor(p, pos, st, &inner);
    for (size_t i = ndims; i-- > 0;) {
        sj_layout *seq;
        st = sj_layout_sequence(dims[i], l, &seq, &inner);
        sj_layout_unref(l);
        if (st != SJ_OK) return fail_ctor(p, pos, st, &inner);
        l = seq;
    }
    if ((st = rename_layout(&l, name, &inner)) != SJ_OK) return fail_ctor(p, pos, st, &inner);
    *out = l;
    return SJ_OK;
}

static sj_status push_field(cparser *p, fields *f, field x) {
    if (f->n == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 8;
        field *v = realloc(f->v, cap * sizeof *v);
        if (!v) {
            sj_layout_unref(x.l);
            return fail_at(p, x.pos, SJ_E_NOMEM, "out of memory reading a field");
        }
        f->v = v;
        f->cap = cap;
    }
    f->v[f->n++] = x;
    if (sj_name_index_ready(&f->names))
        f->no_index = sj_name_index_add(&f->names, field_name_at, f, f->n - 1) == SIZE_MAX - 1;
    return SJ_OK;
}

/* One declaration inside braces: `[be|le] TYPE decl [, decl]... ;`. */
static sj_status parse_field(cparser *p, fields *f) {
    dspec d;
    sj_status st = parse_dspec(p, &d);
    if (st != SJ_OK) return st;
    if (is_punct(p, ';') && d.is_enum_def) { /* `enum e { A, B };`: constants, no field */
        sj_layout_unref(d.layout);
        return next(p);
    }
    if (is_punct(p, ';')) {
        if (!d.defined) {
            st = expected(p, "a field name");
        } else if (!d.tagged) { /* C11 anonymous struct or union member */
            if (d.order != SJ_ORDER_NATIVE) {
                st = fail_at(p, d.order_pos, SJ_E_PARSE,
                             "byte order applies to scalar fields, not to a struct");
            } else {
                st = push_field(
                    p, f,
                    (field){sj_layout_ref(d.layout), d.align, d.align_pos, false, d.type_pos});
            }
        } /* else: `struct tag {...};` declares the tag only, as in C */
        if (st == SJ_OK) st = next(p);
        sj_layout_unref(d.layout);
        return st;
    }
    for (;;) {
        bool pointer = false;
        while (is_punct(p, '*') || is_qualifier(p)) {
            if (is_punct(p, '*')) pointer = true;
            if ((st = next(p)) != SJ_OK) goto done;
        }
        if (p->tok.kind != TK_IDENT ||
            word_in(&p->tok, p->text, c_type_words, COUNT(c_type_words)) ||
            word_in(&p->tok, p->text, keywords, COUNT(keywords))) {
            st = expected(p, "a field name");
            goto done;
        }
        token name_tok = p->tok;
        char name[256];
        if (name_tok.len >= sizeof name) {
            st = fail_at(p, name_tok.pos, SJ_E_PARSE, "field name longer than %zu characters",
                         sizeof name - 1);
            goto done;
        }
        memcpy(name, p->text + name_tok.pos, name_tok.len);
        name[name_tok.len] = 0;
        if ((st = next(p)) != SJ_OK) goto done;
        int64_t dims[CDECL_MAX_DIMS];
        size_t ndims;
        if ((st = parse_dims(p, dims, &ndims)) != SJ_OK) goto done;
        field x = {.align = d.align, .align_pos = d.align_pos, .pos = name_tok.pos};
        for (;;) {
            if (is_word(p, "align")) {
                if ((st = next(p)) != SJ_OK) goto done;
                st = parse_align_arg(p, "align", &x.align, &x.align_pos);
            } else if (is_word(p, "__attribute__")) {
                st = parse_attributes(p, &x.packed, &x.align, &x.align_pos);
            } else {
                break;
            }
            if (st != SJ_OK) goto done;
        }
        if (is_punct(p, ':')) {
            st = fail_at(p, p->tok.pos, SJ_E_PARSE, "bit-fields are not supported (field '%s')",
                         name);
            goto done;
        }
        if (fields_have(f, name)) {
            st = fail_at(p, name_tok.pos, SJ_E_PARSE, "duplicate field '%s'", name);
            goto done;
        }
        st = build_declarator(p, &d, pointer, dims, ndims, name, name_tok.pos, &x.l);
        if (st != SJ_OK) goto done;
        if ((st = push_field(p, f, x)) != SJ_OK) goto done;
        if (is_punct(p, ',')) {
            if ((st = next(p)) != SJ_OK) goto done;
            continue;
        }
        if (!is_punct(p, ';')) {
            st = expected(p, "';' after field '%s'", name);
            goto done;
        }
        st = next(p);
        goto done;
    }
done:
    sj_layout_unref(d.layout);
    return st;
}

/* Lays out the fields by C rules: each at the next multiple of its alignment, padding
 * layouts in the gaps, tail padding to the struct's alignment. A union has every field at
 * offset 0 and, when its largest size is not a multiple of its alignment, one more padding
 * member of the rounded size. group_align (0: none) raises the alignment. */
static sj_status build_group(cparser *p, fields *f, bool is_union, bool packed, int64_t group_align,
                             size_t group_align_pos, size_t pos, const char *tag, sj_layout **out) {
    sj_error inner;
    sj_status st = SJ_OK;
    const char *what = is_union ? "union" : "struct";
    sj_layout **m = calloc(2 * f->n + 1, sizeof *m);
    if (!m) return fail_at(p, pos, SJ_E_NOMEM, "out of memory building a %s", what);
    size_t n = 0;
    uint64_t size = 0, align = 1;
    sj_layout *r = NULL;
    for (size_t i = 0; i < f->n; i++) {
        const field *x = &f->v[i];
        sj_layout *l = NULL;
        bool pk = packed || x->packed;
        if (pk) {
            if ((st = pack1(x->l, &l, &inner)) != SJ_OK) {
                st = fail_ctor(p, x->pos, st, &inner);
                goto done;
            }
        } else {
            l = sj_layout_ref(x->l);
        }
        if (x->align) {
            const char *fname = sj_layout_name(l);
            if (!pk && (uint64_t)x->align < sj_layout_align(l)) {
                st = fail_at(p, x->align_pos, SJ_E_ARG,
                             "align(%" PRId64 ") is less than the natural alignment %" PRIu64
                             " of field '%s'",
                             x->align, sj_layout_align(l), fname ? fname : "(anonymous)");
                sj_layout_unref(l);
                goto done;
            }
            if ((st = realign_layout(&l, (uint64_t)x->align, &inner)) != SJ_OK) {
                st = fail_ctor(p, x->align_pos, st, &inner);
                goto done;
            }
        }
        uint64_t a = sj_layout_align(l);
        if (a > align) align = a;
        if (is_union) {
            if (sj_layout_size(l) > size) size = sj_layout_size(l);
        } else {
            uint64_t pad = (a - size % a) % a;
            if (pad) {
                if ((st = sj_layout_padding((int64_t)pad, &m[n], &inner)) != SJ_OK) {
                    sj_layout_unref(l);
                    st = fail_ctor(p, x->pos, st, &inner);
                    goto done;
                }
                n++;
                size += pad;
            }
            size += sj_layout_size(l);
            if (size > (uint64_t)INT64_MAX) {
                sj_layout_unref(l);
                st = fail_at(p, x->pos, SJ_E_OVERFLOW, "%s size exceeds 2^63-1 bytes at field '%s'",
                             what, sj_layout_name(x->l) ? sj_layout_name(x->l) : "(anonymous)");
                goto done;
            }
        }
        m[n++] = l;
    }
    if (group_align) {
        if ((uint64_t)group_align < align) {
            st = fail_at(p, group_align_pos, SJ_E_ARG,
                         "align(%" PRId64 ") is less than the natural alignment %" PRIu64
                         " of %s%s%s",
                         group_align, align, what, tag ? " " : "", tag ? tag : "");
            goto done;
        }
        align = (uint64_t)group_align;
    }
    uint64_t rounded = (size + align - 1) / align * align;
    if (rounded > (uint64_t)INT64_MAX) {
        st = fail_at(p, pos, SJ_E_OVERFLOW, "%s size exceeds 2^63-1 bytes", what);
        goto done;
    }
    if (rounded != size) {
        int64_t pad = (int64_t)(is_union ? rounded : rounded - size);
        if ((st = sj_layout_padding(pad, &m[n], &inner)) != SJ_OK) {
            st = fail_ctor(p, pos, st, &inner);
            goto done;
        }
        n++;
    }
    const sj_layout *const *cm = (const sj_layout *const *)m;
    st = is_union ? sj_layout_union(cm, n, &r, &inner) : sj_layout_struct(cm, n, &r, &inner);
    if (st == SJ_OK) st = realign_layout(&r, align, &inner);
    if (st == SJ_OK) st = rename_layout(&r, tag, &inner);
    if (st != SJ_OK) {
        st = fail_ctor(p, pos, st, &inner);
        goto done;
    }
    *out = r;
done:
    for (size_t i = 0; i < n; i++)
        sj_layout_unref(m[i]);
    free(m);
    return st;
}

/* `{ fields } [attributes] [align(N)]` at the current token. */
static sj_status parse_body(cparser *p, bool is_union, bool packed, int64_t align, size_t align_pos,
                            const char *tag, sj_layout **out) {
    size_t open = p->tok.pos;
    if (p->depth >= CDECL_MAX_DEPTH)
        return fail_at(p, open, SJ_E_PARSE, "structs nested deeper than %d levels",
                       CDECL_MAX_DEPTH);
    p->depth++;
    fields f = {0};
    sj_status st = next(p);
    while (st == SJ_OK && !is_punct(p, '}')) {
        if (p->tok.kind == TK_END)
            st = expected(p, "a field or '}'");
        else
            st = parse_field(p, &f);
    }
    if (st == SJ_OK) st = next(p);
    for (;;) {
        if (st != SJ_OK) break;
        if (is_word(p, "__attribute__")) {
            st = parse_attributes(p, &packed, &align, &align_pos);
        } else if (is_word(p, "align")) {
            if ((st = next(p)) == SJ_OK) st = parse_align_arg(p, "align", &align, &align_pos);
        } else {
            break;
        }
    }
    if (st == SJ_OK) st = build_group(p, &f, is_union, packed, align, align_pos, open, tag, out);
    fields_free(&f);
    p->depth--;
    return st;
}

/* `[packed] struct|union [attributes] [TAG] [attributes] [{ body }]` at the current token. */
static sj_status parse_struct_spec(cparser *p, dspec *d) {
    sj_status st;
    bool packed = false;
    if (is_word(p, "packed")) {
        packed = true;
        if ((st = next(p)) != SJ_OK) return st;
        if (!is_word(p, "struct") && !is_word(p, "union"))
            return expected(p, "'struct' or 'union' after 'packed'");
    }
    bool is_union = is_word(p, "union");
    const char *what = is_union ? "union" : "struct";
    if ((st = next(p)) != SJ_OK) return st;
    int64_t align = 0;
    size_t align_pos = 0;
    bool has_attr = is_word(p, "__attribute__");
    if ((st = parse_attributes(p, &packed, &align, &align_pos)) != SJ_OK) return st;
    token tag = {0};
    bool tagged = false;
    char tag_name[256];
    if (p->tok.kind == TK_IDENT && !is_word(p, "__attribute__")) {
        tag = p->tok;
        tagged = true;
        if (tag.len >= sizeof tag_name)
            return fail_at(p, tag.pos, SJ_E_PARSE, "type name longer than %zu characters",
                           sizeof tag_name - 1);
        memcpy(tag_name, p->text + tag.pos, tag.len);
        tag_name[tag.len] = 0;
        if ((st = next(p)) != SJ_OK) return st;
        has_attr = has_attr || is_word(p, "__attribute__");
        if ((st = parse_attributes(p, &packed, &align, &align_pos)) != SJ_OK) return st;
    }
    if (is_punct(p, '{')) {
        if (tagged && lookup(p, &tag))
            return fail_at(p, tag.pos, SJ_E_PARSE, "type '%s' is already declared", tag_name);
        if (tagged && is_reserved_type_name(&tag, p->text))
            return fail_at(p, tag.pos, SJ_E_PARSE, "'%s' is a reserved word, not a type name",
                           tag_name);
        sj_layout *l = NULL;
        st = parse_body(p, is_union, packed, align, align_pos, tagged ? tag_name : NULL, &l);
        if (st != SJ_OK) return st;
        if (tagged && (st = add_type(p, &tag, l, is_union ? E_UNION : E_STRUCT)) != SJ_OK) {
            sj_layout_unref(l);
            return st;
        }
        d->layout = l;
        d->defined = true;
        d->tagged = tagged;
        return SJ_OK;
    }
    if (!tagged) return expected(p, "a name or '{' after '%s'", what);
    if (packed || has_attr) return expected(p, "'{' after '%s %s'", what, tag_name);
    type_entry *e = lookup(p, &tag);
    if (e) {
        if (e->kind != (is_union ? E_UNION : E_STRUCT))
            return fail_at(p, tag.pos, SJ_E_PARSE, "'%s' is a %s, not a %s", tag_name,
                           entry_word(e->kind), what);
        d->layout = sj_layout_ref(e->layout);
    } /* else an undeclared tag: fine behind a pointer, an error anywhere else */
    return SJ_OK;
}

/* `signed`, `unsigned long long int`, `void`, ... at the current token. */
static sj_status parse_c_type(cparser *p, dspec *d) {
    enum { SIGNED, UNSIGNED, CHAR, SHORT, INT, LONG, FLOAT, DOUBLE, VOID, BOOL, NWORDS };
    unsigned count[NWORDS] = {0};
    sj_status st;
    while (is_c_type_word(p) || is_qualifier(p)) {
        for (int w = 0; w < NWORDS; w++)
            if (is_word(p, c_type_words[w])) count[w]++;
        if (is_word(p, "bool")) count[BOOL]++; /* `_Bool` and `bool` are one word */
        if ((st = next(p)) != SJ_OK) return st;
    }
    d->type_end = p->prev_end;
    int tn = (int)(d->type_end - d->type_pos);
    const char *ts = p->text + d->type_pos;
    unsigned sign = count[SIGNED] + count[UNSIGNED];
    unsigned others = count[CHAR] + count[SHORT] + count[INT] + count[LONG] + count[FLOAT] +
                      count[DOUBLE] + count[VOID] + count[BOOL];
    bool u = count[UNSIGNED] > 0;
    sj_kind kind;
    if (count[DOUBLE] == 1 && count[LONG] == 1 && others == 2 && sign == 0)
        return fail_at(p, d->type_pos, SJ_E_PARSE, "unsupported type '%.*s'", tn, ts);
    if (sign > 1) goto invalid;
    if (count[VOID] || count[BOOL] || count[FLOAT] || count[DOUBLE]) {
        if (others != 1 || sign) goto invalid;
        if (count[VOID]) {
            d->is_void = true;
            return SJ_OK;
        }
        kind = count[BOOL] ? SJ_BOOL : count[FLOAT] ? SJ_F32 : SJ_F64;
    } else if (count[CHAR]) {
        if (others != 1) goto invalid;
        kind = u ? SJ_U8 : SJ_I8;
        d->is_char = sign == 0;
    } else if (count[SHORT]) {
        if (count[SHORT] > 1 || count[LONG] || count[INT] > 1) goto invalid;
        kind = u ? SJ_U16 : SJ_I16;
    } else if (count[LONG]) {
        if (count[LONG] > 2 || count[INT] > 1) goto invalid;
        kind = u ? SJ_U64 : SJ_I64;
    } else {
        if (count[INT] > 1 || (count[INT] == 0 && sign == 0)) goto invalid;
        kind = u ? SJ_U32 : SJ_I32;
    }
    return value_layout(p, d->type_pos, kind, &d->layout);
invalid:
    return fail_at(p, d->type_pos, SJ_E_PARSE, "invalid type '%.*s'", tn, ts);
}

/* `enum [tag] [{ A, B = 2, ... }]` at the current token: the enumeration's integer, `int`
 * (i32, as x86-64 Linux compilers give an enum whose values fit int). The enumerators are
 * not kept; only their braces are matched. */
static sj_status parse_enum(cparser *p, dspec *d) {
    size_t pos = p->tok.pos;
    sj_status st = next(p);
    if (st != SJ_OK) return st;
    bool tagged = p->tok.kind == TK_IDENT && !is_punct(p, '{');
    if (tagged && (st = next(p)) != SJ_OK) return st;
    if (is_punct(p, '{')) {
        size_t open = p->tok.pos;
        if ((st = next(p)) != SJ_OK) return st;
        while (!is_punct(p, '}')) {
            if (p->tok.kind == TK_END)
                return fail_at(p, open, SJ_E_PARSE, "'{' of the enum is not closed");
            if (is_punct(p, '{') || is_punct(p, ';')) return expected(p, "an enumerator or '}'");
            if ((st = next(p)) != SJ_OK) return st;
        }
        if ((st = next(p)) != SJ_OK) return st;
        d->is_enum_def = true;
    } else if (!tagged) {
        return expected(p, "a name or '{' after 'enum'");
    }
    d->type_end = p->prev_end;
    return value_layout(p, pos, SJ_I32, &d->layout);
}

/* Qualifiers (be, le, const, volatile, alignas(N)) and a type, at the current token. */
static sj_status parse_dspec(cparser *p, dspec *d) {
    sj_status st;
    *d = (dspec){.order = SJ_ORDER_NATIVE};
    for (;;) {
        if (is_word(p, "be") || is_word(p, "le")) {
            if (d->order != SJ_ORDER_NATIVE)
                return fail_at(p, p->tok.pos, SJ_E_PARSE, "byte order given twice");
            d->order = is_word(p, "be") ? SJ_ORDER_BIG : SJ_ORDER_LITTLE;
            d->order_pos = p->tok.pos;
            if ((st = next(p)) != SJ_OK) return st;
        } else if (is_qualifier(p)) {
            if ((st = next(p)) != SJ_OK) return st;
        } else if (is_word(p, "alignas") || is_word(p, "_Alignas")) {
            if ((st = next(p)) != SJ_OK) return st;
            if ((st = parse_align_arg(p, "alignas", &d->align, &d->align_pos)) != SJ_OK) return st;
        } else {
            break;
        }
    }
    d->type_pos = p->tok.pos;
    if (is_word(p, "packed") || is_word(p, "struct") || is_word(p, "union")) {
        st = parse_struct_spec(p, d);
    } else if (is_c_type_word(p)) {
        st = parse_c_type(p, d);
    } else if (p->tok.kind == TK_IDENT) {
        int b = builtin_index(p);
        type_entry *e = b < 0 ? lookup(p, &p->tok) : NULL;
        if (b >= 0) {
            st = value_layout(p, p->tok.pos, builtins[b].kind, &d->layout);
        } else if (e) {
            d->layout = sj_layout_ref(e->layout);
            st = SJ_OK;
        } else if (is_word(p, "enum")) {
            st = parse_enum(p, d);
            if (st == SJ_OK && d->type_end == 0) d->type_end = p->prev_end;
            return st;
        } else {
            return fail_at(p, p->tok.pos, SJ_E_PARSE, "unknown type '%.*s'", (int)p->tok.len,
                           p->text + p->tok.pos);
        }
        if (st == SJ_OK) st = next(p);
    } else {
        return expected(p, "a type");
    }
    if (st == SJ_OK && d->type_end == 0) d->type_end = p->prev_end;
    while (st == SJ_OK && is_qualifier(p))
        st = next(p);
    if (st != SJ_OK) {
        sj_layout_unref(d->layout);
        d->layout = NULL;
    }
    return st;
}

/* `typedef TYPE decl [, decl]... ;` at the current token. A struct or union defined here
 * without a tag takes the typedef's name. *last becomes the struct or union defined here. */
static sj_status parse_typedef(cparser *p, sj_layout **last) {
    dspec d;
    sj_status st = next(p);
    if (st != SJ_OK) return st;
    if ((st = parse_dspec(p, &d)) != SJ_OK) return st;
    for (;;) {
        bool pointer = false;
        while (is_punct(p, '*') || is_qualifier(p)) {
            if (is_punct(p, '*')) pointer = true;
            if ((st = next(p)) != SJ_OK) goto done;
        }
        if (p->tok.kind != TK_IDENT) {
            st = expected(p, "a type name");
            goto done;
        }
        token name_tok = p->tok;
        char name[256];
        if (name_tok.len >= sizeof name) {
            st = fail_at(p, name_tok.pos, SJ_E_PARSE, "type name longer than %zu characters",
                         sizeof name - 1);
            goto done;
        }
        memcpy(name, p->text + name_tok.pos, name_tok.len);
        name[name_tok.len] = 0;
        if ((st = next(p)) != SJ_OK) goto done;
        int64_t dims[CDECL_MAX_DIMS];
        size_t ndims;
        if ((st = parse_dims(p, dims, &ndims)) != SJ_OK) goto done;
        bool plain = !pointer && ndims == 0;
        const char *lname = plain && d.defined && !d.tagged ? name : NULL;
        sj_layout *l = NULL;
        st = build_declarator(p, &d, pointer, dims, ndims, lname, name_tok.pos, &l);
        if (st != SJ_OK) goto done;
        st = add_type(p, &name_tok, l, E_TYPEDEF);
        if (st == SJ_OK && d.defined && plain) {
            sj_layout_unref(*last);
            *last = sj_layout_ref(l);
        }
        sj_layout_unref(l);
        if (st != SJ_OK) goto done;
        if (is_punct(p, ',')) {
            if ((st = next(p)) != SJ_OK) goto done;
            continue;
        }
        if (!is_punct(p, ';')) {
            st = expected(p, "';' after typedef '%s'", name);
            goto done;
        }
        st = next(p);
        break;
    }
done:
    sj_layout_unref(d.layout);
    return st;
}

/* Declarations, then optionally one final type: the result is that type, else the last
 * struct or union declared. */
static sj_status parse_text(cparser *p, sj_layout **out) {
    sj_layout *last = NULL, *result = NULL;
    sj_status st = next(p);
    while (st == SJ_OK && p->tok.kind != TK_END) {
        if (is_punct(p, ';')) {
            st = next(p);
            continue;
        }
        if (is_word(p, "typedef")) {
            st = parse_typedef(p, &last);
            continue;
        }
        dspec d;
        if ((st = parse_dspec(p, &d)) != SJ_OK) break;
        if (d.defined) {
            if (d.order != SJ_ORDER_NATIVE)
                st = fail_at(p, d.order_pos, SJ_E_PARSE,
                             "byte order applies to scalar fields, not to a struct");
            else if (d.align)
                st = fail_at(p, d.align_pos, SJ_E_PARSE, "alignas applies to fields");
            if (st == SJ_OK) {
                sj_layout_unref(last);
                last = sj_layout_ref(d.layout);
            }
            sj_layout_unref(d.layout);
            continue;
        }
        if (d.is_enum_def && is_punct(p, ';')) { /* `enum e { A, B };` declares constants */
            sj_layout_unref(d.layout);
            st = next(p);
            continue;
        }
        if (!d.layout && !d.is_void && is_punct(p, ';')) { /* `struct node;` */
            st = next(p);
            continue;
        }
        /* The final type. */
        int64_t dims[CDECL_MAX_DIMS];
        size_t ndims = 0;
        bool pointer = false; /* `void *`, `char *const`: an address */
        if (d.align) st = fail_at(p, d.align_pos, SJ_E_PARSE, "alignas applies to fields");
        while (st == SJ_OK && (is_punct(p, '*') || is_qualifier(p))) {
            if (is_punct(p, '*')) pointer = true;
            st = next(p);
        }
        if (st == SJ_OK) st = parse_dims(p, dims, &ndims);
        if (st == SJ_OK)
            st = build_declarator(p, &d, pointer, dims, ndims, NULL, d.type_pos, &result);
        sj_layout_unref(d.layout);
        if (st == SJ_OK && is_punct(p, ';')) st = next(p);
        if (st == SJ_OK && p->tok.kind != TK_END) {
            int tn = (int)(p->prev_end - d.type_pos);
            st = expected(p, "end of text after the final type '%.*s'", tn > 60 ? 60 : tn,
                          p->text + d.type_pos);
        }
        break;
    }
    if (st == SJ_OK && !result && !last) st = expected(p, "a declaration or a type");
    if (st != SJ_OK) {
        sj_layout_unref(result);
        sj_layout_unref(last);
        return st;
    }
    if (result) {
        sj_layout_unref(last);
        *out = result;
    } else {
        *out = last;
    }
    return SJ_OK;
}

sj_status sj_layout_parse_c(const char *text, sj_layout **out, sj_error *err) {
    if (!text || !out) return sj_fail(err, SJ_E_ARG, "parse_c: NULL argument");
    cparser p = {.text = text, .err = err};
    sj_status st = parse_text(&p, out);
    types_free(&p);
    return st;
}
