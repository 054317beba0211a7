/* tools/records.h: where the records of an input file are, and reading them in batches
 * (--skip, --stride, --count; regular files, pipes and standard input alike) into an
 * aligned buffer. The record rules of the tool live here; output formats do not. */
#ifndef SEGJIT_TOOLS_RECORDS_H
#define SEGJIT_TOOLS_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <segjit/segjit.h>

/* Where the records are: record i is the `size` bytes at file offset skip + i * stride.
 * count < 0: every whole record to the end of the file. */
typedef struct rec_place {
    uint64_t skip, stride;
    int64_t count;
} rec_place;

/* A file is a sequence of records (SEMANTICS 2.4): the record layout must have a size that
 * is a non-zero multiple of its alignment. Checked once, before anything is read or
 * written; `what` names the layout in the message ("--from", "LAYOUT"). */
sj_status rec_check_layout(const sj_layout *l, const char *what, sj_error *err);

typedef struct rec_reader {
    const char *what; /* "IN" or "FILE", for messages */
    const char *path; /* as given; "-" is standard input */
    int fd;
    bool regular;  /* size known: whole records counted before the first read */
    uint64_t size; /* record size */
    rec_place place;
    uint64_t total; /* records to read; UINT64_MAX: until the end of a stream */
    uint64_t next;  /* index of the next record */
    uint64_t pos;   /* file offset of the next unread byte */
    uint64_t batch; /* records per batch, at most */
    uint8_t *buf;   /* a batch's records at buf + i * size, aligned to the record alignment;
                     * batch * size bytes, and up to 256 KiB more for records spaced wider
                     * than their size: a span of the file is read after those read */
    uint64_t held;  /* a stream's read ended inside record `next`, after `held` of its */
    size_t held_at; /* bytes, at buf + held_at: they begin the next batch */
    size_t buf_size;
} rec_reader;

/* Opens `path` and checks, before anything is read, that a regular file holds the records
 * `place` asks for (a trailing partial record is an error naming its number and offset).
 * `window` bounds the bytes of a batch's records (at least one record); records spaced
 * wider than their size take up to 256 KiB more, the span of the file read at once. */
sj_status rec_open(rec_reader *r, const char *what, const char *path, const sj_layout *l,
                   rec_place place, uint64_t window, sj_error *err);

/* The next batch: *n records at *recs (n == 0 at the end). Errors name the record number
 * and the file offset; a stream's partial record fails the call after the batch holding
 * the records before it, whatever the window. From a pipe, a batch is the whole records
 * of one read (a read returning fewer bytes than asked is normal there): records are
 * returned as they arrive, never held while the next read waits. */
sj_status rec_next(rec_reader *r, const uint8_t **recs, uint64_t *n, sj_error *err);

void rec_close(rec_reader *r);

#endif
