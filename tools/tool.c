/* tools/tool.c: what the commands of the segjit tool share: error and usage lines, the
 * caret under a text error, option parsing and the record placement options. Commands and
 * output formats do not belong here (tools/cmd_*.c). */
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

/* ---- Errors ---- */

/* A failed operation: one line on stderr, `STATUS: message`. Returns EXIT_FAIL. */
int report(const sj_error *e, const char *prefix) {
    fprintf(stderr, "%s: %s%s\n", sj_status_name(e->status), prefix ? prefix : "", e->message);
    return EXIT_FAIL;
}

int fail(sj_status st, const char *fmt, ...) {
    sj_error e = {.status = st};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.message, sizeof e.message, fmt, ap);
    va_end(ap);
    return report(&e, NULL);
}

/* Bad usage: one line naming the command and where its help is. Returns EXIT_USAGE. */
int usage_error(const char *cmd, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (cmd)
        fprintf(stderr, "segjit %s: %s (see 'segjit %s --help')\n", cmd, msg, cmd);
    else
        fprintf(stderr, "segjit: %s (see 'segjit --help')\n", msg);
    return EXIT_USAGE;
}

/* A text error "L:C: ..." of `text`: the offending line and a caret under the column. */
void show_caret(const char *text, const char *message) {
    unsigned long line = 0, col = 0;
    char *end = NULL;
    line = strtoul(message, &end, 10);
    if (end == message || *end != ':') return;
    const char *c = end + 1;
    col = strtoul(c, &end, 10);
    if (end == c || *end != ':' || line == 0 || col == 0) return;
    const char *p = text;
    for (unsigned long l = 1; l < line; l++) {
        p = strchr(p, '\n');
        if (!p) return;
        p++;
    }
    size_t len = strcspn(p, "\n");
    if (len > 0 && p[len - 1] == '\r') len--;
    /* A long line is shown as a window of CARET_WINDOW bytes either side of the column. */
    enum { CARET_WINDOW = 60 };
    size_t at = col - 1 < len ? col - 1 : len;
    size_t from = at > CARET_WINDOW ? at - CARET_WINDOW : 0;
    size_t to = len - at > CARET_WINDOW ? at + CARET_WINDOW : len;
    /* the window's ends on character boundaries: never half of a UTF-8 sequence */
    while (from > 0 && ((unsigned char)p[from] & 0xC0) == 0x80)
        from--;
    while (to < len && ((unsigned char)p[to] & 0xC0) == 0x80)
        to++;
    const char *pre = from > 0 ? "..." : "", *post = to < len ? "..." : "";
    fprintf(stderr, "  %s%.*s%s\n  %s", pre, (int)(to - from), p + from, post,
            from > 0 ? "   " : "");
    /* Columns count bytes: one space per character before the column (a UTF-8 sequence
     * shows as one), tabs kept, so that the caret lines up under the byte. */
    for (size_t i = from; i < at; i++)
        if (((unsigned char)p[i] & 0xC0) != 0x80) fputc(p[i] == '\t' ? '\t' : ' ', stderr);
    for (unsigned long i = len; i + 1 < col; i++)
        fputc(' ', stderr);
    fputs("^\n", stderr);
}

static const opt_spec global_opts[] = {{"help", false, O_HELP},
                                       {"tier", true, O_TIER},
                                       {"stats", false, O_STATS},
                                       {"keep-stats", false, O_KEEP_STATS},
                                       {NULL, false, 0}};

static const opt_spec *find_opt(const opt_spec *specs, const char *name, size_t len) {
    for (const opt_spec *o = specs; o && o->name; o++)
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0) return o;
    return NULL;
}

/* "-5" or "-0x10" is a (negative) number, not an option. */
static bool looks_numeric(const char *s) {
    return s[0] == '-' && s[1] >= '0' && s[1] <= '9';
}

bool parse_tier(const char *t, sj_tier *out) {
    if (strcmp(t, "interp") == 0)
        *out = SJ_TIER_INTERP;
    else if (strcmp(t, "jit") == 0)
        *out = SJ_TIER_JIT;
    else if (strcmp(t, "auto") == 0)
        *out = SJ_TIER_AUTO;
    else
        return false;
    return true;
}

/* Parses argv into options and positionals. Options may come anywhere before "--".
 * Returns -1 when parsed, or an exit status (help shown: 0; bad usage: 2). */
int parse_args(ctx *c, const opt_spec *specs, int argc, char **argv, void (*help)(void)) {
    c->pos = calloc((size_t)argc + 1, sizeof *c->pos);
    if (!c->pos) return fail(SJ_E_NOMEM, "out of memory");
    char bad[256] = "";
    bool opts_done = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (opts_done || a[0] != '-' || a[1] == '\0' || looks_numeric(a)) {
            c->pos[c->npos++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            opts_done = true;
            continue;
        }
        if (strcmp(a, "-h") == 0) {
            c->set[O_HELP] = true;
            continue;
        }
        if (a[1] != '-') {
            if (!*bad) snprintf(bad, sizeof bad, "unknown option '%s'", a);
            continue;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const opt_spec *o = find_opt(global_opts, name, len);
        if (!o) o = find_opt(specs, name, len);
        if (!o) {
            if (!*bad) snprintf(bad, sizeof bad, "unknown option '--%.*s'", (int)len, name);
            continue;
        }
        const char *v = NULL;
        if (o->has_arg) {
            if (eq) {
                v = eq + 1;
            } else if (i + 1 < argc) {
                v = argv[++i];
            } else if (!*bad) {
                snprintf(bad, sizeof bad, "option '--%s' needs an argument", o->name);
                continue;
            }
        } else if (eq && !*bad) {
            snprintf(bad, sizeof bad, "option '--%s' takes no argument", o->name);
            continue;
        }
        c->set[o->id] = true;
        c->val[o->id] = v;
    }
    if (c->set[O_HELP]) {
        help();
        return EXIT_OK;
    }
    if (*bad) return usage_error(c->cmd, "%s", bad);
    if (c->set[O_TIER] && !parse_tier(c->val[O_TIER], &c->tier))
        return usage_error(c->cmd, "--tier must be interp, jit or auto, not '%s'", c->val[O_TIER]);
    return -1;
}

/* Checks the number of positionals: between min and max (max < 0: no limit). */
int want_args(const ctx *c, int min, int max, const char *what) {
    if (c->npos < min) return usage_error(c->cmd, "missing %s", what);
    if (max >= 0 && c->npos > max)
        return usage_error(c->cmd, "unexpected argument '%s'", c->pos[max]);
    return -1;
}

int parse_place(ctx *c, rec_place *p) {
    *p = (rec_place){0, 0, -1};
    int64_t v;
    if (c->set[O_SKIP]) {
        if (!cli_parse_size(c->val[O_SKIP], &v))
            return usage_error(c->cmd, "--skip must be a byte count, not '%s'", c->val[O_SKIP]);
        p->skip = (uint64_t)v;
    }
    if (c->set[O_STRIDE]) {
        if (!cli_parse_size(c->val[O_STRIDE], &v) || v == 0)
            return usage_error(c->cmd, "--stride must be a positive byte count, not '%s'",
                               c->val[O_STRIDE]);
        p->stride = (uint64_t)v;
    }
    if (c->set[O_NREC]) {
        const char *s = c->val[O_NREC];
        char *end = NULL;
        errno = 0;
        long long n = strtoll(s, &end, 10);
        if (errno || end == s || *end || n < 0 || *s == '-' || *s == '+')
            return usage_error(c->cmd, "--count must be a non-negative integer, not '%s'", s);
        p->count = n;
    }
    return -1;
}

/* --stride below the record size would overlap records: a failed operation (it depends on
 * the layout), reported before anything is read. */
int check_stride(const rec_place *p, const sj_layout *l, const char *what) {
    uint64_t size = sj_layout_size(l);
    if (p->stride && p->stride < size)
        return fail(SJ_E_ARG, "--stride %" PRIu64 " is smaller than the %s record size %" PRIu64,
                    p->stride, what, size);
    uint64_t last;
    if (p->count > 0 &&
        (__builtin_mul_overflow((uint64_t)(p->count - 1), p->stride ? p->stride : size, &last) ||
         __builtin_add_overflow(last, p->skip, &last) || last > (uint64_t)INT64_MAX))
        return fail(SJ_E_OVERFLOW, "--skip, --stride and --count reach past 2^63 bytes");
    return EXIT_OK;
}

/* The first record of a failed batch that fails alone, for a message naming it. */
