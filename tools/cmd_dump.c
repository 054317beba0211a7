/* tools/cmd_dump.c: `segjit dump`: the records of a file as CSV or JSON lines. Number
 * text belongs to tools/numtext.c, where records are to tools/records.c. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkstemp, realpath, sigaction, O_CLOEXEC under -std=c11 */
#endif

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numtext.h"
#include "tool.h"

void help_dump(void) {
    fputs("usage: segjit dump LAYOUT FILE [OPTIONS]\n"
          "\n"
          "Prints the records of FILE (a sequence of LAYOUT records; - reads stdin) as CSV\n"
          "with a header of field paths (id,pos[0],pos[1],...), or as JSON lines.\n"
          "Padding is skipped; values are read in their byte order. Floats print as the\n"
          "shortest text that reads back to the same bits; NaN keeps its sign (-nan).\n"
          "\n"
          "options:\n"
          "  --csv              CSV (the default)\n"
          "  --json             one JSON object per record\n"
          "  --limit N          print at most N records\n" HELP_PLACE,
          stdout);
}

/* ---- dump ---- */

/* A value as text; JSON has no NaN or infinities (null) and quotes addresses. */
static void format_value(const sj_layout *l, sj_value v, bool json, char *buf, size_t n) {
    switch (sj_layout_kind(l)) {
        case SJ_BOOL:
            snprintf(buf, n, "%s", v.z ? "true" : "false");
            return;
        case SJ_I8:
            snprintf(buf, n, "%d", (int)v.i8);
            return;
        case SJ_U8:
            snprintf(buf, n, "%u", (unsigned)v.u8);
            return;
        case SJ_CHAR:
            snprintf(buf, n, "%u", (unsigned)v.c16);
            return;
        case SJ_I16:
            snprintf(buf, n, "%d", (int)v.i16);
            return;
        case SJ_U16:
            snprintf(buf, n, "%u", (unsigned)v.u16);
            return;
        case SJ_I32:
            snprintf(buf, n, "%" PRId32, v.i32);
            return;
        case SJ_U32:
            snprintf(buf, n, "%" PRIu32, v.u32);
            return;
        case SJ_I64:
            snprintf(buf, n, "%" PRId64, v.i64);
            return;
        case SJ_U64:
            snprintf(buf, n, "%" PRIu64, v.u64);
            return;
        case SJ_ADDR:
            snprintf(buf, n, json ? "\"0x%" PRIx64 "\"" : "0x%" PRIx64, v.addr);
            return;
        case SJ_F32:
        case SJ_F64: {
            char t[NUMTEXT_MAX];
            int digits =
                sj_layout_kind(l) == SJ_F32 ? numtext_f32(v.f32, t) : numtext_f64(v.f64, t);
            snprintf(buf, n, "%s", json && digits == 0 ? "null" : t);
            return;
        }
        case SJ_KIND_COUNT:
            break;
    }
    snprintf(buf, n, "?");
}

static void csv_field(FILE *o, const char *s) {
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, o);
        return;
    }
    fputc('"', o);
    for (; *s; s++) {
        if (*s == '"') fputc('"', o);
        fputc(*s, o);
    }
    fputc('"', o);
}

static void json_string(FILE *o, const char *s) {
    fputc('"', o);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(o, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(o, "\\u%04x", *p);
        else
            fputc(*p, o);
    }
    fputc('"', o);
}

/* One record (or part of one) as JSON: structs and unions as objects, sequences as
 * arrays, padding skipped. */
static sj_status json_walk(FILE *o, const sj_segment *rec, const sj_layout *l, uint64_t off,
                           sj_error *err) {
    sj_status st = SJ_OK;
    switch (sj_layout_tag(l)) {
        case SJ_VALUE: {
            sj_value v;
            st = sj_get(rec, l, (int64_t)off, &v, err);
            if (st != SJ_OK) return st;
            char buf[64];
            format_value(l, v, true, buf, sizeof buf);
            fputs(buf, o);
            return SJ_OK;
        }
        case SJ_PADDING:
            fputs("null", o); /* only reached for a bare padding root or element */
            return SJ_OK;
        case SJ_STRUCT:
        case SJ_UNION: {
            fputc('{', o);
            bool first = true;
            for (size_t i = 0; i < sj_layout_member_count(l) && st == SJ_OK; i++) {
                const sj_layout *m = sj_layout_member(l, i);
                if (sj_layout_tag(m) == SJ_PADDING) continue;
                if (!first) fputc(',', o);
                first = false;
                const char *name = sj_layout_name(m);
                char key[32];
                if (!name) {
                    snprintf(key, sizeof key, "#%zu", i);
                    name = key;
                }
                json_string(o, name);
                fputc(':', o);
                st = json_walk(o, rec, m, off + sj_layout_member_offset(l, i), err);
            }
            fputc('}', o);
            return st;
        }
        case SJ_SEQUENCE: {
            const sj_layout *e = sj_layout_elem(l);
            uint64_t n = sj_layout_elem_count(l), es = sj_layout_size(e);
            fputc('[', o);
            for (uint64_t i = 0; i < n && st == SJ_OK; i++) {
                if (i) fputc(',', o);
                st = json_walk(o, rec, e, off + i * es, err);
            }
            fputc(']', o);
            return st;
        }
    }
    return st;
}

int cmd_dump(ctx *c) {
    int r = want_args(c, 2, 2, c->npos == 0 ? "LAYOUT and FILE" : "FILE");
    if (r >= 0) return r;
    if (c->set[O_CSV] && c->set[O_JSON])
        return usage_error(c->cmd, "--csv and --json exclude each other");
    int64_t limit = -1;
    if (c->set[O_LIMIT]) {
        const char *s = c->val[O_LIMIT];
        char *end = NULL;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno || end == s || *end || v < 0)
            return usage_error(c->cmd, "--limit must be a non-negative integer, not '%s'", s);
        limit = v;
    }
    bool json = c->set[O_JSON];
    const char *file = c->pos[1];
    rec_place place;
    if ((r = parse_place(c, &place)) >= 0) return r;
    if (strcmp(file, "-") == 0 && strcmp(c->pos[0], "@-") == 0)
        return usage_error(c->cmd, "LAYOUT (@-) and FILE (-) cannot both come from standard input");

    sj_error err = {0};
    sj_layout *l = NULL;
    cli_leaves leaves = {0};
    rec_reader rd = {.fd = -1};
    int rc = EXIT_OK;
    if (cli_load_layout(c->pos[0], &l, NULL, &err) != SJ_OK) {
        rc = report(&err, NULL);
        goto out;
    }
    if ((rc = check_stride(&place, l, "LAYOUT")) != EXIT_OK) goto out;
    if (!json && cli_leaves_collect(l, &leaves, &err) != SJ_OK) {
        rc = report(&err, NULL);
        goto out;
    }
    uint64_t size = sj_layout_size(l);
    /* The records asked for are checked before anything is printed (in a regular file). */
    if (rec_open(&rd, "FILE", file, l, place, (uint64_t)1 << 20, &err) != SJ_OK) {
        rc = report(&err, NULL);
        goto out;
    }
    if (!json) {
        for (size_t i = 0; i < leaves.n; i++) {
            if (i) putchar(',');
            const char *p = leaves.v[i].path;
            if (!*p) p = sj_layout_name(l) ? sj_layout_name(l) : "value";
            csv_field(stdout, p);
        }
        putchar('\n');
    }
    for (int64_t done = 0; limit < 0 || done < limit;) {
        const uint8_t *recs;
        uint64_t n;
        if (rec_next(&rd, &recs, &n, &err) != SJ_OK) {
            rc = report(&err, NULL);
            goto out;
        }
        if (n == 0) break;
        for (uint64_t i = 0; i < n && (limit < 0 || done < limit); i++, done++) {
            sj_segment seg;
            if (sj_segment_native((void *)(uintptr_t)(recs + i * size), (int64_t)size, &seg,
                                  &err) != SJ_OK) {
                rc = report(&err, NULL);
                goto out;
            }
            seg = sj_segment_readonly(&seg);
            if (json) {
                if (json_walk(stdout, &seg, l, 0, &err) != SJ_OK) {
                    rc = report(&err, NULL);
                    goto out;
                }
            } else {
                for (size_t f = 0; f < leaves.n; f++) {
                    sj_value v;
                    if (sj_get(&seg, leaves.v[f].layout, (int64_t)leaves.v[f].offset, &v, &err) !=
                        SJ_OK) {
                        rc = report(&err, NULL);
                        goto out;
                    }
                    char buf[64];
                    format_value(leaves.v[f].layout, v, false, buf, sizeof buf);
                    if (f) putchar(',');
                    fputs(buf, stdout);
                }
            }
            putchar('\n');
        }
    }
out:
    rec_close(&rd);
    cli_leaves_free(&leaves);
    sj_layout_unref(l);
    return rc;
}
