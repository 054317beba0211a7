/* tests/fake_jit/identity_check.c: run with SEGJIT_JIT_LIBRARY naming a fake JIT object;
 * the JIT must be unavailable with a reason containing argv[1], and kernels asked for the
 * JIT tier must still run (on the interpreter, the decline counted). */
#include <stdio.h>
#include <string.h>

#include <segjit/segjit.h>

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    const char *why = NULL;
    if (sj_jit_available(&why)) {
        fprintf(stderr, "the fake JIT object was loaded\n");
        return 1;
    }
    printf("refused: %s\n", why);
    if (!why || !strstr(why, argv[1])) {
        fprintf(stderr, "reason '%s' does not contain '%s'\n", why ? why : "", argv[1]);
        return 1;
    }
    sj_error err = {0};
    sj_layout *a = NULL, *b = NULL;
    sj_kernel *k = NULL;
    int32_t src[4] = {1, 2, 3, 4}, dst[4] = {0};
    sj_segment s, d;
    if (sj_layout_parse("i4", &a, &err) || sj_layout_parse("I4", &b, &err) ||
        sj_kernel_copy(a, b, &k, &err) || sj_segment_native(src, 16, &s, &err) ||
        sj_segment_native(dst, 16, &d, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    sj_kernel_set_tier(k, SJ_TIER_JIT);
    if (sj_kernel_run(k, &(sj_args){&s, 0, &d, 0, 4}, NULL, &err) != SJ_OK ||
        dst[3] != (int32_t)__builtin_bswap32(4) || sj_kernel_last_tier(k) != SJ_TIER_INTERP) {
        fprintf(stderr, "the kernel did not run on the interpreter: %s\n", err.message);
        return 1;
    }
    sj_kernel_free(k);
    sj_layout_unref(a);
    sj_layout_unref(b);
    return 0;
}
