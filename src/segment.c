/* src/segment.c: arenas and their pooled scopes (lifetime, thread confinement, in-flight
 * accounting), allocation and file mapping, native and heap segment constructors, slices
 * and segment queries. Checked reads and writes belong in src/access.c. */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* syscall() for membarrier and gettid */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"
#include "scope.h"
#if SJ__RSEQ
#include <sys/rseq.h> /* after fast.h (through scope.h) says whether accesses restart */
#endif

/* ---- Scopes ----
 * A scope's state word packs the generation, the kind and the state (scope.h). A handle
 * {scope, key} is live exactly when the word equals its key (the word it was opened
 * with). Closing moves OPEN -> CLOSING (one CAS, so only one closer wins), waits for
 * leases (shared arenas) and pins, frees, then stores (gen + 1) << 3 | SCOPE_FREE and
 * returns the scope to the pool. */

/* One piece of memory owned by an arena: malloc'd (map_len 0) or mmap'd. */
typedef struct sj_alloc {
    struct sj_alloc *next;
    void *ptr;
    size_t map_len;
} sj_alloc;

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sj_scope *pool_free; /* closed scopes ready for reuse; never freed */

/* Memory of the global arena: never freed, kept reachable here. */
static _Atomic(sj_alloc *) global_allocs;

static atomic_uint_fast64_t next_thread_id = 1;
_Thread_local sj_thread_state sj_self SJ_TLS_FAST = {.mine = SJ__NO_KEY};
/* Generations are unique over all arenas, so a key names one opening of one arena (the
 * global arena's key, 0, is none of them). */
static atomic_uint_fast64_t next_gen = 1;

/* The calling thread's OS id (what ps -L and gdb show), for messages. */
static int64_t os_tid(void) {
    return (int64_t)syscall(SYS_gettid);
}

uint64_t sj_thread_id(void) {
    if (sj_self.id == 0) sj_self.id = (uint64_t)atomic_fetch_add(&next_thread_id, 1);
    return sj_self.id;
}

static void push_alloc(_Atomic(sj_alloc *) *head, sj_alloc *a) {
    sj_alloc *old = atomic_load(head);
    do {
        a->next = old;
    } while (!atomic_compare_exchange_weak(head, &old, a));
}

static void free_allocs(sj_alloc *a) {
    while (a) {
        sj_alloc *next = a->next;
        if (a->map_len)
            munmap(a->ptr, a->map_len);
        else
            free(a->ptr);
        free(a);
        a = next;
    }
}

/* The generation of a handle: its key is the scope's word while the arena is open. */
static uint64_t arena_gen(sj_arena a) {
    return a.key >> 3;
}

/* A handle is live exactly when its scope's word is its key. */
static bool arena_live(sj_arena a, uint64_t word) {
    return word == a.key;
}

/* Live, and usable from this thread: shared, or confined to it. */
static bool arena_usable(sj_arena a, uint64_t word) {
    return arena_live(a, word) &&
           (!(word & SCOPE_CONFINED) || atomic_load(&a.scope->owner) == sj_thread_id());
}

/* Lifetime failure of a handle, decided again from the scope's current state: CLOSED
 * when the handle is not live (whatever the owner), THREAD when it is live and confined to
 * another thread; SJ_OK when it is live and usable from this thread. `what` names the
 * caller's object in the message. */
static sj_status lifetime_status(sj_arena a, const char *what, sj_error *err) {
    struct sj_scope *sc = a.scope;
    uint64_t w = atomic_load(&sc->word);
    if (!arena_live(a, w)) return sj_fail(err, SJ_E_CLOSED, "%s: its arena is closed", what);
    uint64_t owner = atomic_load(&sc->owner);
    uint64_t self = sj_thread_id();
    if (!(w & SCOPE_CONFINED) || owner == self) return SJ_OK;
    int64_t tid = atomic_load(&sc->owner_tid);
    /* the same word again: owner and tid were the handle's (no close and reopen between) */
    if (atomic_load(&sc->word) != w)
        return sj_fail(err, SJ_E_CLOSED, "%s: its arena is closed", what);
    return sj_fail(err, SJ_E_THREAD,
                   "%s: its arena is confined to thread %" PRId64 ", used from thread %" PRId64
                   " (OS thread ids)",
                   what, tid, os_tid());
}

/* Pin of an arena handle for a call that is about to use its memory; see scope.h. */
static sj_status arena_acquire(sj_arena a, const char *what, sj_error *err) {
    struct sj_scope *sc = a.scope;
    if (!sc) return SJ_OK;
    atomic_fetch_add(&sc->inflight, 1);
    uint64_t w = atomic_load(&sc->word);
    if (SJ_LIKELY(arena_usable(a, w))) return SJ_OK;
    atomic_fetch_sub(&sc->inflight, 1);
    sj_status st = lifetime_status(a, what, err);
    /* Live and ours after all: the word changed between the two reads only if the arena
     * was closed, so this cannot happen; answer CLOSED rather than hold nothing. */
    if (st == SJ_OK) st = sj_fail(err, SJ_E_CLOSED, "%s: its arena is closed", what);
    return st;
}

static void arena_release(sj_arena a) {
    if (a.scope) atomic_fetch_sub(&a.scope->inflight, 1);
}

sj_status sj_scope_acquire(const sj_segment *s, sj_error *err) {
    return arena_acquire(s->arena, "segment", err);
}

void sj_scope_release(const sj_segment *s) {
    arena_release(s->arena);
}

/* Views against close: a view counts itself in `views`, then checks the word; close sets
 * SCOPE_VIEWS_CLOSING and fails BUSY if it saw a view, else proceeds to CLOSING. A view
 * that meets the bit backs off and waits for the close to decide (a few instructions). */
sj_status sj_scope_view_enter(sj_arena a, sj_error *err) {
    struct sj_scope *sc = a.scope;
    if (!sc) return SJ_OK;
    for (;;) {
        uint64_t old = atomic_fetch_add(&sc->views, 1);
        if (!(old & SCOPE_VIEWS_CLOSING)) {
            uint64_t w = atomic_load(&sc->word);
            if (arena_usable(a, w)) return SJ_OK;
            atomic_fetch_sub(&sc->views, 1);
            sj_status st = lifetime_status(a, "view", err);
            return st != SJ_OK ? st : sj_fail(err, SJ_E_CLOSED, "view: its arena is closed");
        }
        atomic_fetch_sub(&sc->views, 1);
        while ((atomic_load(&sc->views) & SCOPE_VIEWS_CLOSING) &&
               arena_live(a, atomic_load(&sc->word)))
            sched_yield();
        if (!arena_live(a, atomic_load(&sc->word)))
            return sj_fail(err, SJ_E_CLOSED, "view: its arena is closed");
    }
}

void sj_scope_view_exit(sj_arena a) {
    if (a.scope) atomic_fetch_sub(&a.scope->views, 1);
}

sj_status sj_scope_view_owner(sj_arena a, sj_error *err) {
    return a.scope ? lifetime_status(a, "view close", err) : SJ_OK;
}

/* ---- Leases: reader slots and the asymmetric fence (scope.h, CONCURRENCY.md 7) ---- */

/* True when closers run membarrier: readers then need only a compiler barrier, and the
 * inline lease may use the thread's slot (sj_self.rec); else the slot is fenced_rec. */
static atomic_bool asym_fence;
_Thread_local sj_reader *sj_fenced_rec SJ_TLS_FAST;
#define fenced_rec sj_fenced_rec
static _Atomic(sj_reader *) readers; /* registry: every slot ever made, never freed */
static atomic_uint readers_made;

/* hold_depth: entries of the thread's hold stack in use, the top last. */
static _Thread_local unsigned hold_depth SJ_TLS_FAST;
static _Thread_local sj_hold *pinned_holds SJ_TLS_FAST; /* holds that fell back to pins */

static void clear_holds(sj_reader *r) {
    for (int i = 0; i < SJ_HOLD_MAX; i++)
        atomic_store_explicit(&sj_ext_of(r)->held[i], NULL, memory_order_release);
}
static pthread_key_t reader_key;
static pthread_once_t reader_once = PTHREAD_ONCE_INIT;
static void reader_key_make(void);
static pthread_once_t membarrier_once = PTHREAD_ONCE_INIT;
/* Restartable accesses (fast.h SJ__CS_LOAD): membarrier can restart them, so a thread whose
 * rseq area the C library registered may keep a shared key in `mine`. mine_lock orders the
 * slots' mine_at against threads exiting while a closer resets keys. */
static atomic_bool rseq_ok;
static _Thread_local bool reader_exited SJ_TLS_FAST; /* the slot's exit destructor has run */
static pthread_mutex_t mine_lock = PTHREAD_MUTEX_INITIALIZER;

/* Asks the kernel for membarrier(PRIVATE_EXPEDITED), once, before the first lease or
 * shared arena. Without it readers fall back to a full fence per access. */
static void membarrier_setup(void) {
#ifdef SYS_membarrier
    const char *off = sj_secure_getenv("SEGJIT_TEST_NO_MEMBARRIER"); /* tests: the fenced path */
    if (off && strcmp(off, "1") == 0) return;
    long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
    if (cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
        syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0)
        atomic_store(&asym_fence, true);
#if SJ__RSEQ
    const char *no_rseq = sj_secure_getenv("SEGJIT_TEST_NO_RSEQ"); /* tests: announce always */
    if (atomic_load(&asym_fence) && __rseq_size > 0 && !(no_rseq && strcmp(no_rseq, "1") == 0) &&
        (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ) &&
        syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ, 0, 0) == 0)
        atomic_store(&rseq_ok, true);
#endif
#endif
}

/* Registering costs a grace period (about 20 ms each here) once the process has a second
 * thread, and almost nothing before: so register when the library is loaded, which is
 * before main for a program linked with it (docs/CONCURRENCY.md 7.9). */
__attribute__((constructor)) static void membarrier_at_load(void) {
    pthread_once(&membarrier_once, membarrier_setup);
}

/* A full barrier on every running thread of the process (registered, so it does not fail;
 * if it ever did, the global command, slower and unregistered, gives the same guarantee). */
static void membarrier_all(void) {
#ifdef SYS_membarrier
    while (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0 &&
           syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) != 0)
        sched_yield();
#endif
}

/* Whether the C library registered this thread's rseq area (it may fail per thread). */
static bool thread_rseq_registered(void) {
#if SJ__RSEQ
    const struct rseq *rs =
        (const struct rseq *)(const void *)((char *)__builtin_thread_pointer() + __rseq_offset);
    return atomic_load(&rseq_ok) && (int32_t)__atomic_load_n(&rs->cpu_id, __ATOMIC_RELAXED) >= 0;
#else
    return false;
#endif
}

/* The slot's thread may keep shared keys in `mine` (or no longer, at exit). */
static void slot_mine(sj_reader *r, uint64_t *mine_at) {
    pthread_mutex_lock(&mine_lock);
    sj_ext_of(r)->mine_at = mine_at;
    r->rseq = mine_at != NULL;
    pthread_mutex_unlock(&mine_lock);
}

/* A shared arena's close, once it has marked the scope's views closing and before it marks
 * the arena CLOSING: no thread keeps the key afterwards (a lease that keeps it then looks
 * at the mark; membarrier orders the two sides), so reset it wherever a thread keeps it,
 * then restart any restartable access in flight: once the arena is CLOSING, every access
 * compares, misses and reads the word. */
static void forget_shared_key(uint64_t key) {
    if (!atomic_load(&rseq_ok)) return; /* no thread keeps a shared key */
    bool kept = false;
    membarrier_all();                            /* rseq_ok implies asym_fence */
    pthread_once(&reader_once, reader_key_make); /* mine_lock's fork handlers */
    pthread_mutex_lock(&mine_lock);
    for (sj_reader *r = atomic_load(&readers); r; r = r->next) {
        uint64_t *m = sj_ext_of(r)->mine_at, k = key;
        if (m && __atomic_compare_exchange_n(m, &k, SJ__NO_KEY, false, __ATOMIC_SEQ_CST,
                                             __ATOMIC_RELAXED))
            kept = true;
    }
    pthread_mutex_unlock(&mine_lock);
#if SJ__RSEQ
    /* Registered, so it does not fail; were it to, no thread may keep the key going on. */
    if (kept)
        while (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ, 0, 0) != 0)
            sched_yield();
#else
    (void)kept;
#endif
}

static void reader_thread_exit(void *p) {
    sj_reader *r = p;
    reader_exited = true; /* a destructor after this one may never run: keep no key again */
    /* a later destructor of this thread that accesses an arena registers afresh instead
     * of announcing in a slot another thread may have taken */
    if (r->rseq) slot_mine(r, NULL);
    sj_set_mine(SJ__NO_KEY);
    sj_self.rec = NULL;
    fenced_rec = NULL;
    hold_depth = 0;
    atomic_store(&r->scope, NULL);
    clear_holds(r);
    atomic_store_explicit(&r->in_use, false, memory_order_release);
}

/* In a child of fork only the forking thread exists: the other threads' slots are free,
 * and one caught mid-access must not make a close in the child wait forever. */
static void readers_after_fork(void) {
    for (sj_reader *r = atomic_load(&readers); r; r = r->next) {
        if (r == sj_self.rec || r == fenced_rec) continue;
        sj_ext_of(r)->mine_at = NULL; /* its thread (and TLS) is gone */
        r->rseq = false;
        atomic_store(&r->scope, NULL);
        clear_holds(r);
        atomic_store(&r->in_use, false);
    }
    pthread_mutex_unlock(&mine_lock); /* taken before the fork (mine_lock_fork) */
}

/* A closer resetting keys must not hold mine_lock across fork (the child would deadlock). */
static void mine_lock_fork(void) {
    pthread_mutex_lock(&mine_lock);
}
static void mine_unlock_fork(void) {
    pthread_mutex_unlock(&mine_lock);
}

static void reader_key_make(void) {
    if (pthread_key_create(&reader_key, reader_thread_exit) != 0) reader_key = (pthread_key_t)-1;
    pthread_atfork(mine_lock_fork, mine_unlock_fork, readers_after_fork);
}

sj_reader *sj_reader_register(void) {
    if (sj_self.rec) return sj_self.rec;
    if (fenced_rec) return fenced_rec;
    pthread_once(&reader_once, reader_key_make);
    pthread_once(&membarrier_once, membarrier_setup);
    sj_thread_id();
    sj_reader *r = NULL;
    for (sj_reader *q = atomic_load(&readers); q && !r; q = q->next) {
        bool idle = false;
        if (atomic_compare_exchange_strong(&q->in_use, &idle, true)) r = q;
    }
    if (!r) {
        sj_reader_ext *x = aligned_alloc(_Alignof(sj_reader_ext), sizeof *x);
        if (!x) return NULL;
        r = &x->r;
        for (int i = 0; i < SJ_HOLD_MAX; i++)
            atomic_init(&x->held[i], NULL);
        for (int i = 0; i < SJ_TC_COUNT; i++)
            atomic_init(&x->counts[i], 0);
        x->index = atomic_fetch_add(&readers_made, 1);
        atomic_init(&r->scope, NULL);
        atomic_init(&r->in_use, true);
        r->rseq = false;
        x->mine_at = NULL;
        r->next = atomic_load(&readers);
        while (!atomic_compare_exchange_weak(&readers, &r->next, r))
            ;
    }
    /* Without the key the slot is never given back: a leak of 128 bytes per thread. */
    bool dtor = reader_key != (pthread_key_t)-1 && pthread_setspecific(reader_key, r) == 0;
    if (atomic_load(&asym_fence)) {
        /* only where the exit destructor will take the address back */
        bool keep = thread_rseq_registered() && dtor && !reader_exited;
        slot_mine(r, keep ? &sj_self.mine : NULL);
        sj_self.rec = r;
    } else {
        fenced_rec = r;
    }
    return r;
}

/* The lease of sj_lease_enter for a thread whose slot is fenced_rec: a full fence between
 * the announcement and the second load of the word. */
static bool lease_enter_fenced(sj_arena a, sj_reader **slot) {
    *slot = NULL;
    struct sj_scope *sc = a.scope;
    if (!sc || (a.key & SCOPE_CONFINED)) return sj_lease_enter(a, slot);
    return sj__lease_shared(sc, a.key, fenced_rec, true, slot);
}

void sj_thread_counts_sum(uint64_t sum[SJ_TC_COUNT]) {
    for (sj_reader *r = atomic_load_explicit(&readers, memory_order_acquire); r; r = r->next)
        for (int i = 0; i < SJ_TC_COUNT; i++)
            sum[i] += atomic_load_explicit(&sj_ext_of(r)->counts[i], memory_order_relaxed);
}

/* A lease by whichever slot the thread has. */
static bool lease_again(sj_arena a, sj_reader **slot) {
    return fenced_rec ? lease_enter_fenced(a, slot) : sj_lease_enter(a, slot);
}

sj_status sj_lease_fail(sj_arena a, const char *what, sj_reader **slot, sj_error *err) {
    if (!sj_self.rec) {
        if (!sj_reader_register())
            return sj_fail(err, SJ_E_NOMEM, "%s: out of memory registering the thread", what);
        if (lease_again(a, slot)) return SJ_OK;
    }
    sj_status st = lifetime_status(a, what, err);
    if (st == SJ_OK) { /* a close or reuse between the fast check and this one */
        if (lease_again(a, slot)) return SJ_OK;
        st = lifetime_status(a, what, err);
        if (st == SJ_OK) st = sj_fail(err, SJ_E_CLOSED, "%s: its arena is closed", what);
    }
    return st;
}

/* Waits until no thread holds a lease on sc: the closer has already marked it CLOSING. */
static void wait_for_leases(struct sj_scope *sc) {
    /* Orders the CLOSING mark before the slot reads against readers that announce then
     * read the word: their compiler barrier is made a full fence by membarrier, or they ran
     * a full fence themselves (asym_fence false). */
    atomic_thread_fence(memory_order_seq_cst);
    pthread_once(&membarrier_once, membarrier_setup); /* asym_fence as final, here too */
    if (atomic_load(&asym_fence)) membarrier_all();
    for (sj_reader *r = atomic_load(&readers); r; r = r->next) {
        unsigned spins = 0;
        while (atomic_load_explicit(&r->scope, memory_order_acquire) == sc)
            if (++spins > 64) sched_yield();
        for (int i = 0; i < SJ_HOLD_MAX; i++) /* kernel runs: may take long */
            while (atomic_load_explicit(&sj_ext_of(r)->held[i], memory_order_acquire) == sc)
                if (++spins > 64) sched_yield();
    }
}

/* ---- Holds (scope.h): kernel runs ---- */

enum { HOLD_NONE = -1, HOLD_INFLIGHT = -2 };

#define my_reader sj_my_reader

/* Whether a call on this thread holds sc (a close from one of its callbacks). */
static bool held_here(struct sj_scope *sc) {
    sj_reader *r = sj_self.rec ? sj_self.rec : fenced_rec;
    for (unsigned i = 0; r && i < hold_depth; i++)
        if (atomic_load_explicit(&sj_ext_of(r)->held[i], memory_order_relaxed) == sc) return true;
    for (const sj_hold *h = pinned_holds; h; h = h->prev)
        if (h->sc == sc) return true;
    return false;
}

sj_status sj_scope_hold(const sj_segment *s, sj_hold *h, sj_error *err) {
    sj_arena a = s->arena;
    struct sj_scope *sc = a.scope;
    *h = (sj_hold){sc, HOLD_NONE, NULL};
    if (!sc) return SJ_OK;
    sj_reader *r = hold_depth < SJ_HOLD_MAX ? my_reader() : NULL;
    if (!r) {
        sj_status st = arena_acquire(a, "segment", err);
        if (st == SJ_OK) {
            h->slot = HOLD_INFLIGHT;
            h->prev = pinned_holds;
            pinned_holds = h;
        }
        return st;
    }
    unsigned d = hold_depth;
    _Atomic(struct sj_scope *) *e = &sj_ext_of(r)->held[d];
    atomic_store_explicit(e, sc, memory_order_relaxed);
    bool ok;
    if (a.key & SCOPE_CONFINED) { /* only the owner closes it, and only between calls */
        ok = atomic_load_explicit(&sc->word, memory_order_acquire) == a.key &&
             atomic_load_explicit(&sc->owner, memory_order_relaxed) == sj_thread_id();
    } else {
        /* as a shared lease: membarrier on close makes this barrier a fence, or a fence */
        if (r == fenced_rec)
            atomic_thread_fence(memory_order_seq_cst);
        else
            atomic_signal_fence(memory_order_seq_cst);
        ok = atomic_load_explicit(&sc->word, memory_order_acquire) == a.key;
    }
    if (ok) {
        hold_depth = d + 1;
        h->slot = (int)d;
        return SJ_OK;
    }
    atomic_store_explicit(e, NULL, memory_order_release);
    sj_status st = lifetime_status(a, "segment", err);
    if (st == SJ_OK) st = sj_fail(err, SJ_E_CLOSED, "segment: its arena is closed");
    return st;
}

void sj_scope_unhold(sj_hold *h) {
    if (h->slot == HOLD_INFLIGHT) {
        sj_hold **p = &pinned_holds; /* the newest, but for a release out of order */
        while (*p && *p != h)
            p = &(*p)->prev;
        if (*p) *p = h->prev;
        atomic_fetch_sub(&h->sc->inflight, 1);
    } else if (h->slot >= 0) {
        sj_reader *r = sj_self.rec ? sj_self.rec : fenced_rec;
        sj_reader_ext *x = sj_ext_of(r);
        atomic_store_explicit(&x->held[h->slot], NULL, memory_order_release);
        /* released out of order, a hole waits until the entries above it go */
        while (hold_depth > 0 &&
               !atomic_load_explicit(&x->held[hold_depth - 1], memory_order_relaxed))
            hold_depth--;
    }
    h->slot = HOLD_NONE;
}

/* ---- Arenas ---- */

sj_status sj_arena_open(sj_arena_kind kind, sj_arena *out, sj_error *err) {
    if (!out) return sj_fail(err, SJ_E_ARG, "arena open: output is NULL");
    if (kind != SJ_ARENA_CONFINED && kind != SJ_ARENA_SHARED)
        return sj_fail(err, SJ_E_ARG, "arena open: unknown arena kind %d", (int)kind);
    if (kind == SJ_ARENA_SHARED) pthread_once(&membarrier_once, membarrier_setup);
    pthread_mutex_lock(&pool_lock);
    struct sj_scope *sc = pool_free;
    if (sc) pool_free = sc->next_free;
    pthread_mutex_unlock(&pool_lock);
    if (!sc) {
        sc = aligned_alloc(_Alignof(struct sj_scope), sizeof *sc);
        if (!sc) return sj_fail(err, SJ_E_NOMEM, "arena open: out of memory");
        atomic_init(&sc->word, sj_scope_word(0, SCOPE_FREE));
        atomic_init(&sc->inflight, 0);
        atomic_init(&sc->views, 0);
        atomic_init(&sc->owner, SJ__NO_OWNER);
        atomic_init(&sc->owner_tid, 0);
        atomic_init(&sc->allocs, NULL);
        sc->next_free = NULL;
    }
    uint64_t gen = atomic_fetch_add(&next_gen, 1);
    bool confined = kind == SJ_ARENA_CONFINED;
    atomic_store(&sc->owner, confined ? sj_thread_id() : SJ__NO_OWNER);
    atomic_store(&sc->owner_tid, confined ? os_tid() : 0);
    atomic_store(&sc->allocs, NULL);
    uint64_t key = sj_scope_word(gen, SCOPE_OPEN) | (confined ? SCOPE_CONFINED : 0);
    atomic_store(&sc->word, key);
    out->scope = sc;
    out->key = key;
    return SJ_OK;
}

sj_arena sj_arena_global(void) {
    sj_arena a = {NULL, 0};
    return a;
}

sj_status sj_arena_close(sj_arena a, sj_error *err) {
    struct sj_scope *sc = a.scope;
    if (!sc) return sj_fail(err, SJ_E_UNSUPPORTED, "the global arena cannot be closed");
    uint64_t open = atomic_load(&sc->word);
    if (!arena_live(a, open))
        return sj_fail(err, SJ_E_CLOSED, "arena close: the arena is already closed");
    uint64_t owner = atomic_load(&sc->owner);
    uint64_t self = sj_thread_id();
    if ((open & SCOPE_CONFINED) && owner != self) {
        int64_t tid = atomic_load(&sc->owner_tid);
        if (atomic_load(&sc->word) != open) /* closed meanwhile, scope maybe reused */
            return sj_fail(err, SJ_E_CLOSED, "arena close: the arena is already closed");
        return sj_fail(err, SJ_E_THREAD,
                       "arena close: the arena is confined to thread %" PRId64
                       ", closed from thread %" PRId64 " (OS thread ids)",
                       tid, os_tid());
    }
    if (held_here(sc))
        return sj_fail(err, SJ_E_BUSY,
                       "arena close: a call on this thread is using the arena (closed from "
                       "one of its callbacks)");
    /* Open views: refuse (SJ_E_BUSY) before anything changes for readers. */
    uint64_t views;
    while ((views = atomic_fetch_or(&sc->views, SCOPE_VIEWS_CLOSING)) & SCOPE_VIEWS_CLOSING) {
        /* another close is deciding */
        while ((atomic_load(&sc->views) & SCOPE_VIEWS_CLOSING) &&
               arena_live(a, atomic_load(&sc->word)))
            sched_yield();
        if (!arena_live(a, atomic_load(&sc->word)))
            return sj_fail(err, SJ_E_CLOSED, "arena close: the arena is already closed");
    }
    if (views != 0) {
        atomic_fetch_and(&sc->views, ~SCOPE_VIEWS_CLOSING);
        /* a stale handle sees the views of the scope's next arena: closed, not busy */
        if (!arena_live(a, atomic_load(&sc->word)))
            return sj_fail(err, SJ_E_CLOSED, "arena close: the arena is already closed");
        return sj_fail(err, SJ_E_BUSY, "arena close: %" PRIu64 " view%s of the arena %s open",
                       views, views == 1 ? "" : "s", views == 1 ? "is" : "are");
    }
    if (!(open & SCOPE_CONFINED)) forget_shared_key(a.key); /* before CLOSING: 2.2 */
    uint64_t expected = open;
    uint64_t closing = sj_scope_word(arena_gen(a), SCOPE_CLOSING) | (open & SCOPE_CONFINED);
    if (!atomic_compare_exchange_strong(&sc->word, &expected, closing)) {
        atomic_fetch_and(&sc->views, ~SCOPE_VIEWS_CLOSING);
        return sj_fail(err, SJ_E_CLOSED, "arena close: the arena is already closed");
    }
    /* Leases: only the owner touches a confined arena's memory, and it is here; it
     * forgets the arena as its own before the memory goes. */
    if (sj_mine() == a.key) sj_set_mine(SJ__NO_KEY);
    if (!(open & SCOPE_CONFINED)) wait_for_leases(sc);
    /* Pins: Dekker handshake with arena_acquire. */
    while (atomic_load(&sc->inflight) != 0)
        sched_yield();
    free_allocs(atomic_exchange(&sc->allocs, NULL));
    atomic_store(&sc->word, sj_scope_word(arena_gen(a) + 1, SCOPE_FREE));
    atomic_fetch_and(&sc->views, ~SCOPE_VIEWS_CLOSING); /* a stale handle may still count itself */
    pthread_mutex_lock(&pool_lock);
    sc->next_free = pool_free;
    pool_free = sc;
    pthread_mutex_unlock(&pool_lock);
    return SJ_OK;
}

bool sj_arena_is_alive(sj_arena a) {
    return !a.scope || arena_live(a, atomic_load(&a.scope->word));
}

static void make_native(uint8_t *base, uint64_t size, sj_arena arena, uint32_t flags,
                        sj_segment *out) {
    memset(out, 0, sizeof *out);
    out->base = base;
    out->size = size;
    out->arena = arena;
    out->flags = flags;
}

/* Records memory in the arena's list (the caller holds the arena acquired). */
static void arena_track(sj_arena a, sj_alloc *node) {
    push_alloc(a.scope ? &a.scope->allocs : &global_allocs, node);
}

sj_status sj_arena_allocate(sj_arena a, int64_t size, int64_t align, sj_segment *out,
                            sj_error *err) {
    if (!out) return sj_fail(err, SJ_E_ARG, "allocate: output is NULL");
    if (size < 0) return sj_fail(err, SJ_E_ARG, "allocate: size %" PRId64 " is negative", size);
    if (align < 1 || !sj_is_pow2((uint64_t)align))
        return sj_fail(err, SJ_E_ARG, "allocate: alignment %" PRId64 " is not a power of two",
                       align);
    sj_status st = arena_acquire(a, "allocate", err);
    if (st != SJ_OK) return st;
    size_t real_align = align < 16 ? 16 : (size_t)align;
    size_t n = size ? (size_t)size : 1; /* distinct, aligned address even for size 0 */
    void *p = NULL;
    sj_alloc *node = malloc(sizeof *node);
    if (!node || posix_memalign(&p, real_align, n) != 0) {
        free(node);
        arena_release(a);
        return sj_fail(err, SJ_E_NOMEM,
                       "allocate: cannot allocate %" PRId64 " bytes aligned to %zu", size,
                       real_align);
    }
    memset(p, 0, n);
    node->ptr = p;
    node->map_len = 0;
    arena_track(a, node);
    arena_release(a);
    make_native(p, (uint64_t)size, a, 0, out);
    return SJ_OK;
}

sj_status sj_arena_allocate_layout(sj_arena a, const sj_layout *layout, sj_segment *out,
                                   sj_error *err) {
    if (!layout) return sj_fail(err, SJ_E_ARG, "allocate: layout is NULL");
    if (layout->size > (uint64_t)INT64_MAX || layout->align > (uint64_t)INT64_MAX)
        return sj_fail(err, SJ_E_OVERFLOW,
                       "allocate: layout size %" PRIu64 " or alignment %" PRIu64 " exceeds 63 bits",
                       layout->size, layout->align);
    return sj_arena_allocate(a, (int64_t)layout->size, (int64_t)layout->align, out, err);
}

static void errno_text(int e, char *buf, size_t n) {
    if (strerror_r(e, buf, n) != 0) snprintf(buf, n, "error %d", e);
}

/* Grows the file open as fd from `from` to `to` bytes, as the JDK's FileChannel.map does for
 * READ_WRITE: blocks allocated, so that a full disk answers here and not as a fault on a
 * later store; never more than the free space (a huge size must not fill the disk on its
 * way to failing). The caller cuts the file back on failure. */
static sj_status grow_file(int fd, const char *path, int64_t from, int64_t to, sj_error *err) {
    struct statfs fs;
    uint64_t grow = (uint64_t)(to - from);
    /* f_blocks 0: a file system without a limit (ramfs, tmpfs size=0) */
    if (fstatfs(fd, &fs) == 0 && fs.f_blocks > 0 && fs.f_bsize > 0) {
        uint64_t bs = (uint64_t)fs.f_bsize, blocks = grow / bs + (grow % bs != 0);
        if (blocks > (uint64_t)fs.f_bavail)
            return sj_fail(err, SJ_E_NOMEM,
                           "map file: cannot grow '%s' from %" PRId64 " to %" PRId64
                           " bytes: %" PRIu64 " bytes are free",
                           path, from, to, (uint64_t)fs.f_bavail * bs);
    }
    int e = posix_fallocate(fd, (off_t)from, (off_t)grow);
    if (e == 0) return SJ_OK;
    char why[128];
    errno_text(e, why, sizeof why);
    return sj_fail(err, e == ENOSPC || e == EDQUOT ? SJ_E_NOMEM : SJ_E_ARG,
                   "map file: cannot grow '%s' from %" PRId64 " to %" PRId64 " bytes: %s", path,
                   from, to, why);
}

sj_status sj_arena_map_file(sj_arena a, const char *path, int64_t offset, int64_t size,
                            bool writable, sj_segment *out, sj_error *err) {
    if (!path || !out) return sj_fail(err, SJ_E_ARG, "map file: path or output is NULL");
    if (offset < 0)
        return sj_fail(err, SJ_E_ARG, "map file '%s': offset %" PRId64 " is negative", path,
                       offset);
    if (size < -1)
        return sj_fail(err, SJ_E_ARG, "map file '%s': size %" PRId64 " is negative", path, size);
    sj_status st = arena_acquire(a, "map file", err);
    if (st != SJ_OK) return st;

    char why[128];
    int64_t grown_from = -1; /* the file's size before this call grew it (-1: not grown) */
    int fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) {
        errno_text(errno, why, sizeof why);
        st = sj_fail(err, SJ_E_ARG, "map file: cannot open '%s': %s", path, why);
        goto out_release;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        errno_text(errno, why, sizeof why);
        st = sj_fail(err, SJ_E_ARG, "map file: cannot stat '%s': %s", path, why);
        goto out_close;
    }
    if (!S_ISREG(sb.st_mode)) {
        st = sj_fail(err, SJ_E_ARG, "map file: '%s' is not a regular file", path);
        goto out_close;
    }
    int64_t fsize = (int64_t)sb.st_size;
    if (writable && size >= 0 && (offset > fsize || size > fsize - offset)) {
        if (size > INT64_MAX - offset) {
            st = sj_fail(err, SJ_E_OVERFLOW,
                         "map file '%s': offset %" PRId64 " + size %" PRId64 " overflows", path,
                         offset, size);
            goto out_close;
        }
        grown_from = fsize; /* also what a failed allocation is cut back to */
        if ((st = grow_file(fd, path, fsize, offset + size, err)) != SJ_OK) goto out_close;
        fsize = offset + size;
    }
    if (offset > fsize) {
        st = sj_fail(err, SJ_E_BOUNDS,
                     "map file '%s': offset %" PRId64
                     " is beyond the end of the file (size %" PRId64 ")",
                     path, offset, fsize);
        goto out_close;
    }
    if (size == -1) size = fsize - offset;
    if (size > fsize - offset) {
        st = sj_fail(err, SJ_E_BOUNDS,
                     "map file '%s': %" PRId64 " bytes at offset %" PRId64
                     " extend beyond the end of the file (size %" PRId64 ")",
                     path, size, offset, fsize);
        goto out_close;
    }
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0) page = 4096;
    int64_t start = offset - offset % page;
    size_t delta = (size_t)(offset - start);
    size_t len = delta + (size ? (size_t)size : 1); /* mmap refuses length 0 */
    sj_alloc *node = malloc(sizeof *node);
    if (!node) {
        st = sj_fail(err, SJ_E_NOMEM, "map file '%s': out of memory", path);
        goto out_close;
    }
    void *p = mmap(NULL, len, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd,
                   (off_t)start);
    if (p == MAP_FAILED) {
        int e = errno;
        free(node);
        errno_text(e, why, sizeof why);
        st = sj_fail(err, e == ENOMEM ? SJ_E_NOMEM : SJ_E_ARG,
                     "map file: cannot map %" PRId64 " bytes of '%s' at offset %" PRId64 ": %s",
                     size, path, offset, why);
        goto out_close;
    }
    node->ptr = p;
    node->map_len = len;
    arena_track(a, node);
    make_native((uint8_t *)p + delta, (uint64_t)size, a,
                SJ_SEG_MAPPED | (writable ? 0u : (uint32_t)SJ_SEG_READONLY), out);
    st = SJ_OK;
out_close:
    if (st != SJ_OK && grown_from >= 0) { /* a failed call leaves the file as it was */
        int cut = ftruncate(fd, (off_t)grown_from);
        (void)cut;
    }
    close(fd);
out_release:
    arena_release(a);
    return st;
}

/* ---- Segments ---- */

sj_status sj_segment_native(void *addr, int64_t size, sj_segment *out, sj_error *err) {
    if (!out) return sj_fail(err, SJ_E_ARG, "native segment: output is NULL");
    if (size < 0)
        return sj_fail(err, SJ_E_ARG, "native segment: size %" PRId64 " is negative", size);
    if (!addr && size > 0)
        return sj_fail(err, SJ_E_ARG, "native segment: NULL address with size %" PRId64, size);
    uint64_t end;
    if (!sj_add_u64((uint64_t)(uintptr_t)addr, (uint64_t)size, &end))
        return sj_fail(err, SJ_E_OVERFLOW,
                       "native segment: address %p + size %" PRId64 " overflows", addr, size);
    make_native(addr, (uint64_t)size, sj_arena_global(), 0, out);
    return SJ_OK;
}

static uint32_t heap_elem_size(sj_heap_kind kind) {
    switch (kind) {
        case SJ_HEAP_I8:
            return 1;
        case SJ_HEAP_I16:
        case SJ_HEAP_U16:
            return 2;
        case SJ_HEAP_I32:
        case SJ_HEAP_F32:
            return 4;
        case SJ_HEAP_I64:
        case SJ_HEAP_F64:
            return 8;
    }
    return 0;
}

sj_status sj_segment_heap(sj_heap_kind kind, int64_t count, void *owner, sj_heap_resolve_fn resolve,
                          sj_segment *out, sj_error *err) {
    uint32_t elem = heap_elem_size(kind);
    if (!out) return sj_fail(err, SJ_E_ARG, "heap segment: output is NULL");
    if (elem == 0)
        return sj_fail(err, SJ_E_ARG, "heap segment: unknown element kind %d", (int)kind);
    if (!resolve) return sj_fail(err, SJ_E_ARG, "heap segment: resolve function is NULL");
    if (count < 0)
        return sj_fail(err, SJ_E_ARG, "heap segment: element count %" PRId64 " is negative", count);
    if (count > INT64_MAX / (int64_t)elem)
        return sj_fail(err, SJ_E_OVERFLOW,
                       "heap segment: %" PRId64 " elements of %u bytes overflow 63 bits", count,
                       elem);
    memset(out, 0, sizeof *out);
    out->size = (uint64_t)count * elem;
    out->arena = sj_arena_global();
    out->owner = owner;
    out->resolve = resolve;
    out->flags = SJ_SEG_HEAP;
    out->elem_size = elem;
    return SJ_OK;
}

sj_status sj_segment_heap_pinned(sj_heap_kind kind, int64_t count, void *owner,
                                 sj_heap_resolve_fn resolve, sj_heap_pin_fn pin,
                                 sj_heap_pin_fn unpin, sj_segment *out, sj_error *err) {
    if (!pin || !unpin)
        return sj_fail(err, SJ_E_ARG, "heap segment: pin or unpin function is NULL");
    sj_status st = sj_segment_heap(kind, count, owner, resolve, out, err);
    if (st != SJ_OK) return st;
    out->pin = pin;
    out->unpin = unpin;
    out->flags |= SJ_SEG_PINNABLE;
    return SJ_OK;
}

static void *resolve_identity(void *owner) {
    return owner;
}

sj_status sj_segment_of_array(sj_heap_kind kind, void *array, int64_t count, sj_segment *out,
                              sj_error *err) {
    if (!array && count > 0)
        return sj_fail(err, SJ_E_ARG, "heap segment: NULL array with %" PRId64 " elements", count);
    return sj_segment_heap(kind, count, array, resolve_identity, out, err);
}

sj_status sj_segment_slice(const sj_segment *s, int64_t offset, int64_t size, sj_segment *out,
                           sj_error *err) {
    if (!s || !out) return sj_fail(err, SJ_E_ARG, "slice: segment or output is NULL");
    if (offset < 0 || size < 0 || (uint64_t)offset > s->size ||
        (uint64_t)size > s->size - (uint64_t)offset)
        return sj_fail(err, SJ_E_BOUNDS,
                       "slice of %" PRId64 " bytes at offset %" PRId64
                       " is out of bounds for segment of size %" PRIu64,
                       size, offset, s->size);
    sj_segment r = *s;
    r.size = (uint64_t)size;
    if (s->flags & SJ_SEG_HEAP)
        r.vaddr += (uint64_t)offset;
    else if (offset != 0)
        r.base += offset;
    *out = r;
    return SJ_OK;
}

sj_segment sj_segment_readonly(const sj_segment *s) {
    sj_segment r = *s;
    r.flags |= SJ_SEG_READONLY;
    return r;
}

bool sj_segment_is_readonly(const sj_segment *s) {
    return (s->flags & SJ_SEG_READONLY) != 0;
}
bool sj_segment_is_native(const sj_segment *s) {
    return (s->flags & SJ_SEG_HEAP) == 0;
}
uint64_t sj_segment_size(const sj_segment *s) {
    return s->size;
}

uint64_t sj_segment_address(const sj_segment *s) {
    return (s->flags & SJ_SEG_HEAP) ? s->vaddr : (uint64_t)(uintptr_t)s->base;
}

uint64_t sj_segment_max_align(const sj_segment *s) {
    if (s->flags & SJ_SEG_HEAP) { /* the JDK: min(element size, lowest bit of the offset) */
        uint64_t v = sj_segment_address(s), low = v & (~v + 1);
        return v && low < s->elem_size ? low : s->elem_size;
    }
    uint64_t a = (uint64_t)(uintptr_t)s->base;
    return a ? a & (~a + 1) : UINT64_C(1) << 62; /* address 0: 2^62, as the JDK */
}

bool sj_segment_is_aligned(const sj_segment *s, int64_t offset, uint64_t align) {
    if (!sj_is_pow2(align)) return false;
    uint64_t addr = sj_segment_address(s) + (uint64_t)offset; /* wraps like the JDK's long */
    return ((addr | sj_segment_align_bits(s)) & (align - 1)) == 0;
}

bool sj_segment_overlap(const sj_segment *a, const sj_segment *b, sj_segment *out) {
    bool heap_a = (a->flags & SJ_SEG_HEAP) != 0, heap_b = (b->flags & SJ_SEG_HEAP) != 0;
    if (heap_a != heap_b) return false;
    if (heap_a && (a->owner != b->owner || a->resolve != b->resolve)) return false;
    if (a->size == 0 || b->size == 0) return false;
    uint64_t a0 = sj_segment_address(a), b0 = sj_segment_address(b);
    uint64_t a1 = a0 + a->size, b1 = b0 + b->size;
    if (!(a0 < b1 && b0 < a1)) return false;
    uint64_t lo = a0 > b0 ? a0 : b0, hi = a1 < b1 ? a1 : b1;
    if (out) {
        sj_segment r = *a;
        r.size = hi - lo;
        if (heap_a)
            r.vaddr = lo;
        else
            r.base = a->base + (lo - a0);
        *out = r;
    }
    return true;
}

sj_status sj_segment_check_alive(const sj_segment *s, sj_error *err) {
    if (!s) return sj_fail(err, SJ_E_ARG, "segment is NULL");
    sj_reader *slot;
    if (!sj_lease_enter(s->arena, &slot)) {
        sj_status st = sj_lease_fail(s->arena, "segment", &slot, err);
        if (st != SJ_OK) return st;
    }
    sj_lease_exit(slot);
    return SJ_OK;
}

bool sj_segment_still(const sj_segment *s) {
    return !(s->flags & SJ_SEG_HEAP) || (s->flags & SJ_SEG_PINNABLE) ||
           s->resolve == resolve_identity;
}

uint8_t *sj_segment_pin(const sj_segment *s) {
    if (!(s->flags & SJ_SEG_HEAP)) return s->base;
    if (s->pin) s->pin(s->owner);
    uint8_t *p = s->resolve(s->owner);
    if (!p && s->unpin) s->unpin(s->owner);
    return p ? p + s->vaddr : NULL;
}

void sj_segment_unpin(const sj_segment *s) {
    if ((s->flags & SJ_SEG_HEAP) && s->unpin) s->unpin(s->owner);
}

uint8_t *sj_segment_data(const sj_segment *s) {
    if (!(s->flags & SJ_SEG_HEAP)) return s->base;
    uint8_t *p = s->resolve(s->owner);
    return p ? p + s->vaddr : NULL;
}
