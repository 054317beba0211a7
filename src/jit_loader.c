/* src/jit_loader.c: loads libsegjit-jit.so once per process (dlopen, on first need) and
 * hands out its provider; sj_jit_available. No tier choice here (kernel.c) and no LLVM
 * (jit/). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* dladdr, secure_getenv */
#endif

#include "jit_loader.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kcache.h"
#include "segjit/kernel.h"

#ifdef SEGJIT_HAVE_JIT
#include <dlfcn.h>
#endif

#define SJ_JIT_OBJECT "libsegjit-jit.so"

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static const sj_jit_provider *g_provider;
static char g_why[512];

#ifdef SEGJIT_HAVE_JIT

/* dlopen(path); on failure appends "path: dlerror" to g_why. */
static void *try_open(const char *path) {
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        size_t n = strlen(g_why);
        if (n + 3 < sizeof g_why) { /* a reason that does not fit is cut, on purpose */
            if (n) {
                memcpy(g_why + n, "; ", 3);
                n += 2;
            }
            const char *r = e ? e : path;
            size_t len = strlen(r);
            if (len > sizeof g_why - 1 - n) len = sizeof g_why - 1 - n;
            memcpy(g_why + n, r, len);
            g_why[n + len] = 0;
        }
    }
    return h;
}

static void *open_object(void) {
    /* not in setuid programs: code to load is not the environment's to choose */
    const char *env = secure_getenv("SEGJIT_JIT_LIBRARY");
    if (env && *env) return try_open(env);
    /* next to libsegjit (the executable, when libsegjit is linked statically) */
    Dl_info info;
    if (dladdr((const void *)g_why, &info) && info.dli_fname) {
        const char *slash = strrchr(info.dli_fname, '/');
        if (slash) {
            char path[4096];
            int n = snprintf(path, sizeof path, "%.*s/%s", (int)(slash - info.dli_fname),
                             info.dli_fname, SJ_JIT_OBJECT);
            if (n > 0 && (size_t)n < sizeof path) {
                void *h = try_open(path);
                if (h) return h;
            }
        }
    }
    return try_open(SJ_JIT_OBJECT);
}

/* True when the object was built from this library's sources with the same structures
 * across the seam; g_why says what differs otherwise. Nothing in the object has run. */
static bool identity_matches(void *h) {
    const sj_jit_identity *id = dlsym(h, SJ_JIT_IDENTITY_SYMBOL);
    static const sj_jit_identity want = SJ_JIT_IDENTITY_INIT("");
    const char *build = sj_kcache_build_id();
    if (!id) {
        snprintf(g_why, sizeof g_why, "%s has no %s (a build older than this library)",
                 SJ_JIT_OBJECT, SJ_JIT_IDENTITY_SYMBOL);
        return false;
    }
    if (strncmp(id->build_id, build, sizeof id->build_id) != 0 ||
        id->api_version != want.api_version) {
        snprintf(g_why, sizeof g_why,
                 "%s is from another build (%.96s, API %u; this library: %s, API %u)",
                 SJ_JIT_OBJECT, id->build_id, id->api_version, build, want.api_version);
        return false;
    }
    if (id->sizeof_plan != want.sizeof_plan || id->sizeof_side != want.sizeof_side ||
        id->sizeof_move != want.sizeof_move || id->sizeof_provider != want.sizeof_provider ||
        id->sizeof_report != want.sizeof_report || id->sizeof_stats != want.sizeof_stats) {
        snprintf(g_why, sizeof g_why,
                 "%s was built with other structures (plan %u, side %u, move %u bytes; this "
                 "library %u, %u, %u)",
                 SJ_JIT_OBJECT, id->sizeof_plan, id->sizeof_side, id->sizeof_move, want.sizeof_plan,
                 want.sizeof_side, want.sizeof_move);
        return false;
    }
    return true;
}

static void load_once(void) {
    void *h = open_object();
    if (!h) return; /* g_why says why */
    g_why[0] = '\0';
    if (!identity_matches(h)) {
        dlclose(h);
        return;
    }
    void *sym = dlsym(h, SJ_JIT_PROVIDER_INIT_SYMBOL);
    if (!sym) {
        snprintf(g_why, sizeof g_why, "%s has no %s", SJ_JIT_OBJECT, SJ_JIT_PROVIDER_INIT_SYMBOL);
        dlclose(h);
        return;
    }
    sj_jit_provider_init_fn init;
    _Static_assert(sizeof init == sizeof sym, "function and object pointers differ in size");
    memcpy(&init, &sym, sizeof init); /* ISO C has no object -> function pointer cast */
    char why[256] = "";
    const sj_jit_provider *p = init(why, sizeof why);
    if (!p) {
        /* LLVM may have registered state; the object stays loaded (never unloaded) */
        snprintf(g_why, sizeof g_why, "%s", why[0] ? why : "the JIT did not start");
        return;
    }
    if (p->api_version != SJ_JIT_API_VERSION || !p->compile || !p->release) {
        snprintf(g_why, sizeof g_why, "%s speaks JIT API version %d, libsegjit %d", SJ_JIT_OBJECT,
                 p->api_version, SJ_JIT_API_VERSION);
        return;
    }
    g_provider = p; /* published by pthread_once */
}

#else

static void load_once(void) {
    snprintf(g_why, sizeof g_why, "built without the JIT");
}

#endif

const sj_jit_provider *sj_jit_provider_get(char *why, size_t why_len) {
    pthread_once(&g_once, load_once);
    if (!g_provider && why && why_len) snprintf(why, why_len, "%s", g_why);
    return g_provider;
}

bool sj_jit_available(const char **why) {
    const sj_jit_provider *p = sj_jit_provider_get(NULL, 0);
    if (why) *why = p ? NULL : g_why;
    return p != NULL;
}

const char *sj_secure_getenv(const char *name) {
    return secure_getenv(name);
}
