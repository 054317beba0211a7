/* src/status.c: status names, error formatting, hashing and the string builder
 * shared by the printers. No layout or segment logic here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char *const status_names[SJ_STATUS_COUNT] = {
    "SJ_OK",         "SJ_E_ARG",      "SJ_E_PATH",   "SJ_E_PARSE",  "SJ_E_BOUNDS",
    "SJ_E_ALIGN",    "SJ_E_READONLY", "SJ_E_CLOSED", "SJ_E_THREAD", "SJ_E_UNSUPPORTED",
    "SJ_E_OVERFLOW", "SJ_E_NOMEM",    "SJ_E_BUSY",
};

const char *sj_status_name(sj_status status) {
    if ((unsigned)status >= SJ_STATUS_COUNT) return "SJ_E_?";
    return status_names[status];
}

sj_status sj_failv(sj_error *err, sj_status status, const char *fmt, va_list ap) {
    if (err) {
        err->status = status;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        for (char *p = err->message; *p; p++) /* one line, always */
            if (*p == '\n' || *p == '\r') *p = ' ';
    }
    return status;
}

sj_status sj_fail(sj_error *err, sj_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    sj_failv(err, status, fmt, ap);
    va_end(ap);
    return status;
}

void sj_line_col(const char *text, size_t pos, unsigned *line, unsigned *col) {
    unsigned l = 1, c = 1;
    for (size_t i = 0; i < pos && text[i]; i++) {
        if (text[i] == '\n') {
            l++;
            c = 1;
        } else {
            c++;
        }
    }
    *line = l;
    *col = c;
}

sj_status sj_fail_at(sj_error *err, const char *text, size_t pos, sj_status status, const char *fmt,
                     ...) {
    char msg[SJ_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    unsigned line, col;
    sj_line_col(text, pos, &line, &col);
    return sj_fail(err, status, "%u:%u: %s", line, col, msg);
}

void sj_snip(char *dst, size_t cap, const char *s) {
    size_t n = strlen(s);
    if (n < cap) {
        memcpy(dst, s, n + 1);
        return;
    }
    memcpy(dst, s, cap - 4);
    memcpy(dst + cap - 4, "...", 4);
}

uint64_t sj_hash_bytes(uint64_t h, const void *p, size_t n) {
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static bool buf_reserve(sj_buf *b, size_t extra) {
    if (b->failed) return false;
    if (b->len + extra + 1 <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) {
        b->failed = true;
        return false;
    }
    b->data = d;
    b->cap = cap;
    return true;
}

void sj_buf_putc(sj_buf *b, char c) {
    if (!buf_reserve(b, 1)) return;
    b->data[b->len++] = c;
    b->data[b->len] = 0;
}

void sj_buf_puts(sj_buf *b, const char *s) {
    size_t n = strlen(s);
    if (!buf_reserve(b, n)) return;
    memcpy(b->data + b->len, s, n + 1);
    b->len += n;
}

void sj_buf_printf(sj_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !buf_reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

sj_status sj_buf_finish(sj_buf *b, char **out, sj_error *err) {
    if (!b->failed && !b->data) buf_reserve(b, 0);
    if (b->failed) {
        free(b->data);
        b->data = NULL;
        return sj_fail(err, SJ_E_NOMEM, "out of memory while printing");
    }
    if (b->len == 0) b->data[0] = 0;
    *out = b->data;
    b->data = NULL;
    return SJ_OK;
}
