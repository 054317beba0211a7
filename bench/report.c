/* bench/report.c: everything segjit-bench prints or writes: the machine description,
 * the table, compile cost, the targets of BENCH.md (informational: PASS/MISS never
 * changes the exit status), the CSV file and the plot (through gnuplot and plot.gp).
 * No measuring here. */
#define _DEFAULT_SOURCE 1
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <segjit/segjit.h>

#include "bench.h"
#include "jit_loader.h" /* internal: the JIT provider, for its CPU and LLVM description */

extern char **environ;

#ifndef SEGJIT_BENCH_COMPILER
#define SEGJIT_BENCH_COMPILER "unknown compiler"
#endif
#ifndef SEGJIT_BENCH_HAND_FLAGS
#define SEGJIT_BENCH_HAND_FLAGS "-O3 -march=native"
#endif

/* ---- machine ---- */

static void cpu_model(char *out, size_t len) {
    bench_text(out, len, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) != 0) continue;
        const char *colon = strchr(line, ':');
        if (!colon) continue;
        colon++;
        while (*colon == ' ' || *colon == '\t')
            colon++;
        bench_text(out, len, "%s", colon);
        out[strcspn(out, "\n")] = '\0';
        break;
    }
    fclose(f);
}

void bench_print_machine(void) {
    char cpu[256];
    cpu_model(cpu, sizeof cpu);
    struct utsname u;
    bool have_uname = uname(&u) == 0;
    printf("segjit-bench\n");
    printf("machine:  %s, %ld online cores%s%s%s%s\n", cpu, sysconf(_SC_NPROCESSORS_ONLN),
           have_uname ? ", " : "", have_uname ? u.sysname : "", have_uname ? " " : "",
           have_uname ? u.release : "");
    printf("compiler: %s; hand-written C at %s\n", SEGJIT_BENCH_COMPILER, SEGJIT_BENCH_HAND_FLAGS);
    /* A shared machine's load shows in the spreads; say what it was at the start. */
    double load[3];
    if (getloadavg(load, 3) == 3)
        printf("load:     %.2f %.2f %.2f (1, 5, 15 min)%s\n", load[0], load[1], load[2],
               load[0] > 0.5 * (double)sysconf(_SC_NPROCESSORS_ONLN)
                   ? "; the machine is busy: expect wide spreads"
                   : "");
    const char *why = NULL;
    if (sj_jit_available(&why)) {
        const sj_jit_provider *p = sj_jit_provider_get(NULL, 0);
        const char *d = p && p->describe ? p->describe() : NULL;
        printf("JIT:      available%s%s\n", d ? ": " : "", d ? d : "");
    } else {
        printf("JIT:      unavailable: %s\n", why ? why : "(no reason given)");
    }
}

/* ---- the table ---- */

static const bench_row *find_row(const bench_results *r, const char *workload, int64_t n,
                                 bench_impl impl) {
    for (size_t i = 0; i < r->count; i++) {
        const bench_row *row = &r->rows[i];
        if (row->n == n && row->impl == impl && strcmp(row->workload, workload) == 0)
            return row->present ? row : NULL;
    }
    return NULL;
}

/* time(row) / time(impl `other` of the same workload and size); < 0 if unknown. The C
 * reference (IMPL_C) is the faster of the two compilers' loops. */
static double ratio_to(const bench_results *r, const bench_row *row, bench_impl other) {
    const bench_row *o = find_row(r, row->workload, row->n, other);
    if (other == IMPL_C) {
        const bench_row *cl = find_row(r, row->workload, row->n, IMPL_C_CLANG);
        if (cl && cl->med_ns > 0 && (!o || cl->med_ns < o->med_ns)) o = cl;
    }
    if (!row->present || !o || o->med_ns <= 0) return -1;
    return row->med_ns / o->med_ns;
}

static const char *size_name(int64_t n, char *buf, size_t len) {
    if (n % 1000000 == 0)
        snprintf(buf, len, "%" PRId64 "M", n / 1000000);
    else if (n % 1000 == 0)
        snprintf(buf, len, "%" PRId64 "k", n / 1000);
    else
        snprintf(buf, len, "%" PRId64, n);
    return buf;
}

void bench_print_table(const bench_results *r) {
    printf("%-8s %9s  %-22s %9s %8s %7s  %-21s %s\n", "workload", "n", "impl", "ns/elem", "GB/s",
           "vs C", "spread ns/elem", "checksum");
    const char *last_wl = NULL;
    int64_t last_n = -1;
    for (size_t i = 0; i < r->count; i++) {
        const bench_row *row = &r->rows[i];
        if (!last_wl || strcmp(last_wl, row->workload) != 0 || last_n != row->n) {
            if (last_wl) printf("\n");
            last_wl = row->workload;
            last_n = row->n;
        }
        printf("%-8s %9" PRId64 "  %-22s ", row->workload, row->n, bench_impl_names[row->impl]);
        if (!row->present) {
            printf("%9s %8s %7s  %-21s %s  %s\n", "-", "-", "-", "-",
                   row->verified && !row->checksum_ok ? "FAIL" : "-", row->note);
            continue;
        }
        double n = (double)row->n;
        char spread[64];
        snprintf(spread, sizeof spread, "[%.4f-%.4f]", row->min_ns / n, row->max_ns / n);
        char vs[16] = "-"; /* no hand-written C row to compare with (W8) */
        double q = ratio_to(r, row, IMPL_C);
        if (q >= 0) snprintf(vs, sizeof vs, "%.3f", q);
        printf("%9.4f %8.2f %7s  %-21s %s%s%s\n", row->med_ns / n, row->bytes / row->med_ns, vs,
               spread,
               !row->verified     ? "-"
               : row->checksum_ok ? "ok"
                                  : "FAIL",
               row->note[0] ? "  " : "", row->note);
    }
    printf("\nns/elem and GB/s: median of the rounds; GB/s = bytes read + written / time (W2: the\n"
           "24-byte records the strided loads span; memcpy: twice the bytes it copies). vs C:\n"
           "median / median of the hand-written C in the same run. checksum: the result (sum\n"
           "bits or a hash of every output byte) equals the hand-written C result; memcpy\n"
           "moves different bytes and is not compared.\n");
}

/* ---- compile cost ---- */

void bench_print_compile(const bench_compile *c) {
    printf("\nCompile cost (JIT tier)\n");
    if (c->first_ok)
        printf("  first kernel, fresh process:  %8.2f ms  main() to compiled kernel (of which "
               "loading the JIT %.2f ms); whole process %.2f ms; median of %d\n",
               c->first_ns / 1e6, c->first_load_ns / 1e6, c->first_exec_ns / 1e6, c->first_samples);
    if (c->first_dlopen_llvm_ns > 0)
        printf("  dlopen of libLLVM alone:      %8.2f ms  a fresh process doing nothing else (the "
               "floor under the first kernel); median of %d\n",
               c->first_dlopen_llvm_ns / 1e6, c->first_samples);
    if (c->pcache_ok) {
        printf("  first kernel, cold pcache:    %8.2f ms  fresh process, empty persistent cache "
               "(compile + store); median of %d\n",
               c->first_cold_ns / 1e6, c->first_samples);
        printf("  first kernel, warm pcache:    %8.3f ms  fresh process, its plan compiled before: "
               "read from the file (load %.3f ms), %s; whole process %.2f ms\n",
               c->first_warm_ns / 1e6, c->warm_load_ns / 1e6,
               c->warm_mapped_jit ? "the JIT WAS mapped" : "no JIT mapped", c->warm_exec_ns / 1e6);
    }
    if (c->first_dlopen_jit_ns > 0 || c->jit_object_bytes)
        printf("  dlopen of libsegjit-jit alone:%8.2f ms  a fresh process doing nothing else; the "
               "object is %.1f MB\n",
               c->first_dlopen_jit_ns / 1e6, (double)c->jit_object_bytes / 1e6);
    if (c->distinct_ok)
        printf("  each further distinct kernel: %8.3f ms  median of %d (mean IR %.3f, opt %.3f, "
               "codegen %.3f ms)\n",
               c->distinct_ns / 1e6, c->distinct_samples, c->distinct_ir_ns / 1e6,
               c->distinct_opt_ns / 1e6, c->distinct_codegen_ns / 1e6);
    if (c->hit_ok)
        printf("  cache hit (same plan again):  %8.3f us  median build+lookup+run(1) %.3f us "
               "minus run(1) %.3f us; %d samples, %" PRIu64
               " cache hits counted (with the next line)\n",
               c->hit_ns / 1e3, c->hit_raw_ns / 1e3, c->run1_ns / 1e3, c->hit_samples,
               c->hit_counted);
    if (c->hit_freed_ok)
        printf(
            "  cache hit, its kernels freed: %8.3f us  the same for a plan whose every kernel was "
            "freed before; %d samples\n",
            c->hit_freed_ns / 1e3, c->hit_freed_samples);
    if (c->auto_ok) {
        const bench_auto *a = &c->auto_inline, *b = &c->auto_bg;
        printf(
            "  auto, crossing call inline:   %8.2f ms  slowest of %d calls of 1M [i4 f4] -> "
            "[j8 d8] in a fresh process (all %.2f ms; first compiled call #%.0f); median of %d\n",
            a->max_ns / 1e6, AUTO_CALLS, a->total_ns / 1e6, a->first_jit, c->auto_samples);
        printf("  auto, compile in background:  %8.2f ms  the same calls (all %.2f ms; first "
               "compiled call #%.0f%s)\n",
               b->max_ns / 1e6, b->total_ns / 1e6, b->first_jit,
               b->first_jit > AUTO_CALLS ? ": none" : "");
    }
    if (c->note[0]) printf("  note: %s\n", c->note);
    if (!c->first_ok && !c->distinct_ok && !c->hit_ok && !c->note[0]) printf("  not measured\n");
}

/* ---- W10 ---- */

void bench_print_oneshot(const bench_oneshot *o) {
    printf("\nW10: one-shot sj_copy of W6's data (i4 -> I4), in one process\n");
    char nb[32];
    for (int i = 0; i < o->nsizes; i++) {
        const bench_oneshot_size *z = &o->sizes[i];
        printf("  n=%-4s %d calls: %" PRIu64 " plans built, %" PRIu64 " compiled, %" PRIu64
               " JIT cache hits; runs %" PRIu64 " interpreter, %" PRIu64 " jit\n",
               size_name(z->n, nb, sizeof nb), z->calls, z->plans, z->compiles, z->cache_hits,
               z->runs_interp, z->runs_jit);
    }
    if (o->fixed_ok)
        printf("  a call with count 1 (median of %d batches of 32, %s tier): kept kernel %.1f "
               "ns, sj_copy %.1f ns, kernel built + run + freed %.1f ns\n",
               o->fixed_samples, o->call1_tier, o->call1_kernel_ns, o->call1_oneshot_ns,
               o->call1_rebuild_ns);
    if (o->note[0]) printf("  note: %s\n", o->note);
}

/* ---- targets ---- */

typedef struct worst {
    double ratio;
    const bench_row *row;
} worst;

static worst max_ratio(const bench_results *r, bench_impl impl, bench_impl other,
                       const char *only_wl, int64_t only_n) {
    worst w = {-1, NULL};
    for (size_t i = 0; i < r->count; i++) {
        const bench_row *row = &r->rows[i];
        if (row->impl != impl || !row->present) continue;
        if (only_wl && strcmp(row->workload, only_wl) != 0) continue;
        if (only_n && row->n != only_n) continue;
        double q = ratio_to(r, row, other);
        if (q >= 0 && q > w.ratio) {
            w.ratio = q;
            w.row = row;
        }
    }
    return w;
}

/* W8's 2 / 1 thread ratio at the worst size: pinned, each CPU against itself alone (the
 * worse CPU); not pinned, the rows' medians. */
static worst max_pair_ratio(const bench_results *r, bench_impl two, bench_impl one) {
    worst w = {-1, NULL};
    for (size_t i = 0; i < r->count; i++) {
        const bench_row *row = &r->rows[i];
        if (row->impl == two && row->present && row->pair_ratio > 0 && row->pair_ratio > w.ratio) {
            w.ratio = row->pair_ratio;
            w.row = row;
        }
    }
    return w.row ? w : max_ratio(r, two, one, "W8", 0);
}

static void target_ratio(const char *what, double limit, worst w, const char *missing) {
    char where[64] = "", nb[32];
    if (w.row)
        snprintf(where, sizeof where, "max %.3f (%s %s)", w.ratio, w.row->workload,
                 size_name(w.row->n, nb, sizeof nb));
    printf("  %-52s <= %-7.2f %-24s %s\n", what, limit, w.row ? where : missing,
           !w.row             ? "n/a"
           : w.ratio <= limit ? "PASS"
                              : "MISS");
}

static void target_time(const char *what, const char *limit_text, double limit, bool ok,
                        double value, const char *unit, double scale) {
    char v[64];
    snprintf(v, sizeof v, "%.3f %s", value / scale, unit);
    printf("  %-52s <= %-7s %-24s %s\n", what, limit_text, ok ? v : "not measured",
           !ok              ? "n/a"
           : value <= limit ? "PASS"
                            : "MISS");
}

void bench_print_targets(const bench_results *r) {
    printf("\nTargets (BENCH.md; informational, the exit status depends on checksums only)\n");
    if (r->nw9) {
        double worst_c = 0, worst_r = 0;
        double wide_c = 0, wide_r = 0;
        for (int i = 0; i < r->nw9; i++) {
            if (r->w9[i].distinct) { /* beyond BENCH.md's shapes: shown, no target */
                if (r->w9[i].compile_ns > wide_c) wide_c = r->w9[i].compile_ns;
                if (r->w9[i].ok && r->w9[i].ns[1] / r->w9[i].ns[0] > wide_r)
                    wide_r = r->w9[i].ns[1] / r->w9[i].ns[0];
                continue;
            }
            if (r->w9[i].compile_ns > worst_c) worst_c = r->w9[i].compile_ns;
            if (r->w9[i].ok && r->w9[i].ns[1] / r->w9[i].ns[0] > worst_r)
                worst_r = r->w9[i].ns[1] / r->w9[i].ns[0];
        }
        printf("  %-52s %-8s max %.2f ms  %s\n", "W9 compile time of any plan", "<= 10 ms",
               worst_c / 1e6, worst_c <= 10e6 ? "met" : "MISSED");
        printf("  %-52s %-8s max %.3f  %s\n", "W9 JIT loop / hand-written C", "<= 1.10", worst_r,
               worst_r <= 1.10 ? "met" : "MISSED");
        if (wide_c > 0)
            printf("  (no target) W9 records of distinct fields or arrays: JIT / C max %.3f, "
                   "compile max "
                   "%.1f ms\n",
                   wide_r, wide_c / 1e6);
    }
    target_ratio("JIT checked / JIT unchecked, every workload", 1.05,
                 max_ratio(r, IMPL_JIT, IMPL_JIT_UNCHECKED, NULL, 0), "jit_unchecked missing");
    target_ratio("JIT checked / hand-written C, every wl and size", 1.10,
                 max_ratio(r, IMPL_JIT, IMPL_C, NULL, 0), "jit missing");
    target_ratio("interpreter / hand-written C, every workload", 3.0,
                 max_ratio(r, IMPL_INTERP, IMPL_C, NULL, 0), "interp missing");
    target_ratio("W6 JIT checked / memcpy at 16M", 1.15,
                 max_ratio(r, IMPL_JIT, IMPL_MEMCPY, "W6", 16000000), "W6 at 16M not measured");
    const bench_compile *c = &r->compile;
    target_time("first kernel in a fresh process (LLVM start incl.)", "25 ms", 25e6, c->first_ok,
                c->first_ns, "ms", 1e6);
    target_time("first kernel in a fresh process whose plan this machine compiled before", "1 ms",
                1e6, c->pcache_ok, c->first_warm_ns, "ms", 1e6);
    target_time("each further distinct kernel, median", "3 ms", 3e6, c->distinct_ok, c->distinct_ns,
                "ms", 1e6);
    target_time("cache hit (same plan compiled again)", "2 us", 2e3, c->hit_ok, c->hit_ns, "us",
                1e3);
    target_time("cache hit after every kernel of the plan was freed", "2 us", 2e3, c->hit_freed_ok,
                c->hit_freed_ns, "us", 1e3);
    const bench_oneshot *o = &r->oneshot;
    if (o->nsizes) {
        uint64_t compiles = 0;
        for (int i = 0; i < o->nsizes; i++)
            compiles += o->sizes[i].compiles;
        char v[64];
        snprintf(v, sizeof v, "%" PRIu64 " (all sizes)", compiles);
        printf("  %-52s <= %-7s %-24s %s\n", "W10 compiles for 10 one-shot calls of one plan", "1",
               v, compiles <= 1 ? "PASS" : "MISS");
    }
    /* W7: ns per access of the accessor loops (confined and shared arenas), worst size */
    double acc_ns = -1;
    const bench_row *acc_row = NULL;
    for (size_t i = 0; i < r->count; i++) {
        const bench_row *row = &r->rows[i];
        if (!row->present || strcmp(row->workload, "W7") != 0 ||
            (row->impl != IMPL_ACCESSOR && row->impl != IMPL_ACCESSOR_SHARED))
            continue;
        if (row->med_ns / (double)row->n > acc_ns) {
            acc_ns = row->med_ns / (double)row->n;
            acc_row = row;
        }
    }
    target_time("W7 accessor, ns per access (worst arena and size)", "2 ns", 2, acc_row != NULL,
                acc_ns, "ns", 1);
    target_ratio("W7 view loop / hand-written C loop, both sizes", 1.20,
                 max_ratio(r, IMPL_VIEW, IMPL_C, "W7", 0), "W7 view not measured");
    worst vc = max_ratio(r, IMPL_VIEW_CLANG, IMPL_C, "W7", 0);
    if (vc.row) printf("  (no target) W7 view loop built by clang / C: max %.3f\n", vc.ratio);
    target_ratio("W8 per access per thread, 2 threads / 1 thread", 1.10,
                 max_pair_ratio(r, IMPL_THREADS_2, IMPL_THREADS_1), "W8 not measured");
    char nb0[32];
    worst hw = max_pair_ratio(r, IMPL_CALL_THREADS_2, IMPL_CALL_THREADS_1);
    if (hw.row)
        printf("  (no target) W8 the same for the unchecked call loop (this machine's part): max "
               "%.3f\n",
               hw.ratio);
    worst hk = max_pair_ratio(r, IMPL_KERNEL_THREADS_2, IMPL_KERNEL_THREADS_1);
    if (hk.row)
        printf("  (no target) W8 the same for small kernel calls (count 1): max %.3f\n", hk.ratio);
    worst hl = max_pair_ratio(r, IMPL_LOOP_THREADS_2, IMPL_LOOP_THREADS_1);
    if (hl.row) printf("  (no target) W8 the same for the hand-written loop: max %.3f\n", hl.ratio);
    worst hp = max_ratio(r, IMPL_HEAP_PINNED_JIT, IMPL_C, NULL, 0);
    if (hp.row)
        printf("  (no target) pinned heap JIT / C: max %.3f (%s %s)\n", hp.ratio, hp.row->workload,
               size_name(hp.row->n, nb0, sizeof nb0));
    worst h = max_ratio(r, IMPL_HEAP_INTERP, IMPL_C, NULL, 0);
    worst u = max_ratio(r, IMPL_C_CHECKED, IMPL_C, "W3", 0);
    char nb[32];
    if (h.row)
        printf("  (no target) heap interpreter / C: max %.3f (%s %s)\n", h.ratio, h.row->workload,
               size_name(h.row->n, nb, sizeof nb));
    if (u.row)
        printf("  (no target) W3 naive per-element checks / C: max %.3f (%s)\n", u.ratio,
               size_name(u.row->n, nb, sizeof nb));
}

/* ---- CSV ---- */

int bench_write_csv(const bench_results *r, const char *path) {
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "segjit-bench: cannot write %s\n", path);
        return -1;
    }
    fprintf(f, "workload,n,impl,ns_per_elem,gb_per_s,ratio_vs_c\n");
    for (size_t i = 0; i < r->count; i++) {
        const bench_row *row = &r->rows[i];
        if (!row->present) continue;
        double n = (double)row->n;
        fprintf(f, "%s,%" PRId64 ",%s,%.6f,%.4f,%.4f\n", row->workload, row->n,
                bench_impl_names[row->impl], row->med_ns / n, row->bytes / row->med_ns,
                ratio_to(r, row, IMPL_C));
        if (row->pair_ratio > 0) /* W8, pinned: a ratio, not a time, in the same column */
            fprintf(f, "%s,%" PRId64 ",%s_per_cpu_ratio,%.4f,,\n", row->workload, row->n,
                    bench_impl_names[row->impl], row->pair_ratio);
    }
    /* Compile cost: workload "compile", n = samples, ns in ns_per_elem, the rest empty. */
    const bench_compile *c = &r->compile;
    if (c->first_ok) {
        fprintf(f, "compile,%d,first_kernel,%.0f,,\n", c->first_samples, c->first_ns);
        fprintf(f, "compile,%d,first_kernel_process,%.0f,,\n", c->first_samples, c->first_exec_ns);
        if (c->first_dlopen_llvm_ns > 0)
            fprintf(f, "compile,%d,dlopen_libllvm,%.0f,,\n", c->first_samples,
                    c->first_dlopen_llvm_ns);
    }
    if (c->pcache_ok) {
        fprintf(f, "compile,%d,first_kernel_cold_cache,%.0f,,\n", c->first_samples,
                c->first_cold_ns);
        fprintf(f, "compile,%d,first_kernel_warm_cache,%.0f,,\n", c->first_samples,
                c->first_warm_ns);
        fprintf(f, "compile,%d,pcache_image_load,%.0f,,\n", c->first_samples, c->warm_load_ns);
    }
    if (c->first_dlopen_jit_ns > 0)
        fprintf(f, "compile,%d,dlopen_jit,%.0f,,\n", c->first_samples, c->first_dlopen_jit_ns);
    if (c->auto_ok) {
        fprintf(f, "compile,%d,auto_crossing_inline_max,%.0f,,\n", c->auto_samples,
                c->auto_inline.max_ns);
        fprintf(f, "compile,%d,auto_crossing_background_max,%.0f,,\n", c->auto_samples,
                c->auto_bg.max_ns);
        fprintf(f, "compile,%d,auto_calls_inline_total,%.0f,,\n", c->auto_samples,
                c->auto_inline.total_ns);
        fprintf(f, "compile,%d,auto_calls_background_total,%.0f,,\n", c->auto_samples,
                c->auto_bg.total_ns);
    }
    if (c->jit_object_bytes) /* a size, not a time, in the same column */
        fprintf(f, "compile,1,jit_object_bytes,%" PRIu64 ",,\n", c->jit_object_bytes);
    if (c->distinct_ok)
        fprintf(f, "compile,%d,distinct_kernel,%.0f,,\n", c->distinct_samples, c->distinct_ns);
    if (c->hit_ok) fprintf(f, "compile,%d,cache_hit,%.0f,,\n", c->hit_samples, c->hit_ns);
    if (c->hit_freed_ok)
        fprintf(f, "compile,%d,cache_hit_freed,%.0f,,\n", c->hit_freed_samples, c->hit_freed_ns);
    /* W10's counts (the number in ns_per_elem, n the size) and count-1 calls (n = 1) */
    const bench_oneshot *o = &r->oneshot;
    for (int i = 0; i < o->nsizes; i++) {
        const bench_oneshot_size *z = &o->sizes[i];
        fprintf(f, "W10,%" PRId64 ",plans_built,%" PRIu64 ",,\n", z->n, z->plans);
        fprintf(f, "W10,%" PRId64 ",compiles,%" PRIu64 ",,\n", z->n, z->compiles);
        fprintf(f, "W10,%" PRId64 ",jit_cache_hits,%" PRIu64 ",,\n", z->n, z->cache_hits);
    }
    if (o->fixed_ok) {
        fprintf(f, "W10,1,call1_kernel,%.1f,,\n", o->call1_kernel_ns);
        fprintf(f, "W10,1,call1_oneshot,%.1f,,\n", o->call1_oneshot_ns);
        fprintf(f, "W10,1,call1_build_run_free,%.1f,,\n", o->call1_rebuild_ns);
    }
    /* W9: n = values per record (W9fields: the 64-field record; W9distinct: records of n
     * distinct fields; W9arrays: 600 arrays [3:f4], n their values; W9swaps: 16 arrays
     * [16:i4] reversed to big-endian, n their values); compile time in ns */
    static const char *const w9_impl[3] = {"c", "jit", "interp"};
    for (int i = 0; i < r->nw9; i++) {
        const bench_w9 *w = &r->w9[i];
        const char *wl = w->swaps      ? "W9swaps"
                         : w->arrays   ? "W9arrays"
                         : w->distinct ? "W9distinct"
                         : w->fields   ? "W9fields"
                                       : "W9";
        fprintf(f, "%s,%d,compile,%.0f,,\n", wl, w->n, w->compile_ns);
        for (int j = 0; w->ok && j < 3; j++)
            fprintf(f, "%s,%d,%s,%.6f,%.4f,%.4f\n", wl, w->n, w9_impl[j], w->ns[j] / (16 << 20),
                    w->bytes / w->ns[j], w->ns[j] / w->ns[0]);
    }
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        fprintf(stderr, "segjit-bench: error writing %s\n", path);
        return -1;
    }
    printf("\ncsv: %s\n", path);
    return 0;
}

/* ---- plot ---- */

static bool file_exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* plot.gp: $SEGJIT_BENCH_PLOT_GP, next to the executable (the build copies it there), or
 * in the source tree. */
static bool find_script(char *out, size_t len) {
    const char *env = getenv("SEGJIT_BENCH_PLOT_GP");
    if (env && file_exists(env)) {
        bench_text(out, len, "%s", env);
        return true;
    }
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = '\0';
            bench_text(out, len, "%s/plot.gp", exe);
            if (file_exists(out)) return true;
        }
    }
#ifdef SEGJIT_BENCH_SOURCE_DIR
    bench_text(out, len, "%s/plot.gp", SEGJIT_BENCH_SOURCE_DIR);
    if (file_exists(out)) return true;
#endif
    return false;
}

int bench_write_plot(const bench_results *r, const char *path) {
    static const bench_impl cols[] = {IMPL_JIT,         IMPL_JIT_UNCHECKED,  IMPL_INTERP,
                                      IMPL_HEAP_INTERP, IMPL_MEMCPY,         IMPL_C_CHECKED,
                                      IMPL_ONESHOT,     IMPL_HEAP_PINNED_JIT};
    char script[4096];
    if (!find_script(script, sizeof script)) {
        fprintf(stderr, "segjit-bench: plot.gp not found (set SEGJIT_BENCH_PLOT_GP)\n");
        return -1;
    }
    if (strchr(path, '\'')) {
        fprintf(stderr, "segjit-bench: plot file name must not contain a quote\n");
        return -1;
    }
    char data[] = "/tmp/segjit-bench-plot-XXXXXX";
    int fd = mkstemp(data);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        fprintf(stderr, "segjit-bench: cannot create a temporary file for the plot\n");
        if (fd >= 0) close(fd);
        return -1;
    }
    /* Only the implementations measured somewhere (gnuplot warns about empty columns). */
    bench_impl used[sizeof cols / sizeof cols[0]];
    int ncols = 0;
    for (size_t j = 0; j < sizeof cols / sizeof cols[0]; j++) {
        bool any = false;
        for (size_t i = 0; i < r->count && !any; i++)
            any = r->rows[i].impl == cols[j] && r->rows[i].present;
        if (any) used[ncols++] = cols[j];
    }
    if (ncols == 0) {
        fclose(f);
        remove(data);
        fprintf(stderr, "segjit-bench: nothing to plot (no ratio was measured)\n");
        return -1;
    }
    fprintf(f, "case");
    for (int j = 0; j < ncols; j++)
        fprintf(f, " %s", bench_impl_names[used[j]]);
    fprintf(f, "\n");
    for (size_t i = 0; i < r->count; i++) {
        const bench_row *row = &r->rows[i];
        /* W7 and W8 compare single-access loops, not these implementations: not plotted */
        if (row->impl != IMPL_C || strcmp(row->workload, "W7") == 0) continue;
        char nb[32];
        fprintf(f, "%s/%s", row->workload, size_name(row->n, nb, sizeof nb));
        for (int j = 0; j < ncols; j++) {
            const bench_row *o = find_row(r, row->workload, row->n, used[j]);
            double q = o ? ratio_to(r, o, IMPL_C) : -1;
            if (q > 0)
                fprintf(f, " %.4f", q);
            else
                fprintf(f, " ?");
        }
        fprintf(f, "\n");
    }
    fclose(f);

    char cpu[200];
    cpu_model(cpu, sizeof cpu);
    for (char *p = cpu; *p; p++)
        if (*p == '\'' || *p == '"') *p = ' ';
    char defs[4096 + 512];
    snprintf(defs, sizeof defs, "datafile='%s'; outfile='%s'; subtitle='%s'; ncols=%d", data, path,
             cpu, ncols + 1);
    char a0[] = "gnuplot", a1[] = "-e";
    char *argv[] = {a0, a1, defs, script, NULL};
    pid_t pid;
    fflush(stdout);
    int rc = posix_spawnp(&pid, "gnuplot", NULL, NULL, argv, environ);
    int status = -1;
    if (rc == 0) waitpid(pid, &status, 0);
    remove(data);
    if (rc != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || !file_exists(path)) {
        fprintf(stderr, "segjit-bench: gnuplot failed (%s); no plot written\n",
                rc ? strerror(rc) : "non-zero exit");
        return -1;
    }
    printf("plot: %s\n", path);
    return 0;
}
