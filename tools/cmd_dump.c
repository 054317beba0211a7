/* tools/cmd_dump.c: `segjit dump`: the records of a file as CSV or JSON lines. Number
 * text belongs to tools/numtext.c, where records are to tools/records.c. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkstemp, realpath, sigaction, O_CLOEXEC under -std=c11 */
#endif

#include <errno.h>
#include <inttypes.h>
#include <math.h>
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
          "A text field (C `char name[N]`, canonical `[N:b1(char)]`) prints as one string:\n"
          "its bytes up to the first NUL. CSV writes the bytes as they are (quoted when they\n"
          "hold , \" or a line break); JSON escapes them, and writes each byte that is not\n"
          "part of valid UTF-8 as U+FFFD (--lossless: as \\udcXX, Python's surrogateescape).\n"
          "Member names that repeat in a group are written by index (#3); a CSV header or a\n"
          "JSON key that would still repeat an earlier one of its object (as a JSON reader\n"
          "sees it) gets the first free ~2, ~3, so headers and keys are unique.\n"
          "\n"
          "options:\n"
          "  --csv              CSV (the default)\n"
          "  --json             one JSON object per record\n"
          "  --fields P,Q,...   only these paths, in this order (a group path: its fields);\n"
          "                     JSON then writes one flat object keyed by the paths\n"
          "  --hex              integers in hexadecimal, two's complement of their width\n"
          "                     (JSON: as strings, \"0xff\")\n"
          "  --int64-strings    JSON: 64-bit integers as strings (exact in every reader)\n"
          "  --lossless         JSON: NaN and infinities as strings (\"nan\", \"-nan\", \"inf\",\n"
          "                     \"-inf\"; a NaN other than the default one as \"nan:0xBITS\")\n"
          "                     instead of null, and non-UTF-8 text bytes as \\udcXX\n"
          "  --limit N          print at most N records\n" HELP_PLACE,
          stdout);
}

typedef struct out_opts {
    bool json, hex, int64_strings, lossless;
} out_opts;

/* A value as text (JSON: quoted where JSON has no number for it). */
static void format_value(const sj_layout *l, sj_value v, const out_opts *o, char *buf, size_t n) {
    sj_kind k = sj_layout_kind(l);
    const char *q = o->json ? "\"" : "";
    uint64_t u = 0;
    int64_t i = 0;
    bool is_signed = false;
    switch (k) {
        case SJ_BOOL:
            snprintf(buf, n, "%s", v.z ? "true" : "false");
            return;
        case SJ_I8:
            i = v.i8, u = v.u8, is_signed = true;
            break;
        case SJ_U8:
            u = v.u8;
            break;
        case SJ_CHAR:
            u = v.c16;
            break;
        case SJ_I16:
            i = v.i16, u = (uint16_t)v.i16, is_signed = true;
            break;
        case SJ_U16:
            u = v.u16;
            break;
        case SJ_I32:
            i = v.i32, u = (uint32_t)v.i32, is_signed = true;
            break;
        case SJ_U32:
            u = v.u32;
            break;
        case SJ_I64:
            i = v.i64, u = (uint64_t)v.i64, is_signed = true;
            break;
        case SJ_U64:
            u = v.u64;
            break;
        case SJ_ADDR:
            snprintf(buf, n, "%s0x%" PRIx64 "%s", q, v.addr, q);
            return;
        case SJ_F32:
        case SJ_F64: {
            char t[NUMTEXT_MAX];
            bool single = k == SJ_F32;
            int digits = single ? numtext_f32(v.f32, t) : numtext_f64(v.f64, t);
            if (!o->json || digits > 0) {
                snprintf(buf, n, "%s", t);
            } else if (!o->lossless) {
                snprintf(buf, n, "null");
            } else {
                /* The default quiet NaN of either sign is "nan"/"-nan"; any other NaN keeps
                 * its bits. */
                uint64_t bits = single ? v.u32 : v.u64;
                uint64_t mag = single ? bits & 0x7fffffffu : bits & 0x7fffffffffffffffu;
                bool plain = isinf(single ? (double)v.f32 : v.f64) ||
                             mag == (single ? 0x7fc00000u : 0x7ff8000000000000u);
                if (plain)
                    snprintf(buf, n, "\"%s\"", t);
                else
                    snprintf(buf, n,
                             single ? "\"nan:0x%08" PRIx64 "\"" : "\"nan:0x%016" PRIx64 "\"", bits);
            }
            return;
        }
        case SJ_KIND_COUNT:
        default:
            snprintf(buf, n, "?");
            return;
    }
    bool wide = sj_layout_size(l) == 8;
    const char *wq = o->json && wide && o->int64_strings ? "\"" : "";
    if (o->hex)
        snprintf(buf, n, "%s0x%" PRIx64 "%s", q, u, q);
    else if (is_signed)
        snprintf(buf, n, "%s%" PRId64 "%s", wq, i, wq);
    else
        snprintf(buf, n, "%s%" PRIu64 "%s", wq, u, wq);
}

/* The bytes of a text field: up to the first NUL. */
static size_t text_len(const uint8_t *p, size_t n) {
    const uint8_t *z = memchr(p, 0, n);
    return z ? (size_t)(z - p) : n;
}

static void csv_bytes(FILE *o, const uint8_t *s, size_t n) {
    bool quote = false;
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!quote) {
        fwrite(s, 1, n, o);
        return;
    }
    fputc('"', o);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') fputc('"', o);
        fputc(s[i], o);
    }
    fputc('"', o);
}

/* The length of the valid UTF-8 sequence at s (0: not one). */
static size_t utf8_seq(const uint8_t *s, size_t n) {
    uint8_t c = s[0];
    size_t len;
    uint32_t min, cp;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2, min = 0x80, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, min = 0x800, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, min = 0x10000, cp = c & 0x07;
    else
        return 0;
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return len;
}

/* The inside of a JSON string of n bytes: valid UTF-8 kept, controls escaped, other bytes
 * U+FFFD (or, lossless, \udcXX). */
static void json_body(FILE *o, const uint8_t *s, size_t n, bool lossless) {
    for (size_t i = 0; i < n;) {
        size_t k = utf8_seq(s + i, n - i);
        if (k == 0) {
            if (lossless)
                fprintf(o, "\\udc%02x", s[i]);
            else
                fputs("\\ufffd", o);
            i++;
        } else if (k == 1 && (s[i] == '"' || s[i] == '\\')) {
            fprintf(o, "\\%c", s[i++]);
        } else if (k == 1 && s[i] < 0x20) {
            fprintf(o, "\\u%04x", s[i++]);
        } else {
            fwrite(s + i, 1, k, o);
            i += k;
        }
    }
}

static void json_bytes(FILE *o, const uint8_t *s, size_t n, bool lossless) {
    fputc('"', o);
    json_body(o, s, n, lossless);
    fputc('"', o);
}

/* ---- Unique keys ----
 * CSV headers and the keys of each JSON object are made unique the same way: a key that
 * would repeat an earlier one gets the first free suffix ~2, ~3, ... JSON keys are compared
 * as a reader sees them, after escaping and replacement (two names whose bytes are not
 * UTF-8 both read as U+FFFD without --lossless). */

/* A set of strings, kept one after another (each with its NUL) in one buffer; each slot
 * has a string's hash, its offset + 1 (0: empty) and the suffix to try first when the
 * string repeats (0: ~2). Open addressing, at most half full. */
typedef struct key_slot {
    size_t hash, at;
    unsigned next;
} key_slot;

typedef struct keyset {
    key_slot *slot;
    size_t n, cap;
    char *text;
    size_t len, text_cap;
} keyset;

static size_t key_hash(const char *s) {
    uint64_t h = 0xcbf29ce484222325u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 0x100000001b3u;
    return (size_t)(h ^ h >> 32);
}

/* The slot holding s (whose hash is h), or the empty slot where it would go. */
static key_slot *keyset_find(const keyset *ks, const char *s, size_t h) {
    size_t i = h & (ks->cap - 1);
    while (ks->slot[i].at &&
           (ks->slot[i].hash != h || strcmp(ks->text + ks->slot[i].at - 1, s) != 0))
        i = (i + 1) & (ks->cap - 1);
    return &ks->slot[i];
}

static void keyset_free(keyset *ks) {
    free(ks->slot);
    free(ks->text);
    *ks = (keyset){0};
}

/* Room for a key of up to n bytes (and a suffix) at the end of the set's text, where the
 * caller writes it before keyset_claim; NULL: out of memory. */
static char *keyset_room(keyset *ks, size_t n) {
    if (n > SIZE_MAX / 8 || ks->len > SIZE_MAX / 8) return NULL;
    size_t need = ks->len + n + 16;
    if (need > ks->text_cap) {
        size_t cap = ks->text_cap ? ks->text_cap : 256;
        while (cap < need)
            cap *= 2;
        char *t = realloc(ks->text, cap);
        if (!t) return NULL;
        ks->text = t;
        ks->text_cap = cap;
    }
    return ks->text + ks->len;
}

/* Adds the key written at keyset_room's pointer, made unique: as it is when new, else with
 * the first free suffix ~k, k >= 2, appended there. *suffix gets k (0: none). Keys are
 * never removed, so the suffixes a key has been given or found taken stay taken: the
 * search starts after them, and n repeats of one key cost O(n), not O(n^2). */
static int keyset_claim(keyset *ks, unsigned *suffix) {
    *suffix = 0;
    if (2 * (ks->n + 1) > ks->cap) {
        size_t cap = ks->cap ? ks->cap * 2 : 16;
        key_slot *bigger = calloc(cap, sizeof *bigger);
        if (!bigger) return fail(SJ_E_NOMEM, "out of memory");
        for (size_t i = 0; i < ks->cap; i++) {
            if (!ks->slot[i].at) continue;
            size_t j = ks->slot[i].hash & (cap - 1);
            while (bigger[j].at)
                j = (j + 1) & (cap - 1);
            bigger[j] = ks->slot[i];
        }
        free(ks->slot);
        ks->slot = bigger;
        ks->cap = cap;
    }
    char *key = ks->text + ks->len;
    size_t len = strlen(key), h = key_hash(key);
    key_slot *at = keyset_find(ks, key, h);
    if (at->at) {
        key_slot *base = at; /* stays put: the table does not grow before the claim */
        unsigned k = base->next ? base->next : 2;
        for (;; k++) {
            snprintf(key + len, 16, "~%u", k);
            h = key_hash(key);
            at = keyset_find(ks, key, h);
            if (!at->at) break;
        }
        base->next = k + 1;
        *suffix = k;
    }
    *at = (key_slot){h, ks->len + 1, 0};
    ks->len += strlen(key) + 1;
    ks->n++;
    return EXIT_OK;
}

/* Claims `name` as a JSON reader sees it once written as a key: without --lossless every
 * byte that is not part of valid UTF-8 is U+FFFD; with it each such byte is its own \udcXX,
 * so the bytes themselves tell keys apart. */
static int keyset_claim_json(keyset *ks, const char *name, bool lossless, unsigned *suffix) {
    size_t n = strlen(name);
    char *r = keyset_room(ks, 3 * n);
    if (!r) return fail(SJ_E_NOMEM, "out of memory");
    const uint8_t *s = (const uint8_t *)name;
    size_t w = 0;
    for (size_t i = 0; i < n;) {
        size_t k = lossless ? n - i : utf8_seq(s + i, n - i);
        if (k == 0) {
            memcpy(r + w, "\xef\xbf\xbd", 3); /* U+FFFD */
            w += 3, i++;
        } else {
            memcpy(r + w, s + i, k);
            w += k, i += k;
        }
    }
    r[w] = '\0';
    return keyset_claim(ks, suffix);
}

/* Writes `name` as a key of the JSON object whose keys so far are in ks, made unique. */
static int json_key(FILE *o, keyset *ks, const char *name, bool lossless) {
    unsigned k;
    int rc = keyset_claim_json(ks, name, lossless, &k);
    if (rc != EXIT_OK) return rc;
    fputc('"', o);
    json_body(o, (const uint8_t *)name, strlen(name), lossless);
    if (k) fprintf(o, "~%u", k);
    fputs("\":", o);
    return EXIT_OK;
}

/* What every record prints: literal text around its columns. lits[i] comes before column
 * i, lits[cols.n] after the last; the text between values (CSV commas, JSON keys and
 * brackets) is made once, not per record. */
typedef struct plan {
    cli_leaves cols;
    char **lits;
    size_t *lens;
    size_t nlits, cap;
    FILE *m; /* the literal being written */
    char *mbuf;
    size_t mlen;
} plan;

static bool plan_open_lit(plan *pl) {
    pl->mbuf = NULL;
    pl->mlen = 0;
    pl->m = open_memstream(&pl->mbuf, &pl->mlen);
    return pl->m != NULL;
}

/* Ends the current literal; then, unless `last`, a column (offset, layout, text). */
static int plan_cut(plan *pl, const sj_layout *l, uint64_t off, bool text, bool last) {
    if (fclose(pl->m) != 0) {
        pl->m = NULL;
        free(pl->mbuf);
        return fail(SJ_E_NOMEM, "out of memory");
    }
    pl->m = NULL;
    if (pl->nlits == pl->cap) {
        size_t cap = pl->cap ? pl->cap * 2 : 16;
        char **nl = realloc(pl->lits, cap * sizeof *nl);
        if (nl) pl->lits = nl;
        size_t *ns = nl ? realloc(pl->lens, cap * sizeof *ns) : NULL;
        if (!ns) {
            free(pl->mbuf);
            return fail(SJ_E_NOMEM, "out of memory");
        }
        pl->lens = ns;
        pl->cap = cap;
    }
    pl->lits[pl->nlits] = pl->mbuf;
    pl->lens[pl->nlits++] = pl->mlen;
    if (last) return EXIT_OK;
    if (pl->cols.n >= CLI_MAX_LEAVES)
        return fail(SJ_E_UNSUPPORTED, "layout has more than %zu value fields", CLI_MAX_LEAVES);
    if (pl->cols.n == pl->cols.cap) {
        size_t cap = pl->cols.cap ? pl->cols.cap * 2 : 16;
        cli_leaf *nv = realloc(pl->cols.v, cap * sizeof *nv);
        if (!nv) return fail(SJ_E_NOMEM, "out of memory");
        pl->cols.v = nv;
        pl->cols.cap = cap;
    }
    pl->cols.v[pl->cols.n++] = (cli_leaf){NULL, off, l, text};
    return plan_open_lit(pl) ? EXIT_OK : fail(SJ_E_NOMEM, "out of memory");
}

static void plan_free(plan *pl) {
    if (pl->m) {
        fclose(pl->m);
        free(pl->mbuf);
    }
    for (size_t i = 0; i < pl->nlits; i++)
        free(pl->lits[i]);
    free(pl->lits);
    free(pl->lens);
    cli_leaves_free(&pl->cols);
}

/* A record as nested JSON: structs and unions as objects (a repeated or missing member
 * name written as #index), sequences as arrays, text fields as strings, padding skipped. */
static int plan_json(plan *pl, const sj_layout *l, uint64_t off, const out_opts *opt,
                     unsigned depth) {
    if (depth > 512) return fail(SJ_E_UNSUPPORTED, "layout nests too deeply to print");
    int rc = EXIT_OK;
    switch (sj_layout_tag(l)) {
        case SJ_VALUE:
            return plan_cut(pl, l, off, false, false);
        case SJ_PADDING:
            fputs("null", pl->m); /* only reached for a bare padding root or element */
            return EXIT_OK;
        case SJ_STRUCT:
        case SJ_UNION: {
            fputc('{', pl->m);
            keyset keys = {0};
            bool first = true;
            size_t nm = sj_layout_member_count(l);
            for (size_t i = 0; i < nm && rc == EXIT_OK; i++) {
                const sj_layout *m = sj_layout_member(l, i);
                if (sj_layout_tag(m) == SJ_PADDING) continue;
                if (!first) fputc(',', pl->m);
                first = false;
                const char *name = sj_layout_name(m);
                char key[32];
                if (!name || cli_name_taken(l, i, name)) {
                    snprintf(key, sizeof key, "#%zu", i);
                    name = key;
                }
                rc = json_key(pl->m, &keys, name, opt->lossless);
                if (rc == EXIT_OK)
                    rc = plan_json(pl, m, off + sj_layout_member_offset(l, i), opt, depth + 1);
            }
            keyset_free(&keys);
            fputc('}', pl->m);
            return rc;
        }
        case SJ_SEQUENCE: {
            if (cli_is_text(l)) return plan_cut(pl, l, off, true, false);
            const sj_layout *e = sj_layout_elem(l);
            uint64_t n = sj_layout_elem_count(l), es = sj_layout_size(e);
            fputc('[', pl->m);
            for (uint64_t i = 0; i < n && rc == EXIT_OK; i++) {
                if (i) fputc(',', pl->m);
                rc = plan_json(pl, e, off + i * es, opt, depth + 1);
            }
            fputc(']', pl->m);
            return rc;
        }
    }
    return rc;
}

/* Flat columns (CSV, or JSON keyed by path) as a plan. */
static int plan_flat(plan *pl, const cli_leaves *cols, const out_opts *opt) {
    if (opt->json) fputc('{', pl->m);
    keyset keys = {0};
    int rc = EXIT_OK;
    for (size_t i = 0; i < cols->n && rc == EXIT_OK; i++) {
        if (i) fputc(',', pl->m);
        if (opt->json) rc = json_key(pl->m, &keys, cols->v[i].path, opt->lossless);
        if (rc == EXIT_OK)
            rc = plan_cut(pl, cols->v[i].layout, cols->v[i].offset, cols->v[i].text, false);
    }
    keyset_free(&keys);
    if (opt->json) fputc('}', pl->m);
    return rc;
}

/* Splits --fields at commas outside quoted names ('a,b' is one name). */
static int select_fields(const char *list, const sj_layout *l, cli_leaves *cols) {
    size_t len = strlen(list);
    char *buf = malloc(len + 1);
    if (!buf) return fail(SJ_E_NOMEM, "out of memory");
    int rc = EXIT_OK;
    size_t start = 0;
    bool quoted = false;
    for (size_t i = 0; i <= len && rc == EXIT_OK; i++) {
        char ch = list[i];
        if (quoted && ch == '\\' && i + 1 < len) {
            i++;
            continue;
        }
        if (ch == '\'') quoted = !quoted;
        if (ch != '\0' && (ch != ',' || quoted)) continue;
        memcpy(buf, list + start, i - start);
        buf[i - start] = '\0';
        start = i + 1;
        if (!*buf) {
            rc = fail(SJ_E_PATH, "--fields: an empty path in '%s'", list);
            break;
        }
        sj_error err = {0};
        sj_path *p = NULL;
        if (sj_path_parse(l, buf, &p, &err) != SJ_OK) {
            rc = report(&err, "--fields: ");
            break;
        }
        if (sj_path_free_count(p) > 0)
            rc = fail(SJ_E_PATH, "--fields: '%s' has an open index; name each element", buf);
        else if (cli_leaves_add(sj_path_leaf(p), (uint64_t)sj_path_base_offset(p), buf, true, cols,
                                &err) != SJ_OK)
            rc = report(&err, "--fields: ");
        sj_path_free(p);
    }
    free(buf);
    return rc;
}

/* Column names made unique: a repeat gets ~2, ~3, ... (the first free one). CSV writes
 * them as bytes, so they are compared as bytes. */
static int unique_headers(cli_leaves *cols, const sj_layout *l) {
    keyset keys = {0};
    int rc = EXIT_OK;
    for (size_t i = 0; i < cols->n && rc == EXIT_OK; i++) {
        if (!*cols->v[i].path) {
            char *p = strdup(sj_layout_name(l) ? sj_layout_name(l) : "value");
            if (!p) {
                rc = fail(SJ_E_NOMEM, "out of memory");
                break;
            }
            free(cols->v[i].path);
            cols->v[i].path = p;
        }
        unsigned k;
        char *room = keyset_room(&keys, strlen(cols->v[i].path));
        if (!room) {
            rc = fail(SJ_E_NOMEM, "out of memory");
            break;
        }
        strcpy(room, cols->v[i].path);
        rc = keyset_claim(&keys, &k);
        if (rc == EXIT_OK && k) {
            size_t n = strlen(cols->v[i].path) + 16;
            char *p = malloc(n);
            if (!p) {
                rc = fail(SJ_E_NOMEM, "out of memory");
                break;
            }
            snprintf(p, n, "%s~%u", cols->v[i].path, k);
            free(cols->v[i].path);
            cols->v[i].path = p;
        }
    }
    keyset_free(&keys);
    return rc;
}

/* One column of one record. Values are read through the column's accessor, prepared
 * once (sj_accessor_of_value), not a full single access per field per record. */
static int write_column(const cli_leaf *f, const sj_accessor *acc, const uint8_t *rec,
                        const sj_segment *seg, const out_opts *o) {
    if (f->text) {
        size_t n = (size_t)sj_layout_elem_count(f->layout);
        if (o->json)
            json_bytes(stdout, rec + f->offset, text_len(rec + f->offset, n), o->lossless);
        else
            csv_bytes(stdout, rec + f->offset, text_len(rec + f->offset, n));
        return EXIT_OK;
    }
    sj_value v;
    sj_error err = {0};
    if (sj_accessor_get(acc, seg, (int64_t)f->offset, NULL, 0, &v, &err) != SJ_OK)
        return report(&err, NULL);
    char buf[64];
    format_value(f->layout, v, o, buf, sizeof buf);
    fputs(buf, stdout);
    return EXIT_OK;
}

int cmd_dump(ctx *c) {
    int r = want_args(c, 2, 2, c->npos == 0 ? "LAYOUT and FILE" : "FILE");
    if (r >= 0) return r;
    if (c->set[O_CSV] && c->set[O_JSON])
        return usage_error(c->cmd, "--csv and --json exclude each other");
    if (!c->set[O_JSON] && (c->set[O_INT64_STRINGS] || c->set[O_LOSSLESS]))
        return usage_error(c->cmd, "--%s applies to --json output",
                           c->set[O_LOSSLESS] ? "lossless" : "int64-strings");
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
    out_opts oo = {c->set[O_JSON], c->set[O_HEX], c->set[O_INT64_STRINGS], c->set[O_LOSSLESS]};
    bool flat = !oo.json || c->set[O_FIELDS];
    const char *file = c->pos[1];
    rec_place place;
    if ((r = parse_place(c, &place)) >= 0) return r;
    if (strcmp(file, "-") == 0 && strcmp(c->pos[0], "@-") == 0)
        return usage_error(c->cmd, "LAYOUT (@-) and FILE (-) cannot both come from standard input");

    sj_error err = {0};
    sj_layout *l = NULL;
    cli_leaves cols = {0};
    plan pl = {0};
    sj_accessor **accs = NULL;
    rec_reader rd = {.fd = -1};
    int rc = EXIT_OK;
    if (cli_load_layout(c->pos[0], &l, NULL, &err) != SJ_OK) {
        rc = report(&err, NULL);
        goto out;
    }
    if ((rc = check_stride(&place, l, "LAYOUT")) != EXIT_OK) goto out;
    if (c->set[O_FIELDS]) {
        if ((rc = select_fields(c->val[O_FIELDS], l, &cols)) != EXIT_OK) goto out;
    } else if (flat && cli_leaves_add(l, 0, "", true, &cols, &err) != SJ_OK) {
        rc = report(&err, NULL);
        goto out;
    }
    if (flat && (rc = unique_headers(&cols, l)) != EXIT_OK) goto out;
    if (!plan_open_lit(&pl)) {
        rc = fail(SJ_E_NOMEM, "out of memory");
        goto out;
    }
    rc = flat ? plan_flat(&pl, &cols, &oo) : plan_json(&pl, l, 0, &oo, 0);
    if (rc == EXIT_OK) rc = plan_cut(&pl, NULL, 0, false, true);
    if (rc != EXIT_OK) goto out;
    accs = calloc(pl.cols.n ? pl.cols.n : 1, sizeof *accs);
    if (!accs) {
        rc = fail(SJ_E_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < pl.cols.n; i++) {
        if (!pl.cols.v[i].text &&
            sj_accessor_of_value(pl.cols.v[i].layout, &accs[i], &err) != SJ_OK) {
            rc = report(&err, NULL);
            goto out;
        }
    }
    uint64_t size = sj_layout_size(l);
    /* The records asked for are checked before anything is printed (in a regular file). */
    if (rec_open(&rd, "FILE", file, l, place, (uint64_t)1 << 20, &err) != SJ_OK) {
        rc = report(&err, NULL);
        goto out;
    }
    if (!oo.json) {
        for (size_t i = 0; i < cols.n; i++) {
            if (i) putchar(',');
            csv_bytes(stdout, (const uint8_t *)cols.v[i].path, strlen(cols.v[i].path));
        }
        putchar('\n');
    }
    /* From a pipe, what is printed goes out before the next read, which may wait. */
    if (!rd.regular) fflush(stdout);
    for (int64_t done = 0; limit < 0 || done < limit;) {
        const uint8_t *recs;
        uint64_t n;
        if (rec_next(&rd, &recs, &n, &err) != SJ_OK) {
            rc = report(&err, NULL);
            goto out;
        }
        if (n == 0) break;
        for (uint64_t i = 0; i < n && (limit < 0 || done < limit); i++, done++) {
            const uint8_t *rec = recs + i * size;
            sj_segment seg;
            if (sj_segment_native((void *)(uintptr_t)rec, (int64_t)size, &seg, &err) != SJ_OK) {
                rc = report(&err, NULL);
                goto out;
            }
            seg = sj_segment_readonly(&seg);
            for (size_t f = 0; f < pl.cols.n; f++) {
                fwrite(pl.lits[f], 1, pl.lens[f], stdout);
                if ((rc = write_column(&pl.cols.v[f], accs[f], rec, &seg, &oo)) != EXIT_OK)
                    goto out;
            }
            fwrite(pl.lits[pl.cols.n], 1, pl.lens[pl.cols.n], stdout);
            putchar('\n');
        }
        if (!rd.regular) fflush(stdout);
    }
out:
    rec_close(&rd);
    for (size_t i = 0; accs && i < pl.cols.n; i++)
        sj_accessor_free(accs[i]);
    free(accs);
    plan_free(&pl);
    cli_leaves_free(&cols);
    sj_layout_unref(l);
    return rc;
}
