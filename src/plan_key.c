/* src/plan_key.c: the plan's identity, canonical bytes of what determines its loop (plan.h).
 * Built into the core library and into the JIT object (whose cache key it is), which
 * links nothing of the core's. */
#include <string.h>

#include "plan.h"

typedef struct keyw {
    uint8_t *buf;
    size_t cap, len;
} keyw;

static void put(keyw *k, const void *p, size_t n) {
    if (k->len + n <= k->cap) memcpy(k->buf + k->len, p, n);
    k->len += n;
}
static void put8(keyw *k, unsigned v) {
    uint8_t b = (uint8_t)v;
    put(k, &b, 1);
}
static void put32(keyw *k, uint32_t v) {
    put(k, &v, sizeof v);
}
static void put64(keyw *k, uint64_t v) {
    put(k, &v, sizeof v);
}

/* What a loop reads of a side: its stride and the alignment of every element base. */
static void put_side(keyw *k, const sj_side *s) {
    put8(k, s->used);
    put64(k, s->used ? (uint64_t)s->stride : 0);
    put64(k, s->elem_align);
}

static void put_move(keyw *k, const sj_plan *p, const sj_move *m) {
    put8(k, m->kind);
    if (p->ndst) put8(k, m->dst_stream);
    put32(k, m->dst_off);
    if (m->kind != SJ_MOVE_ZERO) put32(k, m->src_off);
    switch (m->kind) {
        case SJ_MOVE_CONVERT:
            put8(k, m->src_kind);
            put8(k, m->dst_kind);
            put8(k, m->src_swap != 0);
            put8(k, m->dst_swap != 0);
            break;
        case SJ_MOVE_LOOP:
            put32(k, m->len);
            put32(k, m->src_stride);
            put32(k, m->dst_stride);
            put32(k, m->body);
            break;
        case SJ_MOVE_SWAP:
            put32(k, m->len);
            put8(k, m->width);
            break;
        default:
            put32(k, m->len);
            break;
    }
}

size_t sj_plan_key(const sj_plan *p, uint8_t *buf, size_t cap) {
    keyw k = {buf, cap, 0};
    put8(&k, (unsigned)p->op);
    switch (p->op) {
        case SJ_PLAN_MOVE:
            put_side(&k, &p->src);
            put_side(&k, &p->dst);
            put8(&k, p->block_copy);
            put8(&k, p->in_place);
            put8(&k, (unsigned)(p->direct + 1));
            put8(&k, p->ndst);
            for (unsigned i = 0; i < p->ndst; i++)
                put_side(&k, &p->dsts[i]);
            put64(&k, p->nmoves);
            for (size_t i = 0; i < p->nmoves; i++)
                put_move(&k, p, &p->moves[i]);
            break;
        case SJ_PLAN_REDUCE:
            put_side(&k, &p->src);
            put8(&k, p->red.op);
            put8(&k, p->red.kind);
            put8(&k, p->red.swap != 0);
            put32(&k, p->red.off);
            break;
        default: /* MISMATCH: bytes compared, nothing else */
            break;
    }
    return k.len;
}
