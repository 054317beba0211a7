/* tests/reference.h: what the conversion kernel tests (test_kernel_convert.c, gather.c,
 * gather_many.c) share: the value the plan defines for one element, and the guarded
 * buffers a run reads and writes. Include after cmocka.h. */
#ifndef SEGJIT_TESTS_REFERENCE_H
#define SEGJIT_TESTS_REFERENCE_H

#include <stdbool.h>

#include "oracle.h"
#include "tier.h"

/* One value from a layout of kind/order `from` at src into kind/order `to` at dst, as the
 * plan defines it: raw (maybe swapped) when the kinds agree, else a conversion. */
static inline void reference_value(const sj_layout *from, const uint8_t *src, const sj_layout *to,
                                   uint8_t *dst) {
    size_t n = (size_t)sj_layout_size(to);
    if (sj_layout_kind(from) == sj_layout_kind(to)) {
        bool swap = n > 1 && sj_layout_order(from) != sj_layout_order(to);
        for (size_t j = 0; j < n; j++)
            dst[j] = src[swap ? n - 1 - j : j];
        return;
    }
    oracle_convert(sj_layout_kind(from), src, sj_layout_order(from) == SJ_ORDER_BIG,
                   sj_layout_kind(to), dst, sj_layout_order(to) == SJ_ORDER_BIG);
}

/* The source s (ssize bytes) and destination d (dsize bytes) of a run, `mis` bytes past
 * alignment, native or heap (over a long[] and a double[]), filled with the patterns seed
 * and seed + 1. */
static inline void tbuf_pair_init(tbuf *s, size_t ssize, tbuf *d, size_t dsize, size_t mis,
                                  bool heap, unsigned seed) {
    tbuf_init(s, ssize, mis, heap ? SJ_HEAP_I64 : -1);
    tbuf_init(d, dsize, mis, heap ? SJ_HEAP_F64 : -1);
    tbuf_pattern(s, seed);
    tbuf_pattern(d, seed + 1);
}

#endif
