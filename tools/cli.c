/* tools/cli.c: helpers shared by the programs in tools/: reading text files and layout
 * arguments, listing the value fields of a layout, parsing sizes. Nothing here prints;
 * commands, options and output formats belong to tools/segjit.c and tools/segjit_gen.c. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkstemp, realpath, sigaction, O_CLOEXEC under -std=c11 */
#endif

#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

sj_status cli_fail(sj_error *err, sj_status st, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->status = st;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return st;
}

sj_status cli_read_text(const char *path, char **out, sj_error *err) {
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f) return cli_fail(err, SJ_E_ARG, "cannot open '%s': %s", path, strerror(errno));
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    sj_status st = SJ_OK;
    if (!buf) {
        st = cli_fail(err, SJ_E_NOMEM, "out of memory reading '%s'", path);
        goto done;
    }
    for (;;) {
        if (cap - len < 2) {
            char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
            if (!nb) {
                st = cli_fail(err, SJ_E_NOMEM, "out of memory reading '%s'", path);
                goto done;
            }
            buf = nb;
            cap *= 2;
        }
        size_t want = cap - len - 1;
        if (want > CLI_MAX_TEXT + 1 - len) want = CLI_MAX_TEXT + 1 - len;
        size_t got = fread(buf + len, 1, want, f);
        /* A NUL (a binary file, /dev/zero) is refused as soon as it is read. */
        const char *nul = memchr(buf + len, '\0', got);
        if (nul) {
            st = cli_fail(err, SJ_E_PARSE, "'%s' holds a NUL byte at offset %zu: not a text file",
                          path, (size_t)(nul - buf));
            goto done;
        }
        len += got;
        if (len > CLI_MAX_TEXT) {
            st = cli_fail(err, SJ_E_ARG, "'%s' is longer than %zu bytes, the limit for a text",
                          path, (size_t)CLI_MAX_TEXT);
            goto done;
        }
        if (got == 0) break;
    }
    if (ferror(f)) {
        st = cli_fail(err, SJ_E_ARG, "cannot read '%s': %s", path, strerror(errno));
        goto done;
    }
    buf[len] = '\0';
done:
    if (!is_stdin) fclose(f);
    if (st != SJ_OK) {
        free(buf);
        return st;
    }
    *out = buf;
    return SJ_OK;
}

/* Whether text starts like a canonical form: `[`, an alignment `A%`, or a carrier letter
 * with a size of 1, 2, 4 or 8 (`i4`, `uI4`, `x8`). */
static bool canonical_start(const char *t) {
    while (*t == ' ' || *t == '\t' || *t == '\n' || *t == '\r')
        t++;
    if (*t == '[' || (*t >= '0' && *t <= '9')) return true;
    if (*t == 'u' || *t == 'U') t++;
    if (!((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z'))) return false;
    t++;
    return (*t == '1' || *t == '2' || *t == '4' || *t == '8') && !(t[1] >= '0' && t[1] <= '9');
}

sj_status cli_load_layout(const char *arg, sj_layout **out, char **text, sj_error *err) {
    char *t = NULL;
    if (arg[0] == '@') {
        sj_status st = cli_read_text(arg + 1, &t, err);
        if (st != SJ_OK) return st;
    } else {
        t = strdup(arg);
        if (!t) return cli_fail(err, SJ_E_NOMEM, "out of memory");
    }
    sj_status st = sj_layout_parse_auto(t, out, err);
    /* A bare C type (`i32`, `double`, `be u32`, `enum e`) has no `;` or `{` for the
     * dispatch to see: read it as the description language when the canonical reading
     * fails. The canonical error stays when the text starts like a canonical form. */
    if (st == SJ_E_PARSE) {
        sj_error cerr = {0};
        sj_layout *c = NULL;
        if (sj_layout_parse_c(t, &c, &cerr) == SJ_OK) {
            *out = c;
            st = SJ_OK;
        } else if (!canonical_start(t) && cerr.status == SJ_E_PARSE && err) {
            *err = cerr;
        }
    }
    if (text)
        *text = t;
    else
        free(t);
    return st;
}

/* ---- Value fields of a layout ---- */

static sj_status push_leaf(cli_leaves *l, const char *path, uint64_t offset,
                           const sj_layout *layout, bool text, sj_error *err) {
    if (l->n >= CLI_MAX_LEAVES)
        return cli_fail(err, SJ_E_UNSUPPORTED, "layout has more than %zu value fields",
                        CLI_MAX_LEAVES);
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        cli_leaf *nv = realloc(l->v, cap * sizeof *nv);
        if (!nv) return cli_fail(err, SJ_E_NOMEM, "out of memory listing fields");
        l->v = nv;
        l->cap = cap;
    }
    char *p = strdup(path);
    if (!p) return cli_fail(err, SJ_E_NOMEM, "out of memory listing fields");
    l->v[l->n++] = (cli_leaf){p, offset, layout, text};
    return SJ_OK;
}

/* A path grows by appending to a buffer; each level restores the length it found. */
typedef struct path_buf {
    char *s;
    size_t len, cap;
} path_buf;

static bool path_append(path_buf *b, const char *fmt, ...) CLI_PRINTF(2, 3);
static bool path_append(path_buf *b, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) return false;
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return true;
        }
        size_t cap = b->cap * 2 + (size_t)n;
        char *ns = realloc(b->s, cap);
        if (!ns) return false;
        b->s = ns;
        b->cap = cap;
    }
}

/* `'name'` with `\'` and `\\` escaped, the path syntax for names that are not identifiers. */
static bool path_append_quoted(path_buf *b, const char *dot, const char *name) {
    if (!path_append(b, "%s'", dot)) return false;
    for (const char *c = name; *c; c++) {
        bool ok =
            (*c == '\'' || *c == '\\') ? path_append(b, "\\%c", *c) : path_append(b, "%c", *c);
        if (!ok) return false;
    }
    return path_append(b, "'");
}

/* Whether a member name can be written bare in a path (else it is quoted). */
static bool plain_name(const char *name) {
    if (!*name) return false;
    for (const char *c = name; *c; c++) {
        bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || *c == '_' || *c == '$';
        if (!ok) return false;
    }
    return true;
}

bool cli_is_text(const sj_layout *l) {
    if (sj_layout_tag(l) != SJ_SEQUENCE) return false;
    const sj_layout *e = sj_layout_elem(l);
    const char *name = sj_layout_name(e);
    return sj_layout_tag(e) == SJ_VALUE && sj_layout_size(e) == 1 &&
           (sj_layout_kind(e) == SJ_I8 || sj_layout_kind(e) == SJ_U8) && name &&
           strcmp(name, "char") == 0;
}

bool cli_name_taken(const sj_layout *l, size_t i, const char *name) {
    return sj_layout_member_index(l, name) < i;
}

static sj_status collect(const sj_layout *l, uint64_t offset, path_buf *pb, cli_leaves *out,
                         unsigned depth, bool text, sj_error *err) {
    if (depth > 512) return cli_fail(err, SJ_E_UNSUPPORTED, "layout nests too deeply to list");
    size_t mark = pb->len;
    sj_status st = SJ_OK;
    switch (sj_layout_tag(l)) {
        case SJ_PADDING:
            return SJ_OK;
        case SJ_VALUE:
            return push_leaf(out, pb->s, offset, l, false, err);
        case SJ_STRUCT:
        case SJ_UNION: {
            size_t n = sj_layout_member_count(l);
            for (size_t i = 0; i < n && st == SJ_OK; i++) {
                const sj_layout *m = sj_layout_member(l, i);
                if (sj_layout_tag(m) == SJ_PADDING) continue;
                const char *name = sj_layout_name(m);
                const char *dot = mark ? "." : "";
                if (name && cli_name_taken(l, i, name)) name = NULL;
                bool ok;
                if (name && plain_name(name))
                    ok = path_append(pb, "%s%s", dot, name);
                else if (name)
                    ok = path_append_quoted(pb, dot, name);
                else
                    ok = path_append(pb, "%s#%zu", dot, i);
                if (!ok) return cli_fail(err, SJ_E_NOMEM, "out of memory listing fields");
                st = collect(m, offset + sj_layout_member_offset(l, i), pb, out, depth + 1, text,
                             err);
                pb->len = mark;
                pb->s[mark] = '\0';
            }
            return st;
        }
        case SJ_SEQUENCE: {
            if (text && cli_is_text(l)) return push_leaf(out, pb->s, offset, l, true, err);
            const sj_layout *e = sj_layout_elem(l);
            uint64_t n = sj_layout_elem_count(l), es = sj_layout_size(e);
            for (uint64_t i = 0; i < n && st == SJ_OK; i++) {
                if (out->n >= CLI_MAX_LEAVES)
                    return cli_fail(err, SJ_E_UNSUPPORTED, "layout has more than %zu value fields",
                                    CLI_MAX_LEAVES);
                if (!path_append(pb, "[%" PRIu64 "]", i))
                    return cli_fail(err, SJ_E_NOMEM, "out of memory listing fields");
                st = collect(e, offset + i * es, pb, out, depth + 1, text, err);
                pb->len = mark;
                pb->s[mark] = '\0';
            }
            return st;
        }
    }
    return cli_fail(err, SJ_E_ARG, "layout has an unknown tag");
}

sj_status cli_leaves_add(const sj_layout *l, uint64_t offset, const char *prefix, bool text,
                         cli_leaves *out, sj_error *err) {
    size_t pl = strlen(prefix);
    path_buf pb = {malloc(pl + 64), pl, pl + 64};
    if (!pb.s) return cli_fail(err, SJ_E_NOMEM, "out of memory listing fields");
    memcpy(pb.s, prefix, pl + 1);
    sj_status st = collect(l, offset, &pb, out, 0, text, err);
    free(pb.s);
    return st;
}

sj_status cli_leaves_collect(const sj_layout *root, cli_leaves *out, sj_error *err) {
    cli_leaves l = {0};
    sj_status st = cli_leaves_add(root, 0, "", false, &l, err);
    if (st != SJ_OK) {
        cli_leaves_free(&l);
        return st;
    }
    *out = l;
    return SJ_OK;
}

void cli_leaves_free(cli_leaves *l) {
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].path);
    free(l->v);
    *l = (cli_leaves){0};
}

bool cli_parse_size(const char *text, int64_t *out) {
    if (!text || *text < '0' || *text > '9') return false;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno) return false;
    unsigned shift = 0;
    if (*end == 'K' || *end == 'k')
        shift = 10;
    else if (*end == 'M' || *end == 'm')
        shift = 20;
    else if (*end == 'G' || *end == 'g')
        shift = 30;
    if (shift) end++;
    if (*end != '\0') return false;
    if (v > ((unsigned long long)INT64_MAX >> shift)) return false;
    *out = (int64_t)(v << shift);
    return true;
}

bool cli_write_all(int fd, const uint8_t *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}
