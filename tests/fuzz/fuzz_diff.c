/* tests/fuzz/fuzz_diff.c: differential libFuzzer target for kernels (SEMANTICS 4.2-4.6). The
 * input builds layouts, a path, guarded buffers and one operation; the operation runs on the
 * interpreter and (when sj_jit_available) the JIT over native segments, which must agree on
 * status, message, result and every byte, and on the interpreter over heap segments of the
 * same memory, which must agree on bytes (status too, except that a heap segment may be
 * stricter on alignment). Where the expected bytes are simple (copy, fill, mismatch,
 * gather/scatter without conversion, reductions, one-shot copy/fill/mismatch) they are also
 * computed here and compared. Layout text and paths have their own targets. */
#include <math.h>

#include "fuzz.h"

/* SEGJIT_FUZZ_VERBOSE=1: one line per build and run on stderr (for reading a reproducer). */
static bool verbose(void) {
    static int state = -1;
    if (state < 0) state = getenv("SEGJIT_FUZZ_VERBOSE") != NULL;
    return state == 1;
}

/* ---- input reader: runs out into zeros ---- */

typedef struct rd {
    const uint8_t *p;
    size_t n;
} rd;

static uint8_t rd_u8(rd *r) {
    if (!r->n) return 0;
    r->n--;
    return *r->p++;
}

static uint64_t rd_u64(rd *r) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)rd_u8(r) << (8 * i);
    return v;
}

/* ---- values in memory (the oracles assume a little-endian host) ---- */

static uint64_t load_bits(const uint8_t *p, unsigned size, bool big) {
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)p[big ? size - 1 - i : i] << (8 * i);
    return v;
}

static void store_bits(uint8_t *p, unsigned size, bool big, uint64_t v) {
    for (unsigned i = 0; i < size; i++)
        p[big ? size - 1 - i : i] = (uint8_t)(v >> (8 * i));
}

static bool is_big(const sj_layout *v) {
    return sj_layout_order(v) == SJ_ORDER_BIG;
}

/* A value of kind k from raw bits; a bool is 0 or 1. */
static sj_value make_value(sj_kind k, uint64_t bits) {
    sj_value v;
    memset(&v, 0, sizeof v);
    if (k == SJ_BOOL)
        v.z = (bits & 1) != 0;
    else
        memcpy(&v, &bits, sizeof bits < sizeof v ? sizeof bits : sizeof v);
    return v;
}

/* ---- layouts from the input ---- */

static const char *const NAMES[] = {"a", "b", "c", "x", "y", "id"};
#define NNAMES (sizeof NAMES / sizeof NAMES[0])

/* Replaces *l (consumed) by the derived layout; on failure *l is released and NULL. */
static void derive(sj_layout **l, sj_status st, sj_layout *d) {
    sj_layout_unref(*l);
    *l = st == SJ_OK ? d : NULL;
}

static sj_layout *gen_value(rd *r) {
    uint8_t b = rd_u8(r), f = rd_u8(r);
    sj_layout *l = NULL, *d = NULL;
    if (sj_layout_value((sj_kind)(b % SJ_KIND_COUNT), &l, NULL) != SJ_OK) return NULL;
    if (f & 3) {
        sj_order o = (f & 3) == 1 ? SJ_ORDER_LITTLE : (f & 3) == 2 ? SJ_ORDER_BIG : SJ_ORDER_NATIVE;
        derive(&l, sj_layout_with_order(l, o, &d, NULL), d);
    }
    if (l && (f & 4)) derive(&l, sj_layout_with_name(l, NAMES[(f >> 3) % NNAMES], &d, NULL), d);
    if (l && (f & 0xC0) == 0xC0)
        derive(&l, sj_layout_with_align(l, (int64_t)1 << (rd_u8(r) % 5), &d, NULL), d);
    return l;
}

static sj_layout *padding(uint64_t n) {
    sj_layout *p = NULL;
    return sj_layout_padding((int64_t)n, &p, NULL) == SJ_OK ? p : NULL;
}

/* Any layout, up to 3 levels deep; structs get C-style padding so that they build. */
static sj_layout *gen_layout(rd *r, int depth) {
    uint8_t t = rd_u8(r) % 8;
    if (depth >= 3 && t >= 4) t = 0;
    sj_layout *l = NULL, *d = NULL;
    switch (t) {
        case 4:
        case 5: {
            sj_layout *m[12];
            size_t n = 0, want = 1 + rd_u8(r) % 4;
            uint64_t off = 0, max_align = 1;
            bool ok = true;
            for (size_t i = 0; i < want && ok; i++) {
                sj_layout *x = gen_layout(r, depth + 1);
                if (!x) {
                    ok = false;
                    break;
                }
                uint64_t a = sj_layout_align(x);
                if (a > max_align) max_align = a;
                if (t == 4 && off % a) {
                    sj_layout *p = padding(a - off % a);
                    if (!p) {
                        sj_layout_unref(x);
                        ok = false;
                        break;
                    }
                    off += a - off % a;
                    m[n++] = p;
                }
                off += sj_layout_size(x);
                m[n++] = x;
            }
            if (ok && t == 4 && off % max_align) {
                sj_layout *p = padding(max_align - off % max_align);
                if (p)
                    m[n++] = p;
                else
                    ok = false;
            }
            if (ok) {
                sj_status st = t == 4 ? sj_layout_struct((const sj_layout *const *)m, n, &l, NULL)
                                      : sj_layout_union((const sj_layout *const *)m, n, &l, NULL);
                if (st != SJ_OK) l = NULL;
            }
            for (size_t i = 0; i < n; i++)
                sj_layout_unref(m[i]);
            break;
        }
        case 6: {
            sj_layout *e = gen_layout(r, depth + 1);
            if (!e) return NULL;
            if (sj_layout_sequence(rd_u8(r) % 6, e, &l, NULL) != SJ_OK) l = NULL;
            sj_layout_unref(e);
            break;
        }
        case 7:
            return padding(1 + rd_u8(r) % 8);
        default:
            return gen_value(r);
    }
    uint8_t f = rd_u8(r);
    if (l && (f & 1)) derive(&l, sj_layout_with_name(l, NAMES[(f >> 1) % NNAMES], &d, NULL), d);
    return l;
}

/* A copy of l with byte orders flipped and kinds swapped for kinds of the same size, by
 * editing its canonical text; l itself (a new reference) when the edit does not parse. */
static sj_layout *mutate_layout(rd *r, const sj_layout *l) {
    char *t = NULL;
    if (sj_layout_print(l, &t, NULL) != SJ_OK) return sj_layout_ref(l);
    static const char *const SAME_SIZE[] = {"zb", "cs", "if", "jda"};
    int depth = 0;
    for (char *c = t; *c; c++) {
        if (*c == '(') depth++;
        if (*c == ')' && depth) depth--;
        if (depth || !c[1] || c[1] < '1' || c[1] > '8') continue;
        char lower = (char)(*c | 0x20);
        const char *group = NULL;
        for (size_t g = 0; g < 4 && !group; g++)
            if (strchr(SAME_SIZE[g], lower)) group = SAME_SIZE[g];
        if (!group) continue;
        uint8_t b = rd_u8(r);
        bool upper = *c != lower;
        if ((b & 2) && !(c > t && (c[-1] | 0x20) == 'u')) lower = group[(b >> 2) % strlen(group)];
        if (b & 1) upper = !upper;
        *c = upper ? (char)(lower & ~0x20) : lower;
    }
    sj_layout *m = NULL;
    if (sj_layout_parse(t, &m, NULL) != SJ_OK) m = sj_layout_ref(l);
    free(t);
    return m;
}

/* Steps from root down to (usually) a value, with (usually) one free index. */
static size_t gen_steps(rd *r, const sj_layout *root, sj_path_step *steps, size_t cap) {
    const sj_layout *cur = root;
    size_t n = 0;
    bool have_free = false;
    while (n < cap) {
        uint8_t b = rd_u8(r);
        sj_path_step *s = &steps[n];
        memset(s, 0, sizeof *s);
        if ((b & 0xF8) == 0xF8) { /* a step that may not fit, then stop */
            s->kind = (sj_step_kind)(b % 5);
            s->name = NAMES[b % NNAMES];
            s->index = (int64_t)(rd_u8(r) % 8) - 1;
            s->step = (int64_t)(rd_u8(r) % 5) - 2;
            return n + 1;
        }
        sj_tag tag = sj_layout_tag(cur);
        if (tag == SJ_STRUCT || tag == SJ_UNION) {
            size_t m = sj_layout_member_count(cur);
            if (!m) break;
            size_t k = b % m;
            const sj_layout *child = sj_layout_member(cur, k);
            const char *name = sj_layout_name(child);
            for (size_t i = 0; name && i < k; i++) { /* by name only when k is the first */
                const char *other = sj_layout_name(sj_layout_member(cur, i));
                if (other && strcmp(other, name) == 0) name = NULL;
            }
            if (name && (b & 0x40)) {
                s->kind = SJ_STEP_NAME;
                s->name = name;
            } else {
                s->kind = SJ_STEP_MEMBER;
                s->index = (int64_t)k;
            }
            cur = child;
        } else if (tag == SJ_SEQUENCE) {
            uint64_t count = sj_layout_elem_count(cur);
            if (!have_free && (b & 3) != 3) {
                if ((b & 4) && count > 0) {
                    static const int64_t STEPS[] = {1, 2, 3, -1, -2, 5};
                    s->kind = SJ_STEP_RANGE;
                    s->index = (int64_t)((b >> 3) % count);
                    s->step = STEPS[(b >> 5) % 6];
                } else {
                    s->kind = SJ_STEP_OPEN;
                }
                have_free = true;
            } else if (count > 0) {
                s->kind = SJ_STEP_INDEX;
                s->index = (int64_t)((b >> 2) % count);
            } else {
                s->kind = SJ_STEP_OPEN;
            }
            cur = sj_layout_elem(cur);
        } else {
            break;
        }
        n++;
    }
    return n;
}

/* A root for path operations: a sequence of generated elements, so there is a free index. */
static sj_layout *gen_root(rd *r) {
    sj_layout *e = gen_layout(r, 1), *l = NULL;
    if (!e) return NULL;
    if (sj_layout_sequence(rd_u8(r) % 9, e, &l, NULL) != SJ_OK) l = NULL;
    sj_layout_unref(e);
    return l;
}

/* ---- guarded buffers and segments over them ---- */

#define GUARD      64
#define GUARD_BYTE 0xA5

typedef struct fbuf {
    uint8_t *mem;  /* 64-aligned */
    uint8_t *init; /* contents before each run */
    size_t total, start, size;
} fbuf;

static void fbuf_init(fbuf *b, size_t size, size_t misalign, uint32_t seed, const fbuf *like,
                      uint8_t diff) {
    b->start = GUARD + misalign;
    b->size = size;
    b->total = (b->start + size + GUARD + 63) / 64 * 64;
    b->mem = aligned_alloc(64, b->total);
    b->init = malloc(b->total);
    if (!b->mem || !b->init) abort();
    memset(b->init, GUARD_BYTE, b->total);
    uint32_t x = seed * 2654435761u + 1u;
    for (size_t i = 0; i < size; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b->init[b->start + i] = (uint8_t)x;
    }
    if (like) { /* mostly the same bytes as `like`, so that mismatch has work to do */
        for (size_t i = 0; i < size && i < like->size; i++)
            b->init[b->start + i] = like->init[like->start + i];
        if (diff && size) b->init[b->start + (diff * 7u) % size] ^= (uint8_t)(diff | 1);
    }
    memcpy(b->mem, b->init, b->total);
}

static void fbuf_free(fbuf *b) {
    free(b->mem);
    free(b->init);
}

static unsigned heap_elem(sj_heap_kind k) {
    switch (k) {
        case SJ_HEAP_I8:
            return 1;
        case SJ_HEAP_I16:
        case SJ_HEAP_U16:
            return 2;
        case SJ_HEAP_I32:
        case SJ_HEAP_F32:
            return 4;
        default:
            return 8;
    }
}

/* A segment over the buffer's data: native, or a heap segment over the whole allocation
 * sliced at the data (its virtual address is then congruent to the native one mod 64). */
static void make_seg(const fbuf *b, bool heap, sj_heap_kind hk, bool ro, sj_segment *out) {
    sj_error err = {SJ_OK, ""};
    sj_status st;
    if (heap) {
        sj_segment whole;
        st = sj_segment_of_array(hk, b->mem, (int64_t)(b->total / heap_elem(hk)), &whole, &err);
        if (st == SJ_OK)
            st = sj_segment_slice(&whole, (int64_t)b->start, (int64_t)b->size, out, &err);
    } else {
        st = sj_segment_native(b->mem + b->start, (int64_t)b->size, out, &err);
    }
    FZ_CHECK(st == SJ_OK, "segment of %zu bytes: %s", b->size, err.message);
    if (ro) *out = sj_segment_readonly(out);
}

/* ---- one case: buffers, segments and arguments ---- */

typedef struct env {
    fbuf buf[2]; /* buf[0]: source; destination is buf[dst_buf] */
    int dst_buf; /* 0 when source and destination share memory */
    bool ro;     /* destination segment read-only */
    sj_heap_kind hk[2];
    int64_t so, doff, count;
} env;

static int64_t gen_offset(rd *r, size_t size) {
    uint8_t b = rd_u8(r);
    if (b < 240) return (int64_t)(b % (size + 12)) - 4;
    static const int64_t EDGE[] = {INT64_MIN, INT64_MAX, -1, INT64_MAX - 7, (int64_t)1 << 62};
    return b % 16 < 5 ? EDGE[b % 16] : (int64_t)size + b % 16 - 5;
}

static int64_t gen_count(rd *r) {
    uint8_t b = rd_u8(r);
    if (b < 232) return b % 48;
    static const int64_t EDGE[] = {INT64_MAX,        -1,   INT64_MIN, (int64_t)1 << 61,
                                   (int64_t)1 << 32, 1000, 4096,      (int64_t)1 << 59};
    return EDGE[b % 8];
}

static void env_init(env *e, rd *r) {
    memset(e, 0, sizeof *e);
    uint8_t f = rd_u8(r);
    size_t s0 = rd_u8(r), s1 = rd_u8(r);
    if (f & 0x80) s0 = 1024 + s0;
    fbuf_init(&e->buf[0], s0, rd_u8(r) % 16, rd_u8(r), NULL, 0);
    uint8_t diff = rd_u8(r);
    fbuf_init(&e->buf[1], s1, rd_u8(r) % 16, rd_u8(r), (f & 0x20) ? &e->buf[0] : NULL, diff);
    e->dst_buf = (f & 3) == 3 ? 0 : 1;
    e->ro = (f & 0x1c) == 0x1c;
    e->hk[0] = (sj_heap_kind)(rd_u8(r) % 7);
    e->hk[1] = (sj_heap_kind)(rd_u8(r) % 7);
    e->so = gen_offset(r, s0);
    e->doff = gen_offset(r, e->dst_buf ? s1 : s0);
    e->count = gen_count(r);
}

static void env_free(env *e) {
    fbuf_free(&e->buf[0]);
    fbuf_free(&e->buf[1]);
}

static void env_reset(env *e) {
    for (int i = 0; i < 2; i++)
        memcpy(e->buf[i].mem, e->buf[i].init, e->buf[i].total);
}

static void env_segs(const env *e, bool heap, sj_segment *src, sj_segment *dst) {
    make_seg(&e->buf[0], heap, e->hk[0], false, src);
    make_seg(&e->buf[e->dst_buf], heap, e->hk[e->dst_buf], e->ro, dst);
}

static void check_guards(const env *e, const char *what) {
    for (int i = 0; i < 2; i++) {
        const fbuf *b = &e->buf[i];
        for (size_t j = 0; j < b->total; j++) {
            if (j >= b->start && j < b->start + b->size) continue;
            FZ_CHECK(b->mem[j] == GUARD_BYTE, "%s: guard byte %td of buffer %d overwritten", what,
                     (ptrdiff_t)j - (ptrdiff_t)b->start, i);
        }
    }
}

static void check_untouched(const env *e, const char *what) {
    for (int i = 0; i < 2; i++)
        for (size_t j = 0; j < e->buf[i].size; j++)
            FZ_CHECK(e->buf[i].mem[e->buf[i].start + j] == e->buf[i].init[e->buf[i].start + j],
                     "%s: failed call changed byte %zu of buffer %d", what, j, i);
}

/* ---- running a kernel on one tier and segment kind ---- */

typedef struct outcome {
    sj_status st;
    sj_error err;
    sj_result res;
    uint8_t *mem[2];
} outcome;

#define RUN_FAILS                                                                                  \
    (FZ_BIT(SJ_E_ARG) | FZ_BIT(SJ_E_BOUNDS) | FZ_BIT(SJ_E_ALIGN) | FZ_BIT(SJ_E_READONLY) |         \
     FZ_BIT(SJ_E_OVERFLOW) | FZ_BIT(SJ_E_NOMEM) | FZ_BIT(SJ_E_UNSUPPORTED))

static const sj_result RESULT_POISON = {.u64 = UINT64_C(0x5A5A5A5A5A5A5A5A)};

static void run_kernel(env *e, const sj_kernel *k, sj_tier tier, bool heap, const char *what,
                       outcome *o) {
    env_reset(e);
    sj_segment src, dst;
    env_segs(e, heap, &src, &dst);
    sj_kernel_set_tier((sj_kernel *)k, tier);
    o->res = RESULT_POISON;
    memset(&o->err, 0, sizeof o->err);
    sj_args a = {&src, e->so, &dst, e->doff, e->count};
    o->st = sj_kernel_run(k, &a, &o->res, &o->err);
    if (verbose())
        fprintf(stderr,
                "fuzz_diff: %s: src_offset %lld, dst_offset %lld, count %lld, sizes %zu/%zu%s: "
                "%s %s (last tier %d)\n",
                what, (long long)e->so, (long long)e->doff, (long long)e->count, e->buf[0].size,
                e->buf[e->dst_buf].size, e->dst_buf ? "" : " (same buffer)", sj_status_name(o->st),
                o->err.message, (int)sj_kernel_last_tier(k));
    for (int i = 0; i < 2; i++) {
        o->mem[i] = malloc(e->buf[i].total);
        if (!o->mem[i]) abort();
        memcpy(o->mem[i], e->buf[i].mem, e->buf[i].total);
    }
    check_guards(e, what);
    if (o->st != SJ_OK) {
        fz_check_failure(what, NULL, o->st, &o->err, RUN_FAILS);
        check_untouched(e, what);
        FZ_CHECK(o->res.u64 == RESULT_POISON.u64, "%s: failed run (%s) wrote its result", what,
                 sj_status_name(o->st));
    }
}

static void outcome_free(outcome *o) {
    free(o->mem[0]);
    free(o->mem[1]);
}

static bool same_bytes(const env *e, const outcome *a, const outcome *b) {
    return memcmp(a->mem[0], b->mem[0], e->buf[0].total) == 0 &&
           memcmp(a->mem[1], b->mem[1], e->buf[1].total) == 0;
}

/* Where two buffers first differ, for messages. */
static const char *first_diff(const env *e, const uint8_t *const x[2], const uint8_t *const y[2],
                              char *buf, size_t cap) {
    for (int i = 0; i < 2; i++)
        for (size_t j = 0; j < e->buf[i].total; j++)
            if (x[i][j] != y[i][j]) {
                snprintf(buf, cap, "buffer %d byte %td: 0x%02x vs 0x%02x", i,
                         (ptrdiff_t)j - (ptrdiff_t)e->buf[i].start, x[i][j], y[i][j]);
                return buf;
            }
    return "no difference";
}

/* ---- oracles: what the bytes must be after a successful run ---- */

/* Expected memory: a copy of the initial buffers the oracle edits. */
typedef struct expect {
    uint8_t *mem[2];
} expect;

static void expect_init(const env *e, expect *x) {
    for (int i = 0; i < 2; i++) {
        x->mem[i] = malloc(e->buf[i].total);
        if (!x->mem[i]) abort();
        memcpy(x->mem[i], e->buf[i].init, e->buf[i].total);
    }
}

static void expect_check(const env *e, expect *x, const outcome *o, const char *what) {
    char where[96];
    const uint8_t *const got[2] = {o->mem[0], o->mem[1]};
    const uint8_t *const want[2] = {x->mem[0], x->mem[1]};
    FZ_CHECK(memcmp(got[0], want[0], e->buf[0].total) == 0 &&
                 memcmp(got[1], want[1], e->buf[1].total) == 0,
             "%s: bytes differ from the expected ones (got vs expected: %s)", what,
             first_diff(e, got, want, where, sizeof where));
    free(x->mem[0]);
    free(x->mem[1]);
}

/* Source bytes as they were before the run; destination bytes in the expectation. */
static const uint8_t *src_at(const env *e, int64_t off) {
    return e->buf[0].init + e->buf[0].start + off;
}
static uint8_t *dst_at(const env *e, expect *x, int64_t off) {
    return x->mem[e->dst_buf] + e->buf[e->dst_buf].start + off;
}

/* Element copy (4.2): raw, or each element byte-reversed between values of opposite order. */
static void oracle_copy(const env *e, const sj_layout *sl, const sj_layout *dl, const outcome *o,
                        const char *what) {
    uint64_t size = sj_layout_size(sl);
    if (size == 0 || e->count > (1 << 20)) return;
    bool swap = sj_layout_tag(sl) == SJ_VALUE && sj_layout_tag(dl) == SJ_VALUE && size > 1 &&
                sj_layout_order(sl) != sj_layout_order(dl);
    expect x;
    expect_init(e, &x);
    for (int64_t i = 0; i < e->count; i++) {
        const uint8_t *s = src_at(e, e->so + i * (int64_t)size);
        uint8_t *d = dst_at(e, &x, e->doff + i * (int64_t)size);
        for (uint64_t j = 0; j < size; j++)
            d[j] = s[swap ? size - 1 - j : j];
    }
    expect_check(e, &x, o, what);
}

static void oracle_fill(const env *e, const sj_layout *v, uint64_t bits, const outcome *o,
                        const char *what) {
    unsigned size = (unsigned)sj_layout_size(v);
    if (e->count > (1 << 20)) return;
    if (sj_layout_kind(v) == SJ_BOOL) bits &= 1;
    expect x;
    expect_init(e, &x);
    for (int64_t i = 0; i < e->count; i++)
        store_bits(dst_at(e, &x, e->doff + i * (int64_t)size), size, is_big(v), bits);
    expect_check(e, &x, o, what);
}

static int64_t mismatch_of(const uint8_t *a, const uint8_t *b, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        if (a[i] != b[i]) return i;
    return -1;
}

/* Offset of free index i of a path with one free index. */
static int64_t path_off(const sj_path *p, int64_t i) {
    int64_t off = 0;
    sj_error err = {SJ_OK, ""};
    sj_status st = sj_path_offset(p, &i, 1, &off, &err);
    FZ_CHECK(st == SJ_OK, "path offset %lld: %s", (long long)i, err.message);
    return off;
}

/* Gather/scatter between values of one kind: a copy of each value, byte order fixed up. */
static void oracle_gather(const env *e, const sj_path *p, const sj_layout *dense, bool gather,
                          const outcome *o, const char *what) {
    const sj_layout *leaf = sj_path_leaf(p);
    /* bool to bool may normalise bytes other than 0 and 1; conversions are not modelled */
    if (sj_layout_tag(leaf) != SJ_VALUE || sj_layout_tag(dense) != SJ_VALUE ||
        sj_layout_kind(leaf) != sj_layout_kind(dense) || sj_layout_kind(leaf) == SJ_BOOL ||
        e->count > (1 << 20))
        return;
    unsigned size = (unsigned)sj_layout_size(leaf);
    expect x;
    expect_init(e, &x);
    for (int64_t i = 0; i < e->count; i++) {
        int64_t po = path_off(p, i), dn = i * (int64_t)size;
        const uint8_t *s = src_at(e, e->so + (gather ? po : dn));
        uint8_t *d = dst_at(e, &x, e->doff + (gather ? dn : po));
        bool sbig = is_big(gather ? leaf : dense), dbig = is_big(gather ? dense : leaf);
        store_bits(d, size, dbig, load_bits(s, size, sbig));
    }
    expect_check(e, &x, o, what);
}

static double as_double(sj_kind k, uint64_t bits) {
    if (k == SJ_F32) {
        uint32_t b32 = (uint32_t)bits;
        float f;
        memcpy(&f, &b32, sizeof f);
        return (double)f;
    }
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

static int64_t sign_extend(uint64_t bits, unsigned size) {
    if (size == 8) return (int64_t)bits;
    uint64_t m = UINT64_C(1) << (8 * size - 1);
    return (int64_t)((bits ^ m) - m);
}

/* Reductions (4.4) over a non-empty range: integer SUM wraps, MIN/MAX exact; floating point
 * per the documented lane order (kernel.h results: i64, u64 or f64). Bool values are left
 * out (what a byte other than 0 or 1 means is not pinned down). */
static void oracle_reduce(const env *e, const sj_path *p, sj_reduce_op op, const outcome *o,
                          const char *what) {
    const sj_layout *leaf = sj_path_leaf(p);
    sj_kind k = sj_layout_kind(leaf);
    unsigned size = (unsigned)sj_layout_size(leaf);
    if (sj_layout_tag(leaf) != SJ_VALUE || e->count <= 0 || e->count > (1 << 20) || k == SJ_BOOL)
        return;
    if (sj_kind_is_float(k)) {
        double lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0}, acc = 0;
        bool nan = false;
        for (int64_t i = 0; i < e->count; i++) {
            double v =
                as_double(k, load_bits(src_at(e, e->so + path_off(p, i)), size, is_big(leaf)));
            if (isnan(v)) nan = true;
            if (op == SJ_REDUCE_SUM) {
                lanes[i % 8] += v;
            } else if (i == 0) {
                acc = v;
            } else if (op == SJ_REDUCE_MIN) {
                if (v < acc || (v == 0 && acc == 0 && signbit(v))) acc = v;
            } else {
                if (v > acc || (v == 0 && acc == 0 && !signbit(v))) acc = v;
            }
        }
        if (op == SJ_REDUCE_SUM)
            acc = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) +
                  ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
        double got = o->res.f64;
        if (nan || isnan(acc)) {
            FZ_CHECK(isnan(got), "%s: reduction gives %.17g, expected NaN", what, got);
        } else {
            FZ_CHECK(got == acc &&
                         (acc != 0 || op == SJ_REDUCE_SUM || signbit(got) == signbit(acc)),
                     "%s: reduction gives %.17g, expected %.17g", what, got, acc);
        }
        return;
    }
    bool sgn = sj_kind_is_signed(k);
    uint64_t usum = 0, umin = UINT64_MAX, umax = 0;
    int64_t smin = INT64_MAX, smax = INT64_MIN;
    for (int64_t i = 0; i < e->count; i++) {
        uint64_t bits = load_bits(src_at(e, e->so + path_off(p, i)), size, is_big(leaf));
        if (sgn) {
            int64_t v = sign_extend(bits, size);
            usum += (uint64_t)v;
            if (v < smin) smin = v;
            if (v > smax) smax = v;
        } else {
            usum += bits;
            if (bits < umin) umin = bits;
            if (bits > umax) umax = bits;
        }
    }
    uint64_t want = op == SJ_REDUCE_SUM ? usum
                    : sgn               ? (uint64_t)(op == SJ_REDUCE_MIN ? smin : smax)
                                        : (op == SJ_REDUCE_MIN ? umin : umax);
    FZ_CHECK(o->res.u64 == want, "%s: reduction gives 0x%llx, expected 0x%llx", what,
             (unsigned long long)o->res.u64, (unsigned long long)want);
}

/* ---- the kernel operations ---- */

enum { OP_COPY, OP_CONVERT, OP_GATHER, OP_SCATTER, OP_FILL, OP_REDUCE, OP_MISMATCH, OP_COUNT };
static const char *const OP_NAMES[] = {"copy", "convert", "gather",  "scatter",
                                       "fill", "reduce",  "mismatch"};

typedef struct job {
    int op;
    sj_layout *a, *b; /* copy: src, dst elem; convert: records; gather/scatter: dense elem */
    sj_path *path;
    sj_layout *root;
    sj_reduce_op rop;
    uint64_t fill_bits;
} job;

static bool jit_on(void) {
    static int state = -1;
    if (state < 0) state = sj_jit_available(NULL) ? 1 : 0;
    return state == 1;
}

#define BUILD_FAILS                                                                                \
    (FZ_BIT(SJ_E_ARG) | FZ_BIT(SJ_E_PATH) | FZ_BIT(SJ_E_UNSUPPORTED) | FZ_BIT(SJ_E_OVERFLOW) |     \
     FZ_BIT(SJ_E_NOMEM) | FZ_BIT(SJ_E_BOUNDS))

/* Builds the job's kernel; NULL when the layouts do not make one (checked as a failure). */
static sj_kernel *build(rd *r, job *j) {
    sj_kernel *k = NULL;
    sj_error err = {SJ_OK, ""};
    sj_status st = SJ_E_ARG;
    uint8_t fb = rd_u8(r);
    unsigned flags = (fb & 0x80) ? fb & 3u : fb & 1u; /* gather/scatter take LOSSY only */
    if (j->op == OP_CONVERT) flags = fb & 3u;
    switch (j->op) {
        case OP_COPY:
            j->a = gen_layout(r, 1);
            j->b = j->a ? ((rd_u8(r) & 3) ? mutate_layout(r, j->a) : gen_layout(r, 1)) : NULL;
            if (j->a && j->b) st = sj_kernel_copy(j->a, j->b, &k, &err);
            break;
        case OP_CONVERT:
            j->a = gen_layout(r, 0);
            j->b = j->a ? ((rd_u8(r) & 3) ? mutate_layout(r, j->a) : gen_layout(r, 0)) : NULL;
            if (j->a && j->b) st = sj_kernel_convert(j->a, j->b, flags, &k, &err);
            break;
        case OP_GATHER:
        case OP_SCATTER:
        case OP_REDUCE: {
            j->root = gen_root(r);
            if (!j->root) return NULL;
            sj_path_step steps[10];
            size_t n = gen_steps(r, j->root, steps, 10);
            if (sj_path_resolve(j->root, steps, n, &j->path, &err) != SJ_OK) {
                j->path = NULL;
                return NULL;
            }
            if (j->op == OP_REDUCE) {
                j->rop = (sj_reduce_op)(rd_u8(r) % 3);
                st = sj_kernel_reduce(j->path, j->rop, &k, &err);
                break;
            }
            const sj_layout *leaf = sj_path_leaf(j->path);
            if ((rd_u8(r) & 3) && sj_layout_tag(leaf) == SJ_VALUE)
                j->a = mutate_layout(r, leaf);
            else
                j->a = gen_value(r);
            if (!j->a) return NULL;
            st = j->op == OP_GATHER ? sj_kernel_gather(j->path, j->a, flags, &k, &err)
                                    : sj_kernel_scatter(j->a, j->path, flags, &k, &err);
            break;
        }
        case OP_FILL:
            j->a = gen_value(r);
            j->fill_bits = rd_u64(r);
            if (j->a)
                st = sj_kernel_fill(j->a, make_value(sj_layout_kind(j->a), j->fill_bits), &k, &err);
            break;
        case OP_MISMATCH:
            st = sj_kernel_mismatch(&k, &err);
            break;
    }
    if (verbose())
        fprintf(stderr, "fuzz_diff: build %s: %s %s\n", OP_NAMES[j->op], sj_status_name(st),
                st == SJ_OK ? "" : err.message);
    if (st != SJ_OK) {
        if (err.message[0]) fz_check_failure(OP_NAMES[j->op], NULL, st, &err, BUILD_FAILS);
        return NULL;
    }
    FZ_CHECK(k != NULL, "%s kernel built as NULL", OP_NAMES[j->op]);
    char *desc = NULL;
    FZ_CHECK(sj_kernel_describe(k, &desc, &err) == SJ_OK && desc, "describe failed: %s",
             err.message);
    free(desc);
    return k;
}

static void job_free(job *j) {
    sj_layout_unref(j->a);
    sj_layout_unref(j->b);
    sj_path_free(j->path);
    sj_layout_unref(j->root);
}

static void oracle(const env *e, const job *j, const outcome *o, const char *what) {
    if (sj_native_order() != SJ_ORDER_LITTLE) return;
    switch (j->op) {
        case OP_COPY:
            oracle_copy(e, j->a, j->b, o, what);
            break;
        case OP_FILL:
            oracle_fill(e, j->a, j->fill_bits, o, what);
            break;
        case OP_GATHER:
        case OP_SCATTER:
            oracle_gather(e, j->path, j->a, j->op == OP_GATHER, o, what);
            break;
        case OP_REDUCE:
            oracle_reduce(e, j->path, j->rop, o, what);
            break;
        case OP_MISMATCH: {
            int64_t want =
                e->count > (1 << 20)
                    ? o->res.i64
                    : mismatch_of(src_at(e, e->so),
                                  e->buf[e->dst_buf].init + e->buf[e->dst_buf].start + e->doff,
                                  e->count);
            FZ_CHECK(o->res.i64 == want, "%s: mismatch %lld, expected %lld", what,
                     (long long)o->res.i64, (long long)want);
            break;
        }
        default:
            break;
    }
}

static void kernel_case(rd *r, env *e, int op) {
    job j;
    memset(&j, 0, sizeof j);
    j.op = op;
    sj_kernel *k = build(r, &j);
    if (!k) {
        job_free(&j);
        return;
    }
    char what[64];
    snprintf(what, sizeof what, "%s (interp, native)", OP_NAMES[op]);
    outcome in;
    run_kernel(e, k, SJ_TIER_INTERP, false, what, &in);
    FZ_CHECK(in.st != SJ_OK || sj_kernel_last_tier(k) == SJ_TIER_INTERP, "%s ran on tier %d", what,
             (int)sj_kernel_last_tier(k));
    if (in.st == SJ_OK) oracle(e, &j, &in, what);

    char where[96];
    const uint8_t *const in_mem[2] = {in.mem[0], in.mem[1]};
    if (jit_on()) {
        outcome jt;
        snprintf(what, sizeof what, "%s (jit, native)", OP_NAMES[op]);
        run_kernel(e, k, SJ_TIER_JIT, false, what, &jt);
        const uint8_t *const jt_mem[2] = {jt.mem[0], jt.mem[1]};
        FZ_CHECK(jt.st == in.st, "%s: status %s, interpreter %s (%s | %s)", what,
                 sj_status_name(jt.st), sj_status_name(in.st), jt.err.message, in.err.message);
        FZ_CHECK(strcmp(jt.err.message, in.err.message) == 0, "%s: message '%s', interpreter '%s'",
                 what, jt.err.message, in.err.message);
        FZ_CHECK(jt.st != SJ_OK || memcmp(&jt.res, &in.res, sizeof jt.res) == 0,
                 "%s: result 0x%llx, interpreter 0x%llx", what, (unsigned long long)jt.res.u64,
                 (unsigned long long)in.res.u64);
        FZ_CHECK(same_bytes(e, &jt, &in), "%s: bytes differ from the interpreter's: %s", what,
                 first_diff(e, jt_mem, in_mem, where, sizeof where));
        outcome_free(&jt);
    }

    outcome hp;
    snprintf(what, sizeof what, "%s (interp, heap)", OP_NAMES[op]);
    run_kernel(e, k, jit_on() ? SJ_TIER_JIT : SJ_TIER_INTERP, true, what, &hp);
    FZ_CHECK(hp.st != SJ_OK || sj_kernel_last_tier(k) == SJ_TIER_INTERP,
             "%s: a heap segment ran on tier %d", what, (int)sj_kernel_last_tier(k));
    /* A heap segment's maximum alignment is its element size, so it may fail ALIGN where
     * the native segment passes; anything else must agree. */
    FZ_CHECK(hp.st == in.st || hp.st == SJ_E_ALIGN, "%s: status %s, native %s (%s | %s)", what,
             sj_status_name(hp.st), sj_status_name(in.st), hp.err.message, in.err.message);
    if (hp.st == SJ_OK && in.st == SJ_OK) {
        const uint8_t *const hp_mem[2] = {hp.mem[0], hp.mem[1]};
        FZ_CHECK(memcmp(&hp.res, &in.res, sizeof hp.res) == 0, "%s: result 0x%llx, native 0x%llx",
                 what, (unsigned long long)hp.res.u64, (unsigned long long)in.res.u64);
        FZ_CHECK(same_bytes(e, &hp, &in), "%s: bytes differ from native: %s", what,
                 first_diff(e, hp_mem, in_mem, where, sizeof where));
    }
    outcome_free(&hp);
    outcome_free(&in);
    sj_kernel_free(k);
    job_free(&j);
}

/* ---- one-shot forms, with their statuses predicted ---- */

/* Rule 3.3 for the buffer's segment as make_seg builds it. */
static bool aligned(const env *e, int which, bool heap, int64_t off, uint64_t a) {
    const fbuf *b = &e->buf[which];
    if (heap) {
        unsigned es = heap_elem(e->hk[which]);
        return a <= es && ((uint64_t)b->start + (uint64_t)off) % a == 0;
    }
    return ((uint64_t)(uintptr_t)(b->mem + b->start) + (uint64_t)off) % a == 0;
}

/* Does [off, off + len) lie in the buffer? (len < 0: no) */
static bool in_bounds(const fbuf *b, int64_t off, int64_t len) {
    return off >= 0 && len >= 0 && (uint64_t)off <= b->size &&
           (uint64_t)len <= b->size - (uint64_t)off;
}

static void expect_status(sj_status got, const sj_error *err, sj_status want, bool or_overflow,
                          const char *what) {
    FZ_CHECK(got == want || (or_overflow && got == SJ_E_OVERFLOW),
             "%s: status %s (%s), expected %s", what, sj_status_name(got),
             got == SJ_OK ? "" : err->message, sj_status_name(want));
    if (got != SJ_OK) fz_check_failure(what, NULL, got, err, RUN_FAILS);
}

static void oneshot_case(rd *r, env *e) {
    uint8_t b = rd_u8(r);
    bool heap = (b & 0x10) != 0;
    sj_segment src, dst;
    env_reset(e);
    env_segs(e, heap, &src, &dst);
    const fbuf *sb = &e->buf[0], *db = &e->buf[e->dst_buf];
    sj_error err = {SJ_OK, ""};
    sj_status st, want;
    char what[64];
    switch (b % 4) {
        case 0: { /* copy_bytes: no alignment; memmove */
            snprintf(what, sizeof what, "copy_bytes (%s)", heap ? "heap" : "native");
            int64_t n = e->count;
            st = sj_copy_bytes(&src, e->so, &dst, e->doff, n, &err);
            want = n < 0                        ? SJ_E_BOUNDS
                   : !in_bounds(sb, e->so, n)   ? SJ_E_BOUNDS
                   : e->ro                      ? SJ_E_READONLY
                   : !in_bounds(db, e->doff, n) ? SJ_E_BOUNDS
                                                : SJ_OK;
            expect_status(st, &err, want, false, what);
            check_guards(e, what);
            if (st != SJ_OK) {
                check_untouched(e, what);
                break;
            }
            expect x;
            expect_init(e, &x);
            memmove(dst_at(e, &x, e->doff), src_at(e, e->so), (size_t)n);
            outcome o = {SJ_OK, {SJ_OK, ""}, RESULT_POISON, {e->buf[0].mem, e->buf[1].mem}};
            expect_check(e, &x, &o, what);
            break;
        }
        case 1: { /* fill_bytes */
            snprintf(what, sizeof what, "fill_bytes (%s)", heap ? "heap" : "native");
            uint8_t byte = rd_u8(r);
            int64_t n = e->count;
            st = sj_fill_bytes(&dst, e->doff, n, byte, &err);
            want = n < 0                        ? SJ_E_BOUNDS
                   : e->ro                      ? SJ_E_READONLY
                   : !in_bounds(db, e->doff, n) ? SJ_E_BOUNDS
                                                : SJ_OK;
            expect_status(st, &err, want, false, what);
            check_guards(e, what);
            if (st != SJ_OK) {
                check_untouched(e, what);
                break;
            }
            expect x;
            expect_init(e, &x);
            memset(dst_at(e, &x, e->doff), byte, (size_t)n);
            outcome o = {SJ_OK, {SJ_OK, ""}, RESULT_POISON, {e->buf[0].mem, e->buf[1].mem}};
            expect_check(e, &x, &o, what);
            break;
        }
        case 2: { /* mismatch over [from, to) ranges, JDK rules */
            snprintf(what, sizeof what, "mismatch (%s)", heap ? "heap" : "native");
            int64_t a_len = (int64_t)(rd_u8(r) % 64) - 2, b_len = (int64_t)(rd_u8(r) % 64) - 2;
            int64_t a_to, b_to; /* saturated at the int64 ends */
            if (__builtin_add_overflow(e->so, a_len, &a_to))
                a_to = a_len < 0 ? INT64_MIN : INT64_MAX;
            if (__builtin_add_overflow(e->doff, b_len, &b_to))
                b_to = b_len < 0 ? INT64_MIN : INT64_MAX;
            int64_t out = -7;
            st = sj_mismatch(&src, e->so, a_to, &dst, e->doff, b_to, &out, &err);
            bool ok_a = e->so >= 0 && a_to >= e->so && in_bounds(sb, e->so, a_to - e->so);
            bool ok_b = e->doff >= 0 && b_to >= e->doff && in_bounds(db, e->doff, b_to - e->doff);
            expect_status(st, &err, ok_a && ok_b ? SJ_OK : SJ_E_BOUNDS, false, what);
            check_guards(e, what);
            check_untouched(e, what);
            if (st != SJ_OK) {
                FZ_CHECK(out == -7, "%s: failed call wrote its output", what);
                break;
            }
            int64_t la = a_to - e->so, lb = b_to - e->doff, n = la < lb ? la : lb;
            int64_t m = mismatch_of(src_at(e, e->so), db->init + db->start + e->doff, n);
            int64_t expect_out = m >= 0 ? m : (la != lb ? n : -1);
            FZ_CHECK(out == expect_out, "%s: %lld, expected %lld", what, (long long)out,
                     (long long)expect_out);
            break;
        }
        default: { /* element copy of value layouts: the full check order of 4.2 */
            snprintf(what, sizeof what, "copy (%s)", heap ? "heap" : "native");
            sj_layout *sl = gen_value(r), *dl = NULL;
            if (sl) dl = (rd_u8(r) & 1) ? mutate_layout(r, sl) : gen_value(r);
            if (!sl || !dl) {
                sj_layout_unref(sl);
                sj_layout_unref(dl);
                break;
            }
            int64_t n = e->count;
            st = sj_copy(&src, sl, e->so, &dst, dl, e->doff, n, &err);
            uint64_t ss = sj_layout_size(sl), ds = sj_layout_size(dl);
            uint64_t sa = sj_layout_align(sl), da = sj_layout_align(dl);
            int64_t bytes = 0;
            bool over = n >= 0 && __builtin_mul_overflow(n, (int64_t)ss, &bytes);
            want = n < 0                                        ? SJ_E_BOUNDS
                   : ss != ds || sa > ss || da > ds             ? SJ_E_ARG
                   : !aligned(e, 0, heap, e->so, sa)            ? SJ_E_ALIGN
                   : !aligned(e, e->dst_buf, heap, e->doff, da) ? SJ_E_ALIGN
                   : over || !in_bounds(sb, e->so, bytes)       ? SJ_E_BOUNDS
                   : e->ro                                      ? SJ_E_READONLY
                   : !in_bounds(db, e->doff, bytes)             ? SJ_E_BOUNDS
                                                                : SJ_OK;
            /* a byte count past 63 bits may be reported as the overflow it is */
            if (verbose())
                fprintf(stderr, "fuzz_diff: %s: %s %s\n", what, sj_status_name(st), err.message);
            expect_status(st, &err, want, over && want == SJ_E_BOUNDS, what);
            check_guards(e, what);
            if (st != SJ_OK) {
                check_untouched(e, what);
            } else {
                outcome o = {SJ_OK, {SJ_OK, ""}, RESULT_POISON, {e->buf[0].mem, e->buf[1].mem}};
                oracle_copy(e, sl, dl, &o, what);
            }
            sj_layout_unref(sl);
            sj_layout_unref(dl);
            break;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    rd r = {data, size};
    uint8_t op = rd_u8(&r) % (OP_COUNT + 1);
    env e;
    env_init(&e, &r);
    if (op == OP_COUNT)
        oneshot_case(&r, &e);
    else
        kernel_case(&r, &e, op);
    env_free(&e);
    return 0;
}
