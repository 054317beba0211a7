/* src/internal.h: the library's private structures and helpers shared between
 * src/ files: the layout record, error formatting, scopes. Nothing public here,
 * and nothing about LLVM. */
#ifndef SEGJIT_INTERNAL_H
#define SEGJIT_INTERNAL_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "segjit/layout.h"
#include "segjit/segment.h"
#include "segjit/status.h"

#if defined(__GNUC__)
#define SJ_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define SJ_PRINTF(a, b)
#endif

/* Hot and cold paths: messages are formatted in cold, out-of-line functions only. */
#if defined(__GNUC__)
#define SJ_HIDDEN      __attribute__((visibility("hidden")))
#define SJ_COLD        __attribute__((cold, noinline))
#define SJ_LIKELY(x)   __builtin_expect(!!(x), 1)
#define SJ_UNLIKELY(x) __builtin_expect(!!(x), 0)
/* The lease's thread state is read on every access: initial-exec TLS is one
 * %fs-relative load, where the default model of a shared library calls __tls_get_addr. */
#define SJ_TLS_FAST __attribute__((tls_model("initial-exec")))
#else
#define SJ_HIDDEN
#define SJ_COLD
#define SJ_LIKELY(x)   (x)
#define SJ_UNLIKELY(x) (x)
#define SJ_TLS_FAST
#endif

/* Fills err (when not NULL) with status and a formatted one-line message; returns
 * status so that callers can write `return sj_fail(err, SJ_E_ARG, "...")`. */
sj_status sj_fail(sj_error *err, sj_status status, const char *fmt, ...) SJ_PRINTF(3, 4);
sj_status sj_failv(sj_error *err, sj_status status, const char *fmt, va_list ap);

/* An index from names to the first of a list's positions holding each (open addressing):
 * wide structs and unions look members up by name through it instead of scanning. A
 * position's name comes from the caller's `at`. An index with no slots (small lists, or
 * no memory) is not ready: callers scan, which answers the same. */
typedef const char *(*sj_name_at)(const void *list, size_t i);
typedef struct sj_name_index {
    uint64_t *slot; /* position + 1 in the low 32 bits, the name's hash above; 0: empty */
    size_t mask, count;
} sj_name_index;
#define SJ_NAME_INDEX_MIN 16 /* lists longer than this get an index */
/* Adds position i under its name (unnamed positions are skipped). Returns the earlier
 * position of that name (i is not added), SIZE_MAX when added, SIZE_MAX - 1 when out of
 * memory (the index is then freed: not ready). */
size_t sj_name_index_add(sj_name_index *ix, sj_name_at at, const void *list, size_t i);
/* The first position named `name`, or SIZE_MAX. Only on a ready index. */
size_t sj_name_index_find(const sj_name_index *ix, sj_name_at at, const void *list,
                          const char *name);
/* The same for the name[0..len) (a token of a text). */
size_t sj_name_index_find_n(const sj_name_index *ix, sj_name_at at, const void *list,
                            const char *name, size_t len);
void sj_name_index_free(sj_name_index *ix);
static inline bool sj_name_index_ready(const sj_name_index *ix) {
    return ix->slot != NULL;
}

/* Per-call counts (sj_counters), kept per thread so that calls write no cache line that
 * another thread's calls write; summed when read (kernel.c). */
enum {
    SJ_TC_RUNS_INTERP,
    SJ_TC_RUNS_JIT,
    SJ_TC_FB_HEAP,
    SJ_TC_FB_OVERLAP,
    SJ_TC_ONESHOT_HITS,
    SJ_TC_ONESHOT_MISSES,
    SJ_TC_IN_PLACE,
    SJ_TC_OV_COPIES,
    SJ_TC_OV_CHUNKED,
    SJ_TC_OV_DIRECT,
    SJ_TC_COUNT
};
void sj_tc_add(int which) SJ_HIDDEN;

/* A map from pairs of pointers to pointers (open addressing): the memos of walks over
 * layouts that share parts (one visit per distinct part or pair of parts, not per path). */
typedef struct sj_ptr_entry {
    const void *a, *b;
    void *v;
} sj_ptr_entry;
typedef struct sj_ptr_map {
    sj_ptr_entry *slot; /* a NULL: empty */
    size_t mask, count;
} sj_ptr_map;
/* The value kept for (a, b) (a not NULL), or NULL. */
void *sj_ptr_map_get(const sj_ptr_map *m, const void *a, const void *b);
/* Keeps (a, b) -> v (v not NULL). False when (a, b) is there already or out of memory
 * (nothing kept; the map stays as it was). */
bool sj_ptr_map_put(sj_ptr_map *m, const void *a, const void *b, void *v);
/* Frees the map, first passing each value to drop (when not NULL). */
void sj_ptr_map_free(sj_ptr_map *m, void (*drop)(void *v));

struct sj_layout {
    atomic_size_t refs;
    sj_tag tag;
    sj_kind kind;   /* SJ_VALUE */
    sj_order order; /* SJ_VALUE: LITTLE or BIG */
    uint64_t size;
    uint64_t align;
    char *name; /* NULL when unnamed */
    size_t nmembers;
    sj_layout **members; /* struct, union */
    uint64_t *offsets;   /* struct (union: all 0) */
    uint64_t count;      /* sequence */
    sj_layout *elem;     /* sequence */
    uint64_t hash;
    uint64_t natural;    /* sj_layout_natural_align */
    sj_name_index names; /* struct, union of more than SJ_NAME_INDEX_MIN members */
};

/* "value", "struct", "union", "sequence", "padding" ("?" otherwise). */
const char *sj_tag_name(sj_tag tag);

/* 1-based line and column (in bytes) of byte position pos in text, for parse errors. */
void sj_line_col(const char *text, size_t pos, unsigned *line, unsigned *col);

/* Copies s into dst (capacity cap, at least 4), cut with "..." when it does not fit. */
void sj_snip(char *dst, size_t cap, const char *s);

/* The canonical text of l for a message, cut with "..." to fit buf (sj_snip); "" when it
 * cannot be printed (out of memory). Returns buf. */
const char *sj_layout_cut(const sj_layout *l, char *buf, size_t cap);
/* The canonical text of l (without its own name unless own_name), printed only until it
 * passes `limit` bytes: a prefix of the whole text, longer than limit when cut short.
 * malloc'd; NULL when out of memory. */
char *sj_layout_text_prefix(const sj_layout *l, bool own_name, size_t limit);

/* sj_fail with "line:col: " of byte position pos in text in front (the parsers' errors). */
sj_status sj_fail_at(sj_error *err, const char *text, size_t pos, sj_status status, const char *fmt,
                     ...) SJ_PRINTF(5, 6);

/* Natural alignment of a layout ignoring any with_align: kind size for values, 1 for
 * padding, max member alignment for groups, element alignment for sequences. */
uint64_t sj_layout_natural_align(const sj_layout *l);

/* Everything single access needs from a resolved path, in one call (access.c builds an
 * accessor on its stack for each sj_get_path): root, leaf, base offset, free count, and
 * the strides and bounds of the free indices (arrays of SJ_PATH_MAX_FREE). */
void sj_path_resolved(const sj_path *p, const sj_layout **root, const sj_layout **leaf,
                      int64_t *base, size_t *nfree, int64_t *stride, int64_t *bound) SJ_HIDDEN;

/* secure_getenv for files built without _GNU_SOURCE (jit_loader.c). */
const char *sj_secure_getenv(const char *name) SJ_HIDDEN;

/* Checked 64-bit arithmetic on sizes and offsets: false on overflow. */
static inline bool sj_add_u64(uint64_t a, uint64_t b, uint64_t *out) {
    return !__builtin_add_overflow(a, b, out);
}
static inline bool sj_mul_u64(uint64_t a, uint64_t b, uint64_t *out) {
    return !__builtin_mul_overflow(a, b, out);
}
static inline bool sj_is_pow2(uint64_t x) {
    return x != 0 && (x & (x - 1)) == 0;
}

/* Hashing (FNV-1a 64 mixed); stable across processes. */
uint64_t sj_hash_bytes(uint64_t h, const void *p, size_t n);
static inline uint64_t sj_hash_u64(uint64_t h, uint64_t v) {
    return sj_hash_bytes(h, &v, sizeof v);
}
/* Layout pairs whose sj_copy kernels are kept (oneshot.c; kernel.h says so). */
#define SJ_ONESHOT_SLOTS 64

/* Monotonic clock in nanoseconds (kernel.c), for the counters' timings. */
uint64_t sj_now_ns(void);

#define SJ_HASH_SEED 0xcbf29ce484222325ull

/* Growable string buffer used by printers; on allocation failure `failed` is set
 * and further appends are ignored. */
typedef struct sj_buf {
    char *data;
    size_t len, cap;
    bool failed;
    size_t limit; /* printers may stop once len passes it (0: no limit) */
} sj_buf;
static inline bool sj_buf_full(const sj_buf *b) {
    return b->failed || (b->limit && b->len > b->limit);
}
void sj_buf_putc(sj_buf *b, char c);
void sj_buf_puts(sj_buf *b, const char *s);
void sj_buf_printf(sj_buf *b, const char *fmt, ...) SJ_PRINTF(2, 3);
/* Hands the string to *out (caller frees) or returns SJ_E_NOMEM. */
sj_status sj_buf_finish(sj_buf *b, char **out, sj_error *err);

#endif
