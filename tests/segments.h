/* tests/segments.h: what the segment tests (test_segment.c, test_jdk_segments.c) share: the
 * sanitizers' options under which an impossible allocation comes back as SJ_E_NOMEM, and a
 * call run on another thread. Include once per test program, after cmocka.h. */
#ifndef SEGJIT_TESTS_SEGMENTS_H
#define SEGJIT_TESTS_SEGMENTS_H

#include <pthread.h>

/* An impossible allocation must come back as SJ_E_NOMEM under the sanitizers too. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
    return "allocator_may_return_null=1";
}
const char *__tsan_default_options(void);
const char *__tsan_default_options(void) {
    return "allocator_may_return_null=1";
}

/* Runs fn(arg) on another thread and waits for it. */
static inline void on_other_thread(void *(*fn)(void *), void *arg) {
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, fn, arg), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
}

#endif
