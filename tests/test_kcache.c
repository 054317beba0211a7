/* tests/test_kcache.c: the persistent kernel cache (src/kcache.c): where it lives and when
 * it is off; images stored and loaded back (C library slots patched); its trust rules
 * (foreign owner, group- or other-writable file or directory, a symbolic link, a FIFO,
 * truncated, changed or foreign bytes, another key's file) each a miss that removes the
 * file, never a crash; two processes writing one entry at once; the size bound; and, in
 * fresh child processes (this executable run with --child), that a kernel compiled once
 * is served from the file without loading libsegjit-jit or libLLVM. Each case uses a
 * temporary directory of its own. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* mkdtemp, setenv, utimensat */
#endif

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kcache.h"
#include "kimage.h"
#include "segjit/segjit.h"
#include "tier.h"

#if defined(__x86_64__) && defined(__linux__)
#define HAVE_X86_64 1
#else
#define HAVE_X86_64 0
#endif

static char g_root[256]; /* this run's temporary directory */
static char g_dir[300];  /* the cache directory of the current case */
static int g_case;

/* A fresh cache directory (not created yet: the first store makes it, 0700). */
static void new_dir(void) {
    snprintf(g_dir, sizeof g_dir, "%s/c%d", g_root, ++g_case);
    setenv("SEGJIT_CACHE_DIR", g_dir, 1);
}

/* A fake image: memset(dst, 0x5a, count) as a tail call through the memset slot, as the
 * JIT's images reach the C library (kimage.h). Returns its length; *out is malloc'd. */
static size_t fake_image(uint8_t **out) {
    static const uint8_t code[] = {
        0x48, 0x89, 0xf7,                   /* mov %rsi, %rdi (dst) */
        0xbe, 0x5a, 0x00, 0x00, 0x00,       /* mov $0x5a, %esi */
        0xe9, 0x03, 0x00, 0x00, 0x00,       /* jmp stub (13 + 3 = 16); count is already in %rdx */
        0xcc, 0xcc, 0xcc,                   /* 13..15 */
        0xff, 0x25, 0x02, 0x00, 0x00, 0x00, /* 16: jmp *slot(%rip) (22 + 2 = 24) */
        0xcc, 0xcc,                         /* 22..23 */
        0,    0,    0,    0,    0,    0,    0, 0, /* 24: the memset slot */
    };
    sj_kimage_hdr h = {SJ_KIMAGE_MAGIC, sizeof code, 0, 1, {24, 0, 0}, {SJ_KSYM_MEMSET, 0, 0}};
    uint8_t *b = malloc(sizeof h + sizeof code);
    assert_non_null(b);
    memcpy(b, &h, sizeof h);
    memcpy(b + sizeof h, code, sizeof code);
    *out = b;
    return sizeof h + sizeof code;
}

static const uint8_t k_key[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
static const uint8_t k_key2[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13};

static void path_of(const uint8_t *key, size_t klen, char *buf, size_t n) {
    char name[40];
    sj_kcache_file_name(key, klen, name);
    snprintf(buf, n, "%s/%s", g_dir, name);
}

static void store(const uint8_t *key, size_t klen) {
    uint8_t *img = NULL;
    size_t len = fake_image(&img);
    assert_true(sj_kcache_store(key, klen, img, len));
    free(img);
}

/* Loads key and runs it: true when it was a hit that filled the buffer. */
static bool load_and_run(const uint8_t *key, size_t klen) {
    sj_loop_fn fn = NULL;
    sj_kimage *im = sj_kcache_load(key, klen, &fn);
    if (!im) return false;
    uint8_t buf[40];
    memset(buf, 0, sizeof buf);
    fn(NULL, buf + 4, 32, NULL);
    for (size_t i = 0; i < sizeof buf; i++)
        assert_int_equal(buf[i], i >= 4 && i < 36 ? 0x5a : 0);
    sj_kcache_release(im);
    return true;
}

static uint64_t rejects(void) {
    sj_kcache_stats s;
    sj_kcache_stats_get(&s);
    return s.rejects;
}

static bool exists(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0;
}

#define NEED_X86_64()                                                                              \
    do {                                                                                           \
        if (!HAVE_X86_64) {                                                                        \
            print_message("skip: images are x86-64 code\n");                                       \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

/* ---- where, and when off ---- */

static void test_choose_dir(void **state) {
    (void)state;
    char b[256];
    assert_false(sj_kcache_choose_dir(true, NULL, "/x", NULL, "/home/u", b, sizeof b));
    assert_false(sj_kcache_choose_dir(false, "off", "/x", NULL, "/home/u", b, sizeof b));
    assert_false(sj_kcache_choose_dir(false, "0", "/x", NULL, "/home/u", b, sizeof b));
    assert_true(sj_kcache_choose_dir(false, "on", "/x", "/xdg", "/home/u", b, sizeof b));
    assert_string_equal(b, "/x");
    assert_true(sj_kcache_choose_dir(false, NULL, NULL, "/xdg", "/home/u", b, sizeof b));
    assert_string_equal(b, "/xdg/segjit");
    assert_true(sj_kcache_choose_dir(false, NULL, "", "rel", "/home/u", b, sizeof b));
    assert_string_equal(b, "/home/u/.cache/segjit");
    assert_false(sj_kcache_choose_dir(false, NULL, NULL, NULL, NULL, b, sizeof b));
    assert_false(sj_kcache_choose_dir(false, NULL, NULL, NULL, "/home/u", b, 4)); /* too long */
    /* this test process is not setuid: the secure decision says so */
    assert_false(sj_kcache_secure_process());
}

/* ---- store, load, and what a stored file looks like ---- */

static void test_store_and_load(void **state) {
    (void)state;
    NEED_X86_64();
    new_dir();
    store(k_key, sizeof k_key);
    struct stat st;
    assert_int_equal(stat(g_dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    char path[400];
    path_of(k_key, sizeof k_key, path, sizeof path);
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 077, 0);
    uint64_t r0 = rejects();
    assert_true(load_and_run(k_key, sizeof k_key));
    /* a second reference while the first is held shares the image */
    sj_loop_fn f1 = NULL, f2 = NULL;
    sj_kimage *a = sj_kcache_load(k_key, sizeof k_key, &f1);
    sj_kimage *b = sj_kcache_find(k_key, sizeof k_key, &f2);
    assert_non_null(a);
    assert_ptr_equal(a, b);
    assert_true(f1 == f2);
    sj_kcache_release(b);
    sj_kcache_release(a);
    assert_false(load_and_run(k_key2, sizeof k_key2)); /* never stored: a miss */
    assert_int_equal(rejects(), r0);
}

/* ---- trust rules and damaged files: each a miss, counted, the file removed ---- */

typedef void (*damage_fn)(const char *path);

static void expect_refused(damage_fn damage, bool removed) {
    new_dir();
    store(k_key, sizeof k_key);
    char path[400];
    path_of(k_key, sizeof k_key, path, sizeof path);
    damage(path);
    uint64_t r0 = rejects();
    assert_false(load_and_run(k_key, sizeof k_key));
    assert_int_equal(rejects(), r0 + 1);
    if (removed) assert_false(exists(path));
}

static void group_writable(const char *p) {
    assert_int_equal(chmod(p, 0620), 0);
}
static void other_writable(const char *p) {
    assert_int_equal(chmod(p, 0602), 0);
}
static void truncated(const char *p) {
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(truncate(p, st.st_size / 2), 0);
}
static void flip_byte_at(const char *p, off_t off) {
    int fd = open(p, O_RDWR);
    assert_true(fd >= 0);
    uint8_t b;
    assert_int_equal(pread(fd, &b, 1, off), 1);
    b ^= 0x40;
    assert_int_equal(pwrite(fd, &b, 1, off), 1);
    close(fd);
}
static void changed_last_byte(const char *p) { /* in the image's code */
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    flip_byte_at(p, st.st_size - 20);
}
static void changed_header_byte(const char *p) {
    flip_byte_at(p, 12);
}
static void symlinked(const char *p) {
    char other[450];
    snprintf(other, sizeof other, "%s.real", p);
    assert_int_equal(rename(p, other), 0);
    assert_int_equal(symlink(other, p), 0);
}
static void fifo(const char *p) { /* opened without blocking, refused as not regular */
    assert_int_equal(unlink(p), 0);
    assert_int_equal(mkfifo(p, 0600), 0);
}
static void grown(const char *p) {
    FILE *f = fopen(p, "ab");
    assert_non_null(f);
    fputc(0, f);
    fclose(f);
}
static void foreign_owner(const char *p) {
    assert_int_equal(chown(p, 12345, 12345), 0);
}
static void another_keys_file(const char *p) { /* the file of k_key2 under k_key's name */
    char other[400];
    path_of(k_key2, sizeof k_key2, other, sizeof other);
    uint8_t *img = NULL;
    size_t len = fake_image(&img);
    assert_true(sj_kcache_store(k_key2, sizeof k_key2, img, len));
    free(img);
    assert_int_equal(rename(other, p), 0);
}

static void test_group_writable_file(void **s) {
    (void)s;
    NEED_X86_64();
    expect_refused(group_writable, true);
}
static void test_other_writable_file(void **s) {
    (void)s;
    NEED_X86_64();
    expect_refused(other_writable, true);
}
static void test_truncated_file(void **s) {
    (void)s;
    NEED_X86_64();
    expect_refused(truncated, true);
}
static void test_grown_file(void **s) {
    (void)s;
    NEED_X86_64();
    expect_refused(grown, true);
}
static void test_changed_code_byte(void **s) {
    (void)s;
    NEED_X86_64();
    expect_refused(changed_last_byte, true);
}
static void test_changed_header_byte(void **s) {
    (void)s;
    NEED_X86_64();
    expect_refused(changed_header_byte, true);
}
static void test_symlink(void **s) {
    (void)s;
    NEED_X86_64();
    expect_refused(symlinked, true);
}
static void test_fifo(void **s) {
    (void)s;
    NEED_X86_64();
    expect_refused(fifo, true);
}
static void test_wrong_key(void **s) {
    (void)s;
    NEED_X86_64();
    expect_refused(another_keys_file, true);
}
static void test_foreign_owner(void **s) {
    (void)s;
    NEED_X86_64();
    if (geteuid() != 0) {
        print_message("skip: giving a file to another user needs root\n");
        skip();
    }
    expect_refused(foreign_owner, true);
}

/* An image whose header does not describe it (entry outside the code), stored with a
 * valid checksum: refused by the loader's own checks. */
static void test_bad_image_header(void **s) {
    (void)s;
    NEED_X86_64();
    new_dir();
    uint8_t *img = NULL;
    size_t len = fake_image(&img);
    sj_kimage_hdr h;
    memcpy(&h, img, sizeof h);
    /* field, value: entry outside, slot not 8-aligned, slot past the end, too many slots,
     * a slot for a function that does not exist, a wrong magic, a size of 0 */
    const uint32_t bad[][2] = {{0, 1000}, {1, 17}, {1, 32}, {2, 4}, {3, 3}, {4, 7}, {5, 0}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sj_kimage_hdr b = h;
        if (bad[i][0] == 0) b.entry = bad[i][1];
        if (bad[i][0] == 1) b.slot_off[0] = bad[i][1]; /* not 8-aligned */
        if (bad[i][0] == 2) b.nslots = bad[i][1];
        if (bad[i][0] == 3) b.slot_sym[0] = bad[i][1];
        if (bad[i][0] == 4) b.magic = bad[i][1];
        if (bad[i][0] == 5) b.size = bad[i][1];
        memcpy(img, &b, sizeof b);
        assert_true(sj_kcache_store(k_key, sizeof k_key, img, len));
        uint64_t r0 = rejects();
        assert_false(load_and_run(k_key, sizeof k_key));
        assert_int_equal(rejects(), r0 + 1);
    }
    assert_true(sj_kcache_store(k_key, sizeof k_key, img, len - 1)); /* size disagrees */
    assert_false(load_and_run(k_key, sizeof k_key));
    free(img);
}

/* A directory others may write to is not used at all (its files stay). */
static void test_writable_dir(void **s) {
    (void)s;
    NEED_X86_64();
    const mode_t modes[] = {0770, 0707, 0777};
    for (size_t i = 0; i < 3; i++) {
        new_dir();
        store(k_key, sizeof k_key);
        assert_int_equal(chmod(g_dir, modes[i]), 0);
        uint64_t r0 = rejects();
        assert_false(load_and_run(k_key, sizeof k_key));
        assert_int_equal(rejects(), r0 + 1);
        uint8_t *img = NULL;
        size_t len = fake_image(&img);
        assert_false(sj_kcache_store(k_key2, sizeof k_key2, img, len)); /* nor written */
        free(img);
        assert_int_equal(chmod(g_dir, 0700), 0);
        assert_true(load_and_run(k_key, sizeof k_key));
    }
}

/* SEGJIT_CACHE=off for every operation of the file store too. */
static void test_off_in_environment(void **s) {
    (void)s;
    NEED_X86_64();
    new_dir();
    store(k_key, sizeof k_key);
    setenv("SEGJIT_CACHE", "off", 1);
    assert_false(load_and_run(k_key, sizeof k_key));
    uint8_t *img = NULL;
    size_t len = fake_image(&img);
    assert_false(sj_kcache_store(k_key2, sizeof k_key2, img, len));
    free(img);
    unsetenv("SEGJIT_CACHE");
    assert_true(load_and_run(k_key, sizeof k_key));
}

/* Two processes writing the same entry at once (and one reading): every load is a whole
 * file or none, and no temporary file is left. */
static void test_concurrent_writers(void **s) {
    (void)s;
    NEED_X86_64();
    new_dir();
    store(k_key, sizeof k_key);
    pid_t pids[3];
    uint64_t r0 = rejects();
    for (int c = 0; c < 3; c++) {
        pids[c] = fork();
        assert_true(pids[c] >= 0);
        if (pids[c] == 0) {
            int bad = 0;
            for (int i = 0; i < 300; i++) {
                uint8_t *img = NULL;
                size_t len = fake_image(&img);
                if (c < 2 && !sj_kcache_store(k_key, sizeof k_key, img, len)) bad++;
                free(img);
                if (c == 2) {
                    sj_loop_fn fn = NULL;
                    sj_kimage *im = sj_kcache_load(k_key, sizeof k_key, &fn);
                    uint8_t buf[8] = {0};
                    if (im) {
                        fn(NULL, buf, 8, NULL);
                        bad += buf[7] != 0x5a;
                        sj_kcache_release(im);
                    }
                }
            }
            if (c == 2 && rejects() != r0) bad++; /* a reader never saw a partial file */
            _exit(bad ? 1 : 0);
        }
    }
    for (int c = 0; c < 3; c++) {
        int status = 0;
        assert_int_equal(waitpid(pids[c], &status, 0), pids[c]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    assert_true(load_and_run(k_key, sizeof k_key));
    DIR *d = opendir(g_dir);
    assert_non_null(d);
    struct dirent *de;
    int files = 0;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.' || strncmp(de->d_name, ".tmp", 4) == 0) {
            assert_true(strncmp(de->d_name, ".tmp", 4) != 0);
            files++;
        }
    closedir(d);
    assert_int_equal(files, 1);
}

/* The size bound: the least recently used files go first, until the rest fit. */
static void test_size_bound(void **s) {
    (void)s;
    NEED_X86_64();
    new_dir();
    enum { N = 40 };
    uint8_t keys[N][4];
    for (int i = 0; i < N; i++) {
        memcpy(keys[i], (uint8_t[]){9, 9, (uint8_t)i, 7}, 4);
        store(keys[i], 4);
        char path[400];
        path_of(keys[i], 4, path, sizeof path);
        struct timespec t[2] = {{1000000 + i, 0}, {1000000 + i, 0}}; /* key i used at t+i */
        assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
    }
    char path[400];
    path_of(keys[0], 4, path, sizeof path);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    uint64_t each = (uint64_t)st.st_blocks * 512 > (uint64_t)st.st_size
                        ? (uint64_t)st.st_blocks * 512
                        : (uint64_t)st.st_size;
    char limit[32];
    snprintf(limit, sizeof limit, "%" PRIu64, each * 10);
    setenv("SEGJIT_CACHE_BYTES", limit, 1);
    sj_kcache_trim();
    unsetenv("SEGJIT_CACHE_BYTES");
    for (int i = 0; i < N; i++) {
        path_of(keys[i], 4, path, sizeof path);
        assert_int_equal(exists(path), i >= N - 10); /* the 10 most recently used stay */
    }
}

/* Damage at random (seeded): a byte changed anywhere, or the file cut anywhere, is
 * always refused, never a crash. */
static void test_random_damage(void **s) {
    (void)s;
    NEED_X86_64();
    new_dir();
    char path[400];
    path_of(k_key, sizeof k_key, path, sizeof path);
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 300; i++) {
        store(k_key, sizeof k_key);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        off_t at = (off_t)(x % (uint64_t)st.st_size);
        if (i % 3 == 0)
            assert_int_equal(truncate(path, at), 0);
        else
            flip_byte_at(path, at);
        uint64_t r0 = rejects();
        assert_false(load_and_run(k_key, sizeof k_key));
        assert_int_equal(rejects(), r0 + 1);
        assert_false(exists(path));
    }
}

typedef struct loader_arg {
    int ok;
} loader_arg;

static void *loader(void *p) {
    loader_arg *a = p;
    for (int i = 0; i < 2000; i++) {
        sj_loop_fn fn = NULL;
        sj_kimage *im = sj_kcache_load(k_key, sizeof k_key, &fn);
        if (!im) continue;
        uint8_t buf[8] = {0};
        fn(NULL, buf, 8, NULL);
        a->ok += buf[0] == 0x5a;
        sj_kcache_release(im);
    }
    return NULL;
}

/* Threads loading and releasing one image: its references are counted under one lock, the
 * last release unmaps it (ASan and TSan builds judge the races). */
static void test_threads_share_images(void **s) {
    (void)s;
    NEED_X86_64();
    new_dir();
    store(k_key, sizeof k_key);
    pthread_t t[4];
    loader_arg a[4] = {{0}};
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, loader, &a[i]), 0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(a[i].ok, 2000);
    }
}

/* ---- kernels in fresh processes: a hit maps no JIT ---- */

/* The child: one JIT-tier conversion kernel run, checked, then what it mapped and the
 * counters on one line. */
static int child(void) {
    sj_error err = {0};
    sj_layout *s = NULL, *d = NULL;
    sj_kernel *k = NULL;
    if (sj_layout_parse("[i4(a)x4j8(b)s2(c)x6]", &s, &err) != SJ_OK ||
        sj_layout_parse("[1%S2(c)1%I4(a)1%J8(b)]", &d, &err) != SJ_OK ||
        sj_kernel_convert(s, d, 0, &k, &err) != SJ_OK) {
        printf("error %s\n", err.message);
        return 1;
    }
    enum { N = 100 };
    static uint8_t src[N * 24], dst[N * 14];
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (uint8_t)(i * 37 + 5);
    sj_segment a, b;
    sj_segment_native(src, sizeof src, &a, &err);
    sj_segment_native(dst, sizeof dst, &b, &err);
    sj_kernel_set_tier(k, SJ_TIER_JIT);
    sj_args args = {&a, 0, &b, 0, N};
    if (sj_kernel_run(k, &args, NULL, &err) != SJ_OK) {
        printf("error %s\n", err.message);
        return 1;
    }
    int ok = 1;
    for (int i = 0; i < N; i++) { /* c, a, b, each byte-swapped */
        const uint8_t *r = src + 24 * i, *w = dst + 14 * i;
        for (int j = 0; j < 2; j++)
            ok &= w[j] == r[16 + 1 - j];
        for (int j = 0; j < 4; j++)
            ok &= w[2 + j] == r[3 - j];
        for (int j = 0; j < 8; j++)
            ok &= w[6 + j] == r[8 + 7 - j];
    }
    sj_kernel_info info;
    sj_kernel_stats(k, &info, &err);
    sj_counters c;
    sj_counters_get(&c);
    printf("ok=%d tier=%s jit=%d llvm=%d hits=%" PRIu64 " stores=%" PRIu64 " compiled=%" PRIu64
           " persisted=%d\n",
           ok, sj_kernel_last_tier(k) == SJ_TIER_JIT ? "jit" : "interp", test_mapped("segjit-jit"),
           test_mapped("libLLVM"), c.pcache_hits, c.pcache_stores, c.kernels_compiled,
           (int)info.persisted_hit);
    sj_kernel_free(k);
    sj_layout_unref(s);
    sj_layout_unref(d);
    return 0;
}

/* Runs this executable with --child and the given SEGJIT_CACHE; its line into out. */
static void run_child(const char *cache, char *out, size_t n) {
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        if (cache)
            setenv("SEGJIT_CACHE", cache, 1);
        else
            unsetenv("SEGJIT_CACHE");
        execl("/proc/self/exe", "test_kcache", "--child", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    size_t len = 0;
    ssize_t r;
    while (len + 1 < n && (r = read(fds[0], out + len, n - 1 - len)) > 0)
        len += (size_t)r;
    out[len] = '\0';
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail_msg("child failed: %s", out);
}

static void test_hit_loads_no_jit(void **s) {
    (void)s;
    const char *why = NULL;
    if (!sj_jit_available(&why)) {
        print_message("skip: %s\n", why ? why : "no JIT");
        skip();
    }
    if (!HAVE_X86_64 || test_mapped("libc") < 0 || !sj_kcache_enabled()) {
        print_message("skip: no persistent cache on this host\n");
        skip();
    }
    new_dir();
    char line[512];
    run_child(NULL, line, sizeof line); /* compiles and stores */
    print_message("first:  %s", line);
    assert_non_null(strstr(line, "ok=1 tier=jit jit=1 "));
    assert_non_null(strstr(line, " hits=0 stores=1 compiled=1 persisted=0"));
    run_child(NULL, line, sizeof line); /* served from the file */
    print_message("second: %s", line);
    assert_non_null(
        strstr(line, "ok=1 tier=jit jit=0 llvm=0 hits=1 stores=0 compiled=0 persisted=1"));
    run_child("off", line, sizeof line); /* off: compiles again, stores nothing */
    print_message("off:    %s", line);
    assert_non_null(strstr(line, "ok=1 tier=jit jit=1 "));
    assert_non_null(strstr(line, " hits=0 stores=0 compiled=1 persisted=0"));
}

static int setup(void **s) {
    (void)s;
    const char *tmp = getenv("TMPDIR");
    snprintf(g_root, sizeof g_root, "%s/segjit-kcache-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(g_root) ? 0 : -1;
}

static int teardown(void **s) {
    (void)s;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "chmod -R u+rwx '%s' 2>/dev/null; rm -rf '%s'", g_root, g_root);
    return system(cmd) == -1 ? -1 : 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--child") == 0) return child();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_choose_dir),
        cmocka_unit_test(test_store_and_load),
        cmocka_unit_test(test_group_writable_file),
        cmocka_unit_test(test_other_writable_file),
        cmocka_unit_test(test_truncated_file),
        cmocka_unit_test(test_grown_file),
        cmocka_unit_test(test_changed_code_byte),
        cmocka_unit_test(test_changed_header_byte),
        cmocka_unit_test(test_symlink),
        cmocka_unit_test(test_fifo),
        cmocka_unit_test(test_wrong_key),
        cmocka_unit_test(test_foreign_owner),
        cmocka_unit_test(test_bad_image_header),
        cmocka_unit_test(test_writable_dir),
        cmocka_unit_test(test_off_in_environment),
        cmocka_unit_test(test_concurrent_writers),
        cmocka_unit_test(test_size_bound),
        cmocka_unit_test(test_random_damage),
        cmocka_unit_test(test_threads_share_images),
        cmocka_unit_test(test_hit_loads_no_jit),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
