/* tests/test_bad_inputs.c: a table of bad inputs (malformed text, huge counts, overflowing
 * sizes, negative offsets, misaligned bases, closed arenas, wrong thread, read-only targets,
 * truncated files, concurrent close), each call tried and its status asserted. With
 * SEGJIT_BAD_INPUTS_MD=path it writes the observed table as Markdown (docs/BAD_INPUTS.md);
 * with SEGJIT_BAD_INPUTS_EXPECT=path it also fails when that file differs from the output.
 * What correct calls compute is tested elsewhere. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tier.h"

/* A huge allocation must come back as SJ_E_NOMEM, not a sanitizer report; the
 * truncated-file row installs its own SIGBUS handler in a child process. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
    return "allocator_may_return_null=1:handle_sigbus=0";
}
const char *__tsan_default_options(void);
const char *__tsan_default_options(void) {
    return "allocator_may_return_null=1:handle_sigbus=0";
}

/* ---- the context every call reads ---- */

#define SEG_SIZE 64

typedef struct ctx {
    char tmpdir[64];
    char file[96];    /* 100 bytes */
    char missing[96]; /* does not exist */
    /* layouts, paths, kernels */
    sj_layout *i4, *i4_a16, *grid;
    sj_path *p_rows; /* data[*][0] on grid: ends on a struct */
    sj_path *p_all;  /* [*] on [16:i4] */
    sj_layout *seq16;
    sj_kernel *k_copy_i4, *k_copy_j8, *k_reduce, *k_fill;
    /* segments */
    sj_arena arena;                  /* shared, open */
    sj_segment seg, seg2, seg_plus4; /* 64 bytes each; seg_plus4: slice of seg2's twin at +4 */
    sj_segment seg_big;              /* 72 bytes, 64-aligned, base of seg_plus4 */
    sj_segment ro;                   /* read-only view of seg2 */
    int16_t arr16[32];
    sj_segment heap16; /* heap segment over arr16 */
    sj_arena closed_arena;
    sj_segment closed_seg;
    sj_arena stale_arena, reuser; /* reuser took over stale_arena's scope */
    sj_segment stale_seg;
    sj_arena conf_arena; /* confined to the main thread */
    sj_segment conf_seg;
    sj_arena conf_closed_arena;
    sj_segment conf_closed_seg;
    sj_segment map_ro; /* the 100-byte file, mapped read-only */
    /* the dying arena of the concurrent-close rows */
    sj_arena dying;
    sj_segment dying_seg, blocking_heap;
    /* the truncated file of the SIGBUS row */
    sj_segment trunc_seg;
    /* outputs */
    sj_layout *l;
    sj_path *p;
    sj_kernel *k;
    sj_segment out;
    sj_arena arena_out;
    sj_value v;
    sj_result r;
    int64_t n;
    sj_kernel_info kinfo;
} ctx;

static ctx C;

/* Where a call runs. */
enum {
    ON_MAIN,        /* the main thread, which owns the confined arenas */
    ON_OTHER,       /* a second thread */
    IN_FLIGHT,      /* started before the arena's close, blocked inside until close began */
    DURING_CLOSE,   /* started while close waits for an in-flight call */
    CHILD_TRUNCATED /* a child process, after the mapped file was truncated to 0 bytes */
};

#define EXPECT_SIGBUS (-1)

typedef sj_status (*call_fn)(ctx *c, sj_error *err);

typedef struct bad_case {
    const char *cls;
    const char *call;
    int expect; /* sj_status or EXPECT_SIGBUS */
    int where;
    call_fn fn;
} bad_case;

/* The table: X(id, class, expected, where, call). The call text in the document is the
 * call as written here. */
#define BAD_CASES(X)                                                                               \
    X(c_unclosed, "malformed text (canonical)", SJ_E_PARSE, ON_MAIN,                               \
      sj_layout_parse("[i4", &c->l, err))                                                          \
    X(c_badsize, "malformed text (canonical)", SJ_E_PARSE, ON_MAIN,                                \
      sj_layout_parse("i3", &c->l, err))                                                           \
    X(c_empty, "malformed text (canonical)", SJ_E_PARSE, ON_MAIN, sj_layout_parse("", &c->l, err)) \
    X(c_trailing, "malformed text (canonical)", SJ_E_PARSE, ON_MAIN,                               \
      sj_layout_parse("i4]", &c->l, err))                                                          \
    X(c_misaligned_member, "malformed text (canonical)", SJ_E_ARG, ON_MAIN,                        \
      sj_layout_parse("[s2i4]", &c->l, err))                                                       \
    X(c_align3, "malformed text (canonical)", SJ_E_ARG, ON_MAIN,                                   \
      sj_layout_parse("3%i4", &c->l, err))                                                         \
    X(c_negcount, "malformed text (canonical)", SJ_E_PARSE, ON_MAIN,                               \
      sj_layout_parse("[-1:i4]", &c->l, err))                                                      \
    X(c_elem_pad, "malformed text (canonical)", SJ_E_ARG, ON_MAIN,                                 \
      sj_layout_parse("[2:[i4b1]]", &c->l, err))                                                   \
    X(c_pad0, "malformed text (canonical)", SJ_E_ARG, ON_MAIN, sj_layout_parse("x0", &c->l, err))  \
    X(c_group_align, "malformed text (canonical)", SJ_E_ARG, ON_MAIN,                              \
      sj_layout_parse("2%[i4]", &c->l, err))                                                       \
    X(d_unclosed, "malformed text (C-like)", SJ_E_PARSE, ON_MAIN,                                  \
      sj_layout_parse_c("struct s { u32 a; ", &c->l, err))                                         \
    X(d_type, "malformed text (C-like)", SJ_E_PARSE, ON_MAIN,                                      \
      sj_layout_parse_c("struct s { u33 a; }", &c->l, err))                                        \
    X(d_semicolon, "malformed text (C-like)", SJ_E_PARSE, ON_MAIN,                                 \
      sj_layout_parse_c("struct s { u32 a }", &c->l, err))                                         \
    X(d_align3, "malformed text (C-like)", SJ_E_ARG, ON_MAIN,                                      \
      sj_layout_parse_c("struct s { u32 a align(3); }", &c->l, err))                               \
    X(d_negarray, "malformed text (C-like)", SJ_E_PARSE, ON_MAIN,                                  \
      sj_layout_parse_c("struct s { u32 a[-1]; }", &c->l, err))                                    \
    X(d_trailing, "malformed text (C-like)", SJ_E_PARSE, ON_MAIN,                                  \
      sj_layout_parse_c("union u { i64 i; f64 d; } extra", &c->l, err))                            \
    X(d_undefined, "malformed text (C-like)", SJ_E_PARSE, ON_MAIN,                                 \
      sj_layout_parse_c("struct s { struct nosuch n; }", &c->l, err))                              \
    X(p_unclosed, "malformed text (path)", SJ_E_PARSE, ON_MAIN,                                    \
      sj_path_parse(c->grid, "data[*", &c->p, err))                                                \
    X(p_garbage, "malformed text (path)", SJ_E_PARSE, ON_MAIN,                                     \
      sj_path_parse(c->grid, "data[*]]", &c->p, err))                                              \
    X(p_unknown, "malformed text (path)", SJ_E_PATH, ON_MAIN,                                      \
      sj_path_parse(c->grid, "nosuch", &c->p, err))                                                \
    X(p_past, "malformed text (path)", SJ_E_PATH, ON_MAIN,                                         \
      sj_path_parse(c->grid, "data[10]", &c->p, err))                                              \
    X(p_into_value, "malformed text (path)", SJ_E_PATH, ON_MAIN,                                   \
      sj_path_parse(c->grid, "data[0][0].x.y", &c->p, err))                                        \
    X(p_index_struct, "malformed text (path)", SJ_E_PATH, ON_MAIN,                                 \
      sj_path_parse(c->grid, "data[0][0][1]", &c->p, err))                                         \
    X(p_step0, "malformed text (path)", SJ_E_PATH, ON_MAIN,                                        \
      sj_path_parse(c->grid, "data[0::0]", &c->p, err))                                            \
    X(p_member_index, "malformed text (path)", SJ_E_PATH, ON_MAIN,                                 \
      sj_path_parse(c->grid, "#1", &c->p, err))                                                    \
    X(p_not_value, "malformed text (path)", SJ_E_PATH, ON_MAIN,                                    \
      sj_kernel_reduce(c->p_rows, SJ_REDUCE_SUM, &c->k, err))                                      \
    X(h_seq_max, "huge counts", SJ_E_OVERFLOW, ON_MAIN,                                            \
      sj_layout_parse("[9223372036854775807:j8]", &c->l, err))                                     \
    X(h_seq_neg, "huge counts", SJ_E_ARG, ON_MAIN, sj_layout_sequence(-1, c->i4, &c->l, err))      \
    X(h_run_max, "huge counts", SJ_E_BOUNDS, ON_MAIN,                                              \
      sj_kernel_run(c->k_copy_i4, &(sj_args){&c->seg, 0, &c->seg2, 0, INT64_MAX}, NULL, err))      \
    X(h_run_past, "huge counts", SJ_E_BOUNDS, ON_MAIN,                                             \
      sj_kernel_run(c->k_copy_i4, &(sj_args){&c->seg, 0, &c->seg2, 0, 17}, NULL, err))             \
    X(h_run_neg, "huge counts", SJ_E_BOUNDS, ON_MAIN,                                              \
      sj_kernel_run(c->k_copy_i4, &(sj_args){&c->seg, 0, &c->seg2, 0, -1}, NULL, err))             \
    X(h_run_bound, "huge counts", SJ_E_BOUNDS, ON_MAIN,                                            \
      sj_kernel_run(c->k_reduce, &(sj_args){&c->seg, 0, NULL, 0, 17}, &c->r, err))                 \
    X(h_copy_neg, "huge counts", SJ_E_BOUNDS, ON_MAIN,                                             \
      sj_copy(&c->seg, c->i4, 0, &c->seg2, c->i4, 0, INT64_MIN, err))                              \
    X(h_fill_max, "huge counts", SJ_E_BOUNDS, ON_MAIN,                                             \
      sj_fill_bytes(&c->seg, 0, INT64_MAX, 0, err))                                                \
    X(h_alloc_max, "huge counts", SJ_E_NOMEM, ON_MAIN,                                             \
      sj_arena_allocate(c->arena, INT64_MAX, 16, &c->out, err))                                    \
    X(o_struct, "overflowing sizes", SJ_E_OVERFLOW, ON_MAIN,                                       \
      sj_layout_parse("[[4611686018427387904:b1][4611686018427387904:b1]]", &c->l, err))           \
    X(o_nested, "overflowing sizes", SJ_E_OVERFLOW, ON_MAIN,                                       \
      sj_layout_parse("[4611686018427387904:[4:b1]]", &c->l, err))                                 \
    X(o_c_array, "overflowing sizes", SJ_E_OVERFLOW, ON_MAIN,                                      \
      sj_layout_parse_c("struct s { u64 a[2305843009213693952]; }", &c->l, err))                   \
    X(o_native, "overflowing sizes", SJ_E_OVERFLOW, ON_MAIN,                                       \
      sj_segment_native((void *)(UINTPTR_MAX - 15), 32, &c->out, err))                             \
    X(o_heap, "overflowing sizes", SJ_E_OVERFLOW, ON_MAIN,                                         \
      sj_segment_of_array(SJ_HEAP_I64, c->arr16, INT64_MAX, &c->out, err))                         \
    X(o_slice, "overflowing sizes", SJ_E_BOUNDS, ON_MAIN,                                          \
      sj_segment_slice(&c->seg, 8, INT64_MAX, &c->out, err))                                       \
    X(o_alloc_neg, "overflowing sizes", SJ_E_ARG, ON_MAIN,                                         \
      sj_arena_allocate(c->arena, -1, 16, &c->out, err))                                           \
    X(o_path_offset, "overflowing sizes", SJ_E_BOUNDS, ON_MAIN,                                    \
      sj_path_offset(c->p_all, (int64_t[]){INT64_MAX}, 1, &c->n, err))                             \
    X(n_get, "negative offsets", SJ_E_BOUNDS, ON_MAIN, sj_get(&c->seg, c->i4, -4, &c->v, err))     \
    X(n_set, "negative offsets", SJ_E_BOUNDS, ON_MAIN,                                             \
      sj_set(&c->seg, c->i4, -4, (sj_value){.i32 = 1}, err))                                       \
    X(n_slice, "negative offsets", SJ_E_BOUNDS, ON_MAIN,                                           \
      sj_segment_slice(&c->seg, -1, 4, &c->out, err))                                              \
    X(n_run, "negative offsets", SJ_E_BOUNDS, ON_MAIN,                                             \
      sj_kernel_run(c->k_copy_i4, &(sj_args){&c->seg, -4, &c->seg2, 0, 1}, NULL, err))             \
    X(n_copy_bytes, "negative offsets", SJ_E_BOUNDS, ON_MAIN,                                      \
      sj_copy_bytes(&c->seg, 0, &c->seg2, INT64_MIN, 4, err))                                      \
    X(n_mismatch, "negative offsets", SJ_E_BOUNDS, ON_MAIN,                                        \
      sj_mismatch(&c->seg, -1, 4, &c->seg2, 0, 4, &c->n, err))                                     \
    X(n_map, "negative offsets", SJ_E_ARG, ON_MAIN,                                                \
      sj_arena_map_file(c->arena, c->file, -1, 16, false, &c->out, err))                           \
    X(a_get, "misaligned bases", SJ_E_ALIGN, ON_MAIN, sj_get(&c->seg, c->i4, 2, &c->v, err))       \
    X(a_get_order, "misaligned bases", SJ_E_BOUNDS, ON_MAIN,                                       \
      sj_get(&c->seg, c->i4, 62, &c->v, err))                                                      \
    X(a_run_src, "misaligned bases", SJ_E_ALIGN, ON_MAIN,                                          \
      sj_kernel_run(c->k_copy_j8, &(sj_args){&c->seg_plus4, 0, &c->seg2, 0, 2}, NULL, err))        \
    X(a_run_order, "misaligned bases", SJ_E_ALIGN, ON_MAIN,                                        \
      sj_kernel_run(c->k_copy_j8, &(sj_args){&c->seg_plus4, 0, &c->seg2, 0, 100}, NULL, err))      \
    X(a_heap_get, "misaligned bases", SJ_E_ALIGN, ON_MAIN,                                         \
      sj_get(&c->heap16, c->i4, 0, &c->v, err))                                                    \
    X(a_heap_run, "misaligned bases", SJ_E_ALIGN, ON_MAIN,                                         \
      sj_kernel_run(c->k_copy_j8, &(sj_args){&c->seg, 0, &c->heap16, 0, 1}, NULL, err))            \
    X(a_alloc, "misaligned bases", SJ_E_ARG, ON_MAIN,                                              \
      sj_arena_allocate(c->arena, 16, 3, &c->out, err))                                            \
    X(l_align_gt_size, "bad kernel layouts", SJ_E_ARG, ON_MAIN,                                    \
      sj_kernel_copy(c->i4_a16, c->i4_a16, &c->k, err))                                            \
    X(l_size_differs, "bad kernel layouts", SJ_E_ARG, ON_MAIN,                                     \
      sj_kernel_copy(c->i4, c->seq16, &c->k, err))                                                 \
    X(l_fill_group, "bad kernel layouts", SJ_E_ARG, ON_MAIN,                                       \
      sj_kernel_fill(c->seq16, (sj_value){.i32 = 1}, &c->k, err))                                  \
    X(l_get_group, "bad kernel layouts", SJ_E_ARG, ON_MAIN,                                        \
      sj_get(&c->seg, c->seq16, 0, &c->v, err))                                                    \
    X(z_parse, "NULL and out-of-range arguments", SJ_E_ARG, ON_MAIN,                               \
      sj_layout_parse(NULL, &c->l, err))                                                           \
    X(z_open, "NULL and out-of-range arguments", SJ_E_ARG, ON_MAIN,                                \
      sj_arena_open(SJ_ARENA_SHARED, NULL, err))                                                   \
    X(z_open_kind, "NULL and out-of-range arguments", SJ_E_ARG, ON_MAIN,                           \
      sj_arena_open((sj_arena_kind)7, &c->arena_out, err))                                         \
    X(z_get, "NULL and out-of-range arguments", SJ_E_ARG, ON_MAIN,                                 \
      sj_get(NULL, c->i4, 0, &c->v, err))                                                          \
    X(z_run, "NULL and out-of-range arguments", SJ_E_ARG, ON_MAIN,                                 \
      sj_kernel_run(NULL, &(sj_args){&c->seg, 0, &c->seg2, 0, 1}, NULL, err))                      \
    X(z_run_src, "NULL and out-of-range arguments", SJ_E_ARG, ON_MAIN,                             \
      sj_kernel_run(c->k_copy_i4, &(sj_args){NULL, 0, &c->seg2, 0, 1}, NULL, err))                 \
    X(z_reduce_result, "NULL and out-of-range arguments", SJ_E_ARG, ON_MAIN,                       \
      sj_kernel_run(c->k_reduce, &(sj_args){&c->seg, 0, NULL, 0, 16}, NULL, err))                  \
    X(z_heap_kind, "NULL and out-of-range arguments", SJ_E_ARG, ON_MAIN,                           \
      sj_segment_of_array((sj_heap_kind)42, c->arr16, 4, &c->out, err))                            \
    X(z_stats, "NULL and out-of-range arguments", SJ_E_ARG, ON_MAIN,                               \
      sj_kernel_stats(NULL, &c->kinfo, err))                                                       \
    X(z_stats_out, "NULL and out-of-range arguments", SJ_E_ARG, ON_MAIN,                           \
      sj_kernel_stats(c->k_copy_i4, NULL, err))                                                    \
    X(x_get, "closed arenas", SJ_E_CLOSED, ON_MAIN, sj_get(&c->closed_seg, c->i4, 0, &c->v, err))  \
    X(x_set, "closed arenas", SJ_E_CLOSED, ON_MAIN,                                                \
      sj_set(&c->closed_seg, c->i4, 0, (sj_value){.i32 = 1}, err))                                 \
    X(x_order, "closed arenas", SJ_E_BOUNDS, ON_MAIN,                                              \
      sj_get(&c->closed_seg, c->i4, 64, &c->v, err))                                               \
    X(x_run, "closed arenas", SJ_E_CLOSED, ON_MAIN,                                                \
      sj_kernel_run(c->k_copy_i4, &(sj_args){&c->closed_seg, 0, &c->seg2, 0, 4}, NULL, err))       \
    X(x_run_dst, "closed arenas", SJ_E_CLOSED, ON_MAIN,                                            \
      sj_kernel_run(c->k_fill, &(sj_args){NULL, 0, &c->closed_seg, 0, 4}, NULL, err))              \
    X(x_close, "closed arenas", SJ_E_CLOSED, ON_MAIN, sj_arena_close(c->closed_arena, err))        \
    X(x_alloc, "closed arenas", SJ_E_CLOSED, ON_MAIN,                                              \
      sj_arena_allocate(c->closed_arena, 16, 16, &c->out, err))                                    \
    X(x_map, "closed arenas", SJ_E_CLOSED, ON_MAIN,                                                \
      sj_arena_map_file(c->closed_arena, c->file, 0, -1, false, &c->out, err))                     \
    X(x_stale_get, "closed arenas", SJ_E_CLOSED, ON_MAIN,                                          \
      sj_get(&c->stale_seg, c->i4, 0, &c->v, err))                                                 \
    X(x_stale_close, "closed arenas", SJ_E_CLOSED, ON_MAIN, sj_arena_close(c->stale_arena, err))   \
    X(x_global, "closed arenas", SJ_E_UNSUPPORTED, ON_MAIN,                                        \
      sj_arena_close(sj_arena_global(), err))                                                      \
    X(t_get, "wrong thread", SJ_E_THREAD, ON_OTHER, sj_get(&c->conf_seg, c->i4, 0, &c->v, err))    \
    X(t_set, "wrong thread", SJ_E_THREAD, ON_OTHER,                                                \
      sj_set(&c->conf_seg, c->i4, 0, (sj_value){.i32 = 1}, err))                                   \
    X(t_run_dst, "wrong thread", SJ_E_THREAD, ON_OTHER,                                            \
      sj_kernel_run(c->k_copy_i4, &(sj_args){&c->seg, 0, &c->conf_seg, 0, 4}, NULL, err))          \
    X(t_reduce, "wrong thread", SJ_E_THREAD, ON_OTHER,                                             \
      sj_kernel_run(c->k_reduce, &(sj_args){&c->conf_seg, 0, NULL, 0, 16}, &c->r, err))            \
    X(t_alloc, "wrong thread", SJ_E_THREAD, ON_OTHER,                                              \
      sj_arena_allocate(c->conf_arena, 16, 16, &c->out, err))                                      \
    X(t_close, "wrong thread", SJ_E_THREAD, ON_OTHER, sj_arena_close(c->conf_arena, err))          \
    X(t_alive, "wrong thread", SJ_E_THREAD, ON_OTHER, sj_segment_check_alive(&c->conf_seg, err))   \
    X(t_closed, "wrong thread", SJ_E_CLOSED, ON_OTHER,                                             \
      sj_get(&c->conf_closed_seg, c->i4, 0, &c->v, err))                                           \
    X(r_set, "read-only targets", SJ_E_READONLY, ON_MAIN,                                          \
      sj_set(&c->ro, c->i4, 0, (sj_value){.i32 = 1}, err))                                         \
    X(r_order, "read-only targets", SJ_E_READONLY, ON_MAIN,                                        \
      sj_set(&c->ro, c->i4, 63, (sj_value){.i32 = 1}, err))                                        \
    X(r_run, "read-only targets", SJ_E_READONLY, ON_MAIN,                                          \
      sj_kernel_run(c->k_copy_i4, &(sj_args){&c->seg, 0, &c->ro, 0, 4}, NULL, err))                \
    X(r_run_order, "read-only targets", SJ_E_READONLY, ON_MAIN,                                    \
      sj_kernel_run(c->k_copy_i4, &(sj_args){&c->seg, 0, &c->ro, 0, 16}, NULL, err))               \
    X(r_fill, "read-only targets", SJ_E_READONLY, ON_MAIN, sj_fill_bytes(&c->ro, 0, 8, 0xff, err)) \
    X(r_map_set, "read-only targets", SJ_E_READONLY, ON_MAIN,                                      \
      sj_set(&c->map_ro, c->i4, 0, (sj_value){.i32 = 1}, err))                                     \
    X(r_map_fill, "read-only targets", SJ_E_READONLY, ON_MAIN,                                     \
      sj_kernel_run(c->k_fill, &(sj_args){NULL, 0, &c->map_ro, 0, 4}, NULL, err))                  \
    X(f_past_eof, "truncated files", SJ_E_BOUNDS, ON_MAIN,                                         \
      sj_arena_map_file(c->arena, c->file, 0, 101, false, &c->out, err))                           \
    X(f_off_eof, "truncated files", SJ_E_BOUNDS, ON_MAIN,                                          \
      sj_arena_map_file(c->arena, c->file, 101, -1, false, &c->out, err))                          \
    X(f_tail, "truncated files", SJ_E_BOUNDS, ON_MAIN,                                             \
      sj_arena_map_file(c->arena, c->file, 96, 8, false, &c->out, err))                            \
    X(f_missing, "truncated files", SJ_E_ARG, ON_MAIN,                                             \
      sj_arena_map_file(c->arena, c->missing, 0, -1, false, &c->out, err))                         \
    X(f_dir, "truncated files", SJ_E_ARG, ON_MAIN,                                                 \
      sj_arena_map_file(c->arena, c->tmpdir, 0, -1, false, &c->out, err))                          \
    X(f_truncated, "truncated files", EXPECT_SIGBUS, CHILD_TRUNCATED,                              \
      sj_get(&c->trunc_seg, c->i4, 0, &c->v, err))                                                 \
    X(k_inflight, "concurrent close", SJ_OK, IN_FLIGHT,                                            \
      sj_kernel_run(c->k_copy_i4, &(sj_args){&c->dying_seg, 0, &c->blocking_heap, 0, 4}, NULL,     \
                    err))                                                                          \
    X(k_get, "concurrent close", SJ_E_CLOSED, DURING_CLOSE,                                        \
      sj_get(&c->dying_seg, c->i4, 0, &c->v, err))                                                 \
    X(k_reduce, "concurrent close", SJ_E_CLOSED, DURING_CLOSE,                                     \
      sj_kernel_run(c->k_reduce, &(sj_args){&c->dying_seg, 0, NULL, 0, 16}, &c->r, err))           \
    X(k_alloc, "concurrent close", SJ_E_CLOSED, DURING_CLOSE,                                      \
      sj_arena_allocate(c->dying, 16, 16, &c->out, err))                                           \
    X(k_close, "concurrent close", SJ_E_CLOSED, DURING_CLOSE, sj_arena_close(c->dying, err))

#define DEFINE_CALL(id, cls, expect, where, call)                                                  \
    static sj_status call_##id(ctx *c, sj_error *err) {                                            \
        (void)c;                                                                                   \
        return call;                                                                               \
    }
BAD_CASES(DEFINE_CALL)

#define DEFINE_ROW(id, cls, expect, where, call) {cls, #call, expect, where, call_##id},
static const bad_case cases[] = {BAD_CASES(DEFINE_ROW)};
#define NCASES (sizeof cases / sizeof cases[0])

/* ---- setup ---- */

static void write_file(const char *path, size_t size) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (size_t i = 0; i < size; i++)
        fputc((int)(i & 0xff), f);
    assert_int_equal(fclose(f), 0);
}

static void ok(sj_status st, const sj_error *err) {
    if (st != SJ_OK) fail_msg("setup: %s: %s", sj_status_name(st), err->message);
}

static void ctx_setup(ctx *c) {
    sj_error err = {0};
    memset(c, 0, sizeof *c);
    snprintf(c->tmpdir, sizeof c->tmpdir, "/tmp/sj-bad-XXXXXX");
    assert_non_null(mkdtemp(c->tmpdir));
    snprintf(c->file, sizeof c->file, "%.63s/f100", c->tmpdir);
    snprintf(c->missing, sizeof c->missing, "%.63s/missing", c->tmpdir);
    write_file(c->file, 100);

    c->i4 = test_layout("i4");
    c->i4_a16 = test_layout("16%i4");
    sj_layout *j8 = test_layout("j8");
    c->grid = test_layout("[[10:[10:[i4(x)i4(y)]]](data)]");
    c->seq16 = test_layout("[16:i4]");
    c->p_rows = test_path(c->grid, "data[*][0]");
    c->p_all = test_path(c->seq16, "[*]");
    ok(sj_kernel_copy(c->i4, c->i4, &c->k_copy_i4, &err), &err);
    ok(sj_kernel_copy(j8, j8, &c->k_copy_j8, &err), &err);
    ok(sj_kernel_reduce(c->p_all, SJ_REDUCE_SUM, &c->k_reduce, &err), &err);
    ok(sj_kernel_fill(c->i4, (sj_value){.i32 = 7}, &c->k_fill, &err), &err);
    sj_kernel *ks[] = {c->k_copy_i4, c->k_copy_j8, c->k_reduce, c->k_fill};
    for (size_t i = 0; i < 4; i++)
        sj_kernel_set_tier(ks[i], test_tier());
    sj_layout_unref(j8);

    ok(sj_arena_open(SJ_ARENA_SHARED, &c->arena, &err), &err);
    ok(sj_arena_allocate(c->arena, SEG_SIZE, 64, &c->seg, &err), &err);
    ok(sj_arena_allocate(c->arena, SEG_SIZE, 64, &c->seg2, &err), &err);
    ok(sj_arena_allocate(c->arena, SEG_SIZE + 8, 64, &c->seg_big, &err), &err);
    ok(sj_segment_slice(&c->seg_big, 4, SEG_SIZE, &c->seg_plus4, &err), &err);
    c->ro = sj_segment_readonly(&c->seg2);
    ok(sj_segment_of_array(SJ_HEAP_I16, c->arr16, 32, &c->heap16, &err), &err);

    ok(sj_arena_open(SJ_ARENA_SHARED, &c->closed_arena, &err), &err);
    ok(sj_arena_allocate(c->closed_arena, SEG_SIZE, 16, &c->closed_seg, &err), &err);
    ok(sj_arena_close(c->closed_arena, &err), &err);

    /* Scopes are pooled: the arena opened right after a close takes over its scope. */
    ok(sj_arena_open(SJ_ARENA_SHARED, &c->stale_arena, &err), &err);
    ok(sj_arena_allocate(c->stale_arena, SEG_SIZE, 16, &c->stale_seg, &err), &err);
    ok(sj_arena_close(c->stale_arena, &err), &err);
    ok(sj_arena_open(SJ_ARENA_SHARED, &c->reuser, &err), &err);
    assert_ptr_equal(c->reuser.scope, c->stale_arena.scope);

    ok(sj_arena_open(SJ_ARENA_CONFINED, &c->conf_arena, &err), &err);
    ok(sj_arena_allocate(c->conf_arena, SEG_SIZE, 16, &c->conf_seg, &err), &err);
    ok(sj_arena_open(SJ_ARENA_CONFINED, &c->conf_closed_arena, &err), &err);
    ok(sj_arena_allocate(c->conf_closed_arena, SEG_SIZE, 16, &c->conf_closed_seg, &err), &err);
    ok(sj_arena_close(c->conf_closed_arena, &err), &err);

    ok(sj_arena_map_file(c->arena, c->file, 0, -1, false, &c->map_ro, &err), &err);
}

static void ctx_teardown(ctx *c) {
    sj_error err = {0};
    /* the calls above left every live arena open and usable */
    assert_true(sj_arena_is_alive(c->reuser));
    ok(sj_arena_close(c->reuser, &err), &err);
    ok(sj_arena_close(c->conf_arena, &err), &err);
    ok(sj_arena_close(c->arena, &err), &err);
    sj_kernel_free(c->k_copy_i4);
    sj_kernel_free(c->k_copy_j8);
    sj_kernel_free(c->k_reduce);
    sj_kernel_free(c->k_fill);
    sj_path_free(c->p_rows);
    sj_path_free(c->p_all);
    sj_layout_unref(c->i4);
    sj_layout_unref(c->i4_a16);
    sj_layout_unref(c->grid);
    sj_layout_unref(c->seq16);
    unlink(c->file);
    rmdir(c->tmpdir);
}

/* Frees whatever a call that should have failed produced anyway. */
static void drop_outputs(ctx *c) {
    if (c->l) sj_layout_unref(c->l);
    if (c->p) sj_path_free(c->p);
    if (c->k) sj_kernel_free(c->k);
    c->l = NULL;
    c->p = NULL;
    c->k = NULL;
}

/* ---- running a case ---- */

typedef struct outcome {
    int status; /* sj_status or EXPECT_SIGBUS */
    char message[SJ_ERROR_MAX + 64];
} outcome;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define WAIT_LIMIT_S 20.0

static void sleep_us(long us) {
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

typedef struct thread_call {
    const bad_case *bc;
    sj_status st;
    sj_error err;
} thread_call;

static void *thread_call_main(void *arg) {
    thread_call *t = arg;
    t->st = t->bc->fn(&C, &t->err);
    return NULL;
}

static void run_on_other(const bad_case *bc, outcome *o) {
    thread_call t = {bc, SJ_OK, {0}};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, thread_call_main, &t), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    o->status = (int)t.st;
    snprintf(o->message, sizeof o->message, "%s", t.st == SJ_OK ? "" : t.err.message);
}

/* The concurrent-close scenario: a kernel run whose destination is a heap segment whose
 * resolve blocks; the run has pinned c->dying (its source) when resolve is called. A
 * second thread closes c->dying; close must wait for the run. */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool entered, released;
    int64_t array[8];
} blocker = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, false, {0}};

static void *blocking_resolve(void *owner) {
    pthread_mutex_lock(&blocker.lock);
    blocker.entered = true;
    pthread_cond_broadcast(&blocker.cond);
    double limit = now_s() + WAIT_LIMIT_S;
    while (!blocker.released && now_s() < limit) {
        pthread_mutex_unlock(&blocker.lock);
        sleep_us(1000);
        pthread_mutex_lock(&blocker.lock);
    }
    pthread_mutex_unlock(&blocker.lock);
    return owner;
}

typedef struct closer {
    sj_arena arena;
    sj_status st;
    atomic_bool returned;
} closer;

static void *closer_main(void *arg) {
    closer *cl = arg;
    cl->st = sj_arena_close(cl->arena, NULL);
    atomic_store(&cl->returned, true);
    return NULL;
}

static sj_status call_default_inflight(ctx *c, sj_error *err) {
    return call_k_inflight(c, err);
}

static void run_dying(const bad_case *bc, outcome *o) {
    ctx *c = &C;
    sj_error err = {0};
    ok(sj_arena_open(SJ_ARENA_SHARED, &c->dying, &err), &err);
    ok(sj_arena_allocate(c->dying, SEG_SIZE, 64, &c->dying_seg, &err), &err);
    ok(sj_segment_heap(SJ_HEAP_I64, 8, blocker.array, blocking_resolve, &c->blocking_heap, &err),
       &err);
    blocker.entered = blocker.released = false;

    bad_case inflight = {"", "", SJ_OK, IN_FLIGHT,
                         bc->where == IN_FLIGHT ? bc->fn : call_default_inflight};
    thread_call t = {&inflight, SJ_OK, {0}};
    pthread_t th, cth;
    assert_int_equal(pthread_create(&th, NULL, thread_call_main, &t), 0);
    double limit = now_s() + WAIT_LIMIT_S;
    pthread_mutex_lock(&blocker.lock);
    while (!blocker.entered && now_s() < limit) {
        pthread_mutex_unlock(&blocker.lock);
        sleep_us(1000);
        pthread_mutex_lock(&blocker.lock);
    }
    bool entered = blocker.entered;
    pthread_mutex_unlock(&blocker.lock);
    if (!entered) fail_msg("%s: the in-flight call never reached its heap resolve", bc->call);

    closer cl = {c->dying, SJ_OK, false};
    assert_int_equal(pthread_create(&cth, NULL, closer_main, &cl), 0);
    while (sj_arena_is_alive(c->dying) && now_s() < limit)
        sleep_us(100);
    if (sj_arena_is_alive(c->dying)) fail_msg("%s: close never began", bc->call);

    sj_error derr = {0};
    sj_status during = SJ_OK;
    if (bc->where == DURING_CLOSE) during = bc->fn(c, &derr);
    sleep_us(20000); /* give a close that does not wait the time to return */
    bool returned_early = atomic_load(&cl.returned);

    pthread_mutex_lock(&blocker.lock);
    blocker.released = true;
    pthread_mutex_unlock(&blocker.lock);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(pthread_join(cth, NULL), 0);
    if (returned_early) fail_msg("%s: close returned while a call was in flight", bc->call);
    assert_int_equal(cl.st, SJ_OK);
    assert_int_equal(t.st, SJ_OK);
    assert_false(sj_arena_is_alive(c->dying));

    sj_status st = bc->where == DURING_CLOSE ? during : t.st;
    const sj_error *e = bc->where == DURING_CLOSE ? &derr : &t.err;
    o->status = (int)st;
    snprintf(o->message, sizeof o->message, "%s", st == SJ_OK ? "" : e->message);
}

#define SIGBUS_EXIT 99

static void on_sigbus(int sig) {
    (void)sig;
    _exit(SIGBUS_EXIT);
}

/* Maps two pages of a file, truncates the file to 0 bytes, and makes the call in a child
 * process: touching a page past the new end of the file raises SIGBUS. */
static void run_truncated(const bad_case *bc, outcome *o) {
    ctx *c = &C;
    sj_error err = {0};
    char path[128];
    snprintf(path, sizeof path, "%.63s/trunc", c->tmpdir);
    write_file(path, 8192);
    sj_arena a;
    ok(sj_arena_open(SJ_ARENA_SHARED, &a, &err), &err);
    ok(sj_arena_map_file(a, path, 0, -1, true, &c->trunc_seg, &err), &err);
    assert_int_equal(truncate(path, 0), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_sigbus;
        sigaction(SIGBUS, &sa, NULL);
        sj_error cerr = {0};
        sj_status st = bc->fn(c, &cerr);
        _exit(100 + (int)st);
    }
    int ws = 0;
    assert_int_equal(waitpid(pid, &ws, 0), pid);
    if (WIFEXITED(ws) && WEXITSTATUS(ws) == SIGBUS_EXIT) {
        o->status = EXPECT_SIGBUS;
        snprintf(o->message, sizeof o->message,
                 "(none: the library raises SIGBUS, which it leaves to the process; the "
                 "segjit tool answers it with SJ_E_BOUNDS and exit status 1)");
    } else if (WIFEXITED(ws) && WEXITSTATUS(ws) >= 100) {
        o->status = WEXITSTATUS(ws) - 100;
        snprintf(o->message, sizeof o->message, "(status returned by a child process)");
    } else {
        o->status = SJ_STATUS_COUNT;
        snprintf(o->message, sizeof o->message, "child process ended with wait status %d", ws);
    }
    ok(sj_arena_close(a, &err), &err);
    unlink(path);
}

/* Replaces what differs between runs (the scratch directory, addresses, thread ids). */
static void sanitize(char *msg, size_t cap) {
    char out[SJ_ERROR_MAX + 64];
    size_t o = 0, dl = strlen(C.tmpdir);
    for (const char *p = msg; *p && o + 16 < sizeof out;) {
        if (dl && strncmp(p, C.tmpdir, dl) == 0) {
            o += (size_t)snprintf(out + o, sizeof out - o, "$TMP");
            p += dl;
        } else if (p[0] == '0' && p[1] == 'x') {
            o += (size_t)snprintf(out + o, sizeof out - o, "0x…");
            p += 2;
            while ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F'))
                p++;
        } else if (strncmp(p, "thread ", 7) == 0 && p[7] >= '0' && p[7] <= '9') {
            o += (size_t)snprintf(out + o, sizeof out - o, "thread N");
            p += 7;
            while (*p >= '0' && *p <= '9')
                p++;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    snprintf(msg, cap, "%s", out);
}

/* What a failed call must leave as it was: the bytes of the open segments and every
 * output. */
typedef struct snapshot {
    uint8_t seg[SEG_SIZE], seg2[SEG_SIZE], big[SEG_SIZE + 8], conf[SEG_SIZE];
    int16_t arr16[32];
    sj_segment out;
    sj_arena arena_out;
    sj_value v;
    sj_result r;
    int64_t n;
    sj_kernel_info kinfo;
} snapshot;

static void snapshot_take(snapshot *s) {
    memcpy(s->seg, C.seg.base, SEG_SIZE);
    memcpy(s->seg2, C.seg2.base, SEG_SIZE);
    memcpy(s->big, C.seg_big.base, SEG_SIZE + 8);
    memcpy(s->conf, C.conf_seg.base, SEG_SIZE);
    memcpy(s->arr16, C.arr16, sizeof s->arr16);
    s->out = C.out;
    s->arena_out = C.arena_out;
    s->v = C.v;
    s->r = C.r;
    s->n = C.n;
    s->kinfo = C.kinfo;
}

/* The name of what a failed call changed, or NULL. */
static const char *snapshot_changed(const snapshot *s) {
    if (memcmp(s->seg, C.seg.base, SEG_SIZE)) return "c->seg";
    if (memcmp(s->seg2, C.seg2.base, SEG_SIZE)) return "c->seg2";
    if (memcmp(s->big, C.seg_big.base, SEG_SIZE + 8)) return "c->seg_plus4";
    if (memcmp(s->conf, C.conf_seg.base, SEG_SIZE)) return "c->conf_seg";
    if (memcmp(s->arr16, C.arr16, sizeof s->arr16)) return "c->arr16";
    if (memcmp(&s->out, &C.out, sizeof s->out)) return "the output segment";
    if (memcmp(&s->arena_out, &C.arena_out, sizeof s->arena_out)) return "the output arena";
    if (memcmp(&s->v, &C.v, sizeof s->v)) return "the output value";
    if (memcmp(&s->r, &C.r, sizeof s->r)) return "the result";
    if (s->n != C.n) return "the output offset";
    if (memcmp(&s->kinfo, &C.kinfo, sizeof s->kinfo)) return "the kernel statistics";
    if (C.l || C.p || C.k) return "an output layout, path or kernel";
    return NULL;
}

/* Fills the segments and outputs with a pattern a failed call must leave alone. */
static void poison(void) {
    for (size_t i = 0; i < SEG_SIZE; i++) {
        C.seg.base[i] = (uint8_t)(i * 7 + 1);
        C.seg2.base[i] = (uint8_t)(i * 11 + 3);
        C.conf_seg.base[i] = (uint8_t)(i * 5 + 2);
    }
    for (size_t i = 0; i < SEG_SIZE + 8; i++)
        C.seg_big.base[i] = (uint8_t)(i * 13 + 5);
    for (size_t i = 0; i < 32; i++)
        C.arr16[i] = (int16_t)(i * 257 + 9);
    memset(&C.out, 0xab, sizeof C.out);
    memset(&C.arena_out, 0xab, sizeof C.arena_out);
    memset(&C.v, 0xab, sizeof C.v);
    memset(&C.r, 0xab, sizeof C.r);
    C.n = 0x5a5a5a5a;
    memset(&C.kinfo, 0xab, sizeof C.kinfo);
}

static void run_case(const bad_case *bc, outcome *o, const char **changed) {
    memset(o, 0, sizeof *o);
    poison();
    snapshot before;
    snapshot_take(&before);
    switch (bc->where) {
        case ON_MAIN: {
            sj_error err = {0};
            sj_status st = bc->fn(&C, &err);
            o->status = (int)st;
            snprintf(o->message, sizeof o->message, "%s", st == SJ_OK ? "" : err.message);
            break;
        }
        case ON_OTHER:
            run_on_other(bc, o);
            break;
        case IN_FLIGHT:
        case DURING_CLOSE:
            run_dying(bc, o);
            break;
        case CHILD_TRUNCATED:
            run_truncated(bc, o);
            break;
    }
    *changed = o->status != SJ_OK ? snapshot_changed(&before) : NULL;
    drop_outputs(&C);
    sanitize(o->message, sizeof o->message);
}

/* ---- the Markdown table ---- */

static const char *status_text(int st) {
    return st == EXPECT_SIGBUS ? "SIGBUS" : sj_status_name((sj_status)st);
}

static const char *where_text(int where) {
    switch (where) {
        case ON_OTHER:
            return " (from a second thread)";
        case IN_FLIGHT:
            return " (in flight when close begins)";
        case DURING_CLOSE:
            return " (while close waits for an in-flight call)";
        case CHILD_TRUNCATED:
            return " (file truncated to 0 bytes after mapping)";
        default:
            return "";
    }
}

/* Writes s with the characters that break a table cell escaped. */
static void md_cell(FILE *f, const char *s) {
    for (; *s; s++) {
        if (*s == '|')
            fputs("\\|", f);
        else
            fputc(*s, f);
    }
}

static const char md_head[] =
    "# Bad inputs\n"
    "\n"
    "Generated by `tests/test_bad_inputs.c`: every row is a call the test makes, with the\n"
    "status it expects and the status and message it observed; for every failed call the test\n"
    "also checks that it wrote nothing (segment bytes and outputs as they were). Do not edit;\n"
    "regenerate with\n"
    "\n"
    "    SEGJIT_BAD_INPUTS_MD=docs/BAD_INPUTS.md <build>/tests/test_bad_inputs\n"
    "\n"
    "The ctest test `bad_inputs_doc_fresh` fails when this file differs from what the test\n"
    "observes. Messages are shown with the scratch directory as `$TMP`, addresses as `0x…` and\n"
    "thread ids as `thread N`.\n"
    "\n"
    "What the calls are given (`c` is the test's context):\n"
    "\n"
    "- `c->grid` is `[[10:[10:[i4(x)i4(y)]]](data)]`; `c->p_rows` is its path `data[*][0]`\n"
    "  (ends on a struct); `c->p_all` is `[*]` on `c->seq16`, `[16:i4]`; `c->i4` is `i4`;\n"
    "  `c->i4_a16` is `16%i4`.\n"
    "- `c->k_copy_i4`, `c->k_copy_j8`: copy kernels `i4 -> i4`, `j8 -> j8`; `c->k_reduce`: SUM\n"
    "  over `c->p_all`; `c->k_fill`: fill of `i4` with 7.\n"
    "- `c->arena`: an open shared arena; `c->seg`, `c->seg2`: 64-byte segments of it, aligned\n"
    "  to 64; `c->seg_plus4`: a 64-byte slice at offset 4 of a 64-aligned one; `c->ro`: a\n"
    "  read-only view of `c->seg2`; `c->heap16`: a heap segment over 32 `int16_t` (maximum\n"
    "  alignment 2); `c->arr16`: that array.\n"
    "- `c->closed_arena`, `c->closed_seg`: an arena closed before the call and its 64-byte\n"
    "  segment; `c->stale_arena`, `c->stale_seg`: the same, after a new open arena reused the\n"
    "  closed arena's pooled scope.\n"
    "- `c->conf_arena`, `c->conf_seg`: a confined arena of the main thread and its segment;\n"
    "  `c->conf_closed_seg`: a segment of a confined arena closed by the main thread.\n"
    "- `c->file`: a 100-byte file; `c->missing`: a path that does not exist; `c->tmpdir`: a\n"
    "  directory; `c->map_ro`: `c->file` mapped read-only.\n"
    "- `c->dying`, `c->dying_seg`: a shared arena (and its 64-byte segment) that a second\n"
    "  thread is closing while a kernel run on a third thread is in flight (blocked inside the\n"
    "  run, in the resolve function of its heap destination `c->blocking_heap`).\n"
    "- `c->trunc_seg`: an 8192-byte file mapped writable, then truncated to 0 bytes.\n"
    "\n";

static void write_markdown(FILE *f, const outcome *outs) {
    fputs(md_head, f);
    fputs("| class | call | expected | observed | message |\n", f);
    fputs("|---|---|---|---|---|\n", f);
    for (size_t i = 0; i < NCASES; i++) {
        const bad_case *bc = &cases[i];
        fprintf(f, "| %s%s | `", bc->cls, where_text(bc->where));
        md_cell(f, bc->call);
        fprintf(f, "` | `%s` | `%s` | ", status_text(bc->expect), status_text(outs[i].status));
        md_cell(f, outs[i].message[0] ? outs[i].message : "—");
        fputs(" |\n", f);
    }
}

/* The first line where the files at a and b differ (0 when equal). */
static int first_difference(const char *a, const char *b, char *what, size_t cap) {
    FILE *fa = fopen(a, "r"), *fb = fopen(b, "r");
    if (!fa || !fb) {
        snprintf(what, cap, "cannot open %s", fa ? b : a);
        if (fa) fclose(fa);
        if (fb) fclose(fb);
        return -1;
    }
    char la[2048], lb[2048];
    int line = 0, diff = 0;
    for (;;) {
        line++;
        char *ra = fgets(la, sizeof la, fa), *rb = fgets(lb, sizeof lb, fb);
        if (!ra && !rb) break;
        if (!ra || !rb || strcmp(la, lb) != 0) {
            snprintf(what, cap, "line %d:\n  expected: %s  observed: %s", line,
                     rb ? lb : "(end of file)\n", ra ? la : "(end of file)\n");
            diff = line;
            break;
        }
    }
    fclose(fa);
    fclose(fb);
    return diff;
}

/* ---- the test ---- */

static const char *program = "tests/test_bad_inputs";

static void test_bad_inputs(void **state) {
    (void)state;
    ctx_setup(&C);
    outcome *outs = calloc(NCASES, sizeof *outs);
    assert_non_null(outs);
    int failures = 0;
    bool stale = false;
    for (size_t i = 0; i < NCASES; i++) {
        const char *changed = NULL;
        run_case(&cases[i], &outs[i], &changed);
        if (changed) {
            fprintf(stderr, "bad input %zu: %s: failed with %s but wrote %s\n", i, cases[i].call,
                    status_text(outs[i].status), changed);
            failures++;
        }
        if (outs[i].status != cases[i].expect) {
            fprintf(stderr, "bad input %zu (%s): %s\n  expected %s, observed %s: %s\n", i,
                    cases[i].cls, cases[i].call, status_text(cases[i].expect),
                    status_text(outs[i].status), outs[i].message);
            failures++;
        } else if (outs[i].status != SJ_OK && outs[i].status != EXPECT_SIGBUS &&
                   outs[i].message[0] == '\0') {
            fprintf(stderr, "bad input %zu: %s: status without a message\n", i, cases[i].call);
            failures++;
        }
    }
    const char *md = getenv("SEGJIT_BAD_INPUTS_MD");
    if (md && *md) {
        FILE *f = fopen(md, "w");
        if (!f) fail_msg("cannot write %s", md);
        write_markdown(f, outs);
        assert_int_equal(fclose(f), 0);
        const char *expect = getenv("SEGJIT_BAD_INPUTS_EXPECT");
        if (expect && *expect) {
            char what[4600];
            if (first_difference(md, expect, what, sizeof what) != 0) {
                fprintf(stderr,
                        "%s is stale (differs from the observed table at %s)\nregenerate: "
                        "SEGJIT_BAD_INPUTS_MD=%s %s\n",
                        expect, what, expect, program);
                stale = true;
            }
        }
    }
    free(outs);
    ctx_teardown(&C);
    if (failures) fail_msg("%d bad-input rows differ from their expectation", failures);
    if (stale) fail_msg("the bad-input document is stale");
}

int main(int argc, char **argv) {
    if (argc > 0 && argv[0]) program = argv[0];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
