/* bench/bench.h: what the parts of segjit-bench share: implementation names, one
 * measurement, compile-cost figures and the run's options. The workloads live in
 * bench.c, compile cost in compile.c, output (table, CSV, plot, targets) in report.c. */
#ifndef SEGJIT_BENCH_BENCH_H
#define SEGJIT_BENCH_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Implementations, in table order. The names are the CSV's impl column. */
typedef enum bench_impl {
    IMPL_C,                /* hand-written C, unchecked, -O3 -march=native (the reference) */
    IMPL_JIT,              /* segjit JIT tier, checked: sj_kernel_run on native segments */
    IMPL_JIT_UNCHECKED,    /* the same compiled loop called without the checks */
    IMPL_INTERP,           /* segjit interpreter tier on native segments */
    IMPL_HEAP_INTERP,      /* segjit interpreter on heap segments over the same memory */
    IMPL_MEMCPY,           /* memcpy of the bytes the workload moves */
    IMPL_C_CHECKED,        /* W3: hand-written loop with a bounds and alignment test per element */
    IMPL_C_CALL,           /* W7: a user loop calling an unchecked out-of-line getter */
    IMPL_GET_PATH,         /* W7: a user loop, sj_get_path per element */
    IMPL_GET,              /* W7: a user loop, sj_get of the value layout per element */
    IMPL_ACCESSOR,         /* W7: a user loop, sj_accessor_get_f64 per element (confined arena) */
    IMPL_ACCESSOR_SHARED,  /* W7: the same on a shared arena */
    IMPL_THREADS_1,        /* W8: the accessor loop on a shared arena, one thread */
    IMPL_THREADS_2,        /* W8: the same loop in two threads at once (time per thread) */
    IMPL_CALL_THREADS_1,   /* W8: W7's c_call_per_element loop, one thread (the hardware's part) */
    IMPL_CALL_THREADS_2,   /* W8: the same in two threads at once */
    IMPL_CLOSE_SHARED,     /* W8: sj_arena_close of a shared arena (n = 1: ns per close) */
    IMPL_CLOSE_CONFINED,   /* W8: the same for a confined arena */
    IMPL_ONESHOT,          /* W10: sj_copy, the one-shot call (its kernel kept by the library) */
    IMPL_C_CLANG,          /* the hand-written C built by clang (IMPL_C: the bench's compiler) */
    IMPL_AUTO,             /* segjit tier AUTO (the default a user gets), checked */
    IMPL_VIEW,             /* W7: a user loop over an open view, sj_field_get_f64 per element */
    IMPL_HEAP_PINNED_JIT,  /* segjit JIT tier on pinned heap segments over the same memory */
    IMPL_LOOP_THREADS_1,   /* W8: W7's hand-written unchecked loop, one thread (memory's part) */
    IMPL_LOOP_THREADS_2,   /* W8: the same in two threads at once */
    IMPL_VIEW_CLANG,       /* W7: IMPL_VIEW's loop built by clang (user.c) */
    IMPL_KERNEL_THREADS_1, /* W8: one kept reduce kernel run per record (count 1), one thread */
    IMPL_KERNEL_THREADS_2, /* W8: the same in two threads at once */
    IMPL_COUNT
} bench_impl;

extern const char *const bench_impl_names[IMPL_COUNT];

typedef struct bench_options {
    bool quick;
    int64_t n_override; /* --n: one size instead of 1M and 16M (testing only); 0: off */
    int reps_override;  /* --reps; 0: default */
    const char *csv;
    const char *plot;
    const char *workloads; /* --workloads W1,W4 (NULL: all) */
    bool skip_compile;     /* --no-compile */
} bench_options;

/* One row of the table: an implementation of a workload at one size. */
typedef struct bench_row {
    const char *workload; /* "W1".."W6" */
    int64_t n;
    bench_impl impl;
    bool present;     /* measured; otherwise note says why not */
    bool verified;    /* result compared with the hand-written C result */
    bool checksum_ok; /* when verified */
    double med_ns;    /* median time of one call (whole workload, n elements) */
    double min_ns, max_ns;
    double bytes; /* bytes touched by one call (read + written) */
    int samples;
    double pair_ratio; /* W8 2-thread rows, pinned: worst CPU's 2-thread / 1-thread median; 0 */
    char note[160];
} bench_row;

/* AUTO's crossing call, fresh processes: AUTO_CALLS calls of 1M elements each, the
 * compile asked by the 4th; inline (SEGJIT_AUTO_COMPILE=inline) and background. */
enum { AUTO_CALLS = 16 };
typedef struct bench_auto {
    double max_ns, total_ns, first_jit; /* medians over processes: slowest call, all calls,
                                           1-based index of the first compiled call */
} bench_auto;

typedef struct bench_compile {
    bool auto_ok;
    bench_auto auto_inline, auto_bg;
    int auto_samples;
    bool first_ok;
    double first_ns;             /* median: main() entry to the first compiled kernel returning */
    double first_exec_ns;        /* median: spawn of the fresh process to its exit */
    double first_load_ns;        /* median: main() entry to the JIT loaded (dlopen, LLVM start) */
    double first_dlopen_llvm_ns; /* median: main() to dlopen of libLLVM alone; 0: unknown */
    int first_samples;
    /* The persistent cache (fresh processes, a temporary cache directory): the first kernel
     * with the directory empty (compile and store) and with its file there (no JIT
     * loaded); the warm one's time reading and mapping the file; whether any warm
     * process mapped the JIT. */
    bool pcache_ok;
    double first_cold_ns, first_warm_ns, warm_load_ns, warm_exec_ns;
    bool warm_mapped_jit;
    double first_dlopen_jit_ns; /* median: main() to dlopen of libsegjit-jit.so alone */
    uint64_t jit_object_bytes;  /* size of libsegjit-jit.so */
    bool distinct_ok;
    double distinct_ns; /* median: build + compile + first run of a new kernel */
    double distinct_ir_ns, distinct_opt_ns, distinct_codegen_ns; /* mean per kernel */
    int distinct_samples;
    bool hit_ok;
    double hit_ns;     /* median: build + cache hit + run(1), minus run(1) */
    double hit_raw_ns; /* median: build + cache hit + run(1) */
    double run1_ns;    /* median: run(1) on an existing compiled kernel */
    int hit_samples;
    uint64_t hit_counted; /* cache hits the counters saw during the hit samples */
    bool hit_freed_ok;
    double hit_freed_ns; /* as hit_ns, for a plan whose every kernel was freed before */
    int hit_freed_samples;
    char note[256];
} bench_compile;

/* W9 (wide.c): one shape's compile time and loop times (c, jit, interp). */
typedef struct bench_w9 {
    int n;         /* values per record */
    bool fields;   /* the 64-field record (else [[n:f4](v)] -> [[n:d8](v)]) */
    bool distinct; /* n distinct fields of mixed kinds (no target in BENCH.md) */
    bool arrays;   /* ... or of short arrays (n: their values) */
    bool swaps;    /* ... or of arrays swapped to the other byte order (n: their values) */
    bool ok, all_jit;
    double compile_ns; /* median over distinct plans */
    double ns[3];      /* median per call: c, jit, interp */
    double bytes;      /* read + written per call */
} bench_w9;

/* W10 at one size: ten one-shot sj_copy calls of W6's data in one process. */
typedef struct bench_oneshot_size {
    int64_t n;
    int calls;
    /* counter deltas over the calls: plans built, compiles, JIT cache hits, runs per tier */
    uint64_t plans, compiles, cache_hits, runs_interp, runs_jit;
} bench_oneshot_size;

/* W10: the calls at each size and the fixed cost of a call with count 1. */
typedef struct bench_oneshot {
    bench_oneshot_size sizes[2];
    int nsizes;
    bool fixed_ok;
    double call1_kernel_ns;  /* median: sj_kernel_run(count 1) on a kept, compiled kernel */
    double call1_oneshot_ns; /* median: sj_copy(count 1), its kernel kept and compiled */
    double call1_rebuild_ns; /* median: sj_kernel_copy + sj_kernel_run(count 1) + free, what
                                sj_copy did before it kept kernels */
    const char *call1_tier;  /* tier of the kept kernel's and the one-shot's count-1 runs */
    int fixed_samples;
    char note[256];
} bench_oneshot;

typedef struct bench_results {
    bench_row *rows;
    size_t count, cap;
    bench_compile compile;
    bench_w9 w9[12];
    int nw9;
    bench_oneshot oneshot;
    bool any_checksum_failure;
} bench_results;

/* A new zeroed row at the end of r->rows (NULL when out of memory). */
bench_row *bench_add_row(bench_results *r);
/* Median of v[0..n) (sorts v). */
double bench_median(double *v, int n);

/* threads.c: W8 (threads and close time); rows appended to res. 0, or -1 on a set-up
 * error (printed). */
int bench_threads(int64_t n, int reps, bench_results *res);

/* Monotonic clock in nanoseconds. */
uint64_t bench_now_ns(void);

/* snprintf for messages that may be cut short (notes, reasons, file names). */
void bench_text(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* compile.c */
/* The child of the first-kernel measurement: t0 is main()'s entry time. Prints one
 * line on stdout and returns the process exit status. */
int bench_first_kernel_child(uint64_t t0, bool split_load);
int bench_auto_calls_child(void);
/* The child of the dlopen floor: dlopen(path) alone, timed from main()'s entry t0. */
int bench_dlopen_child(uint64_t t0, const char *path);
void bench_compile_cost(const bench_options *opt, bench_compile *out);

/* wide.c: W9, printed as it runs, figures into r->w9 */
void bench_wide(const bench_options *opt, bench_results *r);
/* overlap.c: overlapping calls of W6's conversion (in place, shifted either way) at size
 * n, printed as a table of their own; 0 when every result matched the C loop's. */
int bench_overlap(int64_t n, int reps);

/* oneshot.c: W10 at size n (rows into r, counts into r->oneshot); with fixed_cost, also
 * the count-1 calls. Returns 0, or -1 on a set-up error (printed). */
int bench_oneshot_run(const bench_options *opt, int64_t n, int reps, bool fixed_cost,
                      bench_results *r);

/* report.c */
void bench_print_machine(void);
void bench_print_table(const bench_results *r);
void bench_print_compile(const bench_compile *c);
void bench_print_targets(const bench_results *r);
void bench_print_oneshot(const bench_oneshot *o);
/* Return 0 on success, otherwise print why on stderr and return -1. */
int bench_write_csv(const bench_results *r, const char *path);
int bench_write_plot(const bench_results *r, const char *path);

#endif
