/* tests/fake_jit/fork_check.c: compiles run on the JIT's worker threads; a child of fork
 * has none of the parent's threads. After the parent has compiled (its workers idle), each
 * child compiles kernels of its own on the JIT tier: they must compile and run, not wait
 * for the parent's workers (run with a timeout). */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <segjit/segjit.h>

/* [i4(v)] -> to on the JIT tier, 64 records: 0 when it ran compiled. */
static int compiled(const char *to) {
    sj_error err = {0};
    sj_layout *a = NULL, *b = NULL;
    sj_kernel *k = NULL;
    int32_t src[64] = {1};
    uint8_t dst[64 * 32];
    sj_segment s, d;
    if (sj_layout_parse("[i4(v)]", &a, &err) || sj_layout_parse(to, &b, &err) ||
        sj_kernel_convert(a, b, 0, &k, &err) || sj_segment_native(src, sizeof src, &s, &err) ||
        sj_segment_native(dst, sizeof dst, &d, &err)) {
        fprintf(stderr, "set-up %s: %s\n", to, err.message);
        return 1;
    }
    sj_kernel_set_tier(k, SJ_TIER_JIT);
    int bad = sj_kernel_run(k, &(sj_args){&s, 0, &d, 0, 64}, NULL, &err) != SJ_OK ||
              sj_kernel_last_tier(k) != SJ_TIER_JIT;
    if (bad) fprintf(stderr, "%s: not run compiled (%s)\n", to, err.message);
    sj_layout_unref(a);
    sj_layout_unref(b);
    sj_kernel_free(k);
    return bad;
}

int main(void) {
    if (compiled("[I4(v)x4]")) return 1;
    for (int i = 0; i < 3; i++) {
        pid_t pid = fork();
        if (pid == 0)
            _exit(compiled("[I4(v)x8]") | compiled("[I4(v)x12]") | compiled("[I4(v)x16]"));
        int st = 0;
        if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st)) {
            fprintf(stderr, "child %d failed\n", i);
            return 1;
        }
    }
    puts("every child compiled its kernels");
    return 0;
}
