/* tests/test_plan_in_place.c: sj_plan_in_place (plan.h) on random MOVE plans of 1 to 2000
 * moves inside small elements (many overlaps), against the rule restated here: every move
 * reads bytes no earlier move wrote, and reads and writes either the same bytes (a swap or
 * a conversion of equal width) or separate ones. Long plans take the library's sweep,
 * short ones its scan: both must answer as the restatement does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"

typedef struct span {
    uint64_t lo, len;
} span;

static const uint8_t widths[] = {1, 2, 4, 8};
static const sj_kind kinds_of_width[4][2] = {
    {SJ_I8, SJ_U8}, {SJ_I16, SJ_U16}, {SJ_I32, SJ_F32}, {SJ_I64, SJ_F64}};

static span reads(const sj_move *m) {
    if (m->kind == SJ_MOVE_ZERO) return (span){m->src_off, 0};
    if (m->kind == SJ_MOVE_CONVERT) return (span){m->src_off, sj_kind_size(m->src_kind)};
    return (span){m->src_off, m->len};
}

static span writes(const sj_move *m) {
    if (m->kind == SJ_MOVE_CONVERT) return (span){m->dst_off, sj_kind_size(m->dst_kind)};
    return (span){m->dst_off, m->len};
}

static bool meet(span a, span b) {
    return a.len && b.len && a.lo < b.lo + b.len && b.lo < a.lo + a.len;
}

static bool reference(const sj_move *m, size_t n) {
    for (size_t i = 0; i < n; i++) {
        span r = reads(&m[i]), w = writes(&m[i]);
        bool same = r.lo == w.lo && r.len == w.len &&
                    (m[i].kind == SJ_MOVE_SWAP || m[i].kind == SJ_MOVE_CONVERT);
        if (meet(r, w) && !same) return false;
        for (size_t j = 0; j < i; j++)
            if (meet(writes(&m[j]), r)) return false;
    }
    return true;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t next(uint32_t below) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % below);
}

/* A random move in an element of `room` bytes; in-place-friendly moves most of the time
 * (a swap or a conversion onto its own bytes, writes walking forward), so that plans
 * that are in place are common too. */
static sj_move random_move(uint32_t room, uint32_t *cursor) {
    sj_move m;
    memset(&m, 0, sizeof m);
    unsigned w = next(4);
    uint32_t width = widths[w];
    uint32_t at = *cursor + width <= room ? *cursor : next(room - 8);
    *cursor = at + width;
    switch (next(8)) {
        case 0: /* copy from anywhere */
            m.kind = SJ_MOVE_COPY;
            m.len = 1 + next(8);
            m.src_off = next(room - 8);
            m.dst_off = next(room - 8);
            break;
        case 1:
            m.kind = SJ_MOVE_ZERO;
            m.len = width;
            m.dst_off = at;
            break;
        case 2: /* a conversion between widths, anywhere */
            m.kind = SJ_MOVE_CONVERT;
            m.src_kind = (uint8_t)kinds_of_width[next(4)][next(2)];
            m.dst_kind = (uint8_t)kinds_of_width[next(4)][next(2)];
            m.src_off = next(room - 8);
            m.dst_off = at;
            break;
        case 3:
        case 4:
        case 5:
            m.kind = SJ_MOVE_SWAP;
            m.width = (uint8_t)width;
            m.len = width;
            m.src_off = m.dst_off = at;
            break;
        default:
            m.kind = SJ_MOVE_CONVERT;
            m.src_kind = (uint8_t)kinds_of_width[w][next(2)];
            m.dst_kind = (uint8_t)kinds_of_width[w][next(2)];
            m.src_off = m.dst_off = at;
            break;
    }
    return m;
}

static void test_random_plans(void **state) {
    (void)state;
    static const size_t sizes[] = {1, 2, 5, 40, 64, 65, 66, 100, 300, 2000};
    sj_move *moves = malloc(2000 * sizeof *moves);
    assert_non_null(moves);
    unsigned yes = 0, no = 0;
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        for (int trial = 0; trial < 400; trial++) {
            size_t n = sizes[si];
            uint32_t room = 16 + next((uint32_t)n * 12 + 16), cursor = 0;
            for (size_t i = 0; i < n; i++)
                moves[i] = random_move(room, &cursor);
            if (trial % 2) /* mostly own-bytes moves: in place unless a rare one breaks it */
                for (size_t i = 0; i < n; i++)
                    if (moves[i].kind == SJ_MOVE_COPY && next(8))
                        moves[i].kind = SJ_MOVE_ZERO, moves[i].src_off = 0;
            sj_plan p;
            memset(&p, 0, sizeof p);
            p.op = SJ_PLAN_MOVE;
            p.src.used = p.dst.used = true;
            p.src.stride = p.dst.stride = room;
            p.moves = moves;
            p.nmoves = n;
            bool want = reference(moves, n), got = sj_plan_in_place(&p);
            if (want != got)
                fail_msg("%zu moves in %u bytes (trial %d): in place %d, expected %d", n, room,
                         trial, got, want);
            want ? yes++ : no++;
        }
    }
    free(moves);
    /* both answers were exercised */
    assert_true(yes > 100);
    assert_true(no > 100);
}

/* Swaps walking backward: each reads the bytes just below what the one before wrote
 * (adjacent, not overlapping): in place. One more reading a byte of an earlier write: not. */
static void test_adjacent_spans(void **state) {
    (void)state;
    enum { N = 200 };
    sj_move m[N + 1];
    memset(m, 0, sizeof m);
    for (size_t i = 0; i < N; i++) {
        m[i].kind = SJ_MOVE_SWAP;
        m[i].width = 4;
        m[i].len = 4;
        m[i].src_off = m[i].dst_off = (uint32_t)(4 * (N - 1 - i));
    }
    sj_plan p;
    memset(&p, 0, sizeof p);
    p.op = SJ_PLAN_MOVE;
    p.src.used = p.dst.used = true;
    p.src.stride = p.dst.stride = 4 * N;
    p.moves = m;
    p.nmoves = N;
    assert_true(reference(m, N));
    assert_true(sj_plan_in_place(&p));
    m[N] = (sj_move){.kind = SJ_MOVE_COPY, .len = 1, .src_off = 4 * N - 1, .dst_off = 0};
    p.nmoves = N + 1;
    assert_false(reference(m, N + 1));
    assert_false(sj_plan_in_place(&p));
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_random_plans),
                                       cmocka_unit_test(test_adjacent_spans)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
