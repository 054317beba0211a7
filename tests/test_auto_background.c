/* tests/test_auto_background.c: the AUTO tier compiles in the background (README, tiers;
 * docs/JIT.md "Background compiles"). The call whose work crosses the threshold runs on
 * the interpreter and does not wait; later calls take the code once it is ready; a call
 * whose own work reaches the threshold compiles inline. Kernels freed, threads running
 * and processes exiting or forking while a compile is pending. Waits below are bounded
 * only to turn a hang into a failure; no timing is asserted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <malloc.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tier.h"

extern char **environ;

#define AUTO_THRESHOLD (INT64_C(1) << 22) /* src/jit_policy.h */
enum { PER = 1 << 20 };                   /* a call's elements: the 4th call crosses */

static sj_kernel *auto_kernel(const char *from, const char *to) {
    return test_convert_kernel(from, to, SJ_TIER_AUTO);
}

typedef struct bufs {
    int32_t *in;
    int64_t *out;
    int64_t n;
    sj_segment src, dst;
} bufs;

static void bufs_init(bufs *b, int64_t n, int32_t seed) {
    b->n = n;
    b->in = malloc((size_t)n * sizeof *b->in);
    b->out = malloc((size_t)n * sizeof *b->out);
    assert_true(b->in && b->out);
    for (int64_t i = 0; i < n; i++)
        b->in[i] = (int32_t)(i * 2654435761u) ^ seed;
    sj_error err = {0};
    assert_int_equal(sj_segment_native(b->in, n * 4, &b->src, &err), SJ_OK);
    assert_int_equal(sj_segment_native(b->out, n * 8, &b->dst, &err), SJ_OK);
}

static void bufs_free(bufs *b) {
    free(b->in);
    free(b->out);
}

/* One call of k over b ([i4] -> [j8], or [J8] when big), its bytes checked; returns the
 * tier it ran on. */
static sj_tier run_order(sj_kernel *k, bufs *b, bool big) {
    memset(b->out, 0xA5, (size_t)b->n * sizeof *b->out);
    sj_args args = {&b->src, 0, &b->dst, 0, b->n};
    sj_error err = {0};
    if (sj_kernel_run(k, &args, NULL, &err) != SJ_OK) fail_msg("run: %s", err.message);
    for (int64_t i = 0; i < b->n; i++) {
        int64_t want = b->in[i];
        if (big) want = (int64_t)__builtin_bswap64((uint64_t)want);
        if (b->out[i] != want) fail_msg("element %lld", (long long)i);
    }
    return sj_kernel_last_tier(k);
}
static sj_tier run_checked(sj_kernel *k, bufs *b) {
    return run_order(k, b, false);
}

static sj_kernel_info stats(const sj_kernel *k) {
    sj_kernel_info in;
    sj_error err = {0};
    assert_int_equal(sj_kernel_stats(k, &in, &err), SJ_OK);
    return in;
}

/* Waits until k's compile is no longer pending (fails after a minute: a hang). */
static sj_kernel_info wait_compiled(const sj_kernel *k) {
    for (int i = 0; i < 60000; i++) {
        sj_kernel_info in = stats(k);
        if (!in.compile_pending) return in;
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    fail_msg("the background compile did not end within a minute");
    return stats(k);
}

/* Whether AUTO compiles in the background here: a JIT whose LLVM is linked in (the
 * default); with the shared libLLVM, whose static objects exit() destroys, compiles stay
 * on the calling thread (the thread hands the first one back). Loads the JIT. */
static bool background(void) {
    if (!sj_jit_available(NULL)) return false;
    FILE *f = fopen("/proc/self/maps", "r");
    char line[4096];
    bool shared = false;
    while (f && !shared && fgets(line, sizeof line, f))
        shared = strstr(line, "/libLLVM") != NULL;
    if (f) fclose(f);
    return !shared;
}

/* The code is there (JIT available), or the kernel says why not. */
static void assert_settled(const sj_kernel_info *in, bool jit) {
    assert_false(in->compile_pending);
    if (jit)
        assert_true(in->compiled);
    else
        assert_int_not_equal(in->decline, SJ_DECLINE_NONE);
}

/* After a wait for k's compile: settled (background), or, where compiles stay on the
 * calling thread, compiled by the call that crossed or else by the next (after the thread
 * handed the first back), which runs b. */
static void settle(sj_kernel *k, bufs *b, bool jit) {
    sj_kernel_info in = wait_compiled(k);
    if (!background() && !in.compiled && in.decline == SJ_DECLINE_NONE) {
        run_checked(k, b);
        in = stats(k);
    }
    assert_settled(&in, jit);
}

static void test_crossing_call_does_not_wait(void **state) {
    (void)state;
    bool jit = sj_jit_available(NULL);
    sj_kernel *k = auto_kernel("[i4(a)]", "[j8(a)]");
    bufs b;
    bufs_init(&b, PER, 1);
    for (int call = 0; call < 3; call++) {
        assert_int_equal(run_checked(k, &b), SJ_TIER_INTERP);
        sj_kernel_info in = stats(k);
        assert_false(in.compile_pending); /* below the threshold: nothing asked */
        assert_false(in.compiled);
    }
    /* the 4th call reaches 4M elements: asked, run on the interpreter (without background
     * compiles, compiled inline and run compiled) */
    bool bg = background();
    sj_tier crossing = bg || !jit ? SJ_TIER_INTERP : SJ_TIER_JIT;
    assert_int_equal(run_checked(k, &b), crossing);
    sj_kernel_info in = stats(k);
    if (bg) assert_true(in.compile_pending || in.compiled || in.decline != SJ_DECLINE_NONE);
    in = wait_compiled(k);
    assert_settled(&in, jit);
    assert_int_equal(run_checked(k, &b), jit ? SJ_TIER_JIT : SJ_TIER_INTERP);
    in = stats(k);
    int interp_runs = crossing == SJ_TIER_INTERP ? 4 : 3;
    assert_int_equal(in.runs_interp, jit ? interp_runs : 5);
    assert_int_equal(in.runs_jit, jit ? 5 - interp_runs : 0);
    sj_kernel_free(k);
    bufs_free(&b);
}

/* A call of the threshold's work by itself compiles inline and runs compiled. */
static void test_big_call_compiles_inline(void **state) {
    (void)state;
    bool jit = sj_jit_available(NULL);
    sj_kernel *k = auto_kernel("[i4(a)x4]", "[j8(a)]");
    int64_t n = AUTO_THRESHOLD;
    int32_t *in = calloc((size_t)n, 8);
    int64_t *out = calloc((size_t)n, 8);
    assert_true(in && out);
    for (int64_t i = 0; i < n; i++)
        in[2 * i] = (int32_t)(i - 7);
    sj_segment s, d;
    sj_error err = {0};
    assert_int_equal(sj_segment_native(in, n * 8, &s, &err), SJ_OK);
    assert_int_equal(sj_segment_native(out, n * 8, &d, &err), SJ_OK);
    sj_args args = {&s, 0, &d, 0, n};
    assert_int_equal(sj_kernel_run(k, &args, NULL, &err), SJ_OK);
    for (int64_t i = 0; i < n; i += 997)
        assert_int_equal(out[i], i - 7);
    sj_kernel_info info = stats(k);
    assert_false(info.compile_pending);
    assert_settled(&info, jit);
    assert_int_equal(info.last_tier, jit ? SJ_TIER_JIT : SJ_TIER_INTERP);
    sj_kernel_free(k);
    free(in);
    free(out);
}

/* Kernels freed as soon as their compile is asked: the queue keeps each until its job
 * ends (ASan and valgrind see no use after free, no leak); a kernel asked after them
 * settles once they have been taken (one queue, in order). */
static void test_free_while_pending(void **state) {
    (void)state;
    bool jit = sj_jit_available(NULL);
    bufs b;
    bufs_init(&b, PER, 2);
    for (int i = 0; i < 6; i++) {
        char to[32];
        snprintf(to, sizeof to, "[j8(a)x%d]", 8 * (i + 1)); /* distinct plans */
        sj_kernel *k = auto_kernel("[i4(a)]", to);
        int64_t *wide = malloc((size_t)PER * (size_t)(16 + 8 * i));
        assert_non_null(wide);
        sj_segment d;
        sj_error err = {0};
        assert_int_equal(sj_segment_native(wide, PER * (16 + 8 * i), &d, &err), SJ_OK);
        sj_args args = {&b.src, 0, &d, 0, PER};
        for (int call = 0; call < 4; call++)
            assert_int_equal(sj_kernel_run(k, &args, NULL, &err), SJ_OK);
        sj_kernel_free(k); /* its compile may still be queued or running */
        free(wide);
    }
    sj_kernel *last = auto_kernel("[i4(a)]", "[j8(a)]");
    for (int call = 0; call < 4; call++)
        run_checked(last, &b);
    settle(last, &b, jit);
    sj_kernel_free(last);
    bufs_free(&b);
}

/* Threads run one AUTO kernel while it is compiled: every call's bytes are right, on
 * whichever tier it ran; ThreadSanitizer checks the hand-over. */
enum { THREADS = 4, CALLS = 24, TPER = PER / 4 };
static sj_kernel *shared_k;
static void *worker(void *arg) {
    bufs b;
    bufs_init(&b, TPER, (int32_t)(intptr_t)arg);
    for (int call = 0; call < CALLS; call++)
        run_order(shared_k, &b, true);
    bufs_free(&b);
    return NULL;
}
static void test_threads_while_compiling(void **state) {
    (void)state;
    bool jit = sj_jit_available(NULL);
    shared_k = auto_kernel("[i4(a)]", "[J8(a)]"); /* a plan no test compiled before */
    pthread_t t[THREADS];
    for (intptr_t i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker, (void *)i), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    sj_kernel_info in = stats(shared_k);
    assert_int_equal(in.runs_interp + in.runs_jit, THREADS * CALLS);
    in = wait_compiled(shared_k);
    if (!background() && !in.compiled && in.decline == SJ_DECLINE_NONE) {
        bufs b;
        bufs_init(&b, TPER, 5);
        run_order(shared_k, &b, true);
        bufs_free(&b);
        in = stats(shared_k);
    }
    assert_settled(&in, jit);
    sj_kernel_free(shared_k);
}

/* A process that ends while its compile runs: exit() must not pull LLVM from under it
 * (jit/engine.c keeps LLVM's static objects). The child asks and returns at once (leak
 * checkers find the kernel held by the compile's queue, not lost). */
static int child_exit_at_once(void) {
    sj_kernel *k = auto_kernel("[i4(a)]", "[j8(a)]");
    bufs b;
    bufs_init(&b, PER, 3);
    for (int call = 0; call < 4; call++)
        run_checked(k, &b);
    bufs_free(&b);
    sj_kernel_free(k); /* the compile keeps it until the end */
    return 0;
}

static const char *self_path = "/proc/self/exe"; /* argv[0] when it names a file (valgrind) */

static void test_exit_while_compiling(void **state) {
    (void)state;
    char *argv[] = {"test_auto_background", "--exit-at-once", NULL};
    for (int i = 0; i < 30; i++) {
        pid_t pid;
        assert_int_equal(posix_spawn(&pid, self_path, NULL, NULL, argv, environ), 0);
        int ws = 0;
        assert_int_equal(waitpid(pid, &ws, 0), pid);
        if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
            fail_msg("child %d ended with %s %d", i, WIFSIGNALED(ws) ? "signal" : "status",
                     WIFSIGNALED(ws) ? WTERMSIG(ws) : WEXITSTATUS(ws));
    }
}

/* fork while a compile runs: a wide record (NF fields reversed and byte-swapped, a plan
 * no test compiled before, tens of ms to compile), forked right after the crossing call.
 * The child's calls are right and its kernel settles (compiled by a thread of its own, or
 * declined when the fork caught LLVM mid-way); alarm turns a hang into a failure. */
enum { NF = 240, WPER = 8192 };
typedef struct wide {
    uint32_t *in, *out;
    sj_segment src, dst;
    int front; /* padding words first in the destination (a plan of its own each), else one last */
} wide;

static sj_kernel *wide_kernel(int front) {
    static char from[NF * 12 + 8], to[NF * 12 + 8];
    size_t a = 0, b = 0;
    a += (size_t)snprintf(from + a, sizeof from - a, "[");
    b += front ? (size_t)snprintf(to + b, sizeof to - b, "[x%d", 4 * front)
               : (size_t)snprintf(to + b, sizeof to - b, "[");
    for (int f = 0; f < NF; f++) {
        a += (size_t)snprintf(from + a, sizeof from - a, "i4(f%d)", f);
        b += (size_t)snprintf(to + b, sizeof to - b, "I4(f%d)", NF - 1 - f);
    }
    snprintf(from + a, sizeof from - a, "]");
    snprintf(to + b, sizeof to - b, front ? "]" : "x4]");
    return auto_kernel(from, to);
}

static void wide_init(wide *w, int front) {
    w->front = front;
    w->in = malloc((size_t)WPER * NF * 4);
    w->out = malloc((size_t)WPER * (NF + 4) * 4);
    assert_true(w->in && w->out);
    for (size_t i = 0; i < (size_t)WPER * NF; i++)
        w->in[i] = (uint32_t)i * 2654435761u;
    sj_error err = {0};
    assert_int_equal(sj_segment_native(w->in, (int64_t)WPER * NF * 4, &w->src, &err), SJ_OK);
    assert_int_equal(sj_segment_native(w->out, (int64_t)WPER * (NF + 4) * 4, &w->dst, &err), SJ_OK);
}

/* One call over WPER records; false when a byte is wrong or the call failed. */
static bool wide_run(sj_kernel *k, wide *w) {
    sj_args args = {&w->src, 0, &w->dst, 0, WPER};
    sj_error err = {0};
    if (sj_kernel_run(k, &args, NULL, &err) != SJ_OK) return false;
    for (size_t r = 0; r < WPER; r++)
        for (size_t j = 0; j < NF; j++)
            if (w->out[r * (NF + (size_t)(w->front > 1 ? w->front : 1)) + (size_t)w->front + j] !=
                __builtin_bswap32(w->in[r * NF + (NF - 1 - j)]))
                return false;
    return true;
}

static void test_fork_while_compiling(void **state) {
    (void)state;
    bool jit = sj_jit_available(NULL);
    sj_kernel *k = wide_kernel(0);
    wide w;
    wide_init(&w, 0);
    sj_kernel_info in = stats(k);
    for (int call = 0; call < 1000 && !in.compile_pending && !in.compiled; call++) {
        assert_true(wide_run(k, &w));
        in = stats(k);
    }
    if (background()) assert_true(in.compile_pending || in.compiled);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(120);
        bool ok = wide_run(k, &w);
        for (int i = 0; ok && i < 60000 && stats(k).compile_pending; i++) {
            nanosleep(&(struct timespec){0, 1000000}, NULL);
            ok = i % 50 != 49 || wide_run(k, &w); /* calls start the child's thread */
        }
        ok = ok && wide_run(k, &w);
        sj_kernel_info c = stats(k);
        ok = ok && !c.compile_pending && (!jit || c.compiled || c.decline != SJ_DECLINE_NONE);
        _exit(ok ? 0 : 3);
    }
    int ws = 0;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
        fail_msg("the forked child ended with %s %d", WIFSIGNALED(ws) ? "signal" : "status",
                 WIFSIGNALED(ws) ? WTERMSIG(ws) : WEXITSTATUS(ws));
    in = wait_compiled(k);
    if (!background() && !in.compiled && in.decline == SJ_DECLINE_NONE) {
        assert_true(wide_run(k, &w));
        in = stats(k);
    }
    assert_settled(&in, jit);
    assert_true(wide_run(k, &w));
    sj_kernel_free(k);
    free(w.in);
    free(w.out);
}

/* A fork's child whose kernel was queued (or compiling) at the fork, and which frees it
 * without calling it again: the queue has no thread there, and the kernel is freed at once
 * (it used to stay queued with the queue's reference: a leak). */
/* The sanitizers' allocator is not glibc's: mallinfo2 does not count its blocks. */
#if defined(__SANITIZE_ADDRESS__)
#define MALLINFO_COUNTS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MALLINFO_COUNTS 0
#endif
#endif
#ifndef MALLINFO_COUNTS
#define MALLINFO_COUNTS 1
#endif

static void test_free_queued_in_fork_child(void **state) {
    (void)state;
    if (!MALLINFO_COUNTS) skip();
    /* A fork waits for the compile thread to finish its queue (up to 2 s): only with the
     * wait cut short (ctest test_auto_background_nowait) is a kernel still queued in the
     * child. */
    const char *wait_ms = getenv("SEGJIT_TEST_FORK_WAIT_MS");
    if (!background() || !wait_ms || strcmp(wait_ms, "0") != 0) skip();
    enum { NK = 4 };
    sj_kernel *k[NK];
    wide w[NK];
    sj_kernel_info in[NK];
    for (int i = 0; i < NK; i++) {
        k[i] = wide_kernel(i + 1);
        wide_init(&w[i], i + 1);
        in[i] = stats(k[i]);
    }
    /* the same calls of each in turn: all cross the threshold in one round, the first is
     * compiled, the others wait behind it */
    bool all = false;
    for (int call = 0; call < 1000 && !all; call++) {
        all = true;
        for (int i = 0; i < NK; i++)
            if (!in[i].compile_pending && !in[i].compiled) {
                assert_true(wide_run(k[i], &w[i]));
                in[i] = stats(k[i]);
                all = all && (in[i].compile_pending || in[i].compiled);
            }
    }
    bool queued = in[NK - 1].compile_pending;
    pid_t pid = queued ? fork() : 0;
    assert_true(pid >= 0);
    if (queued && pid == 0) {
        alarm(60);
        bool pending = stats(k[NK - 1]).compile_pending; /* no thread here to compile it */
        struct mallinfo2 before = mallinfo2();
        sj_kernel_free(k[NK - 1]); /* the last user reference; no call after the fork */
        struct mallinfo2 after = mallinfo2();
        /* the plan and the interpreter's program of 240 fields: tens of KB */
        _exit(!pending ? 4 : before.uordblks - after.uordblks > 16384 ? 0 : 3);
    }
    int ws = 0;
    if (queued) assert_int_equal(waitpid(pid, &ws, 0), pid);
    for (int i = 0; i < NK; i++) {
        wait_compiled(k[i]);
        sj_kernel_free(k[i]);
        free(w[i].in);
        free(w[i].out);
    }
    if (!queued) skip(); /* compiled before the last was queued: nothing to test */
    if (WIFEXITED(ws) && WEXITSTATUS(ws) == 4) skip(); /* compiled before the fork */
    if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
        fail_msg("the forked child ended with %s %d (3: the kernel was not freed)",
                 WIFSIGNALED(ws) ? "signal" : "status",
                 WIFSIGNALED(ws) ? WTERMSIG(ws) : WEXITSTATUS(ws));
}

int main(int argc, char **argv) {
    setenv("SEGJIT_AUTO_COMPILE", "background", 1); /* the default, whatever the caller set */
    if (argc == 2 && strcmp(argv[1], "--exit-at-once") == 0) return child_exit_at_once();
    if (argc >= 1 && strchr(argv[0], '/')) self_path = argv[0];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crossing_call_does_not_wait),
        cmocka_unit_test(test_big_call_compiles_inline),
        cmocka_unit_test(test_free_while_pending),
        cmocka_unit_test(test_threads_while_compiling),
        cmocka_unit_test(test_exit_while_compiling),
        cmocka_unit_test(test_fork_while_compiling),
        cmocka_unit_test(test_free_queued_in_fork_child),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
