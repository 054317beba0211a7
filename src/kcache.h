/* src/kcache.h: the persistent kernel cache: images of compiled kernels (kimage.h) kept
 * in files, one per plan, and loaded by the core itself, without the JIT or LLVM. Where
 * it lives, what it trusts and why: kcache.c and docs/JIT.md, "Persistent cache". The
 * tier logic that asks it stays in kernel.c. */
#ifndef SEGJIT_KCACHE_H
#define SEGJIT_KCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plan.h"

/* File format version; files of another are stale. */
#define SJ_KCACHE_FORMAT 1u
/* Default bound on the cache directory's files (SEGJIT_CACHE_BYTES overrides it). */
#define SJ_KCACHE_BYTES_DEFAULT (UINT64_C(64) << 20)

/* A loaded image: read-only executable memory shared by the kernels of one plan. */
typedef struct sj_kimage sj_kimage;

typedef struct sj_kcache_stats {
    uint64_t hits;    /* kernels served from a file or an image already loaded */
    uint64_t misses;  /* lookups with no file */
    uint64_t stores;  /* images written */
    uint64_t rejects; /* files or directories refused (trust rules, corrupt, stale): removed */
    uint64_t skips;   /* compiled code the JIT could not make an image of (not persisted) */
    uint64_t ns_load; /* time reading, checking and mapping files that hit */
} sj_kcache_stats;

/* Whether the process uses the cache (read once): off for secure (setuid/setgid)
 * processes, with SEGJIT_CACHE=off (or 0, no), without the JIT, off x86-64 Linux, and
 * when SEGJIT_JIT_PASSES or SEGJIT_DUMP ask the JIT for a compile of their own. */
bool sj_kcache_enabled(void);

/* The decision above, as a function of its inputs (for tests): writes the directory to
 * use into buf and returns true, or returns false when the cache is off. cache:
 * SEGJIT_CACHE; dir: SEGJIT_CACHE_DIR; xdg: XDG_CACHE_HOME; home: HOME (NULL: unset). */
bool sj_kcache_choose_dir(bool secure, const char *cache, const char *dir, const char *xdg,
                          const char *home, char *buf, size_t n);
/* getauxval(AT_SECURE): a setuid or setgid process, or one with file capabilities. */
bool sj_kcache_secure_process(void);

/* An image of this plan key already loaded in the process (a new reference), or NULL. */
sj_kimage *sj_kcache_find(const uint8_t *key, size_t klen, sj_loop_fn *fn);
/* The same, else from the cache directory: a miss or a refused file gives NULL. */
sj_kimage *sj_kcache_load(const uint8_t *key, size_t klen, sj_loop_fn *fn);
/* Bytes of the image's code (for statistics). */
uint64_t sj_kcache_image_bytes(const sj_kimage *im);
/* Drops one reference; the last one unmaps the image. */
void sj_kcache_release(sj_kimage *im);
/* Writes the image (kimage.h bytes, as the JIT made them) for the plan key; returns
 * whether a file was written. Bounds the directory's size now and then. */
bool sj_kcache_store(const uint8_t *key, size_t klen, const uint8_t *image, size_t len);
/* Counts compiled code that was not persisted (the JIT gave no image). */
void sj_kcache_count_skip(void);
/* The file name (in the cache directory) of a plan key: 32 hex digits and ".sjk". */
void sj_kcache_file_name(const uint8_t *key, size_t klen, char out[40]);
/* The identity the files carry besides the plan key, this build's (build id, LLVM
 * version, CPU as the OS reports it). */
const char *sj_kcache_build_id(void);
const char *sj_kcache_llvm_version(void);
const char *sj_kcache_cpu(void);

/* Bounds the cache directory now (what a store does every 64th time): least recently
 * used entries removed until the files fit SEGJIT_CACHE_BYTES (default 64 MiB). */
void sj_kcache_trim(void);

void sj_kcache_stats_get(sj_kcache_stats *out);
void sj_kcache_stats_reset(void);

#endif
