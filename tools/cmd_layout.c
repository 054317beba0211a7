/* tools/cmd_layout.c: `segjit layout` (canonical form, size, alignment, field table) and
 * `segjit offset` (the byte offset of a path). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkstemp, realpath, sigaction, O_CLOEXEC under -std=c11 */
#endif

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

void help_layout(void) {
    fputs("usage: segjit layout [--canonical | --summary] LAYOUT\n"
          "\n"
          "Parses LAYOUT (canonical text or C-like declarations, inline or @FILE) and prints\n"
          "its canonical form, size, alignment and a pahole-style table of its fields.\n"
          "A text error shows the offending line with a caret under the column.\n"
          "\n"
          "options:\n"
          "  --canonical   print only the canonical form\n"
          "  --summary     print one line: canonical form, size and alignment\n"
          "\n"
          "examples:\n"
          "  segjit layout '[2:[j8i4x4]]'\n"
          "  segjit layout --summary 'struct p { u32 id; f64 pos[3]; be i16 charge; }'\n"
          "  segjit layout @particle.h\n",
          stdout);
}

void help_offset(void) {
    fputs("usage: segjit offset LAYOUT PATH [INDEX...]\n"
          "\n"
          "Prints the byte offset selected by PATH in LAYOUT, one INDEX per open element\n"
          "([*], [] or [s::k]) of the path, in order.\n"
          "\n"
          "example:\n"
          "  segjit offset '[[10:[10:[i4(x)i4(y)]]](data)]' 'data[*][*].x' 1 0   # 80\n",
          stdout);
}

/* ---- layout ---- */

static int print_layout_error(const sj_error *e, const char *text) {
    report(e, NULL);
    show_caret(text, e->message);
    return EXIT_FAIL;
}

int cmd_layout(ctx *c) {
    int r = want_args(c, 1, 1, "LAYOUT");
    if (r >= 0) return r;
    if (c->set[O_CANONICAL] && c->set[O_SUMMARY])
        return usage_error(c->cmd, "--canonical and --summary exclude each other");
    sj_error err = {0};
    sj_layout *l = NULL;
    char *text = NULL, *canon = NULL, *table = NULL;
    int rc = EXIT_OK;
    if (cli_load_layout(c->pos[0], &l, &text, &err) != SJ_OK) {
        rc = text ? print_layout_error(&err, text) : report(&err, NULL);
        goto out;
    }
    if (sj_layout_print(l, &canon, &err) != SJ_OK) {
        rc = report(&err, NULL);
        goto out;
    }
    uint64_t size = sj_layout_size(l), align = sj_layout_align(l);
    if (c->set[O_CANONICAL]) {
        printf("%s\n", canon);
    } else if (c->set[O_SUMMARY]) {
        printf("%s %" PRIu64 " %" PRIu64 "\n", canon, size, align);
    } else {
        if (sj_layout_table(l, &table, &err) != SJ_OK) {
            rc = report(&err, NULL);
            goto out;
        }
        size_t tl = strlen(table);
        printf("canonical: %s\nsize:      %" PRIu64 "\nalignment: %" PRIu64 "\n\n%s%s", canon, size,
               align, table, tl && table[tl - 1] == '\n' ? "" : "\n");
    }
out:
    free(table);
    free(canon);
    free(text);
    sj_layout_unref(l);
    return rc;
}

/* ---- offset ---- */

int cmd_offset(ctx *c) {
    int r = want_args(c, 2, -1, "LAYOUT and PATH");
    if (r >= 0) return r;
    size_t n = (size_t)c->npos - 2;
    int64_t *idx = calloc(n ? n : 1, sizeof *idx);
    if (!idx) return fail(SJ_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *s = c->pos[2 + i];
        char *end = NULL;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno || end == s || *end) {
            free(idx);
            return usage_error(c->cmd, "INDEX '%s' is not a 64-bit integer", s);
        }
        idx[i] = v;
    }
    sj_error err = {0};
    sj_layout *l = NULL;
    sj_path *p = NULL;
    int64_t off = 0;
    int rc = EXIT_OK;
    if (cli_load_layout(c->pos[0], &l, NULL, &err) != SJ_OK ||
        sj_path_parse(l, c->pos[1], &p, &err) != SJ_OK ||
        sj_path_offset(p, idx, n, &off, &err) != SJ_OK)
        rc = report(&err, NULL);
    else
        printf("%" PRId64 "\n", off);
    sj_path_free(p);
    sj_layout_unref(l);
    free(idx);
    return rc;
}
