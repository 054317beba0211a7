/* tests/fake_jit/fatal_check.c WHY: run with SEGJIT_JIT_TEST_FATAL=1 (the JIT's first
 * compile runs LLVM passes that make LLVM itself report a fatal error) or -1 (the first
 * compile calls the fatal-error handler while holding the JIT's link lock). The process
 * must not end: that kernel declines with a reason containing WHY and runs on the
 * interpreter, and later compiles decline at once (the JIT is off). */
#include <stdio.h>
#include <string.h>

#include <segjit/segjit.h>

static int run(const char *from, const char *to, const char *want_why) {
    sj_error err = {0};
    sj_layout *a = NULL, *b = NULL;
    sj_kernel *k = NULL;
    int32_t src[64], dst[64] = {0};
    for (int i = 0; i < 64; i++)
        src[i] = i * 77 + 1;
    sj_segment s, d;
    if (sj_layout_parse(from, &a, &err) || sj_layout_parse(to, &b, &err) ||
        sj_kernel_copy(a, b, &k, &err) || sj_segment_native(src, sizeof src, &s, &err) ||
        sj_segment_native(dst, sizeof dst, &d, &err)) {
        fprintf(stderr, "set-up: %s\n", err.message);
        return 1;
    }
    sj_kernel_set_tier(k, SJ_TIER_JIT);
    if (sj_kernel_run(k, &(sj_args){&s, 0, &d, 0, 64}, NULL, &err) != SJ_OK) {
        fprintf(stderr, "run: %s\n", err.message);
        return 1;
    }
    sj_kernel_info info;
    sj_kernel_stats(k, &info, &err);
    printf("%s -> %s: tier %d, decline %d: %s\n", from, to, (int)sj_kernel_last_tier(k),
           (int)info.decline, info.decline_why);
    int bad = sj_kernel_last_tier(k) != SJ_TIER_INTERP || info.decline != SJ_DECLINE_LLVM ||
              !strstr(info.decline_why, want_why);
    for (int i = 0; i < 64; i++)
        bad |= dst[i] !=
               (strcmp(from, to) == 0 ? src[i] : (int32_t)__builtin_bswap32((uint32_t)src[i]));
    sj_kernel_free(k);
    sj_layout_unref(a);
    sj_layout_unref(b);
    return bad;
}

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    if (run("i4", "I4", argv[1])) return 1;
    if (run("I4", "i4", "the JIT is off in this process after an LLVM fatal error")) return 1;
    puts("no abort: both kernels declined with their reason and ran on the interpreter");
    return 0;
}
