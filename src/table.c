/* src/table.c: sj_layout_table, the pahole-style table of a layout (offset, size, alignment,
 * name, type, holes). Rows are collected first, then printed with column widths fitted to
 * them. The canonical text form is in text.c; nothing here parses. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Longest type text in the type column; longer ones end in "...". */
#define TABLE_TYPE_MAX 40
/* Widest name column; longer names push the type column out on their row only. */
#define TABLE_NAME_MAX 32

typedef struct row {
    uint64_t off, size, align;
    bool is_note; /* a hole or padding note: no alignment, text in the name column */
    char *name;   /* indented name, `#k` when unnamed; or the note */
    char *type;   /* NULL for notes */
} row;

typedef struct table {
    row *v;
    size_t n, cap;
    bool failed;
} table;

static void table_free(table *t) {
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i].name);
        free(t->v[i].type);
    }
    free(t->v);
}

static void push_row(table *t, row r) {
    if (!t->failed && t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 16;
        row *v = realloc(t->v, cap * sizeof *v);
        if (v) {
            t->v = v;
            t->cap = cap;
        } else {
            t->failed = true;
        }
    }
    if (t->failed || !r.name || (!r.is_note && !r.type)) {
        t->failed = true;
        free(r.name);
        free(r.type);
        return;
    }
    t->v[t->n++] = r;
}

/* Text with control characters shown as \xNN so that a row stays one line. */
static void put_name(sj_buf *b, const char *name) {
    for (const unsigned char *s = (const unsigned char *)name; *s; s++) {
        if (*s < 0x20 || *s == 0x7f)
            sj_buf_printf(b, "\\x%02x", *s);
        else
            sj_buf_putc(b, (char)*s);
    }
}

static char *finish_str(sj_buf *b) {
    char *s = NULL;
    if (sj_buf_finish(b, &s, NULL) != SJ_OK) return NULL;
    return s;
}

/* Canonical text of l without its own name (the name has its column), control characters
 * escaped, cut to TABLE_TYPE_MAX bytes on a UTF-8 boundary. */
static char *type_text(const sj_layout *l) {
    /* escaping only lengthens: a prefix past TABLE_TYPE_MAX decides the cut */
    char *raw = sj_layout_text_prefix(l, false, TABLE_TYPE_MAX);
    if (!raw) return NULL;
    sj_buf b = {0};
    put_name(&b, raw);
    free(raw);
    char *s = finish_str(&b);
    if (!s) return NULL;
    size_t n = strlen(s);
    if (n > TABLE_TYPE_MAX) {
        size_t cut = TABLE_TYPE_MAX - 3;
        while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
            cut--;
        memcpy(s + cut, "...", 4);
    }
    return s;
}

static char *member_name(const sj_layout *m, size_t index, unsigned depth) {
    sj_buf b = {0};
    for (unsigned i = 0; i < depth; i++)
        sj_buf_puts(&b, "  ");
    if (sj_layout_name(m))
        put_name(&b, sj_layout_name(m));
    else
        sj_buf_printf(&b, "#%zu", index);
    return finish_str(&b);
}

static char *note(unsigned depth, uint64_t size, const char *what) {
    sj_buf b = {0};
    for (unsigned i = 0; i < depth; i++)
        sj_buf_puts(&b, "  ");
    sj_buf_printf(&b, "/* XXX %" PRIu64 " byte%s %s */", size, size == 1 ? "" : "s", what);
    return finish_str(&b);
}

/* Rows for the members of group g placed at base; nested groups expand beneath theirs. */
static void group_rows(table *t, const sj_layout *g, uint64_t base, unsigned depth) {
    bool is_union = sj_layout_tag(g) == SJ_UNION;
    for (size_t i = 0; i < sj_layout_member_count(g); i++) {
        const sj_layout *m = sj_layout_member(g, i);
        uint64_t off = base + sj_layout_member_offset(g, i);
        sj_tag tag = sj_layout_tag(m);
        if (tag == SJ_PADDING && !sj_layout_name(m)) {
            push_row(t, (row){off, sj_layout_size(m), 0, true,
                              note(depth, sj_layout_size(m), is_union ? "padding" : "hole"), NULL});
            continue;
        }
        bool group = tag == SJ_STRUCT || tag == SJ_UNION;
        char *type = NULL;
        if (group) {
            sj_buf b = {0};
            if (sj_layout_align(m) != sj_layout_natural_align(m))
                sj_buf_printf(&b, "%" PRIu64 "%%", sj_layout_align(m));
            sj_buf_puts(&b, tag == SJ_STRUCT ? "struct" : "union");
            type = finish_str(&b);
        } else {
            type = type_text(m);
        }
        push_row(t, (row){off, sj_layout_size(m), sj_layout_align(m), false,
                          member_name(m, i, depth), type});
        if (group) group_rows(t, m, off, depth + 1);
    }
}

static unsigned digits(uint64_t v) {
    unsigned n = 1;
    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

static void trim_line(sj_buf *b) {
    while (b->len > 0 && !b->failed && b->data[b->len - 1] == ' ')
        b->data[--b->len] = 0;
    sj_buf_putc(b, '\n');
}

static void print_rows(sj_buf *b, const table *t) {
    unsigned wo = 6, ws = 4, wa = 5, wn = 4;
    for (size_t i = 0; i < t->n; i++) {
        const row *r = &t->v[i];
        if (digits(r->off) > wo) wo = digits(r->off);
        if (digits(r->size) > ws) ws = digits(r->size);
        if (!r->is_note && digits(r->align) > wa) wa = digits(r->align);
        size_t nl = strlen(r->name);
        if (!r->is_note && nl > wn) wn = nl > TABLE_NAME_MAX ? TABLE_NAME_MAX : (unsigned)nl;
    }
    sj_buf_printf(b, "%*s  %*s  %*s  %-*s  type", (int)wo, "offset", (int)ws, "size", (int)wa,
                  "align", (int)wn, "name");
    trim_line(b);
    for (size_t i = 0; i < t->n; i++) {
        const row *r = &t->v[i];
        sj_buf_printf(b, "%*" PRIu64 "  %*" PRIu64 "  ", (int)wo, r->off, (int)ws, r->size);
        if (r->is_note)
            sj_buf_printf(b, "%*s  %s", (int)wa, "", r->name);
        else
            sj_buf_printf(b, "%*" PRIu64 "  %-*s  %s", (int)wa, r->align, (int)wn, r->name,
                          r->type);
        trim_line(b);
    }
}

/* `struct particle` / `union` / `sequence ps` ...: what the root is. */
static void put_title(sj_buf *b, const sj_layout *l) {
    sj_buf_puts(b, sj_tag_name(sj_layout_tag(l)));
    if (sj_layout_name(l)) {
        sj_buf_putc(b, ' ');
        put_name(b, sj_layout_name(l));
    }
}

static void put_footer(sj_buf *b, const char *prefix, const sj_layout *g) {
    size_t members = 0, holes = 0;
    uint64_t sum = 0;
    for (size_t i = 0; i < sj_layout_member_count(g); i++) {
        const sj_layout *m = sj_layout_member(g, i);
        if (sj_layout_tag(m) == SJ_PADDING && !sj_layout_name(m)) {
            holes++;
            sum += sj_layout_size(m);
        } else {
            members++;
        }
    }
    sj_buf_printf(b,
                  "%ssize: %" PRIu64 ", align: %" PRIu64
                  ", members: %zu, holes: %zu, sum holes: %" PRIu64 "\n",
                  prefix, sj_layout_size(g), sj_layout_align(g), members, holes, sum);
}

sj_status sj_layout_table(const sj_layout *l, char **out, sj_error *err) {
    if (!l || !out) return sj_fail(err, SJ_E_ARG, "table: NULL argument");
    sj_buf b = {0};
    table t = {0};
    sj_tag tag = sj_layout_tag(l);
    put_title(&b, l);
    if (tag == SJ_STRUCT || tag == SJ_UNION) {
        sj_buf_printf(&b, ": size %" PRIu64 ", align %" PRIu64 "\n", sj_layout_size(l),
                      sj_layout_align(l));
        group_rows(&t, l, 0, 0);
        print_rows(&b, &t);
        put_footer(&b, "", l);
    } else {
        char *type = type_text(l);
        if (!type) b.failed = true;
        sj_buf_printf(&b, ": %s, size %" PRIu64 ", align %" PRIu64 "\n", type ? type : "",
                      sj_layout_size(l), sj_layout_align(l));
        free(type);
        /* A sequence of groups: the element's members, offsets within one element. */
        const sj_layout *e = l;
        while (sj_layout_tag(e) == SJ_SEQUENCE)
            e = sj_layout_elem(e);
        if (e != l && (sj_layout_tag(e) == SJ_STRUCT || sj_layout_tag(e) == SJ_UNION)) {
            sj_buf_puts(&b, "element ");
            put_title(&b, e);
            sj_buf_putc(&b, '\n');
            group_rows(&t, e, 0, 0);
            print_rows(&b, &t);
            put_footer(&b, "element ", e);
        }
    }
    if (t.failed) b.failed = true;
    table_free(&t);
    if (b.failed) {
        free(b.data);
        return sj_fail(err, SJ_E_NOMEM, "out of memory printing a layout table");
    }
    return sj_buf_finish(&b, out, err);
}
