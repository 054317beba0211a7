/* tests/fake_jit/jit_variant.h: the kernel the JIT failure tests compile, one plan per
 * variant (oom_threads.c, stuck_check.c). */
#ifndef SEGJIT_TEST_JIT_VARIANT_H
#define SEGJIT_TEST_JIT_VARIANT_H

#include <stdio.h>
#include <string.h>

#include <segjit/segjit.h>

enum { N = 256 };

/* Runs i4 -> (I4, or the thread's own record) on the JIT tier; 0 when the bytes are right. */
static int run_one(int variant, sj_kernel **keep) {
    char to[64];
    if (variant == 0)
        snprintf(to, sizeof to, "I4");
    else
        snprintf(to, sizeof to, "[I4(v)x%d]", variant); /* a plan of its own per variant */
    sj_error err = {0};
    sj_layout *a = NULL, *b = NULL;
    sj_kernel *k = NULL;
    int32_t src[N];
    uint8_t dst[N * 64];
    memset(dst, 0xee, sizeof dst);
    for (int i = 0; i < N; i++)
        src[i] = i * 77 + variant;
    sj_segment s, d;
    if (sj_layout_parse(variant ? "[i4(v)]" : "i4", &a, &err) || sj_layout_parse(to, &b, &err) ||
        (variant ? sj_kernel_convert(a, b, 0, &k, &err) : sj_kernel_copy(a, b, &k, &err)) ||
        sj_segment_native(src, sizeof src, &s, &err) ||
        sj_segment_native(dst, sizeof dst, &d, &err)) {
        fprintf(stderr, "set-up %s: %s\n", to, err.message);
        return 1;
    }
    sj_kernel_set_tier(k, SJ_TIER_JIT);
    int bad = sj_kernel_run(k, &(sj_args){&s, 0, &d, 0, N}, NULL, &err) != SJ_OK;
    size_t stride = variant ? 4 + (size_t)variant : 4;
    for (int i = 0; i < N && !bad; i++) {
        uint32_t v;
        memcpy(&v, dst + i * stride, 4);
        bad = v != __builtin_bswap32((uint32_t)src[i]);
    }
    if (bad) fprintf(stderr, "%s: wrong bytes or status (%s)\n", to, err.message);
    sj_layout_unref(a);
    sj_layout_unref(b);
    if (keep)
        *keep = k;
    else
        sj_kernel_free(k);
    return bad;
}

#endif
