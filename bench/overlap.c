/* bench/overlap.c: overlapping calls (README, overlap), W6's conversion (int32
 * little-endian -> big-endian) over one buffer of n elements: in place, and shifted by one
 * element each way (the destination starting before the source: forward; after it:
 * backward), and reversed onto itself (a gather over a path with step -1: no order of
 * elements is safe), on the JIT and interpreter tiers, beside the loop a C programmer writes for
 * that shape and beside the same conversion out of place. Each timed call starts from the
 * same bytes (restored before it, untimed); every result is compared with the C loop's. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <segjit/segjit.h>

#include "bench.h"

enum { SHAPE_OUT, SHAPE_IN_PLACE, SHAPE_FORWARD, SHAPE_BACKWARD, SHAPE_REVERSED, SHAPES };
enum { OV_C, OV_JIT, OV_INTERP, OV_IMPLS };

static const char *const shape_names[SHAPES] = {"out of place", "in place", "shifted, forward",
                                                "shifted, backward", "reversed in place"};
static const char *const impl_names[OV_IMPLS] = {"c", "jit", "interp"};

static uint32_t bswap32(uint32_t v) {
    return __builtin_bswap32(v);
}

/* The hand-written loop for each shape: a holds n + 1 elements, b n (out of place). */
static void hand(int shape, uint32_t *a, uint32_t *b, int64_t n) {
    switch (shape) {
        case SHAPE_OUT:
            for (int64_t i = 0; i < n; i++)
                b[i] = bswap32(a[i]);
            break;
        case SHAPE_IN_PLACE:
            for (int64_t i = 0; i < n; i++)
                a[i] = bswap32(a[i]);
            break;
        case SHAPE_FORWARD: /* element i from a[i + 1] into a[i] */
            for (int64_t i = 0; i < n; i++)
                a[i] = bswap32(a[i + 1]);
            break;
        case SHAPE_BACKWARD: /* element i from a[i] into a[i + 1], last first */
            for (int64_t i = n - 1; i >= 0; i--)
                a[i + 1] = bswap32(a[i]);
            break;
        default: /* element i from a[n - 1 - i] into a[i]: pairs swapped from both ends */
            for (int64_t i = 0, j = n - 1; i <= j; i++, j--) {
                uint32_t x = a[i], y = a[j];
                a[i] = bswap32(y);
                a[j] = bswap32(x);
            }
            break;
    }
}

static sj_status run(sj_kernel *k, int shape, sj_segment *sa, sj_segment *sb, int64_t n,
                     sj_error *err) {
    sj_args a = {sa, 0, sa, 0, n};
    if (shape == SHAPE_OUT) a.dst = sb;
    if (shape == SHAPE_FORWARD) a.src_offset = 4;
    if (shape == SHAPE_BACKWARD) a.dst_offset = 4;
    return sj_kernel_run(k, &a, NULL, err);
}

int bench_overlap(int64_t n, int reps) {
    size_t bytes = (size_t)(n + 1) * 4, room = (bytes + 127) / 64 * 64; /* a multiple of 64 */
    uint32_t *a = aligned_alloc(64, room), *b = aligned_alloc(64, room), *orig = malloc(bytes),
             *want = malloc(bytes + bytes);
    double *t = calloc((size_t)reps * OV_IMPLS, sizeof(double));
    sj_layout *le = NULL, *be = NULL, *root = NULL;
    sj_path *rev = NULL;
    sj_kernel *k[OV_IMPLS] = {NULL}, *krev[OV_IMPLS] = {NULL};
    char text[48];
    sj_error err = {0};
    int rc = -1;
    if (!a || !b || !orig || !want || !t) goto out;
    for (int64_t i = 0; i <= n; i++)
        orig[i] = (uint32_t)(i * 2654435761u);
    sj_segment sa, sb;
    if (sj_layout_parse("i4", &le, &err) || sj_layout_parse("I4", &be, &err) ||
        sj_segment_native(a, (int64_t)bytes, &sa, &err) ||
        sj_segment_native(b, (int64_t)bytes, &sb, &err))
        goto out;
    snprintf(text, sizeof text, "[%" PRId64 "::-1]", n - 1);
    if (sj_layout_sequence(n, le, &root, &err) || sj_path_parse(root, text, &rev, &err)) goto out;
    for (int i = OV_JIT; i < OV_IMPLS; i++) {
        if (sj_kernel_copy(le, be, &k[i], &err) != SJ_OK ||
            sj_kernel_gather(rev, be, 0, &krev[i], &err) != SJ_OK)
            goto out;
        sj_kernel_set_tier(k[i], i == OV_JIT ? SJ_TIER_JIT : SJ_TIER_INTERP);
        sj_kernel_set_tier(krev[i], i == OV_JIT ? SJ_TIER_JIT : SJ_TIER_INTERP);
    }
    printf("\noverlapping calls: [%" PRId64 ":i4] -> I4 over one buffer (README, overlap); ms per "
           "call, median [min-max] of %d\n",
           n, reps);
    printf("%-20s %-7s %10s  %-22s %s\n", "shape", "impl", "ms", "[min-max]", "vs c");
    for (int shape = 0; shape < SHAPES; shape++) {
        /* the C loop's result, then each tier's against it */
        memcpy(a, orig, bytes);
        memset(b, 0, bytes);
        hand(shape, a, b, n);
        memcpy(want, a, bytes);
        memcpy((uint8_t *)want + bytes, b, bytes);
        for (int i = OV_JIT; i < OV_IMPLS; i++) {
            memcpy(a, orig, bytes);
            memset(b, 0, bytes);
            if (run(shape == SHAPE_REVERSED ? krev[i] : k[i], shape, &sa, &sb, n, &err) != SJ_OK)
                goto out;
            if (memcmp(a, want, bytes) != 0 || memcmp(b, (uint8_t *)want + bytes, bytes) != 0) {
                printf("FAILED: %s on %s differs from the C loop\n", impl_names[i],
                       shape_names[shape]);
                goto out;
            }
        }
        for (int r = 0; r < reps; r++)
            for (int j = 0; j < OV_IMPLS; j++) {
                int i = (j + r) % OV_IMPLS; /* the starting implementation rotates */
                memcpy(a, orig, bytes);
                uint64_t t0 = bench_now_ns();
                if (i == OV_C)
                    hand(shape, a, b, n);
                else if (run(shape == SHAPE_REVERSED ? krev[i] : k[i], shape, &sa, &sb, n, &err) !=
                         SJ_OK)
                    goto out;
                t[i * reps + r] = (double)(bench_now_ns() - t0) / 1e6;
            }
        double med_c = 0;
        for (int i = 0; i < OV_IMPLS; i++) {
            double *v = &t[i * reps];
            double med = bench_median(v, reps);
            if (i == OV_C) med_c = med;
            char range[40];
            snprintf(range, sizeof range, "[%.3f-%.3f]", v[0], v[reps - 1]);
            printf("%-20s %-7s %10.3f  %-22s %.2f\n", shape_names[shape], impl_names[i], med, range,
                   med / med_c);
        }
    }
    sj_counters c;
    sj_counters_get(&c);
    printf("(overlapping runs so far: %" PRIu64 " in place, %" PRIu64 " straight, %" PRIu64
           " in chunks, %" PRIu64 " from a whole copy; interpreter fallbacks for overlap %" PRIu64
           ")\n",
           c.overlap_in_place, c.overlap_direct, c.overlap_chunked, c.overlap_copies,
           c.fallbacks_overlap);
    rc = 0;
out:
    if (rc) fprintf(stderr, "segjit-bench: overlap: %s\n", err.message[0] ? err.message : "failed");
    for (int i = 0; i < OV_IMPLS; i++) {
        sj_kernel_free(k[i]);
        sj_kernel_free(krev[i]);
    }
    sj_path_free(rev);
    sj_layout_unref(root);
    sj_layout_unref(le);
    sj_layout_unref(be);
    free(a);
    free(b);
    free(orig);
    free(want);
    free(t);
    return rc;
}
