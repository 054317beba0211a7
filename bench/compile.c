/* bench/compile.c: the JIT's compile cost, as BENCH.md asks: the first compiled kernel
 * in a fresh process (the bench spawns itself with --first-kernel), the median cost of
 * each further distinct kernel, and the cost of a cache hit. No workloads here.
 *
 * What each figure contains:
 * - first kernel: in the child, from main()'s first statement to the return of the
 *   first sj_kernel_run of a JIT-tier copy kernel (i4 -> I4, 16 elements): loading the
 *   JIT (dlopen of libsegjit-jit and libLLVM, LLVM start; also reported apart), plan,
 *   IR, optimization, code generation and the tiny run. The parent also reports the
 *   whole process (spawn to exit: exec, dynamic loading, the above, exit).
 * - distinct kernel: kernel creation + sj_kernel_set_tier(JIT) + sj_kernel_run(count 1)
 *   for plans that differ in stride and field offset ([64:[x<4k>i4(v)]], path [*].v),
 *   in a process whose JIT is already started. The kinds take turns, so the median
 *   speaks for all of them: a SUM reduction over [*].v, a gather of [*].v into a dense
 *   i4 array, a conversion of the record [x<4k>i4(v)] to [I4(v)] (byte swap), and a
 *   scatter of a dense i4 array into [*].v.
 * - cache hit: the same three calls for a plan compiled before (a new kernel object, so
 *   the plan is built again and found in the JIT cache), minus the median of the run
 *   alone (count 1) on an existing compiled kernel. The counters confirm that nothing
 *   was compiled.
 * - cache hit after the kernels were freed: the same, for a plan (the fifth distinct one,
 *   a reduction as plan 0 is) whose every kernel was freed before each sample: the code
 *   outlived them in the JIT's cache. */
#include <dlfcn.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <segjit/segjit.h>

#include "bench.h"

extern char **environ;

/* The path of the first file this process has mapped whose path contains `name`, from
 * /proc/self/maps; false when none is mapped. */
static bool mapped_path(const char *name, char *out, size_t len) {
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return false;
    char line[4352];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        char *path = strchr(line, '/');
        if (!path || !strstr(path, name)) continue;
        path[strcspn(path, "\n")] = '\0';
        found = (size_t)snprintf(out, len, "%s", path) < len;
    }
    fclose(f);
    return found;
}

int bench_dlopen_child(uint64_t t0, const char *path) {
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    uint64_t t1 = bench_now_ns();
    if (!h) {
        printf("error %s\n", dlerror());
        return 1;
    }
    printf("dlopen %" PRIu64 "\n", t1 - t0);
    return 0;
}

/* 1 when /proc/self/maps names what, else 0. */
static int mapped(const char *what) {
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return 0;
    char line[4352];
    int found = 0;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, what) != NULL;
    fclose(f);
    return found;
}

int bench_first_kernel_child(uint64_t t0, bool split_load) {
    sj_error err = {0};
    sj_layout *s = NULL, *d = NULL;
    sj_kernel *k = NULL;
    sj_segment a, b;
    /* Loading the JIT (dlopen of libsegjit-jit and libLLVM, LLVM start) happens inside
     * the first run; it is timed apart here only to report the split. */
    const char *why = NULL;
    bool avail = split_load ? sj_jit_available(&why) : true; /* cached: no JIT loaded */
    uint64_t t_load = bench_now_ns();
    sj_status st = sj_layout_parse("i4", &s, &err);
    if (st == SJ_OK) st = sj_layout_parse("I4", &d, &err);
    if (st == SJ_OK) st = sj_kernel_copy(s, d, &k, &err);
    if (st == SJ_OK) st = sj_arena_allocate(sj_arena_global(), 64, 64, &a, &err);
    if (st == SJ_OK) st = sj_arena_allocate(sj_arena_global(), 64, 64, &b, &err);
    if (st == SJ_OK) {
        sj_kernel_set_tier(k, SJ_TIER_JIT);
        sj_args args = {.src = &a, .src_offset = 0, .dst = &b, .dst_offset = 0, .count = 16};
        st = sj_kernel_run(k, &args, NULL, &err);
    }
    uint64_t t1 = bench_now_ns();
    if (st != SJ_OK) {
        printf("error %s: %s\n", sj_status_name(st), err.message);
        return 1;
    }
    sj_counters c;
    sj_counters_get(&c);
    bool jit = sj_kernel_last_tier(k) == SJ_TIER_JIT;
    printf("first-kernel %" PRIu64 " %s %" PRIu64 "\n", t1 - t0, jit ? "jit" : "interp",
           t_load - t0);
    char llvm[4096];
    if (jit && mapped_path("/libLLVM", llvm, sizeof llvm)) printf("llvm %s\n", llvm);
    printf("pcache %d %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", mapped("segjit-jit"), c.pcache_hits,
           c.pcache_stores, c.ns_pcache_load);
    if (!jit)
        printf("why %s\n", !avail              ? (why ? why : "JIT unavailable")
                           : c.last_decline[0] ? c.last_decline
                                               : "(no reason recorded)");
    sj_kernel_free(k);
    sj_layout_unref(s);
    sj_layout_unref(d);
    return 0;
}

/* AUTO_CALLS calls of an AUTO conversion of 1M records ([i4 f4] -> [j8 d8]), each timed:
 * prints "auto-calls" and, per call, its ns and tier (j or i). */
int bench_auto_calls_child(void) {
    enum { N = 1 << 20 };
    sj_error err = {0};
    sj_layout *s = NULL, *d = NULL;
    sj_kernel *k = NULL;
    sj_segment a, b;
    sj_status st = sj_layout_parse("[i4(a)f4(b)]", &s, &err);
    if (st == SJ_OK) st = sj_layout_parse("[j8(a)d8(b)]", &d, &err);
    if (st == SJ_OK) st = sj_kernel_convert(s, d, 0, &k, &err);
    if (st == SJ_OK) st = sj_arena_allocate(sj_arena_global(), 8 * (int64_t)N, 64, &a, &err);
    if (st == SJ_OK) st = sj_arena_allocate(sj_arena_global(), 16 * (int64_t)N, 64, &b, &err);
    if (st != SJ_OK) {
        printf("error %s: %s\n", sj_status_name(st), err.message);
        return 1;
    }
    sj_kernel_set_tier(k, SJ_TIER_AUTO);
    memset(a.base, 1, 8 * (size_t)N);
    memset(b.base, 0, 16 * (size_t)N);
    printf("auto-calls");
    for (int i = 0; i < AUTO_CALLS && st == SJ_OK; i++) {
        sj_args args = {.src = &a, .dst = &b, .count = N};
        uint64_t t0 = bench_now_ns();
        st = sj_kernel_run(k, &args, NULL, &err);
        uint64_t t1 = bench_now_ns();
        printf(" %" PRIu64 " %c", t1 - t0, sj_kernel_last_tier(k) == SJ_TIER_JIT ? 'j' : 'i');
    }
    printf("\n");
    if (st != SJ_OK) printf("error %s: %s\n", sj_status_name(st), err.message);
    return st == SJ_OK ? 0 : 1;
}

/* Runs exe with args (argv[1..], NULL-terminated) in a fresh process; its standard
 * output goes to buf. Returns 0 and the time from spawn to exit, or -1 with why. */
static int spawn_capture(const char *exe, char *const *argv, char *buf, size_t cap, double *exec_ns,
                         char *why, size_t why_len) {
    int fds[2];
    if (pipe(fds) != 0) {
        bench_text(why, why_len, "pipe failed");
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    pid_t pid;
    uint64_t t0 = bench_now_ns();
    int rc = posix_spawn(&pid, exe, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        bench_text(why, why_len, "cannot spawn %s: %s", exe, strerror(rc));
        return -1;
    }
    size_t len = 0;
    ssize_t got;
    while (len + 1 < cap && (got = read(fds[0], buf + len, cap - 1 - len)) > 0)
        len += (size_t)got;
    buf[len] = '\0';
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    *exec_ns = (double)(bench_now_ns() - t0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        buf[strcspn(buf, "\n")] = '\0';
        bench_text(why, why_len, "%s %s failed (status %d): %s", argv[0], argv[1], status, buf);
        return -1;
    }
    return 0;
}

/* One fresh first-kernel process: main() to compiled kernel, spawn to exit, main() to the
 * JIT loaded, and the libLLVM it mapped (into llvm). Returns 0, or -1 with why. */
static int spawn_first(const char *exe, double *main_ns, double *exec_ns, double *load_ns,
                       char *llvm, size_t llvm_len, char *why, size_t why_len) {
    char arg0[] = "segjit-bench", arg1[] = "--first-kernel";
    char *argv[] = {arg0, arg1, NULL};
    char buf[8192];
    if (spawn_capture(exe, argv, buf, sizeof buf, exec_ns, why, why_len) != 0) return -1;
    char tier[16] = "";
    uint64_t ns = 0, init = 0;
    if (sscanf(buf, "first-kernel %" SCNu64 " %15s %" SCNu64, &ns, tier, &init) != 3) {
        buf[strcspn(buf, "\n")] = '\0';
        bench_text(why, why_len, "first-kernel child said: %s", buf);
        return -1;
    }
    if (strcmp(tier, "jit") != 0) {
        const char *w = strstr(buf, "\nwhy ");
        bench_text(why, why_len, "first kernel ran on the interpreter: %s",
                   w ? w + 5 : "(no reason)");
        why[strcspn(why, "\n")] = '\0';
        return -1;
    }
    const char *l = strstr(buf, "\nllvm ");
    llvm[0] = '\0';
    if (l) {
        l += 6;
        size_t n = strcspn(l, "\n");
        if (n < llvm_len) {
            memcpy(llvm, l, n);
            llvm[n] = '\0';
        }
    }
    *main_ns = (double)ns;
    *load_ns = (double)init;
    return 0;
}

/* One fresh process that only dlopens the libLLVM at path: the floor under the first
 * kernel that no code of ours can lower. Returns 0 and main() to dlopen's return. */
static int spawn_dlopen(const char *exe, const char *path, double *ns_out, char *why,
                        size_t why_len) {
    char arg0[] = "segjit-bench", arg1[] = "--dlopen";
    char *argv[] = {arg0, arg1, (char *)path, NULL};
    char buf[512];
    double exec_ns;
    if (spawn_capture(exe, argv, buf, sizeof buf, &exec_ns, why, why_len) != 0) return -1;
    uint64_t ns = 0;
    if (sscanf(buf, "dlopen %" SCNu64, &ns) != 1) {
        bench_text(why, why_len, "dlopen child said: %s", buf);
        return -1;
    }
    *ns_out = (double)ns;
    return 0;
}

/* One fresh first-kernel process with the persistent cache on in dir (the child loads no
 * JIT before its kernel). Returns 0 with main() to kernel, spawn to exit, the file's load
 * time, whether the JIT was mapped and the cache's hits, or -1 with why. */
static int spawn_cached(const char *exe, const char *dir, double *main_ns, double *exec_ns,
                        double *load_ns, int *jit_mapped, uint64_t *hits, char *why,
                        size_t why_len) {
    char arg0[] = "segjit-bench", arg1[] = "--first-kernel-cached";
    char *argv[] = {arg0, arg1, NULL};
    char buf[8192];
    setenv("SEGJIT_CACHE", "on", 1);
    setenv("SEGJIT_CACHE_DIR", dir, 1);
    int rc = spawn_capture(exe, argv, buf, sizeof buf, exec_ns, why, why_len);
    setenv("SEGJIT_CACHE", "off", 1);
    unsetenv("SEGJIT_CACHE_DIR");
    if (rc != 0) return -1;
    char tier[16] = "";
    uint64_t ns = 0, init = 0, stores = 0, load = 0;
    const char *pc = strstr(buf, "\npcache ");
    if (sscanf(buf, "first-kernel %" SCNu64 " %15s %" SCNu64, &ns, tier, &init) != 3 || !pc ||
        sscanf(pc + 8, "%d %" SCNu64 " %" SCNu64 " %" SCNu64, jit_mapped, hits, &stores, &load) !=
            4 ||
        strcmp(tier, "jit") != 0) {
        buf[strcspn(buf, "\n")] = '\0';
        bench_text(why, why_len, "cached first-kernel child said: %s", buf);
        return -1;
    }
    *main_ns = (double)ns;
    *load_ns = (double)load;
    return 0;
}

/* First kernel with a cold (emptied before each sample) and a warm persistent cache, in
 * a temporary directory; the JIT object's size and its dlopen alone. */
static void first_kernel_pcache(const char *exe, int count, bench_compile *out) {
    char jit[4096];
    if (mapped_path("libsegjit-jit", jit, sizeof jit)) {
        struct stat st;
        if (stat(jit, &st) == 0) out->jit_object_bytes = (uint64_t)st.st_size;
        double d[9];
        int i = 0;
        for (; i < count && i < 9; i++)
            if (spawn_dlopen(exe, jit, &d[i], out->note, sizeof out->note) != 0) break;
        if (i == count) out->first_dlopen_jit_ns = bench_median(d, count);
    }
    const char *tmp = getenv("TMPDIR");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/segjit-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        bench_text(out->note, sizeof out->note, "persistent cache: cannot make %s", dir);
        return;
    }
    char cdir[600];
    snprintf(cdir, sizeof cdir, "%s/c", dir);
    double cold[9], warm[9], load[9], wexec[9], e;
    int mapped_any = 0, ok = 1;
    for (int i = 0; i < count && ok; i++) {
        char cmd[1400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", cdir);
        if (system(cmd) != 0) ok = 0;
        int m = 0;
        uint64_t hits = 0;
        ok = ok && spawn_cached(exe, cdir, &cold[i], &e, &load[i], &m, &hits, out->note,
                                sizeof out->note) == 0;
        ok = ok && spawn_cached(exe, cdir, &warm[i], &wexec[i], &load[i], &m, &hits, out->note,
                                sizeof out->note) == 0;
        if (ok && hits != 1) {
            bench_text(out->note, sizeof out->note, "persistent cache: the warm child missed");
            ok = 0;
        }
        mapped_any |= m;
    }
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) ok = 0;
    if (!ok) return;
    out->first_cold_ns = bench_median(cold, count);
    out->first_warm_ns = bench_median(warm, count);
    out->warm_load_ns = bench_median(load, count);
    out->warm_exec_ns = bench_median(wexec, count);
    out->warm_mapped_jit = mapped_any != 0;
    out->pcache_ok = true;
}

/* One fresh --auto-calls process with SEGJIT_AUTO_COMPILE=mode: its slowest call, all
 * its calls and the index of its first compiled call (AUTO_CALLS + 1: none). */
static int spawn_auto(const char *exe, const char *mode, double *max_ns, double *total_ns,
                      double *first_jit, char *why, size_t why_len) {
    char arg0[] = "segjit-bench", arg1[] = "--auto-calls";
    char *argv[] = {arg0, arg1, NULL};
    char buf[4096];
    double exec_ns;
    setenv("SEGJIT_AUTO_COMPILE", mode, 1);
    int rc = spawn_capture(exe, argv, buf, sizeof buf, &exec_ns, why, why_len);
    unsetenv("SEGJIT_AUTO_COMPILE");
    if (rc != 0) return -1;
    const char *p = buf;
    if (strncmp(p, "auto-calls", 10) != 0) goto bad;
    p += 10;
    *max_ns = *total_ns = 0;
    *first_jit = AUTO_CALLS + 1;
    for (int i = 0; i < AUTO_CALLS; i++) {
        uint64_t ns;
        char tier;
        int used = 0;
        if (sscanf(p, " %" SCNu64 " %c%n", &ns, &tier, &used) != 2) goto bad;
        p += used;
        *total_ns += (double)ns;
        if ((double)ns > *max_ns) *max_ns = (double)ns;
        if (tier == 'j' && *first_jit > AUTO_CALLS) *first_jit = i + 1;
    }
    return 0;
bad:
    buf[strcspn(buf, "\n")] = '\0';
    bench_text(why, why_len, "auto-calls child said: %s", buf);
    return -1;
}

/* AUTO's crossing call inline and in the background, processes alternated. */
static void auto_crossing(const char *exe, int count, bench_compile *out) {
    enum { MAX_AUTO = 9 };
    double m[2][3][MAX_AUTO];
    const char *modes[2] = {"inline", "background"};
    for (int i = 0; i < count && i < MAX_AUTO; i++)
        for (int j = 0; j < 2; j++)
            if (spawn_auto(exe, modes[j], &m[j][0][i], &m[j][1][i], &m[j][2][i], out->note,
                           sizeof out->note) != 0)
                return;
    bench_auto *dst[2] = {&out->auto_inline, &out->auto_bg};
    for (int j = 0; j < 2; j++) {
        dst[j]->max_ns = bench_median(m[j][0], count);
        dst[j]->total_ns = bench_median(m[j][1], count);
        dst[j]->first_jit = bench_median(m[j][2], count);
    }
    out->auto_samples = count;
    out->auto_ok = true;
}

static void first_kernel(const bench_options *opt, bench_compile *out) {
    char exe[4096];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0) {
        bench_text(out->note, sizeof out->note, "first kernel: cannot read /proc/self/exe");
        return;
    }
    exe[len] = '\0';
    enum { MAX_FIRST = 9 };
    int count = opt->quick ? 3 : 7;
    double m[MAX_FIRST], e[MAX_FIRST], in[MAX_FIRST], d[MAX_FIRST];
    char llvm[4096] = "";
    for (int i = 0; i < count; i++) {
        if (spawn_first(exe, &m[i], &e[i], &in[i], llvm, sizeof llvm, out->note,
                        sizeof out->note) != 0)
            return;
    }
    out->first_ns = bench_median(m, count);
    out->first_exec_ns = bench_median(e, count);
    out->first_load_ns = bench_median(in, count);
    out->first_samples = count;
    out->first_ok = true;
    /* interleaving would be fairer, but the floor is meant to be read beside the above */
    for (int i = 0; llvm[0] && i < count; i++) {
        if (spawn_dlopen(exe, llvm, &d[i], out->note, sizeof out->note) != 0) return;
    }
    if (llvm[0]) out->first_dlopen_llvm_ns = bench_median(d, count);
    first_kernel_pcache(exe, count, out);
    auto_crossing(exe, count, out);
}

#define MAX_DISTINCT 50

static void distinct_and_hit(const bench_options *opt, bench_compile *out) {
    sj_error err = {0};
    int nd = opt->quick ? 20 : MAX_DISTINCT;
    int nh = opt->quick ? 100 : 400;
    sj_layout *roots[MAX_DISTINCT] = {0};
    sj_path *paths[MAX_DISTINCT] = {0};
    sj_kernel *keep = NULL;
    double *hit = calloc((size_t)nh, sizeof *hit), *run1 = calloc((size_t)nh, sizeof *run1);
    double *hit_freed = calloc((size_t)nh, sizeof *hit_freed);
    double dist[MAX_DISTINCT];
    sj_arena arena = {0};
    sj_segment seg, seg2;
    sj_layout *i4 = NULL, *swapped = NULL;
    bool arena_open = false;
    if (!hit || !run1 || !hit_freed) {
        bench_text(out->note, sizeof out->note, "out of memory");
        goto out;
    }
    if (sj_arena_open(SJ_ARENA_CONFINED, &arena, &err) != SJ_OK) goto fail;
    arena_open = true;
    if (sj_arena_allocate(arena, 64 * (4 * MAX_DISTINCT + 4), 64, &seg, &err) != SJ_OK ||
        sj_arena_allocate(arena, 64 * (4 * MAX_DISTINCT + 4), 64, &seg2, &err) != SJ_OK ||
        sj_layout_parse("i4", &i4, &err) != SJ_OK ||
        sj_layout_parse("[I4(v)]", &swapped, &err) != SJ_OK)
        goto fail;
    for (int k = 0; k < nd; k++) {
        char text[64];
        snprintf(text, sizeof text, "[64:[x%di4(v)]]", 4 * (k + 1));
        if (sj_layout_parse(text, &roots[k], &err) != SJ_OK ||
            sj_path_parse(roots[k], "[*].v", &paths[k], &err) != SJ_OK)
            goto fail;
    }
    sj_args args = {.src = &seg, .src_offset = 0, .dst = NULL, .dst_offset = 0, .count = 1};
    sj_result r;

    /* Distinct kernels. */
    sj_counters c0, c1;
    sj_counters_get(&c0);
    for (int k = 0; k < nd; k++) {
        sj_kernel *kk = NULL;
        sj_args a = {.src = &seg, .dst = &seg2, .count = 1};
        uint64_t t0 = bench_now_ns();
        sj_status st;
        switch (k % 4) {
            case 0:
                st = sj_kernel_reduce(paths[k], SJ_REDUCE_SUM, &kk, &err);
                break;
            case 1:
                st = sj_kernel_gather(paths[k], i4, 0, &kk, &err);
                break;
            case 2:
                st = sj_kernel_convert(sj_layout_elem(roots[k]), swapped, 0, &kk, &err);
                break;
            default:
                st = sj_kernel_scatter(i4, paths[k], 0, &kk, &err);
                a.src = &seg2;
                a.dst = &seg;
                break;
        }
        if (st == SJ_OK) {
            sj_kernel_set_tier(kk, SJ_TIER_JIT);
            st = sj_kernel_run(kk, k % 4 == 0 ? &args : &a, &r, &err);
        }
        uint64_t t1 = bench_now_ns();
        if (st != SJ_OK) {
            sj_kernel_free(kk);
            goto fail;
        }
        if (sj_kernel_last_tier(kk) != SJ_TIER_JIT) {
            sj_counters_get(&c1);
            bench_text(out->note, sizeof out->note, "distinct kernel ran on the interpreter: %s",
                       c1.last_decline);
            sj_kernel_free(kk);
            goto out;
        }
        dist[k] = (double)(t1 - t0);
        if (k == 0)
            keep = kk;
        else
            sj_kernel_free(kk);
    }
    sj_counters_get(&c1);
    out->distinct_ns = bench_median(dist, nd);
    out->distinct_ir_ns = (double)(c1.ns_ir - c0.ns_ir) / nd;
    out->distinct_opt_ns = (double)(c1.ns_opt - c0.ns_opt) / nd;
    out->distinct_codegen_ns = (double)(c1.ns_codegen - c0.ns_codegen) / nd;
    out->distinct_samples = nd;
    out->distinct_ok = true;
    if (c1.kernels_compiled - c0.kernels_compiled != (uint64_t)nd)
        bench_text(out->note, sizeof out->note,
                   "distinct kernels: the counters show %" PRIu64 " compiles for %d kernels",
                   c1.kernels_compiled - c0.kernels_compiled, nd);

    /* Cache hits of plan 0, interleaved with runs of count 1 on the kept kernel. */
    sj_counters_get(&c0);
    for (int i = 0; i < nh; i++) {
        sj_kernel *kk = NULL;
        uint64_t t0 = bench_now_ns();
        sj_status st = sj_kernel_reduce(paths[0], SJ_REDUCE_SUM, &kk, &err);
        if (st == SJ_OK) {
            sj_kernel_set_tier(kk, SJ_TIER_JIT);
            st = sj_kernel_run(kk, &args, &r, &err);
        }
        uint64_t t1 = bench_now_ns();
        bool jit = st == SJ_OK && sj_kernel_last_tier(kk) == SJ_TIER_JIT;
        sj_kernel_free(kk);
        if (st != SJ_OK) goto fail;
        if (!jit) {
            bench_text(out->note, sizeof out->note, "cache hit ran on the interpreter");
            goto out;
        }
        uint64_t t2 = bench_now_ns();
        st = sj_kernel_run(keep, &args, &r, &err);
        uint64_t t3 = bench_now_ns();
        if (st != SJ_OK) goto fail;
        hit[i] = (double)(t1 - t0);
        run1[i] = (double)(t3 - t2);
        /* plan 4: compiled in the distinct loop, every kernel of it freed since */
        kk = NULL;
        uint64_t t4 = bench_now_ns();
        st = sj_kernel_reduce(paths[4], SJ_REDUCE_SUM, &kk, &err);
        if (st == SJ_OK) {
            sj_kernel_set_tier(kk, SJ_TIER_JIT);
            st = sj_kernel_run(kk, &args, &r, &err);
        }
        uint64_t t5 = bench_now_ns();
        jit = st == SJ_OK && sj_kernel_last_tier(kk) == SJ_TIER_JIT;
        sj_kernel_free(kk);
        if (st != SJ_OK) goto fail;
        if (!jit) {
            bench_text(out->note, sizeof out->note, "cache hit ran on the interpreter");
            goto out;
        }
        hit_freed[i] = (double)(t5 - t4);
    }
    sj_counters_get(&c1);
    out->hit_raw_ns = bench_median(hit, nh);
    out->run1_ns = bench_median(run1, nh);
    out->hit_ns = out->hit_raw_ns - out->run1_ns;
    out->hit_samples = nh;
    out->hit_counted = c1.cache_hits - c0.cache_hits;
    out->hit_freed_ns = bench_median(hit_freed, nh) - out->run1_ns;
    out->hit_freed_samples = nh;
    if (c1.kernels_compiled != c0.kernels_compiled)
        bench_text(out->note, sizeof out->note,
                   "cache hit: %" PRIu64 " kernels were compiled again: not a hit",
                   c1.kernels_compiled - c0.kernels_compiled);
    else
        out->hit_ok = out->hit_freed_ok = true;
    goto out;

fail:
    bench_text(out->note, sizeof out->note, "compile cost: %s: %s", sj_status_name(err.status),
               err.message);
out:
    sj_kernel_free(keep);
    for (int k = 0; k < MAX_DISTINCT; k++) {
        sj_path_free(paths[k]);
        sj_layout_unref(roots[k]);
    }
    sj_layout_unref(i4);
    sj_layout_unref(swapped);
    if (arena_open) sj_arena_close(arena, NULL);
    free(hit);
    free(run1);
    free(hit_freed);
}

void bench_compile_cost(const bench_options *opt, bench_compile *out) {
    memset(out, 0, sizeof *out);
    const char *why = NULL;
    if (!sj_jit_available(&why)) {
        bench_text(out->note, sizeof out->note, "JIT tier unavailable: %s", why ? why : "?");
        return;
    }
    first_kernel(opt, out);
    char first_note[sizeof out->note];
    memcpy(first_note, out->note, sizeof first_note);
    out->note[0] = '\0';
    distinct_and_hit(opt, out);
    if (first_note[0] && !out->note[0]) memcpy(out->note, first_note, sizeof first_note);
}
