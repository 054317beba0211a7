/* tools/records.c: the records of an input file (--skip, --stride, --count) read in
 * batches into an aligned buffer, for `dump` and `convert`. Decides once, before the first
 * byte is read, whether a layout can form a file of records and whether a regular file
 * holds them; output formats and conversion do not belong here. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "records.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* Records spaced wider than their size (--stride) are read this many bytes at a time, the
 * gaps between them with them, and moved together in memory: a read per span, not a seek
 * and a read per record. A gap of a regular file wider than SEEK_GAP is seeked over. */
#define SPAN_BYTES ((uint64_t)256 << 10)
#define SEEK_GAP   ((uint64_t)16 << 10)

sj_status rec_check_layout(const sj_layout *l, const char *what, sj_error *err) {
    uint64_t size = sj_layout_size(l), align = sj_layout_align(l);
    if (size == 0)
        return cli_fail(err, SJ_E_ARG, "%s: a record layout of size 0 cannot divide a file", what);
    if (size % align != 0)
        return cli_fail(err, SJ_E_ARG,
                        "%s: the record layout has size %" PRIu64
                        ", not a multiple of its alignment %" PRIu64
                        ", so its records cannot follow one another in a file (a sequence, "
                        "SEMANTICS 2.4): add %" PRIu64 " bytes of tail padding (x%" PRIu64
                        ") or declare it packed",
                        what, size, align, align - size % align, align - size % align);
    return SJ_OK;
}

static sj_status advance(rec_reader *r, uint64_t to, uint8_t *scratch, size_t scratch_size,
                         bool *ok, sj_error *err);

/* Record idx at byte offset `at` holds only `got` of its `size` bytes; count >= 0: the
 * --count asked for, said as well. */
static sj_status partial_fail(const char *what, const char *path, uint64_t idx, uint64_t at,
                              uint64_t got, uint64_t size, int64_t count, sj_error *err) {
    if (count >= 0)
        return cli_fail(err, SJ_E_BOUNDS,
                        "%s: record %" PRIu64 " at byte offset %" PRIu64
                        " is partial: '%s' ends after %" PRIu64 " of its %" PRIu64
                        " bytes: --count %" PRId64 " asks for more records than it holds",
                        what, idx, at, path, got, size, count);
    return cli_fail(err, SJ_E_BOUNDS,
                    "%s: record %" PRIu64 " at byte offset %" PRIu64
                    " is partial: '%s' ends after %" PRIu64 " of its %" PRIu64 " bytes",
                    what, idx, at, path, got, size);
}

sj_status rec_open(rec_reader *r, const char *what, const char *path, const sj_layout *l,
                   rec_place place, uint64_t window, sj_error *err) {
    *r = (rec_reader){.what = what, .path = path, .fd = -1};
    sj_status st = rec_check_layout(l, what, err);
    if (st != SJ_OK) return st;
    uint64_t size = sj_layout_size(l), align = sj_layout_align(l);
    if (place.stride == 0) place.stride = size;
    r->size = size;
    r->place = place;
    bool is_stdin = strcmp(path, "-") == 0;
    r->fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0)
        return cli_fail(err, SJ_E_ARG, "%s: cannot open '%s': %s", what, path, strerror(errno));
    struct stat sb;
    if (fstat(r->fd, &sb) != 0)
        return cli_fail(err, SJ_E_ARG, "%s: cannot stat '%s': %s", what, path, strerror(errno));
    if (S_ISDIR(sb.st_mode)) return cli_fail(err, SJ_E_ARG, "%s: '%s' is a directory", what, path);
    off_t base = 0;
    if (S_ISREG(sb.st_mode)) {
        base = is_stdin ? lseek(r->fd, 0, SEEK_CUR) : 0;
        r->regular = base >= 0 && base <= sb.st_size;
    }
    if (r->regular) {
        uint64_t fsize = (uint64_t)(sb.st_size - base), skip = place.skip, stride = place.stride;
        if (skip > fsize)
            return cli_fail(err, SJ_E_BOUNDS,
                            "%s: --skip %" PRIu64 " is past the end of '%s' (%" PRIu64 " bytes)",
                            what, skip, path, fsize);
        uint64_t avail = fsize - skip, whole = avail >= size ? (avail - size) / stride + 1 : 0;
        if (place.count >= 0 && (uint64_t)place.count > whole) {
            uint64_t at = skip + whole * stride;
            if (at < fsize) /* some of its bytes are there */
                return partial_fail(what, path, whole, at, fsize - at, size, place.count, err);
            return cli_fail(err, SJ_E_BOUNDS,
                            "%s: record %" PRIu64 " at byte offset %" PRIu64
                            " is past the end of '%s' (%" PRIu64 " bytes): --count %" PRId64
                            " asks for more records than it holds",
                            what, whole, at, path, fsize, place.count);
        }
        if (place.count < 0) {
            uint64_t used = whole ? (whole - 1) * stride + size : 0;
            uint64_t left = avail - used, gap = whole ? stride - size : 0;
            if (left > gap) {
                uint64_t at = skip + (whole ? whole * stride : 0);
                return partial_fail(what, path, whole, at, fsize - at, size, -1, err);
            }
        }
        r->total = place.count >= 0 ? (uint64_t)place.count : whole;
        if (lseek(r->fd, base + (off_t)skip, SEEK_SET) < 0)
            return cli_fail(err, SJ_E_ARG, "%s: cannot seek in '%s': %s", what, path,
                            strerror(errno));
        r->pos = skip;
    } else {
        r->total = place.count >= 0 ? (uint64_t)place.count : UINT64_MAX;
    }
    r->batch = window / size;
    if (r->batch == 0) r->batch = 1;
    if (r->total && r->batch > r->total) r->batch = r->total;
    uint64_t bytes, span;
    if (__builtin_mul_overflow(r->batch, size, &bytes) || bytes > SIZE_MAX / 2)
        return cli_fail(err, SJ_E_NOMEM, "%s: out of memory for %" PRIu64 " records", what,
                        r->batch);
    /* Records spaced wider than their size are read a span at a time, the gaps with them,
     * into the room after the records already read, then moved down over the gaps: up to
     * SPAN_BYTES more than the batch (the batch's stride bytes, when they are fewer). */
    if (place.stride > size) {
        if (__builtin_mul_overflow(r->batch, place.stride, &span) || span > SPAN_BYTES)
            span = SPAN_BYTES;
        bytes += span;
    }
    size_t ralign = align > 4096 ? (size_t)align : 4096;
    r->buf_size = (size_t)bytes;
    if (posix_memalign((void **)&r->buf, ralign, r->buf_size ? r->buf_size : 1) != 0) {
        r->buf = NULL;
        return cli_fail(err, SJ_E_NOMEM, "%s: out of memory for a %zu-byte window", what,
                        r->buf_size);
    }
    if (!r->regular) {
        /* The header of a stream is passed now, so that a short one fails before output. */
        bool ok;
        if ((st = advance(r, place.skip, r->buf, r->buf_size, &ok, err)) != SJ_OK) return st;
        if (!ok)
            return cli_fail(err, SJ_E_BOUNDS,
                            "%s: --skip %" PRIu64 " is past the end of '%s' (%" PRIu64 " bytes)",
                            what, place.skip, path, r->pos);
    }
    return SJ_OK;
}

/* One read of up to n bytes (fewer from a pipe, 0 at the end of the file). */
static sj_status read_some(rec_reader *r, uint8_t *p, uint64_t n, uint64_t *got, sj_error *err) {
    if (n > ((uint64_t)1 << 30)) n = (uint64_t)1 << 30;
    ssize_t k;
    while ((k = read(r->fd, p, (size_t)n)) < 0)
        if (errno != EINTR)
            return cli_fail(err, SJ_E_ARG, "%s: cannot read '%s' at byte offset %" PRIu64 ": %s",
                            r->what, r->path, r->pos, strerror(errno));
    *got = (uint64_t)k;
    r->pos += *got;
    return SJ_OK;
}

/* Reads up to n bytes; fewer only at the end of the file. */
static sj_status read_full(rec_reader *r, uint8_t *p, uint64_t n, uint64_t *got, sj_error *err) {
    *got = 0;
    while (*got < n) {
        uint64_t k = 0;
        sj_status st = read_some(r, p + *got, n - *got, &k, err);
        if (st != SJ_OK) return st;
        if (k == 0) break;
        *got += k;
    }
    return SJ_OK;
}

/* Moves to file offset `to` (>= r->pos): a seek in a regular file, elsewhere reads into
 * `scratch` (scratch_size bytes, at least one) whose bytes are dropped. At the end of the
 * file *ok is false. */
static sj_status advance(rec_reader *r, uint64_t to, uint8_t *scratch, size_t scratch_size,
                         bool *ok, sj_error *err) {
    *ok = true;
    if (to == r->pos) return SJ_OK;
    if (r->regular) {
        if (lseek(r->fd, (off_t)(to - r->pos), SEEK_CUR) < 0)
            return cli_fail(err, SJ_E_ARG, "%s: cannot seek in '%s': %s", r->what, r->path,
                            strerror(errno));
        r->pos = to;
        return SJ_OK;
    }
    while (r->pos < to) {
        uint64_t want = to - r->pos, got;
        if (want > scratch_size) want = scratch_size;
        sj_status st = read_full(r, scratch, want, &got, err);
        if (st != SJ_OK) return st;
        if (got < want) {
            *ok = false;
            return SJ_OK;
        }
    }
    return SJ_OK;
}

/* Record `idx` ended after `got` of its bytes (0: not there at all). */
static sj_status short_record(rec_reader *r, uint64_t idx, uint64_t got, sj_error *err) {
    uint64_t at = r->place.skip + idx * r->place.stride;
    if (r->regular)
        return cli_fail(err, SJ_E_BOUNDS,
                        "%s: '%s' shrank while it was being read (truncated by another process?): "
                        "record %" PRIu64 " at byte offset %" PRIu64 " is missing",
                        r->what, r->path, idx, at);
    if (got == 0)
        return cli_fail(err, SJ_E_BOUNDS,
                        "%s: record %" PRIu64 " at byte offset %" PRIu64
                        " is past the end of '%s': --count %" PRId64
                        " asks for more records than it holds",
                        r->what, idx, at, r->path, r->place.count);
    return partial_fail(r->what, r->path, idx, at, got, r->size, r->place.count, err);
}

/* The end of the input before record r->next + m, with `part` of its bytes there. A
 * stream's batch ends at each read that completes a record, so there m is 0: the records
 * before a partial one went out with earlier batches. */
static sj_status end_of_input(rec_reader *r, uint64_t m, uint64_t part, sj_error *err) {
    if (part || r->place.count >= 0 || r->regular) return short_record(r, r->next + m, part, err);
    r->total = r->next + m; /* the end of a stream */
    return SJ_OK;
}

sj_status rec_next(rec_reader *r, const uint8_t **recs, uint64_t *n, sj_error *err) {
    *recs = r->buf;
    *n = 0;
    if (r->next >= r->total) return SJ_OK;
    uint64_t want = r->total - r->next < r->batch ? r->total - r->next : r->batch;
    uint64_t size = r->size, stride = r->place.stride, m = 0;
    /* Bytes read at once past the records already read: dense records all at once; spaced
     * ones a span at a time, one record each when their gaps are seeked over. */
    bool far = r->regular && stride - size > SEEK_GAP;
    uint64_t span = stride == size ? UINT64_MAX : SPAN_BYTES > size ? SPAN_BYTES : size;
    /* The first bytes of record `next`, left by the last call's short read, go first. */
    uint64_t have = r->held;
    if (have && r->held_at) memmove(r->buf, r->buf + r->held_at, (size_t)have);
    r->held = 0;
    sj_status st;
    while (m < want) {
        /* A span of the file is read at buf + m * size, its records moved down over the gaps
         * between them. */
        uint8_t *dst = r->buf + m * size;
        uint64_t room = r->buf_size - m * size, idx = r->next + m;
        if (room > span) room = span;
        uint64_t at = r->place.skip + idx * r->place.stride, gap = have ? 0 : at - r->pos;
        if (gap && (gap > room - size || (r->regular && gap > SEEK_GAP))) {
            bool ok;
            if ((st = advance(r, at, dst, (size_t)room, &ok, err)) != SJ_OK) return st;
            if (!ok) { /* the end of a stream inside a gap */
                if ((st = end_of_input(r, m, 0, err)) != SJ_OK) return st;
                break;
            }
            gap = 0;
        }
        uint64_t k = far ? 1 : (room - gap - size) / stride + 1;
        if (k > want - m) k = want - m;
        uint64_t end = gap + (k - 1) * stride + size, got = 1;
        while (have < end) {
            if ((st = read_some(r, dst + have, end - have, &got, err)) != SJ_OK) return st;
            if (got == 0) break;
            have += got;
            /* A pipe's read that completes a record ends the batch (another might wait). */
            if (!r->regular && have >= gap + size) break;
        }
        uint64_t whole = have >= gap + size ? (have - gap - size) / stride + 1 : 0;
        if (whole > k) whole = k;
        for (uint64_t j = 0; j < whole; j++)
            if (gap + j * stride != j * size)
                memmove(dst + j * size, dst + gap + j * stride, (size_t)size);
        m += whole;
        uint64_t from = gap + whole * stride, part = have > from ? have - from : 0;
        if (got == 0) { /* the end of the input */
            if ((st = end_of_input(r, m, part, err)) != SJ_OK) return st;
            break;
        }
        if (!r->regular) { /* the records now, the rest of the next one kept */
            r->held = part;
            r->held_at = (size_t)(dst + from - r->buf);
            break;
        }
        have = 0;
    }
    r->next += m;
    *n = m;
    return SJ_OK;
}

void rec_close(rec_reader *r) {
    if (r->fd > STDIN_FILENO) close(r->fd);
    r->fd = -1;
    free(r->buf);
    r->buf = NULL;
}
