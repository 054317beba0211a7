/* tests/pinned.h: the storage behind the pinned heap segments of the tests
 * (sj_segment_heap_pinned): resolve, pin and unpin callbacks that count their calls, and a
 * resolve that can answer NULL. Include after cmocka.h. */
#ifndef SEGJIT_TESTS_PINNED_H
#define SEGJIT_TESTS_PINNED_H

#include <stdbool.h>
#include <stddef.h>

typedef struct runtime_array {
    void *data;
    int pins, unpins, resolves;
    bool gone; /* resolve answers NULL */
} runtime_array;

static inline void *ra_resolve(void *p) {
    runtime_array *r = p;
    r->resolves++;
    return r->gone ? NULL : r->data;
}
static inline void ra_pin(void *p) {
    ((runtime_array *)p)->pins++;
}
static inline void ra_unpin(void *p) {
    ((runtime_array *)p)->unpins++;
}

#endif
