/* tools/segjit_gen.c: segjit-gen, a test helper that writes N records of a layout with
 * deterministic values, so that the command-line tests need no other tool to make inputs.
 * It is not installed; the segjit tool itself is tools/segjit.c. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkstemp, realpath, sigaction, O_CLOEXEC under -std=c11 */
#endif

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* Records repeat with this period: record r holds the values of record r % PERIOD. */
#define PERIOD 4096u

static void usage(FILE *f) {
    fputs("usage: segjit-gen LAYOUT N OUT\n"
          "\n"
          "Writes N records of LAYOUT (text or @FILE) to OUT (- for stdout). Record r, field\n"
          "with path P, q = r % 4096, h = FNV-1a(P) % 1000:\n"
          "  integers (q + h) % 100, bool (q + h) % 2, char 'a' + (q + h) % 26,\n"
          "  floats q + (h % 4) / 4, addresses q; padding bytes are zero.\n"
          "Values depend on the field's path, not its position, so two layouts with the same\n"
          "field names give the same values (what `segjit convert` should produce).\n",
          f);
}

static uint32_t fnv1a(const char *s) {
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static sj_value value_for(sj_kind kind, uint64_t q, uint32_t h) {
    sj_value v;
    memset(&v, 0, sizeof v);
    uint64_t i = (q + h) % 100;
    double d = (double)q + (double)(h % 4) / 4.0;
    switch (kind) {
        case SJ_BOOL:
            v.z = (q + h) % 2 != 0;
            break;
        case SJ_I8:
            v.i8 = (int8_t)i;
            break;
        case SJ_U8:
            v.u8 = (uint8_t)i;
            break;
        case SJ_CHAR:
            v.c16 = (uint16_t)('a' + (q + h) % 26);
            break;
        case SJ_I16:
            v.i16 = (int16_t)i;
            break;
        case SJ_U16:
            v.u16 = (uint16_t)i;
            break;
        case SJ_I32:
            v.i32 = (int32_t)i;
            break;
        case SJ_U32:
            v.u32 = (uint32_t)i;
            break;
        case SJ_I64:
            v.i64 = (int64_t)i;
            break;
        case SJ_U64:
            v.u64 = i;
            break;
        case SJ_F32:
            v.f32 = (float)d;
            break;
        case SJ_F64:
            v.f64 = d;
            break;
        case SJ_ADDR:
            v.addr = q;
            break;
        case SJ_KIND_COUNT:
            break;
    }
    return v;
}

int main(int argc, char **argv) {
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc != 4) {
        usage(stderr);
        return 2;
    }
    int64_t count;
    if (!cli_parse_size(argv[2], &count)) {
        fprintf(stderr, "segjit-gen: N must be a non-negative count, not '%s'\n", argv[2]);
        return 2;
    }
    sj_error err = {0};
    sj_layout *l = NULL;
    cli_leaves leaves = {0};
    uint8_t *block = NULL, *rec = NULL;
    int fd = -1, rc = 1;
    bool to_stdout = strcmp(argv[3], "-") == 0;
    if (cli_load_layout(argv[1], &l, NULL, &err) != SJ_OK ||
        cli_leaves_collect(l, &leaves, &err) != SJ_OK) {
        fprintf(stderr, "%s: %s\n", sj_status_name(err.status), err.message);
        goto out;
    }
    uint64_t size = sj_layout_size(l);
    uint64_t nblock = (uint64_t)count < PERIOD ? (uint64_t)count : PERIOD;
    /* Whole periods in one buffer of about 4 MiB at most, so writes are large. */
    uint64_t reps = size && nblock == PERIOD ? ((uint64_t)4 << 20) / (size * PERIOD) : 0;
    if (reps == 0) reps = 1;
    if (size && nblock * reps > SIZE_MAX / size) {
        fprintf(stderr, "SJ_E_OVERFLOW: records of %" PRIu64 " bytes are too large\n", size);
        goto out;
    }
    size_t bytes = (size_t)(size * nblock * reps);
    if (posix_memalign((void **)&block, 4096, bytes ? bytes : 1) != 0) {
        block = NULL;
        fprintf(stderr, "SJ_E_NOMEM: out of memory for %zu bytes\n", bytes);
        goto out;
    }
    memset(block, 0, bytes ? bytes : 1);
    /* Each record is filled in an aligned scratch record, then copied into place: a
     * record whose size is not a multiple of its alignment stays writable. */
    uint64_t align = sj_layout_align(l);
    if (posix_memalign((void **)&rec, align > 4096 ? (size_t)align : 4096, size ? size : 1) != 0) {
        rec = NULL;
        fprintf(stderr, "SJ_E_NOMEM: out of memory for a %" PRIu64 "-byte record\n", size);
        goto out;
    }
    sj_segment seg;
    if (sj_segment_native(rec, (int64_t)size, &seg, &err) != SJ_OK) {
        fprintf(stderr, "%s: %s\n", sj_status_name(err.status), err.message);
        goto out;
    }
    for (uint64_t r = 0; r < nblock; r++) {
        memset(rec, 0, size ? size : 1);
        for (size_t i = 0; i < leaves.n; i++) {
            const cli_leaf *f = &leaves.v[i];
            sj_value v = value_for(sj_layout_kind(f->layout), r, fnv1a(f->path) % 1000);
            if (sj_set(&seg, f->layout, (int64_t)f->offset, v, &err) != SJ_OK) {
                fprintf(stderr, "%s: record %" PRIu64 " field %s: %s\n", sj_status_name(err.status),
                        r, f->path, err.message);
                goto out;
            }
        }
        memcpy(block + r * size, rec, (size_t)size);
    }
    for (uint64_t k = 1; k < reps; k++)
        memcpy(block + k * nblock * size, block, (size_t)(nblock * size));

    fd = to_stdout ? STDOUT_FILENO : open(argv[3], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        fprintf(stderr, "SJ_E_ARG: cannot create '%s': %s\n", argv[3], strerror(errno));
        goto out;
    }
    uint64_t left = (uint64_t)count;
    while (left) {
        uint64_t n = left < nblock * reps ? left : nblock * reps;
        if (!cli_write_all(fd, block, (size_t)(n * size))) {
            fprintf(stderr, "SJ_E_ARG: cannot write '%s': %s\n", argv[3], strerror(errno));
            goto out;
        }
        left -= n;
    }
    rc = 0;
out:
    if (fd >= 0 && !to_stdout && close(fd) != 0 && rc == 0) {
        fprintf(stderr, "SJ_E_ARG: cannot write '%s': %s\n", argv[3], strerror(errno));
        rc = 1;
    }
    free(block);
    free(rec);
    cli_leaves_free(&leaves);
    sj_layout_unref(l);
    return rc;
}
