/* src/plan.c: plans built from layouts and paths for every operation (copy, convert,
 * gather, scatter, fill, reduce, mismatch), move merging and inner loops, the printer and
 * the destructor (the plan's identity is plan_key.c's). Checks of a call, tiers and execution are
 * not here. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "internal.h"
#include "interp.h"

/* ---- small helpers ---- */

/* The canonical text of a layout for a message, cut to fit buf (sj_layout_cut). */
static const char *layout_text(const sj_layout *l, char *buf, size_t cap) {
    if (!l)
        snprintf(buf, cap, "(none)");
    else if (!*sj_layout_cut(l, buf, cap))
        snprintf(buf, cap, "(%" PRIu64 "-byte layout)", l->size);
    return buf;
}

static bool value_swaps(const sj_layout *l) {
    return l->size > 1 && l->order != sj_native_order();
}

static uint64_t low_bit(uint64_t x) {
    return x & (~x + 1);
}
static uint64_t abs_u64(int64_t x) {
    return x < 0 ? 0 - (uint64_t)x : (uint64_t)x;
}

/* ---- building ---- */

static sj_status nomem(sj_error *err, const char *what) {
    return sj_fail(err, SJ_E_NOMEM, "%s: out of memory building the plan", what);
}

static sj_plan *plan_new(sj_plan_op op, const char *what) {
    sj_plan *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->op = op;
    p->what = what;
    p->src.bound = p->dst.bound = -1;
    p->src.align = p->dst.align = 1;
    return p;
}

void sj_plan_free(sj_plan *p) {
    if (!p) return;
    free(p->moves);
    sj_layout_unref(p->layouts[0]);
    sj_layout_unref(p->layouts[1]);
    free(p);
}

/* Is b the continuation of a (same treatment, both offsets contiguous)? */
static bool mergeable(const sj_move *a, const sj_move *b) {
    if (a->kind == SJ_MOVE_LOOP) return false;
    if (a->kind != b->kind || a->dst_stream != b->dst_stream) return false;
    if ((uint64_t)a->dst_off + a->len != b->dst_off) return false;
    if ((uint64_t)a->len + b->len > UINT32_MAX) return false;
    switch (a->kind) {
        case SJ_MOVE_ZERO:
            return true;
        case SJ_MOVE_COPY:
            return (uint64_t)a->src_off + a->len == b->src_off;
        case SJ_MOVE_SWAP:
            return a->width == b->width && (uint64_t)a->src_off + a->len == b->src_off;
        default:
            return false;
    }
}

/* A plan's move list while it is built: capacity, and the first index a new move may
 * merge into (moves of a finished inner loop are never merged into). */
typedef struct mlist {
    size_t cap;
    size_t floor;
} mlist;

static sj_status push_raw(sj_plan *p, mlist *ml, sj_move m, sj_error *err) {
    if (p->nmoves == ml->cap) {
        size_t ncap = ml->cap ? ml->cap * 2 : 4;
        sj_move *v = realloc(p->moves, ncap * sizeof *v);
        if (!v) return nomem(err, p->what);
        p->moves = v;
        ml->cap = ncap;
    }
    p->moves[p->nmoves++] = m;
    return SJ_OK;
}

/* Appends a move, merging it into the previous one when they continue each other. */
static sj_status push_move(sj_plan *p, mlist *ml, sj_move m, sj_error *err) {
    if (p->nmoves > ml->floor && mergeable(&p->moves[p->nmoves - 1], &m)) {
        p->moves[p->nmoves - 1].len += m.len;
        return SJ_OK;
    }
    return push_raw(p, ml, m, err);
}

/* Appends a loop header and its body as they are; nothing merges into them afterwards. */
static sj_status push_loop(sj_plan *p, mlist *ml, sj_move hdr, const sj_move *body, size_t n,
                           sj_error *err) {
    sj_status st = push_raw(p, ml, hdr, err);
    for (size_t i = 0; i < n && st == SJ_OK; i++)
        st = push_raw(p, ml, body[i], err);
    ml->floor = p->nmoves;
    return st;
}

/* The side of a dense array of `elem` (stride = size). */
static void dense_side(sj_side *s, const sj_layout *elem, bool writes) {
    s->used = true;
    s->writes = writes;
    s->stride = (int64_t)elem->size;
    s->origin = 0;
    s->extent_fixed = 0;
    s->extent_per = elem->size;
    s->bound = -1;
    s->align = elem->align;
    s->check_layout = elem;
}

/* The side of a path with one free index: the root must fit and be aligned at the call's
 * offset, and count is bounded by the index's bound. */
static void path_side(sj_side *s, const sj_path *path, bool writes) {
    const sj_layout *root = sj_path_root(path);
    s->used = true;
    s->writes = writes;
    s->stride = sj_path_stride(path, 0);
    s->origin = sj_path_base_offset(path);
    s->extent_fixed = root->size;
    s->extent_per = 0;
    s->bound = sj_path_bound(path, 0);
    s->align = root->align;
    s->check_layout = root;
    /* Open records (`[*:rec]`, the largest count, SEMANTICS 4.5): the free index runs over
     * the records, and the call's count, checked against the segment, is their number. */
    uint64_t es = root->tag == SJ_SEQUENCE ? root->elem->size : 0;
    if (es && root->count == (uint64_t)INT64_MAX / es && s->stride == (int64_t)es &&
        s->bound == (int64_t)root->count && s->origin >= 0 && (uint64_t)s->origin < es) {
        s->extent_fixed = 0;
        s->extent_per = es;
        s->bound = -1;
    }
}

/* Alignment every element base has once the call's offset passed the side's check. */
static void side_elem_align(sj_side *s) {
    uint64_t a = s->align ? s->align : 1;
    if (s->stride != 0 && low_bit(abs_u64(s->stride)) < a) a = low_bit(abs_u64(s->stride));
    if (s->origin != 0 && low_bit(abs_u64(s->origin)) < a) a = low_bit(abs_u64(s->origin));
    s->elem_align = a;
}

static bool side_dense(const sj_side *s, uint64_t len) {
    return s->used && s->stride >= 0 && (uint64_t)s->stride == len && s->extent_per == len &&
           s->origin == 0;
}

/* Merging, block copy, element alignments and the hash: the last step of every builder. */
static void finish(sj_plan *p) {
    /* Moves are pushed merged; merge once more in case a builder appended out of order
     * (plans without inner loops: a loop's body is merged when it is built). */
    bool loops = false;
    for (size_t r = 0; r < p->nmoves; r++)
        loops |= p->moves[r].kind == SJ_MOVE_LOOP;
    size_t w = loops ? p->nmoves : 0;
    for (size_t r = 0; !loops && r < p->nmoves; r++) {
        if (w && mergeable(&p->moves[w - 1], &p->moves[r]))
            p->moves[w - 1].len += p->moves[r].len;
        else
            p->moves[w++] = p->moves[r];
    }
    p->nmoves = w;
    p->block_copy = false;
    if (p->op == SJ_PLAN_MOVE && p->nmoves == 1 && p->src.used) {
        const sj_move *m = &p->moves[0];
        p->block_copy = m->kind == SJ_MOVE_COPY && m->src_off == 0 && m->dst_off == 0 &&
                        side_dense(&p->src, m->len) && side_dense(&p->dst, m->len);
    }
    side_elem_align(&p->src);
    if (p->op == SJ_PLAN_MOVE && !p->src.used)
        p->src.elem_align = 8; /* fill: the kernel passes fill_bits, a uint64_t array */
    side_elem_align(&p->dst);
    for (unsigned i = 0; i < p->ndst; i++)
        side_elem_align(&p->dsts[i]);
}

/* The end of every builder: the plan finished into *out, or freed when st is a failure. */
static sj_status plan_done(sj_plan *p, sj_status st, sj_plan **out) {
    if (st != SJ_OK) {
        sj_plan_free(p);
        return st;
    }
    finish(p);
    *out = p;
    return SJ_OK;
}

/* A layout placed at stride = size: its alignment may not exceed its size (4.2). */
static sj_status check_dense_elem(const char *what, const char *side, const sj_layout *l,
                                  sj_error *err) {
    char t[160];
    if (l->align > l->size)
        return sj_fail(err, SJ_E_ARG,
                       "%s: %s layout %s has alignment %" PRIu64 " greater than its size %" PRIu64,
                       what, side, layout_text(l, t, sizeof t), l->align, l->size);
    if (l->size > UINT32_MAX)
        return sj_fail(err, SJ_E_UNSUPPORTED,
                       "%s: %s layout of %" PRIu64 " bytes exceeds the 4 GiB element limit", what,
                       side, l->size);
    return SJ_OK;
}

static sj_status check_value_layout(const char *what, const char *side, const sj_layout *l,
                                    sj_error *err) {
    char t[160];
    if (l->tag != SJ_VALUE)
        return sj_fail(err, SJ_E_ARG, "%s: %s layout %s is a %s, not a value layout", what, side,
                       layout_text(l, t, sizeof t), sj_tag_name(l->tag));
    return SJ_OK;
}

/* A path with exactly one free index ending on a value. */
static sj_status check_path(const char *what, const sj_path *path, sj_error *err) {
    const char *text = sj_path_text(path) ? sj_path_text(path) : "";
    size_t nfree = sj_path_free_count(path);
    if (nfree != 1)
        return sj_fail(err, SJ_E_ARG,
                       "%s: path '%.80s' has %zu free indices; exactly one is needed", what, text,
                       nfree);
    const sj_layout *leaf = sj_path_leaf(path);
    if (!leaf || leaf->tag != SJ_VALUE)
        return sj_fail(err, SJ_E_PATH, "%s: path '%.80s' does not end on a value (it selects a %s)",
                       what, text, leaf ? sj_tag_name(leaf->tag) : "nothing");
    const sj_layout *root = sj_path_root(path);
    if (root->size > (uint64_t)INT64_MAX)
        return sj_fail(err, SJ_E_OVERFLOW, "%s: path '%.80s' root of %" PRIu64 " bytes", what, text,
                       root->size);
    return SJ_OK;
}

static const char *lossy_reason(sj_kind from, sj_kind to) {
    if (to == SJ_BOOL) return "to bool";
    bool ff = sj_kind_is_float(from), tf = sj_kind_is_float(to);
    if (ff && !tf) return "float to integer";
    if (!ff && tf) return "integer to float, inexact";
    if (ff && tf) return "narrowing";
    if (sj_kind_is_signed(from) != sj_kind_is_signed(to)) return "signedness";
    return "narrowing";
}

/* The move for one value: raw copy or swap when the kinds agree, else a conversion (which
 * must be lossless unless SJ_CONVERT_LOSSY). `field` names the value in messages. */
static sj_status value_move(sj_plan *p, mlist *ml, const sj_layout *s, uint64_t soff,
                            const sj_layout *d, uint64_t doff, unsigned flags, const char *field,
                            sj_error *err) {
    sj_move m;
    memset(&m, 0, sizeof m);
    m.src_off = (uint32_t)soff;
    m.dst_off = (uint32_t)doff;
    if (s->kind == d->kind) {
        m.len = (uint32_t)d->size;
        if (d->size > 1 && s->order != d->order) {
            m.kind = SJ_MOVE_SWAP;
            m.width = (uint8_t)d->size;
        } else {
            m.kind = SJ_MOVE_COPY;
        }
        return push_move(p, ml, m, err);
    }
    if (sj_convert_is_lossy(s->kind, d->kind) && !(flags & SJ_CONVERT_LOSSY))
        return sj_fail(
            err, SJ_E_ARG, "%s: %s%s%s%s to %s is a lossy conversion (%s); pass SJ_CONVERT_LOSSY",
            p->what, field[0] ? "field '" : "", field, field[0] ? "' " : "", sj_kind_name(s->kind),
            sj_kind_name(d->kind), lossy_reason(s->kind, d->kind));
    m.kind = SJ_MOVE_CONVERT;
    m.src_kind = (uint8_t)s->kind;
    m.dst_kind = (uint8_t)d->kind;
    m.src_swap = value_swaps(s);
    m.dst_swap = value_swaps(d);
    return push_move(p, ml, m, err);
}

static sj_status zero_move(sj_plan *p, mlist *ml, uint64_t doff, uint64_t len, sj_error *err) {
    if (len == 0) return SJ_OK;
    sj_move m;
    memset(&m, 0, sizeof m);
    m.kind = SJ_MOVE_ZERO;
    m.dst_off = (uint32_t)doff;
    m.len = (uint32_t)len;
    return push_move(p, ml, m, err);
}

/* ---- copy ---- */

sj_status sj_plan_copy(const sj_layout *src, const sj_layout *dst, sj_plan **out, sj_error *err) {
    if (!src || !dst || !out) return sj_fail(err, SJ_E_ARG, "copy: NULL layout or output");
    if (src->size != dst->size) {
        char a[128], b[128];
        return sj_fail(err, SJ_E_ARG,
                       "copy: source layout %s (%" PRIu64
                       " bytes) and destination layout %s (%" PRIu64 " bytes) differ in size",
                       layout_text(src, a, sizeof a), src->size, layout_text(dst, b, sizeof b),
                       dst->size);
    }
    sj_status st = check_dense_elem("copy", "source", src, err);
    if (st == SJ_OK) st = check_dense_elem("copy", "destination", dst, err);
    if (st != SJ_OK) return st;
    sj_plan *p = plan_new(SJ_PLAN_MOVE, "copy");
    if (!p) return nomem(err, "copy");
    p->layouts[0] = sj_layout_ref(src);
    p->layouts[1] = sj_layout_ref(dst);
    dense_side(&p->src, src, false);
    dense_side(&p->dst, dst, true);
    sj_move m;
    memset(&m, 0, sizeof m);
    m.len = (uint32_t)src->size;
    if (src->tag == SJ_VALUE && dst->tag == SJ_VALUE && src->size > 1 && src->order != dst->order) {
        m.kind = SJ_MOVE_SWAP;
        m.width = (uint8_t)src->size;
    } else {
        m.kind = SJ_MOVE_COPY;
    }
    mlist ml = {0, 0};
    st = push_move(p, &ml, m, err);
    return plan_done(p, st, out);
}

/* ---- convert ---- */

typedef struct conv_ctx {
    sj_plan *p;
    mlist ml;
    unsigned flags;
    const sj_layout *src_root;
    char field[256]; /* name path of the destination field being matched */
    size_t field_len;
    sj_error *err;
} conv_ctx;

/* Appends ".name", "[k]" or "#k" to the field path; returns the length to restore. */
static size_t field_push(conv_ctx *c, const char *fmt, const char *name, uint64_t k) {
    size_t saved = c->field_len;
    size_t room = sizeof c->field - c->field_len;
    int n;
    if (name)
        n = snprintf(c->field + c->field_len, room, fmt, c->field_len ? "." : "", name);
    else
        n = snprintf(c->field + c->field_len, room, fmt, k);
    if (n > 0) c->field_len += (size_t)n < room ? (size_t)n : room - 1;
    return saved;
}

static void field_pop(conv_ctx *c, size_t saved) {
    c->field_len = saved;
    c->field[saved] = '\0';
}

static sj_status shape_error(conv_ctx *c, const sj_layout *s, const sj_layout *d) {
    char a[128], b[128];
    return sj_fail(c->err, SJ_E_ARG,
                   "convert: field '%s' is a %s (%s) in the destination but a %s (%s) in the "
                   "source",
                   c->field_len ? c->field : "(root)", sj_tag_name(d->tag),
                   layout_text(d, a, sizeof a), sj_tag_name(s->tag), layout_text(s, b, sizeof b));
}

/* The source member that destination member i of d matches in s: the first of that name;
 * an unnamed member matches the unnamed source member at the same index. Padding is
 * never matched. */
static const sj_layout *find_source(const sj_layout *s, const sj_layout *d, size_t i,
                                    uint64_t *off) {
    const sj_layout *m = d->members[i];
    if (m->name) {
        size_t j = sj_layout_member_index(s, m->name);
        /* the first of the name may be padding: then a later member of the name */
        while (j < s->nmembers && s->members[j]->tag == SJ_PADDING)
            for (j++; j < s->nmembers; j++)
                if (s->members[j]->name && strcmp(s->members[j]->name, m->name) == 0) break;
        if (j >= s->nmembers) return NULL;
        *off = s->offsets[j];
        return s->members[j];
    }
    if (i < s->nmembers && !s->members[i]->name && s->members[i]->tag != SJ_PADDING) {
        *off = s->offsets[i];
        return s->members[i];
    }
    return NULL;
}

static sj_status match(conv_ctx *c, const sj_layout *s, uint64_t soff, const sj_layout *d,
                       uint64_t doff);

/* A move of the body shifted to iteration k (a nested loop's own body stays relative). */
static sj_move shifted(sj_move m, uint64_t soff, uint64_t doff) {
    m.src_off = m.kind == SJ_MOVE_ZERO ? 0 : (uint32_t)(m.src_off + soff);
    m.dst_off = (uint32_t)(m.dst_off + doff);
    return m;
}

/* A sequence matched element for element: the body is built once for element 0; it
 * becomes one wide move when the elements are back to back and copied whole, is unrolled
 * when short (SJ_PLAN_UNROLL_MAX), and is an inner loop otherwise. */
static sj_status match_sequence(conv_ctx *c, const sj_layout *s, uint64_t soff, const sj_layout *d,
                                uint64_t doff) {
    if (d->count == 0) return SJ_OK;
    sj_plan body;
    memset(&body, 0, sizeof body);
    body.what = c->p->what;
    sj_plan *outer = c->p;
    mlist outer_ml = c->ml;
    c->p = &body;
    c->ml = (mlist){0, 0};
    size_t saved = field_push(c, "[%" PRIu64 "]", NULL, 0);
    sj_status st = match(c, s->elem, 0, d->elem, 0);
    field_pop(c, saved);
    c->p = outer;
    c->ml = outer_ml;
    const uint64_t ses = s->elem->size, des = d->elem->size, n = d->count;
    const size_t nb = body.nmoves;
    const sj_move *b0 = nb ? &body.moves[0] : NULL;
    if (st != SJ_OK || nb == 0) {
        /* nothing to do */
    } else if (nb == 1 && b0->kind != SJ_MOVE_LOOP && b0->kind != SJ_MOVE_CONVERT &&
               b0->dst_off == 0 && b0->len == des &&
               (b0->kind == SJ_MOVE_ZERO || (b0->src_off == 0 && b0->len == ses))) {
        sj_move m = *b0; /* elements back to back, each copied, swapped or zeroed whole */
        m.len = (uint32_t)(des * n);
        st = push_move(c->p, &c->ml, shifted(m, soff, doff), c->err);
    } else if (n <= SJ_PLAN_UNROLL_MAX / nb) {
        for (uint64_t k = 0; k < n && st == SJ_OK; k++)
            for (size_t i = 0; i < nb && st == SJ_OK; i++) {
                sj_move m = shifted(body.moves[i], soff + k * ses, doff + k * des);
                if (m.kind != SJ_MOVE_LOOP) {
                    st = push_move(c->p, &c->ml, m, c->err);
                } else {
                    st = push_loop(c->p, &c->ml, m, &body.moves[i + 1], m.body, c->err);
                    i += m.body;
                }
            }
    } else {
        sj_move hdr;
        memset(&hdr, 0, sizeof hdr);
        hdr.kind = SJ_MOVE_LOOP;
        hdr.len = (uint32_t)n;
        hdr.src_off = (uint32_t)soff;
        hdr.dst_off = (uint32_t)doff;
        hdr.src_stride = (uint32_t)ses;
        hdr.dst_stride = (uint32_t)des;
        hdr.body = (uint32_t)nb;
        st = push_loop(c->p, &c->ml, hdr, body.moves, nb, c->err);
    }
    free(body.moves);
    return st;
}

static sj_status match(conv_ctx *c, const sj_layout *s, uint64_t soff, const sj_layout *d,
                       uint64_t doff) {
    sj_status st = SJ_OK;
    switch (d->tag) {
        case SJ_PADDING:
            return zero_move(c->p, &c->ml, doff, d->size, c->err);
        case SJ_VALUE:
            if (s->tag != SJ_VALUE) return shape_error(c, s, d);
            return value_move(c->p, &c->ml, s, soff, d, doff, c->flags, c->field, c->err);
        case SJ_STRUCT:
            if (s->tag != SJ_STRUCT) return shape_error(c, s, d);
            for (size_t i = 0; i < d->nmembers && st == SJ_OK; i++) {
                const sj_layout *m = d->members[i];
                uint64_t moff = doff + d->offsets[i];
                if (m->tag == SJ_PADDING) {
                    st = zero_move(c->p, &c->ml, moff, m->size, c->err);
                    continue;
                }
                size_t saved = m->name ? field_push(c, "%s%s", m->name, 0)
                                       : field_push(c, "#%" PRIu64, NULL, (uint64_t)i);
                uint64_t smoff = 0;
                const sj_layout *sm = find_source(s, d, i, &smoff);
                if (sm) {
                    st = match(c, sm, soff + smoff, m, moff);
                } else if (c->flags & SJ_CONVERT_ZERO_UNMATCHED) {
                    st = zero_move(c->p, &c->ml, moff, m->size, c->err);
                } else {
                    char t[160];
                    st = sj_fail(c->err, SJ_E_ARG,
                                 "convert: destination field '%s' has no source field of that "
                                 "name in %s (pass SJ_CONVERT_ZERO_UNMATCHED to zero it)",
                                 c->field, layout_text(c->src_root, t, sizeof t));
                }
                field_pop(c, saved);
            }
            return st;
        case SJ_SEQUENCE:
            if (s->tag != SJ_SEQUENCE) return shape_error(c, s, d);
            if (s->count != d->count) {
                return sj_fail(c->err, SJ_E_ARG,
                               "convert: field '%s' is a sequence of %" PRIu64
                               " elements in the destination but of %" PRIu64 " in the source",
                               c->field_len ? c->field : "(root)", d->count, s->count);
            }
            return match_sequence(c, s, soff, d, doff);
        case SJ_UNION:
            if (s->tag != SJ_UNION) return shape_error(c, s, d);
            if (sj_layout_equal(s, d)) { /* no member is known to be the live one: bytes */
                sj_move m;
                memset(&m, 0, sizeof m);
                m.kind = SJ_MOVE_COPY;
                m.src_off = (uint32_t)soff;
                m.dst_off = (uint32_t)doff;
                m.len = (uint32_t)d->size;
                return push_move(c->p, &c->ml, m, c->err);
            }
            break;
    }
    char a[128], b[128];
    return sj_fail(c->err, SJ_E_UNSUPPORTED,
                   "convert: field '%s' is a union (%s) in the destination and %s in the source: "
                   "a union converts only from an equal union, as its bytes (which member holds "
                   "the value is not known)",
                   c->field_len ? c->field : "(root)", layout_text(d, a, sizeof a),
                   layout_text(s, b, sizeof b));
}

sj_status sj_plan_convert(const sj_layout *src, const sj_layout *dst, unsigned flags, sj_plan **out,
                          sj_error *err) {
    if (!src || !dst || !out) return sj_fail(err, SJ_E_ARG, "convert: NULL layout or output");
    if (flags & ~(unsigned)(SJ_CONVERT_LOSSY | SJ_CONVERT_ZERO_UNMATCHED))
        return sj_fail(err, SJ_E_ARG, "convert: unknown flags 0x%x", flags);
    sj_status st = check_dense_elem("convert", "source", src, err);
    if (st == SJ_OK) st = check_dense_elem("convert", "destination", dst, err);
    if (st != SJ_OK) return st;
    sj_plan *p = plan_new(SJ_PLAN_MOVE, "convert");
    if (!p) return nomem(err, "convert");
    p->layouts[0] = sj_layout_ref(src);
    p->layouts[1] = sj_layout_ref(dst);
    dense_side(&p->src, src, false);
    dense_side(&p->dst, dst, true);
    conv_ctx c;
    memset(&c, 0, sizeof c);
    c.p = p;
    c.flags = flags;
    c.src_root = src;
    c.err = err;
    st = match(&c, src, 0, dst, 0);
    return plan_done(p, st, out);
}

/* ---- gather and scatter ---- */

static sj_status path_plan(const char *what, const sj_path *path, const sj_layout *elem,
                           unsigned flags, bool gather, sj_plan **out, sj_error *err) {
    if (!path || !elem || !out)
        return sj_fail(err, SJ_E_ARG, "%s: NULL path, layout or output", what);
    if (flags & ~(unsigned)SJ_CONVERT_LOSSY)
        return sj_fail(err, SJ_E_ARG, "%s: unknown flags 0x%x", what, flags);
    sj_status st = check_path(what, path, err);
    if (st == SJ_OK) st = check_value_layout(what, gather ? "destination" : "source", elem, err);
    if (st == SJ_OK) st = check_dense_elem(what, gather ? "destination" : "source", elem, err);
    if (st != SJ_OK) return st;
    const sj_layout *leaf = sj_path_leaf(path);
    sj_plan *p = plan_new(SJ_PLAN_MOVE, what);
    if (!p) return nomem(err, what);
    p->layouts[0] = sj_layout_ref(gather ? sj_path_root(path) : elem);
    p->layouts[1] = sj_layout_ref(gather ? elem : sj_path_root(path));
    mlist ml = {0, 0};
    if (gather) {
        path_side(&p->src, path, false);
        dense_side(&p->dst, elem, true);
        st = value_move(p, &ml, leaf, 0, elem, 0, flags, "", err);
    } else {
        dense_side(&p->src, elem, false);
        path_side(&p->dst, path, true);
        st = value_move(p, &ml, elem, 0, leaf, 0, flags, "", err);
    }
    return plan_done(p, st, out);
}

sj_status sj_plan_gather(const sj_path *src_path, const sj_layout *dst_elem, unsigned flags,
                         sj_plan **out, sj_error *err) {
    return path_plan("gather", src_path, dst_elem, flags, true, out, err);
}

sj_status sj_plan_scatter(const sj_layout *src_elem, const sj_path *dst_path, unsigned flags,
                          sj_plan **out, sj_error *err) {
    return path_plan("scatter", dst_path, src_elem, flags, false, out, err);
}

/* The source side is path #0's with its origin moved to the lowest base offset of all
 * paths; move i reads at (base of path i - that origin) and writes stream i. */
sj_status sj_plan_gather_many(const sj_path *const *paths, const sj_layout *const *elems, size_t k,
                              unsigned flags, sj_plan **out, sj_error *err) {
    static const char what[] = "gather_many";
    char side[48];
    if (!paths || !elems || !out)
        return sj_fail(err, SJ_E_ARG, "%s: NULL paths, layouts or output", what);
    if (k == 0 || k > SJ_MAX_STREAMS)
        return sj_fail(err, SJ_E_ARG, "%s: %zu destinations (1 to %d are allowed)", what, k,
                       SJ_MAX_STREAMS);
    if (flags & ~(unsigned)SJ_CONVERT_LOSSY)
        return sj_fail(err, SJ_E_ARG, "%s: unknown flags 0x%x", what, flags);
    int64_t lo = 0;
    for (size_t i = 0; i < k; i++) {
        if (!paths[i] || !elems[i])
            return sj_fail(err, SJ_E_ARG, "%s: path or layout #%zu is NULL", what, i);
        snprintf(side, sizeof side, "destination #%zu", i);
        sj_status st = check_path(what, paths[i], err);
        if (st == SJ_OK) st = check_value_layout(what, side, elems[i], err);
        if (st == SJ_OK) st = check_dense_elem(what, side, elems[i], err);
        if (st != SJ_OK) return st;
        const char *text = sj_path_text(paths[i]) ? sj_path_text(paths[i]) : "";
        if (i > 0 && !sj_layout_equal(sj_path_root(paths[i]), sj_path_root(paths[0]))) {
            char a[128], b[128];
            return sj_fail(err, SJ_E_ARG,
                           "%s: path #%zu '%.80s' is on layout %s, path #0 on layout %s", what, i,
                           text, layout_text(sj_path_root(paths[i]), a, sizeof a),
                           layout_text(sj_path_root(paths[0]), b, sizeof b));
        }
        if (i > 0 && (sj_path_bound(paths[i], 0) != sj_path_bound(paths[0], 0) ||
                      sj_path_stride(paths[i], 0) != sj_path_stride(paths[0], 0)))
            return sj_fail(err, SJ_E_ARG,
                           "%s: path #%zu '%.80s' has bound %" PRId64 " and stride %" PRId64
                           ", path #0 bound %" PRId64 " and stride %" PRId64,
                           what, i, text, sj_path_bound(paths[i], 0), sj_path_stride(paths[i], 0),
                           sj_path_bound(paths[0], 0), sj_path_stride(paths[0], 0));
        int64_t base = sj_path_base_offset(paths[i]);
        if (i == 0 || base < lo) lo = base;
    }
    for (size_t i = 0; i < k; i++)
        if ((uint64_t)(sj_path_base_offset(paths[i]) - lo) > UINT32_MAX)
            return sj_fail(err, SJ_E_UNSUPPORTED,
                           "%s: values of path #%zu lie more than 4 GiB apart from path #0's", what,
                           i);
    sj_plan *p = plan_new(SJ_PLAN_MOVE, what);
    if (!p) return nomem(err, what);
    p->layouts[0] = sj_layout_ref(sj_path_root(paths[0]));
    path_side(&p->src, paths[0], false);
    p->src.origin = lo;
    p->dst.used = false;
    p->dst.stride = 0;
    p->ndst = (uint8_t)k;
    mlist ml = {0, 0};
    sj_status st = SJ_OK;
    for (size_t i = 0; i < k && st == SJ_OK; i++) {
        dense_side(&p->dsts[i], elems[i], true);
        size_t before = p->nmoves;
        uint64_t soff = (uint64_t)(sj_path_base_offset(paths[i]) - lo);
        const char *text = sj_path_text(paths[i]) ? sj_path_text(paths[i]) : "";
        st = value_move(p, &ml, sj_path_leaf(paths[i]), soff, elems[i], 0, flags, text, err);
        if (st == SJ_OK && p->nmoves > before) p->moves[p->nmoves - 1].dst_stream = (uint8_t)i;
    }
    return plan_done(p, st, out);
}

/* ---- fill ---- */

/* The bits of v as a value of kind k, in native order (bool normalized to 0 or 1). */
static uint64_t value_bits(sj_kind k, sj_value v) {
    switch (k) {
        case SJ_BOOL:
            return v.z ? 1 : 0;
        case SJ_I8:
        case SJ_U8:
            return v.u8;
        case SJ_CHAR:
        case SJ_I16:
        case SJ_U16:
            return v.u16;
        case SJ_I32:
        case SJ_U32:
        case SJ_F32:
            return v.u32;
        default:
            return v.u64;
    }
}

sj_status sj_plan_fill(const sj_layout *elem, sj_value v, sj_plan **out, sj_error *err) {
    if (!elem || !out) return sj_fail(err, SJ_E_ARG, "fill: NULL layout or output");
    sj_status st = check_value_layout("fill", "element", elem, err);
    if (st == SJ_OK) st = check_dense_elem("fill", "element", elem, err);
    if (st != SJ_OK) return st;
    sj_plan *p = plan_new(SJ_PLAN_MOVE, "fill");
    if (!p) return nomem(err, "fill");
    p->layouts[1] = sj_layout_ref(elem);
    dense_side(&p->dst, elem, true);
    p->src.stride = 0;
    unsigned size = (unsigned)elem->size;
    uint8_t bytes[16] = {0};
    sj_store_bits(bytes, size, value_swaps(elem), value_bits(elem->kind, v));
    memcpy(p->fill_bits, bytes, sizeof p->fill_bits);
    sj_move m;
    memset(&m, 0, sizeof m);
    m.kind = SJ_MOVE_COPY;
    m.len = size;
    mlist ml = {0, 0};
    st = push_move(p, &ml, m, err);
    return plan_done(p, st, out);
}

/* ---- reduce and mismatch ---- */

sj_status sj_plan_reduce(const sj_path *path, sj_reduce_op op, sj_plan **out, sj_error *err) {
    if (!path || !out) return sj_fail(err, SJ_E_ARG, "reduce: NULL path or output");
    if (op != SJ_REDUCE_SUM && op != SJ_REDUCE_MIN && op != SJ_REDUCE_MAX)
        return sj_fail(err, SJ_E_ARG, "reduce: unknown operation %d", (int)op);
    sj_status st = check_path("reduce", path, err);
    if (st != SJ_OK) return st;
    const sj_layout *leaf = sj_path_leaf(path);
    sj_plan *p = plan_new(SJ_PLAN_REDUCE, "reduce");
    if (!p) return nomem(err, "reduce");
    p->layouts[0] = sj_layout_ref(sj_path_root(path));
    path_side(&p->src, path, false);
    p->red.op = (uint8_t)op;
    p->red.kind = (uint8_t)leaf->kind;
    p->red.swap = value_swaps(leaf);
    p->red.off = 0;
    return plan_done(p, SJ_OK, out);
}

sj_status sj_plan_mismatch(sj_plan **out, sj_error *err) {
    if (!out) return sj_fail(err, SJ_E_ARG, "mismatch: NULL output");
    sj_plan *p = plan_new(SJ_PLAN_MISMATCH, "mismatch");
    if (!p) return nomem(err, "mismatch");
    sj_side *sides[2] = {&p->src, &p->dst};
    for (int i = 0; i < 2; i++) {
        sides[i]->used = true;
        sides[i]->stride = 1;
        sides[i]->extent_per = 1;
    }
    return plan_done(p, SJ_OK, out);
}

/* ---- running in place ---- */

typedef sj_span span;

static bool spans_meet(span a, span b) {
    return a.len && b.len && a.lo < b.lo + b.len && b.lo < a.lo + a.len;
}

sj_span sj_move_read_span(const sj_move *m) {
    span r = {m->src_off, m->kind == SJ_MOVE_ZERO      ? 0
                          : m->kind == SJ_MOVE_CONVERT ? sj_kind_size((sj_kind)m->src_kind)
                                                       : m->len};
    return r;
}

sj_span sj_move_write_span(const sj_move *m) {
    span w = {m->dst_off, m->kind == SJ_MOVE_CONVERT ? sj_kind_size((sj_kind)m->dst_kind) : m->len};
    return w;
}

/* Whether any of moves[0..i) writes bytes that moves[i] reads, for every i: a scan of the
 * earlier moves for short plans; for long ones a sweep in move order that keeps, over the
 * write spans sorted by start, the largest end written so far (a Fenwick tree of maxima),
 * so that each read asks "does a span starting before my end reach past my start" in
 * O(log n). Out of memory: true (not in place, which is always correct). */
#define IN_PLACE_SCAN_MAX 64

typedef struct write_start {
    uint64_t lo;
    size_t move;
} write_start;

static int by_write_start(const void *a, const void *b) {
    const write_start *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static bool reads_earlier_writes(const sj_move *moves, size_t n) {
    if (n <= IN_PLACE_SCAN_MAX) {
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < i; j++)
                if (spans_meet(sj_move_write_span(&moves[j]), sj_move_read_span(&moves[i])))
                    return true;
        return false;
    }
    write_start *order = malloc(n * sizeof *order);
    size_t *rank = malloc(n * sizeof *rank);
    uint64_t *start = malloc(n * sizeof *start), *tree = calloc(n + 1, sizeof *tree);
    bool meet = true;
    if (!order || !rank || !start || !tree) goto done;
    for (size_t i = 0; i < n; i++)
        order[i] = (write_start){sj_move_write_span(&moves[i]).lo, i};
    qsort(order, n, sizeof *order, by_write_start);
    for (size_t k = 0; k < n; k++) {
        rank[order[k].move] = k;
        start[k] = order[k].lo;
    }
    meet = false;
    for (size_t i = 0; i < n && !meet; i++) {
        span r = sj_move_read_span(&moves[i]), w = sj_move_write_span(&moves[i]);
        if (r.len) {
            size_t lo = 0, hi = n; /* writes starting before r's end: start[0..lo) */
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (start[mid] < r.lo + r.len)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            uint64_t reach = 0;
            for (size_t k = lo; k > 0; k &= k - 1)
                if (tree[k] > reach) reach = tree[k];
            meet = reach > r.lo;
        }
        if (w.len)
            for (size_t k = rank[i] + 1; k <= n; k += k & (~k + 1))
                if (tree[k] < w.lo + w.len) tree[k] = w.lo + w.len;
    }
done:
    free(order);
    free(rank);
    free(start);
    free(tree);
    return meet;
}

bool sj_plan_in_place(const sj_plan *p) {
    if (p->op != SJ_PLAN_MOVE || p->ndst || !p->src.used || p->src.stride != p->dst.stride)
        return false;
    for (size_t i = 0; i < p->nmoves; i++) {
        const sj_move *m = &p->moves[i];
        if (m->kind == SJ_MOVE_LOOP) return false;
        span r = sj_move_read_span(m), w = sj_move_write_span(m);
        bool same = r.lo == w.lo && r.len == w.len &&
                    (m->kind == SJ_MOVE_SWAP || m->kind == SJ_MOVE_CONVERT);
        if (spans_meet(r, w) && !same) return false;
    }
    return !reads_earlier_writes(p->moves, p->nmoves);
}

sj_plan *sj_plan_variant(const sj_plan *p, sj_plan_variant_kind kind) {
    sj_plan *v = malloc(sizeof *v);
    sj_move *moves = malloc((p->nmoves ? p->nmoves : 1) * sizeof *moves);
    if (!v || !moves) {
        free(v);
        free(moves);
        return NULL;
    }
    *v = *p;
    if (p->nmoves) memcpy(moves, p->moves, p->nmoves * sizeof *moves);
    v->moves = moves;
    v->in_place = kind == SJ_VARIANT_IN_PLACE;
    v->direct = kind == SJ_VARIANT_FORWARD ? 1 : kind == SJ_VARIANT_BACKWARD ? -1 : 0;
    if (kind == SJ_VARIANT_BACKWARD) {
        v->src.stride = -v->src.stride;
        v->dst.stride = -v->dst.stride;
    }
    for (int i = 0; i < 2; i++)
        if (v->layouts[i]) sj_layout_ref(v->layouts[i]);
    return v;
}

/* Adds to [*lo, *hi) the bytes moves[0..n) read (or write, dst) relative to base. */
static void footprint_add(const sj_move *moves, size_t n, bool dst, int stream, uint64_t base,
                          uint64_t *lo, uint64_t *hi) {
    for (size_t i = 0; i < n; i++) {
        const sj_move *m = &moves[i];
        uint64_t at = base + (dst ? m->dst_off : m->src_off);
        if (m->kind == SJ_MOVE_LOOP) {
            uint64_t blo = UINT64_MAX, bhi = 0;
            footprint_add(m + 1, m->body, dst, stream, 0, &blo, &bhi);
            if (m->len && blo < bhi) {
                uint64_t last = (uint64_t)(m->len - 1) * (dst ? m->dst_stride : m->src_stride);
                if (at + blo < *lo) *lo = at + blo;
                if (at + last + bhi > *hi) *hi = at + last + bhi;
            }
            i += m->body;
            continue;
        }
        if (dst && stream >= 0 && m->dst_stream != stream) continue;
        span sp = dst ? sj_move_write_span(m) : sj_move_read_span(m);
        if (!sp.len) continue;
        if (at < *lo) *lo = at;
        if (at + sp.len > *hi) *hi = at + sp.len;
    }
}

bool sj_plan_footprint(const sj_plan *p, bool dst, size_t stream, uint64_t *lo, uint64_t *hi) {
    *lo = UINT64_MAX, *hi = 0;
    if (p->op != SJ_PLAN_MOVE || (dst && p->ndst && stream >= p->ndst)) return false;
    footprint_add(p->moves, p->nmoves, dst, dst && p->ndst ? (int)stream : -1, 0, lo, hi);
    return *lo < *hi;
}

/* ---- printing ---- */

/* A kind's canonical spelling in the byte order a swap flag implies: the carrier letter
 * (after an unsigned kind's 'u') is upper case for big-endian. */
static void put_kind(sj_buf *b, sj_kind k, bool swapped) {
    char name[8];
    snprintf(name, sizeof name, "%s", sj_kind_name(k));
    bool big = (sj_native_order() == SJ_ORDER_BIG) != swapped;
    size_t letter = name[0] == 'u' ? 1 : 0;
    if (big && name[letter] >= 'a' && name[letter] <= 'z')
        name[letter] = (char)(name[letter] - 'a' + 'A');
    sj_buf_puts(b, name);
}

static void put_side(sj_buf *b, const char *name, const sj_side *s) {
    if (!s->used) {
        sj_buf_printf(b, "  %s: unused (stride %" PRId64 ")\n", name, s->stride);
        return;
    }
    sj_buf_printf(b,
                  "  %s: stride %" PRId64 ", origin %" PRId64 ", extent %" PRIu64 " + %" PRIu64
                  "/element, bound ",
                  name, s->stride, s->origin, s->extent_fixed, s->extent_per);
    if (s->bound < 0)
        sj_buf_puts(b, "none");
    else
        sj_buf_printf(b, "%" PRId64, s->bound);
    sj_buf_printf(b, ", align %" PRIu64 ", elements aligned %" PRIu64 "%s", s->align, s->elem_align,
                  s->writes ? ", writes" : "");
    if (s->check_layout) {
        char *t = NULL;
        if (sj_layout_print(s->check_layout, &t, NULL) == SJ_OK) {
            sj_buf_printf(b, ", layout %s", t);
            free(t);
        }
    }
    sj_buf_putc(b, '\n');
}

static void put_move(sj_buf *b, const sj_move *m, unsigned depth) {
    for (unsigned i = 0; i < depth; i++)
        sj_buf_puts(b, "  ");
    switch (m->kind) {
        case SJ_MOVE_LOOP:
            sj_buf_printf(b,
                          "  loop %" PRIu32 " times @%" PRIu32 " -> @%" PRIu32 ", steps %" PRIu32
                          " -> %" PRIu32 ", %" PRIu32 " move%s:\n",
                          m->len, m->src_off, m->dst_off, m->src_stride, m->dst_stride, m->body,
                          m->body == 1 ? "" : "s");
            break;
        case SJ_MOVE_COPY:
            sj_buf_printf(b, "  copy %" PRIu32 " bytes @%" PRIu32 " -> @%" PRIu32 "\n", m->len,
                          m->src_off, m->dst_off);
            break;
        case SJ_MOVE_SWAP:
            sj_buf_printf(
                b, "  swap %" PRIu32 " bytes in %u-byte units @%" PRIu32 " -> @%" PRIu32 "\n",
                m->len, m->width, m->src_off, m->dst_off);
            break;
        case SJ_MOVE_CONVERT:
            sj_buf_puts(b, "  convert ");
            put_kind(b, (sj_kind)m->src_kind, m->src_swap);
            sj_buf_printf(b, "@%" PRIu32 " -> ", m->src_off);
            put_kind(b, (sj_kind)m->dst_kind, m->dst_swap);
            sj_buf_printf(b, "@%" PRIu32, m->dst_off);
            if (m->src_swap && m->dst_swap)
                sj_buf_puts(b, " (swap src, dst)");
            else if (m->src_swap)
                sj_buf_puts(b, " (swap src)");
            else if (m->dst_swap)
                sj_buf_puts(b, " (swap dst)");
            sj_buf_putc(b, '\n');
            break;
        case SJ_MOVE_ZERO:
            sj_buf_printf(b, "  zero %" PRIu32 " bytes @%" PRIu32 "\n", m->len, m->dst_off);
            break;
        default:
            sj_buf_printf(b, "  move of unknown kind %u\n", m->kind);
            break;
    }
}

static const char *reduce_name(unsigned op) {
    switch (op) {
        case SJ_REDUCE_SUM:
            return "sum";
        case SJ_REDUCE_MIN:
            return "min";
        case SJ_REDUCE_MAX:
            return "max";
    }
    return "?";
}

sj_status sj_plan_print(const sj_plan *p, char **out, sj_error *err) {
    if (!p || !out) return sj_fail(err, SJ_E_ARG, "plan print: NULL plan or output");
    sj_buf b = {0};
    sj_buf_printf(&b, "%s: ", p->what ? p->what : "plan");
    switch (p->op) {
        case SJ_PLAN_MOVE:
            sj_buf_printf(&b, "%zu move%s%s%s%s\n", p->nmoves, p->nmoves == 1 ? "" : "s",
                          p->block_copy ? " (block copy)" : "", p->in_place ? " (in place)" : "",
                          p->direct > 0   ? " (may overlap, forward)"
                          : p->direct < 0 ? " (may overlap, backward)"
                                          : "");
            break;
        case SJ_PLAN_REDUCE:
            sj_buf_puts(&b, "reduction\n");
            break;
        case SJ_PLAN_MISMATCH:
            sj_buf_puts(&b, "byte comparison\n");
            break;
    }
    put_side(&b, "src", &p->src);
    if (p->ndst == 0) put_side(&b, "dst", &p->dst);
    for (unsigned i = 0; i < p->ndst; i++) {
        char name[16];
        snprintf(name, sizeof name, "dst #%u", i);
        put_side(&b, name, &p->dsts[i]);
    }
    if (p->op == SJ_PLAN_MOVE && !p->src.used) {
        const uint8_t *fb = (const uint8_t *)p->fill_bits;
        sj_buf_puts(&b, "  source: fill bytes");
        for (size_t i = 0; i < p->dst.extent_per && i < sizeof p->fill_bits; i++)
            sj_buf_printf(&b, " %02x", fb[i]);
        sj_buf_putc(&b, '\n');
    }
    /* ends[d]: the index where the loop opened at depth d + 1 ends */
    size_t ends[64];
    unsigned depth = 0;
    for (size_t i = 0; i < p->nmoves; i++) {
        while (depth && i >= ends[depth - 1])
            depth--;
        put_move(&b, &p->moves[i], depth);
        if (p->moves[i].kind == SJ_MOVE_LOOP && depth < 64)
            ends[depth++] = i + 1 + p->moves[i].body;
        if (p->ndst) { /* "  copy 4 bytes @0 -> @0\n" becomes "... -> @0 (dst #1)\n" */
            if (b.len && b.data[b.len - 1] == '\n') b.len--;
            sj_buf_printf(&b, " (dst #%u)\n", p->moves[i].dst_stream);
        }
    }
    if (p->op == SJ_PLAN_REDUCE) {
        sj_buf_printf(&b, "  reduce %s ", reduce_name(p->red.op));
        put_kind(&b, (sj_kind)p->red.kind, p->red.swap);
        sj_buf_printf(&b, "@%" PRIu32 "%s, %d lanes for floating point\n", p->red.off,
                      p->red.swap ? " (swap)" : "", SJ_REDUCE_LANES);
    }
    if (b.len && b.data[b.len - 1] == '\n') b.data[--b.len] = '\0';
    return sj_buf_finish(&b, out, err);
}
