/* src/kcache.c: the persistent kernel cache (kcache.h): where its directory is and
 * whether to trust it, the file format (identity, plan key, checksum, image), writing by
 * temporary name and rename, loading (read, verify, copy into anonymous memory, patch the
 * C library slots, make executable), the size bound, and the process's table of loaded
 * images. No tier choice (kernel.c), no LLVM (the images come from jit/image.c). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* getauxval, futimens, O_NOFOLLOW and O_CLOEXEC under -std=c11 */
#endif

#include "kcache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#if defined(__linux__)
#include <sys/auxv.h>
#endif

#include "internal.h"
#include "kimage.h"

#ifndef SEGJIT_BUILD_ID
#define SEGJIT_BUILD_ID "unknown"
#endif
#ifndef SEGJIT_LLVM_VERSION
#define SEGJIT_LLVM_VERSION "none"
#endif

#if defined(__x86_64__) && defined(__linux__) && defined(SEGJIT_HAVE_JIT)
#define KCACHE_SUPPORTED 1
#else
#define KCACHE_SUPPORTED 0
#endif

#define FILE_MAGIC    "SJKCACHE"
#define FILE_SUFFIX   ".sjk"
#define MAX_FILE      (UINT64_C(32) << 20) /* larger files are refused unread */
#define EVICT_EVERY   64u                  /* stores between two size checks of the directory */
#define TABLE_BUCKETS 1024u

/* The file: this header, then build id, LLVM version, CPU, plan key and image, of the
 * lengths given; sum is a hash of everything after the header. */
typedef struct file_hdr {
    char magic[8];
    uint32_t format;
    uint32_t build_len, llvm_len, cpu_len, key_len, image_len;
    uint64_t sum[2];
} file_hdr;

struct sj_kimage {
    struct sj_kimage *next;
    uint64_t hash;
    size_t refs; /* under g_lock */
    void *map;
    size_t map_len;
    uint32_t code_bytes;
    sj_loop_fn fn;
    size_t klen;
    uint8_t key[];
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sj_kimage *g_table[TABLE_BUCKETS];
static atomic_uint_fast64_t st_hits, st_misses, st_stores, st_rejects, st_skips, st_ns_load;
static atomic_uint_fast64_t g_seq, g_stores_paced; /* temporary names; size checks */

static void count(atomic_uint_fast64_t *c, uint64_t v) {
    atomic_fetch_add_explicit(c, v, memory_order_relaxed);
}

/* ---- hashing: 128 bits for file names and checksums (not a defence: trust comes from
 * the directory's owner; this tells corrupt files and distinct keys apart) ---- */

static uint64_t rotl(uint64_t x, int r) {
    return (x << r) | (x >> (64 - r));
}

static uint64_t fmix(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ull;
    return k ^ (k >> 33);
}

typedef struct hash128 {
    uint64_t a, b, n;
} hash128;

static void h_init(hash128 *h) {
    *h = (hash128){0x9e3779b97f4a7c15ull, 0x6a09e667f3bcc909ull, 0};
}

static void h_word(hash128 *h, uint64_t w) {
    h->a = rotl((h->a ^ w) * 0x87c37b91114253d5ull, 31) + h->b;
    h->b = rotl((h->b + w) * 0x4cf5ad432745937full, 33) ^ h->a;
}

static void h_add(hash128 *h, const void *p, size_t n) {
    const uint8_t *s = p;
    h->n += n;
    for (; n >= 8; n -= 8, s += 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h_word(h, w);
    }
    uint64_t w = 0;
    memcpy(&w, s, n);
    h_word(h, w ^ ((uint64_t)n << 56)); /* every field's tail and length count */
}

static void h_done(const hash128 *h, uint64_t out[2]) {
    uint64_t a = fmix(h->a ^ h->n), b = fmix(h->b + h->n);
    out[0] = a + b;
    out[1] = fmix(a ^ rotl(b, 17));
}

/* ---- identity: build, LLVM, CPU as the OS reports it ---- */

static pthread_once_t g_cpu_once = PTHREAD_ONCE_INIT;
static char g_cpu[4096];

/* vendor_id, model name and flags of the first processor in /proc/cpuinfo (not CPUID,
 * which traps to the hypervisor on these guests). "" when unreadable: the cache is off. */
static void cpu_once(void) {
    int fd = open("/proc/cpuinfo", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    char buf[16384];
    size_t len = 0;
    ssize_t got;
    while (len + 1 < sizeof buf && (got = read(fd, buf + len, sizeof buf - 1 - len)) > 0) {
        len += (size_t)got;
        buf[len] = '\0';
        if (strstr(buf, "\n\n")) break; /* the first processor's record is complete */
    }
    close(fd);
    buf[len] = '\0';
    char *end = strstr(buf, "\n\n");
    if (end) *end = '\0';
    static const char *const fields[] = {"vendor_id", "model name", "flags"};
    size_t out = 0;
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
        for (char *line = buf; line && *line;) {
            char *nl = strchr(line, '\n');
            size_t ll = nl ? (size_t)(nl - line) : strlen(line);
            size_t fl = strlen(fields[f]);
            if (ll > fl && strncmp(line, fields[f], fl) == 0 &&
                (line[fl] == ' ' || line[fl] == '\t' || line[fl] == ':')) {
                if (out + ll + 2 >= sizeof g_cpu) return; /* too long: off, g_cpu stays "" */
                memcpy(g_cpu + out, line, ll);
                out += ll;
                g_cpu[out++] = '\n';
                break;
            }
            line = nl ? nl + 1 : NULL;
        }
    }
    g_cpu[out] = '\0';
}

const char *sj_kcache_cpu(void) {
    pthread_once(&g_cpu_once, cpu_once);
    return g_cpu;
}

const char *sj_kcache_build_id(void) {
    return SEGJIT_BUILD_ID;
}

const char *sj_kcache_llvm_version(void) {
    return SEGJIT_LLVM_VERSION;
}

/* ---- on or off, and where ---- */

bool sj_kcache_secure_process(void) {
#if defined(__linux__)
    return getauxval(AT_SECURE) != 0;
#else
    return true; /* no way to tell: never trust the environment */
#endif
}

static bool is_off(const char *v) {
    return v && (strcmp(v, "off") == 0 || strcmp(v, "0") == 0 || strcmp(v, "no") == 0);
}

bool sj_kcache_choose_dir(bool secure, const char *cache, const char *dir, const char *xdg,
                          const char *home, char *buf, size_t n) {
    if (secure || is_off(cache)) return false;
    int w = -1;
    if (dir && *dir)
        w = snprintf(buf, n, "%s", dir);
    else if (xdg && xdg[0] == '/') /* XDG: relative values are ignored */
        w = snprintf(buf, n, "%s/segjit", xdg);
    else if (home && home[0] == '/')
        w = snprintf(buf, n, "%s/.cache/segjit", home);
    return w > 0 && (size_t)w < n;
}

static pthread_once_t g_on_once = PTHREAD_ONCE_INIT;
static bool g_on;

static void on_once(void) {
    const char *passes = secure_getenv("SEGJIT_JIT_PASSES"), *dump = secure_getenv("SEGJIT_DUMP");
    char dir[4096];
    g_on = KCACHE_SUPPORTED && !(passes && *passes) && !(dump && *dump) &&
           sj_kcache_choose_dir(sj_kcache_secure_process(), getenv("SEGJIT_CACHE"), "/", NULL, NULL,
                                dir, sizeof dir) &&
           sj_kcache_cpu()[0] != '\0';
}

bool sj_kcache_enabled(void) {
    pthread_once(&g_on_once, on_once);
    return g_on;
}

/* Creates the missing directories of path (0700), like mkdir -p. */
static void make_dirs(const char *path) {
    char p[4096];
    if (snprintf(p, sizeof p, "%s", path) >= (int)sizeof p) return;
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = '\0';
        mkdir(p, 0700); /* EEXIST and the rest: the open below tells */
        *s = '/';
    }
    mkdir(p, 0700);
}

/* The cache directory, opened and checked: owned by this user, not writable by group or
 * others. Returns its descriptor, or -1 (the cache is off for this operation). */
static int open_dir(bool create) {
    if (sj_kcache_secure_process()) return -1;
    char dir[4096];
    if (!sj_kcache_choose_dir(false, getenv("SEGJIT_CACHE"), getenv("SEGJIT_CACHE_DIR"),
                              getenv("XDG_CACHE_HOME"), getenv("HOME"), dir, sizeof dir))
        return -1;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
        make_dirs(dir);
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    if (fd < 0) return -1;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
        (st.st_mode & (S_IWGRP | S_IWOTH))) {
        count(&st_rejects, 1); /* someone else could plant code here: not used */
        close(fd);
        return -1;
    }
    return fd;
}

void sj_kcache_file_name(const uint8_t *key, size_t klen, char out[40]) {
    hash128 h;
    h_init(&h);
    uint32_t format = SJ_KCACHE_FORMAT;
    h_add(&h, &format, sizeof format);
    h_add(&h, SEGJIT_BUILD_ID, strlen(SEGJIT_BUILD_ID));
    h_add(&h, SEGJIT_LLVM_VERSION, strlen(SEGJIT_LLVM_VERSION));
    const char *cpu = sj_kcache_cpu();
    h_add(&h, cpu, strlen(cpu));
    h_add(&h, key, klen);
    uint64_t d[2];
    h_done(&h, d);
    snprintf(out, 40, "%016llx%016llx" FILE_SUFFIX, (unsigned long long)d[0],
             (unsigned long long)d[1]);
}

/* ---- the table of loaded images (under g_lock) ---- */

static uint64_t key_hash(const uint8_t *key, size_t klen) {
    hash128 h;
    h_init(&h);
    h_add(&h, key, klen);
    uint64_t d[2];
    h_done(&h, d);
    return d[0];
}

static sj_kimage *table_find(uint64_t h, const uint8_t *key, size_t klen) {
    for (sj_kimage *e = g_table[h % TABLE_BUCKETS]; e; e = e->next)
        if (e->hash == h && e->klen == klen && memcmp(e->key, key, klen) == 0) return e;
    return NULL;
}

sj_kimage *sj_kcache_find(const uint8_t *key, size_t klen, sj_loop_fn *fn) {
    uint64_t h = key_hash(key, klen);
    pthread_mutex_lock(&g_lock);
    sj_kimage *e = table_find(h, key, klen);
    if (e) e->refs++;
    pthread_mutex_unlock(&g_lock);
    if (e) {
        count(&st_hits, 1);
        *fn = e->fn;
    }
    return e;
}

static void unmap(sj_kimage *e) {
    munmap(e->map, e->map_len);
    free(e);
}

void sj_kcache_release(sj_kimage *im) {
    if (!im) return;
    pthread_mutex_lock(&g_lock);
    bool last = --im->refs == 0;
    if (last)
        for (sj_kimage **p = &g_table[im->hash % TABLE_BUCKETS]; *p; p = &(*p)->next)
            if (*p == im) {
                *p = im->next;
                break;
            }
    pthread_mutex_unlock(&g_lock);
    if (last) unmap(im);
}

uint64_t sj_kcache_image_bytes(const sj_kimage *im) {
    return im ? im->code_bytes : 0;
}

/* ---- loading ---- */

/* Maps the image (kimage.h bytes) executable, or returns NULL when its header does not
 * describe it exactly. */
static sj_kimage *map_image(const uint8_t *img, size_t len, const uint8_t *key, size_t klen) {
    sj_kimage_hdr hdr;
    if (len < sizeof hdr) return NULL;
    memcpy(&hdr, img, sizeof hdr);
    if (hdr.magic != SJ_KIMAGE_MAGIC || hdr.size == 0 || hdr.size > SJ_KIMAGE_MAX_BYTES ||
        hdr.size != len - sizeof hdr || hdr.entry >= hdr.size || hdr.nslots > SJ_KIMAGE_MAX_SLOTS)
        return NULL;
    for (uint32_t i = 0; i < hdr.nslots; i++)
        if (hdr.size < 8 || hdr.slot_off[i] % 8 || hdr.slot_off[i] > hdr.size - 8 ||
            hdr.slot_sym[i] >= SJ_KSYM_COUNT)
            return NULL;
    long page = sysconf(_SC_PAGESIZE);
    size_t ps = page > 0 ? (size_t)page : 4096;
    size_t map_len = (hdr.size + ps - 1) / ps * ps;
    sj_kimage *e = malloc(sizeof *e + klen);
    if (!e) return NULL;
    void *m = mmap(NULL, map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        free(e);
        return NULL;
    }
    uint8_t *base = m;
    memcpy(base, img + sizeof hdr, hdr.size);
    /* this process's C library functions into the slots the stubs jump through */
    uintptr_t fns[SJ_KSYM_COUNT] = {(uintptr_t)&memcpy, (uintptr_t)&memmove, (uintptr_t)&memset};
    for (uint32_t i = 0; i < hdr.nslots; i++) {
        uint64_t v = fns[hdr.slot_sym[i]];
        memcpy(base + hdr.slot_off[i], &v, 8);
    }
    if (mprotect(m, map_len, PROT_READ | PROT_EXEC) != 0) {
        munmap(m, map_len);
        free(e);
        return NULL;
    }
    e->next = NULL;
    e->refs = 1;
    e->map = m;
    e->map_len = map_len;
    e->code_bytes = hdr.size;
    uintptr_t entry = (uintptr_t)(base + hdr.entry);
    e->fn = (sj_loop_fn)entry; /* data -> code through an integer: the only way in C */
    e->klen = klen;
    memcpy(e->key, key, klen);
    e->hash = key_hash(key, klen);
    return e;
}

/* Is the field at *p (len bytes, within end) equal to want? Advances *p. */
static bool field_is(const uint8_t **p, uint32_t len, const void *want, size_t want_len) {
    bool eq = len == want_len && memcmp(*p, want, want_len) == 0;
    *p += len;
    return eq;
}

/* Removes name from the directory if it is still the file we looked at. */
static void remove_if_same(int dfd, const char *name, const struct stat *seen) {
    struct stat now;
    if (fstatat(dfd, name, &now, AT_SYMLINK_NOFOLLOW) != 0) return;
    if (!seen || (now.st_dev == seen->st_dev && now.st_ino == seen->st_ino)) unlinkat(dfd, name, 0);
}

/* Reads and checks the file of key; NULL on a miss or a refusal (file removed). */
static sj_kimage *load_file(int dfd, const uint8_t *key, size_t klen) {
    char name[40];
    sj_kcache_file_name(key, klen, name);
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        if (errno == ENOENT) {
            count(&st_misses, 1);
        } else if (errno == ELOOP) { /* a symbolic link: never followed */
            count(&st_rejects, 1);
            remove_if_same(dfd, name, NULL);
        } else {
            count(&st_misses, 1);
        }
        return NULL;
    }
    struct stat st;
    uint8_t *buf = NULL;
    sj_kimage *e = NULL;
    bool statted = fstat(fd, &st) == 0;
    bool ok = statted && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
              !(st.st_mode & (S_IWGRP | S_IWOTH)) && (uint64_t)st.st_size >= sizeof(file_hdr) &&
              (uint64_t)st.st_size <= MAX_FILE;
    size_t size = ok ? (size_t)st.st_size : 0;
    if (ok) ok = (buf = malloc(size + 1)) != NULL; /* +1: one byte past tells a grown file */
    size_t got = 0;
    while (ok && got <= size) {
        ssize_t r = read(fd, buf + got, size + 1 - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    ok = ok && got == size; /* truncated (or grown) meanwhile: refused, never a SIGBUS */
    file_hdr hdr;
    if (ok) {
        memcpy(&hdr, buf, sizeof hdr);
        uint64_t body =
            (uint64_t)hdr.build_len + hdr.llvm_len + hdr.cpu_len + hdr.key_len + hdr.image_len;
        ok = memcmp(hdr.magic, FILE_MAGIC, 8) == 0 && hdr.format == SJ_KCACHE_FORMAT &&
             body == size - sizeof hdr;
    }
    if (ok) {
        hash128 h;
        h_init(&h);
        h_add(&h, buf + sizeof hdr, size - sizeof hdr);
        uint64_t sum[2];
        h_done(&h, sum);
        ok = sum[0] == hdr.sum[0] && sum[1] == hdr.sum[1];
    }
    if (ok) { /* the full identity and plan key, byte for byte */
        const uint8_t *p = buf + sizeof hdr;
        const char *cpu = sj_kcache_cpu();
        ok = field_is(&p, hdr.build_len, SEGJIT_BUILD_ID, strlen(SEGJIT_BUILD_ID));
        ok = field_is(&p, hdr.llvm_len, SEGJIT_LLVM_VERSION, strlen(SEGJIT_LLVM_VERSION)) && ok;
        ok = field_is(&p, hdr.cpu_len, cpu, strlen(cpu)) && ok;
        ok = field_is(&p, hdr.key_len, key, klen) && ok;
        if (ok) e = map_image(p, hdr.image_len, key, klen);
        ok = e != NULL;
    }
    if (ok) futimens(fd, NULL); /* recently used: evicted last */
    close(fd);
    free(buf);
    if (!ok) {
        count(&st_rejects, 1);
        if (statted) remove_if_same(dfd, name, &st);
    }
    return e;
}

sj_kimage *sj_kcache_load(const uint8_t *key, size_t klen, sj_loop_fn *fn) {
    sj_kimage *e = sj_kcache_find(key, klen, fn);
    if (e) return e;
    uint64_t t0 = sj_now_ns();
    int dfd = open_dir(false);
    if (dfd < 0) {
        count(&st_misses, 1);
        return NULL;
    }
    sj_kimage *fresh = load_file(dfd, key, klen);
    close(dfd);
    if (!fresh) return NULL;
    pthread_mutex_lock(&g_lock);
    e = table_find(fresh->hash, key, klen); /* another thread may have loaded it meanwhile */
    if (e) {
        e->refs++;
    } else {
        fresh->next = g_table[fresh->hash % TABLE_BUCKETS];
        g_table[fresh->hash % TABLE_BUCKETS] = fresh;
        e = fresh;
        fresh = NULL;
    }
    pthread_mutex_unlock(&g_lock);
    if (fresh) unmap(fresh);
    count(&st_hits, 1);
    count(&st_ns_load, sj_now_ns() - t0);
    *fn = e->fn;
    return e;
}

/* ---- storing and the size bound ---- */

/* SEGJIT_CACHE_BYTES: digits with an optional K, M or G; else the default. */
static uint64_t limit_bytes(void) {
    const char *e = getenv("SEGJIT_CACHE_BYTES");
    if (!e || *e < '0' || *e > '9') return SJ_KCACHE_BYTES_DEFAULT;
    char *end = NULL;
    unsigned long long v = strtoull(e, &end, 10);
    unsigned shift = *end == 'K' ? 10 : *end == 'M' ? 20 : *end == 'G' ? 30 : 0;
    if (shift) end++;
    if (*end || v > (UINT64_MAX >> shift)) return SJ_KCACHE_BYTES_DEFAULT;
    return (uint64_t)v << shift;
}

static bool is_entry_name(const char *n) {
    size_t len = strlen(n);
    if (len != 32 + strlen(FILE_SUFFIX) || strcmp(n + 32, FILE_SUFFIX) != 0) return false;
    for (size_t i = 0; i < 32; i++)
        if (!((n[i] >= '0' && n[i] <= '9') || (n[i] >= 'a' && n[i] <= 'f'))) return false;
    return true;
}

typedef struct dent {
    struct timespec mtime;
    uint64_t bytes;
    char name[40];
} dent;

static int dent_older(const void *a, const void *b) {
    const dent *x = a, *y = b;
    if (x->mtime.tv_sec != y->mtime.tv_sec) return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
    return (x->mtime.tv_nsec > y->mtime.tv_nsec) - (x->mtime.tv_nsec < y->mtime.tv_nsec);
}

/* Removes the least recently used entries until the directory's entries fit the bound,
 * and temporary files left for an hour by writers that died. */
static void evict(int dfd) {
    int fd2 = dup(dfd);
    if (fd2 < 0) return;
    DIR *d = fdopendir(fd2);
    if (!d) {
        close(fd2);
        return;
    }
    dent *v = NULL;
    size_t n = 0, cap = 0;
    uint64_t total = 0;
    time_t now = time(NULL);
    struct dirent *de;
    while ((de = readdir(d))) {
        struct stat st;
        bool entry = is_entry_name(de->d_name);
        if (!entry && strncmp(de->d_name, ".tmp-", 5) != 0) continue;
        if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        if (!entry) {
            if (now - st.st_mtime > 3600) unlinkat(dfd, de->d_name, 0);
            continue;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 256;
            dent *nv = realloc(v, nc * sizeof *nv);
            if (!nv) break;
            v = nv;
            cap = nc;
        }
        v[n].mtime = st.st_mtim;
        v[n].bytes = (uint64_t)st.st_blocks * 512u > (uint64_t)st.st_size
                         ? (uint64_t)st.st_blocks * 512u
                         : (uint64_t)st.st_size;
        memcpy(v[n].name, de->d_name, strlen(de->d_name) + 1);
        total += v[n].bytes;
        n++;
    }
    closedir(d);
    uint64_t limit = limit_bytes();
    if (total > limit && n) {
        qsort(v, n, sizeof *v, dent_older);
        for (size_t i = 0; i < n && total > limit; i++)
            if (unlinkat(dfd, v[i].name, 0) == 0) total -= v[i].bytes;
    }
    free(v);
}

static bool write_all(int fd, const void *p, size_t n) {
    const uint8_t *s = p;
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        s += w;
        n -= (size_t)w;
    }
    return true;
}

bool sj_kcache_store(const uint8_t *key, size_t klen, const uint8_t *image, size_t len) {
    const char *cpu = sj_kcache_cpu();
    if (!cpu[0] || len > SJ_KIMAGE_MAX_BYTES + sizeof(sj_kimage_hdr) || klen > MAX_FILE / 2)
        return false;
    int dfd = open_dir(true);
    if (dfd < 0) return false;
    file_hdr hdr;
    memset(&hdr, 0, sizeof hdr);
    memcpy(hdr.magic, FILE_MAGIC, 8);
    hdr.format = SJ_KCACHE_FORMAT;
    hdr.build_len = (uint32_t)strlen(SEGJIT_BUILD_ID);
    hdr.llvm_len = (uint32_t)strlen(SEGJIT_LLVM_VERSION);
    hdr.cpu_len = (uint32_t)strlen(cpu);
    hdr.key_len = (uint32_t)klen;
    hdr.image_len = (uint32_t)len;
    const void *parts[] = {SEGJIT_BUILD_ID, SEGJIT_LLVM_VERSION, cpu, key, image};
    const size_t lens[] = {hdr.build_len, hdr.llvm_len, hdr.cpu_len, klen, len};
    hash128 h;
    h_init(&h);
    size_t body = 0;
    for (size_t i = 0; i < 5; i++)
        body += lens[i];
    uint8_t *all = malloc(sizeof hdr + body);
    bool ok = all != NULL;
    if (ok) {
        size_t off = sizeof hdr;
        for (size_t i = 0; i < 5; i++) {
            memcpy(all + off, parts[i], lens[i]);
            off += lens[i];
        }
        h_add(&h, all + sizeof hdr, body);
        h_done(&h, hdr.sum);
        memcpy(all, &hdr, sizeof hdr);
    }
    char name[40], tmp[96];
    sj_kcache_file_name(key, klen, name);
    uint64_t seq = atomic_fetch_add(&g_seq, 1);
    snprintf(tmp, sizeof tmp, ".tmp-%ld-%llu-%.16s", (long)getpid(), (unsigned long long)seq, name);
    int fd = ok ? openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600) : -1;
    ok = fd >= 0;
    if (ok) {
        ok = write_all(fd, all, sizeof hdr + body);
        ok = close(fd) == 0 && ok;
        /* rename is atomic: readers see the old file, the new one, or none; two writers
         * of one entry both write whole files and the last rename wins */
        if (ok) ok = renameat(dfd, tmp, dfd, name) == 0;
        if (!ok) unlinkat(dfd, tmp, 0);
    }
    free(all);
    if (ok) {
        count(&st_stores, 1);
        if (atomic_fetch_add(&g_stores_paced, 1) % EVICT_EVERY == 0) evict(dfd);
    }
    close(dfd);
    return ok;
}

void sj_kcache_trim(void) {
    int dfd = open_dir(false);
    if (dfd < 0) return;
    evict(dfd);
    close(dfd);
}

void sj_kcache_count_skip(void) {
    count(&st_skips, 1);
}

void sj_kcache_stats_get(sj_kcache_stats *out) {
    out->hits = atomic_load(&st_hits);
    out->misses = atomic_load(&st_misses);
    out->stores = atomic_load(&st_stores);
    out->rejects = atomic_load(&st_rejects);
    out->skips = atomic_load(&st_skips);
    out->ns_load = atomic_load(&st_ns_load);
}

void sj_kcache_stats_reset(void) {
    atomic_store(&st_hits, 0);
    atomic_store(&st_misses, 0);
    atomic_store(&st_stores, 0);
    atomic_store(&st_rejects, 0);
    atomic_store(&st_skips, 0);
    atomic_store(&st_ns_load, 0);
}
