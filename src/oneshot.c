/* src/oneshot.c: the one-shot calls of kernel.h (sj_copy, sj_copy_bytes, sj_fill_bytes,
 * sj_mismatch): each finds or builds a kernel it keeps, then runs it as sj_kernel_run does,
 * with every check. */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "internal.h"
#include "plan.h"

/* sj_copy's kernels, kept and found again by their two layouts (sj_layout_equal), so
 * that repeated calls build no plan and share one kernel's tier state (AUTO work, JIT
 * code). A few slots, the least recently used one replaced; a replaced kernel still
 * running a call is freed by the last call to finish with it. */

typedef struct oneshot {
    sj_layout *a, *b; /* references, the key */
    uint64_t hash;
    sj_kernel *k;
    unsigned users;        /* calls running k, and threads keeping it (under oneshot_lock) */
    atomic_bool replaced;  /* out of its slot (set under oneshot_lock): the last user frees it */
    _Atomic uint64_t used; /* oneshot_clock at the last use */
} oneshot;

static pthread_mutex_t oneshot_lock = PTHREAD_MUTEX_INITIALIZER;
static oneshot *oneshot_slots[SJ_ONESHOT_SLOTS];
static _Atomic uint64_t oneshot_clock; /* advanced under oneshot_lock */

/* Each thread keeps the entry of its last call, with a use of its own, so that repeated
 * calls with the same layouts take no lock and write nothing shared (threads calling
 * sj_copy on small counts would otherwise meet at oneshot_lock). Not from a call nested in
 * one of a call's callbacks: the outer call may be using the kept entry. */
static _Thread_local oneshot *oneshot_mine SJ_TLS_FAST;
static _Thread_local unsigned oneshot_depth SJ_TLS_FAST;
static pthread_key_t oneshot_key;
static pthread_once_t oneshot_once = PTHREAD_ONCE_INIT;
static bool oneshot_key_ok;

static void oneshot_free(oneshot *o) {
    if (!o) return;
    sj_kernel_free(o->k);
    sj_layout_unref(o->a);
    sj_layout_unref(o->b);
    free(o);
}

static uint64_t oneshot_hash(const sj_layout *a, const sj_layout *b) {
    return sj_hash_u64(sj_hash_u64(SJ_HASH_SEED, sj_layout_hash(a)), sj_layout_hash(b));
}

/* The kept entry for (a, b), one more user; NULL when there is none. */
static oneshot *oneshot_find_locked(const sj_layout *a, const sj_layout *b, uint64_t h) {
    for (int i = 0; i < SJ_ONESHOT_SLOTS; i++) {
        oneshot *o = oneshot_slots[i];
        if (o && o->hash == h && sj_layout_equal(o->a, a) && sj_layout_equal(o->b, b)) {
            o->users++;
            atomic_store_explicit(&o->used, atomic_fetch_add(&oneshot_clock, 1) + 1,
                                  memory_order_relaxed);
            return o;
        }
    }
    return NULL;
}

static oneshot *oneshot_kept(const sj_layout *a, const sj_layout *b, uint64_t h);

/* The copy kernel of (a, b): the thread's kept entry (*kept set: nothing to release), else
 * the entry from the slots or built now, with a use for the caller (oneshot_release). */
static sj_status oneshot_copy(const sj_layout *a, const sj_layout *b, oneshot **out, bool *kept,
                              sj_error *err) {
    uint64_t h = oneshot_hash(a, b);
    oneshot *o = oneshot_kept(a, b, h);
    *kept = o != NULL;
    if (o) {
        sj_tc_add(SJ_TC_ONESHOT_HITS);
        *out = o;
        return SJ_OK;
    }
    pthread_mutex_lock(&oneshot_lock);
    o = oneshot_find_locked(a, b, h);
    pthread_mutex_unlock(&oneshot_lock);
    if (o) {
        sj_tc_add(SJ_TC_ONESHOT_HITS);
        *out = o;
        return SJ_OK;
    }
    sj_kernel *k = NULL;
    sj_status st = sj_kernel_copy(a, b, &k, err);
    if (st != SJ_OK) return st;
    sj_tc_add(SJ_TC_ONESHOT_MISSES);
    oneshot *fresh = calloc(1, sizeof *fresh);
    if (!fresh) {
        sj_kernel_free(k);
        return sj_fail(err, SJ_E_NOMEM, "copy: out of memory keeping the kernel");
    }
    fresh->a = sj_layout_ref(a);
    fresh->b = sj_layout_ref(b);
    fresh->hash = h;
    fresh->k = k;
    fresh->users = 1;
    atomic_init(&fresh->replaced, false);
    atomic_init(&fresh->used, 0);
    oneshot *gone = NULL;
    pthread_mutex_lock(&oneshot_lock);
    o = oneshot_find_locked(a, b, h); /* another thread may have kept one meanwhile */
    if (!o) {
        int victim = 0;
        for (int i = 0; i < SJ_ONESHOT_SLOTS; i++) {
            if (!oneshot_slots[i]) {
                victim = i;
                break;
            }
            if (atomic_load_explicit(&oneshot_slots[i]->used, memory_order_relaxed) <
                atomic_load_explicit(&oneshot_slots[victim]->used, memory_order_relaxed))
                victim = i;
        }
        gone = oneshot_slots[victim];
        if (gone) {
            atomic_store_explicit(&gone->replaced, true, memory_order_relaxed);
            if (gone->users) gone = NULL; /* its last user frees it */
        }
        atomic_store_explicit(&fresh->used, atomic_fetch_add(&oneshot_clock, 1) + 1,
                              memory_order_relaxed);
        oneshot_slots[victim] = o = fresh;
        fresh = NULL;
    }
    pthread_mutex_unlock(&oneshot_lock);
    oneshot_free(fresh);
    oneshot_free(gone);
    *out = o;
    return SJ_OK;
}

static void oneshot_release(oneshot *o) {
    pthread_mutex_lock(&oneshot_lock);
    bool last = --o->users == 0 && o->replaced;
    pthread_mutex_unlock(&oneshot_lock);
    if (last) oneshot_free(o);
}

static void oneshot_thread_exit(void *o) {
    oneshot_mine = NULL;
    oneshot_release(o);
}

static void oneshot_key_make(void) {
    oneshot_key_ok = pthread_key_create(&oneshot_key, oneshot_thread_exit) == 0;
}

/* The thread's kept entry when it is for (a, b) and still in its slot (a use is refreshed
 * in the LRU clock only once other calls have moved it on). */
static oneshot *oneshot_kept(const sj_layout *a, const sj_layout *b, uint64_t h) {
    oneshot *m = oneshot_mine;
    if (!m || oneshot_depth > 0 || atomic_load_explicit(&m->replaced, memory_order_relaxed))
        return NULL;
    if (!((m->a == a && m->b == b) ||
          (m->hash == h && sj_layout_equal(m->a, a) && sj_layout_equal(m->b, b))))
        return NULL;
    uint64_t now = atomic_load_explicit(&oneshot_clock, memory_order_relaxed);
    if (now - atomic_load_explicit(&m->used, memory_order_relaxed) > SJ_ONESHOT_SLOTS / 2)
        atomic_store_explicit(&m->used, now, memory_order_relaxed);
    return m;
}

/* Makes o (held by the caller) the thread's kept entry, with a use of its own. */
static void oneshot_keep(oneshot *o) {
    if (oneshot_depth > 0 || oneshot_mine == o) return;
    pthread_once(&oneshot_once, oneshot_key_make);
    if (!oneshot_key_ok) return;
    oneshot *old = oneshot_mine;
    if (pthread_setspecific(oneshot_key, o) != 0) return;
    pthread_mutex_lock(&oneshot_lock);
    o->users++;
    pthread_mutex_unlock(&oneshot_lock);
    oneshot_mine = o;
    if (old) oneshot_release(old);
}

sj_status sj_copy(const sj_segment *src, const sj_layout *src_elem, int64_t src_offset,
                  const sj_segment *dst, const sj_layout *dst_elem, int64_t dst_offset,
                  int64_t count, sj_error *err) {
    if (count < 0) return sj_fail(err, SJ_E_BOUNDS, "copy: count %" PRId64 " is negative", count);
    sj_args a = {src, src_offset, dst, dst_offset, count};
    if (!src_elem || !dst_elem) { /* the kernel's message for a missing layout */
        sj_kernel *k = NULL;
        sj_status st = sj_kernel_copy(src_elem, dst_elem, &k, err);
        if (st != SJ_OK) return st;
        st = sj_kernel_run(k, &a, NULL, err);
        sj_kernel_free(k);
        return st;
    }
    oneshot *o = NULL;
    bool kept = false;
    sj_status st = oneshot_copy(src_elem, dst_elem, &o, &kept, err);
    if (st != SJ_OK) return st;
    if (!kept) oneshot_keep(o);
    oneshot_depth++; /* no call nested in this one changes the thread's kept entry */
    st = sj_kernel_run(o->k, &a, NULL, err);
    oneshot_depth--;
    if (!kept) oneshot_release(o);
    return st;
}

/* Kernels shared by every call of the byte forms, built once. */
static pthread_once_t bytes_once = PTHREAD_ONCE_INIT;
static sj_kernel *bytes_copy, *bytes_mismatch;

static void bytes_init(void) {
    sj_layout *b = NULL;
    if (sj_layout_value(SJ_I8, &b, NULL) != SJ_OK) return;
    if (sj_kernel_copy(b, b, &bytes_copy, NULL) != SJ_OK) bytes_copy = NULL;
    if (sj_kernel_mismatch(&bytes_mismatch, NULL) != SJ_OK) bytes_mismatch = NULL;
    sj_layout_unref(b);
}

sj_status sj_copy_bytes(const sj_segment *src, int64_t src_offset, const sj_segment *dst,
                        int64_t dst_offset, int64_t bytes, sj_error *err) {
    pthread_once(&bytes_once, bytes_init);
    if (!bytes_copy) return sj_fail(err, SJ_E_NOMEM, "copy: out of memory building the kernel");
    sj_args a = {src, src_offset, dst, dst_offset, bytes};
    return sj_kernel_run(bytes_copy, &a, NULL, err);
}

/* The fill kernel of each byte value, built on first use and kept (a fill plan carries its
 * value). */
static _Atomic(sj_kernel *) fill_kernels[256];

static sj_status fill_kernel(uint8_t byte, sj_kernel **out, sj_error *err) {
    sj_kernel *k = atomic_load_explicit(&fill_kernels[byte], memory_order_acquire);
    if (!k) {
        sj_layout *b = NULL;
        sj_status st = sj_layout_value(SJ_U8, &b, err);
        if (st != SJ_OK) return st;
        sj_value v;
        memset(&v, 0, sizeof v);
        v.u8 = byte;
        st = sj_kernel_fill(b, v, &k, err);
        sj_layout_unref(b);
        if (st != SJ_OK) return st;
        sj_kernel *none = NULL;
        if (!atomic_compare_exchange_strong_explicit(&fill_kernels[byte], &none, k,
                                                     memory_order_acq_rel, memory_order_acquire)) {
            sj_kernel_free(k); /* another thread built it first */
            k = none;
        }
    }
    *out = k;
    return SJ_OK;
}

sj_status sj_fill_bytes(const sj_segment *dst, int64_t offset, int64_t bytes, uint8_t byte,
                        sj_error *err) {
    if (bytes < 0) return sj_fail(err, SJ_E_BOUNDS, "fill: count %" PRId64 " is negative", bytes);
    sj_kernel *k = NULL;
    sj_status st = fill_kernel(byte, &k, err);
    if (st != SJ_OK) return st;
    sj_args a = {NULL, 0, dst, offset, bytes};
    return sj_kernel_run(k, &a, NULL, err);
}

/* [from, to) of s must be a valid range (JDK checkAccess). */
static sj_status check_range(const char *which, const sj_segment *s, int64_t from, int64_t to,
                             sj_error *err) {
    if (from >= 0 && to >= from && (uint64_t)to <= s->size) return SJ_OK;
    return sj_fail(err, SJ_E_BOUNDS,
                   "mismatch: %s range [%" PRId64 ", %" PRId64
                   ") is out of bounds for a segment of size %" PRIu64,
                   which, from, to, s->size);
}

sj_status sj_mismatch(const sj_segment *a, int64_t a_from, int64_t a_to, const sj_segment *b,
                      int64_t b_from, int64_t b_to, int64_t *out, sj_error *err) {
    if (!a || !b || !out) return sj_fail(err, SJ_E_ARG, "mismatch: NULL segment or output");
    sj_status st = check_range("first", a, a_from, a_to, err);
    if (st == SJ_OK) st = check_range("second", b, b_from, b_to, err);
    if (st != SJ_OK) return st;
    pthread_once(&bytes_once, bytes_init);
    if (!bytes_mismatch)
        return sj_fail(err, SJ_E_NOMEM, "mismatch: out of memory building the kernel");
    int64_t la = a_to - a_from, lb = b_to - b_from;
    int64_t n = la < lb ? la : lb;
    /* an empty range reads nothing: answered as the JDK does, with no lifetime check */
    if (n == 0) {
        *out = la != lb ? 0 : -1;
        return SJ_OK;
    }
    sj_args args = {a, a_from, b, b_from, n};
    sj_result r;
    st = sj_kernel_run(bytes_mismatch, &args, &r, err);
    if (st != SJ_OK) return st;
    *out = r.i64 >= 0 ? r.i64 : (la != lb ? n : -1);
    return SJ_OK;
}
