/* tools/cmd_convert.c: `segjit convert`: records of one layout into another, through a
 * conversion kernel, in bounded memory; OUT replaced atomically, signals and SIGBUS answered.
 * Where records are in IN belongs to tools/records.c. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkstemp, realpath, sigaction, O_CLOEXEC under -std=c11 */
#endif

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tool.h"

/* Default input window of `convert`: this many bytes of whole records are mapped at once. */
#define DEFAULT_WINDOW ((int64_t)64 << 20)

void help_convert(void) {
    fputs("usage: segjit convert --from LAYOUT --to LAYOUT IN OUT [OPTIONS]\n"
          "\n"
          "Converts the file IN, a sequence of --from records, into OUT, a sequence of --to\n"
          "records: fields matched by name (nested), byte order and widths converted,\n"
          "destination padding zeroed. A file is a sequence of records (SEMANTICS 2.4): each\n"
          "layout's size must be a multiple of its alignment (else add tail padding or declare\n"
          "it packed); this, and whether a regular IN holds the records asked for, is decided\n"
          "before anything is written, so the outcome never depends on --window. Records are\n"
          "read in windows into an aligned buffer, so files larger than memory convert in\n"
          "bounded memory. IN may be - (standard input) or a pipe; there a truncated last\n"
          "record is found only when reached. Errors name the record (counted from 0) and its\n"
          "byte offset in IN. OUT is written to a temporary file in its directory and renamed\n"
          "into place only on success: a failed or interrupted conversion leaves an existing\n"
          "OUT as it was (a kill -9 may leave the temporary file .OUT.segjit-XXXXXX behind).\n"
          "OUT may be - for standard output; it is always a dense sequence of --to records.\n"
          "\n"
          "options:\n"
          "  --from LAYOUT      record layout of IN\n"
          "  --to LAYOUT        record layout of OUT\n"
          "  --lossy            allow narrowing and float<->integer conversions\n"
          "  --zero-unmatched   zero --to fields that have no --from field (else an error)\n"
          "  --window SIZE      bytes of records held at once, K/M/G suffixes (default "
          "64M)\n"
          "  --force            replace OUT even when it is read-only (without it a read-only\n"
          "                     OUT is refused; its mode is kept)\n" HELP_PLACE "\n"
          "A progress bar is shown on stderr when it is a terminal. With SEGJIT_REPORT_RSS=1\n"
          "the peak resident set size is printed to stderr at the end.\n"
          "\n"
          "example:\n"
          "  segjit convert --from 'struct { u32 id; f64 v; }' \\\n"
          "                 --to 'packed struct { be u64 id; be f64 v; }' in.bin out.bin\n",
          stdout);
}

/* ---- convert ---- */

/* The temporary output file, unlinked by the signal handler while `temp_live` is set. */
static char temp_path[PATH_MAX + 64];
static volatile sig_atomic_t temp_live;

static void on_fatal_signal(int sig) {
    if (temp_live) unlink(temp_path);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* SIGBUS: a mapped input shrank under us (another process truncated it while it was being
 * read). The tool owns the process, so it answers as for any failed operation: one line
 * on stderr, no partial OUT left behind, exit status 1. */
static void on_sigbus(int sig) {
    (void)sig;
    if (temp_live) unlink(temp_path);
    static const char msg[] =
        "SJ_E_BOUNDS: an input file shrank while it was being read (truncated "
        "by another process?)\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)w;
    _exit(1);
}

void install_sigbus(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigbus;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, NULL);
}

static const int cleanup_signals[] = {SIGINT, SIGTERM, SIGHUP};
#define NCLEANUP (sizeof cleanup_signals / sizeof cleanup_signals[0])

static void install_cleanup(struct sigaction old[NCLEANUP]) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < NCLEANUP; i++)
        sigaction(cleanup_signals[i], &sa, &old[i]);
}

static void restore_cleanup(const struct sigaction old[NCLEANUP]) {
    for (size_t i = 0; i < NCLEANUP; i++)
        sigaction(cleanup_signals[i], &old[i], NULL);
}

static void block_cleanup(bool block, sigset_t *saved) {
    if (block) {
        sigset_t s;
        sigemptyset(&s);
        for (size_t i = 0; i < NCLEANUP; i++)
            sigaddset(&s, cleanup_signals[i]);
        sigprocmask(SIG_BLOCK, &s, saved);
    } else {
        sigprocmask(SIG_SETMASK, saved, NULL);
    }
}

static void human_bytes(uint64_t b, char *buf, size_t n) {
    const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)b;
    size_t u = 0;
    while (v >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1024;
        u++;
    }
    snprintf(buf, n, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

/* Redrawn only when the percentage changes, so small windows do not flood the terminal. */
static void progress(uint64_t done, uint64_t total, unsigned *last) {
    enum { WIDTH = 30 };
    unsigned pct = total ? (unsigned)(done * 100 / total) : 100;
    if (pct == *last) return;
    *last = pct;
    unsigned fill = total ? (unsigned)(done * WIDTH / total) : WIDTH;
    char bar[WIDTH + 1], a[32], b[32];
    for (unsigned i = 0; i < WIDTH; i++)
        bar[i] = i < fill ? '#' : ' ';
    bar[WIDTH] = '\0';
    human_bytes(done, a, sizeof a);
    human_bytes(total, b, sizeof b);
    fprintf(stderr, "\rconverting %3u%% [%s] %s / %s ", pct, bar, a, b);
    fflush(stderr);
}

static void report_rss(void) {
    const char *e = getenv("SEGJIT_REPORT_RSS");
    if (!e || strcmp(e, "1") != 0) return;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmHWM:", 6) == 0) {
            unsigned long long kb = strtoull(line + 6, NULL, 10);
            fprintf(stderr, "segjit: peak RSS (VmHWM) %llu kB\n", kb);
            break;
        }
    }
    fclose(f);
}

/* Where OUT goes: a regular file (new or replaced) is written through a temporary file
 * and renamed; a device or pipe (or "-") is written directly. */
typedef struct out_target {
    char *path;   /* the file renamed into (symlinks resolved); NULL for direct output */
    int fd;       /* temporary file or direct output */
    bool direct;  /* writing straight into OUT */
    bool is_temp; /* fd is the temporary file at temp_path */
} out_target;

static int open_output(const char *out, bool force, out_target *t) {
    *t = (out_target){NULL, -1, false, false};
    if (strcmp(out, "-") == 0) {
        t->fd = STDOUT_FILENO;
        t->direct = true;
        return EXIT_OK;
    }
    struct stat sb;
    bool exists = stat(out, &sb) == 0;
    mode_t mode;
    if (exists && S_ISDIR(sb.st_mode)) return fail(SJ_E_ARG, "OUT: '%s' is a directory", out);
    /* A read-only OUT is replaced only when asked (--force): no write permission for us, or
     * no write bit at all (root may write anything). */
    if (exists && S_ISREG(sb.st_mode) && !force &&
        (access(out, W_OK) != 0 || (sb.st_mode & (S_IWUSR | S_IWGRP | S_IWOTH)) == 0))
        return fail(SJ_E_READONLY, "OUT: '%s' is read-only (mode %03o); pass --force to replace it",
                    out, (unsigned)(sb.st_mode & 0777));
    if (exists && !S_ISREG(sb.st_mode)) {
        t->fd = open(out, O_WRONLY | O_CLOEXEC);
        if (t->fd < 0) return fail(SJ_E_ARG, "OUT: cannot open '%s': %s", out, strerror(errno));
        t->direct = true;
        return EXIT_OK;
    }
    if (exists) {
        t->path = realpath(out, NULL);
        mode = sb.st_mode & 07777;
    } else {
        mode_t mask = umask(0);
        umask(mask);
        mode = 0666 & ~mask;
    }
    if (!t->path) t->path = strdup(out);
    if (!t->path) return fail(SJ_E_NOMEM, "out of memory");
    const char *slash = strrchr(t->path, '/');
    int dirlen = slash ? (int)(slash - t->path) : 0;
    const char *base = slash ? slash + 1 : t->path;
    int n = slash ? snprintf(temp_path, sizeof temp_path, "%.*s/.%s.segjit-XXXXXX", dirlen, t->path,
                             base)
                  : snprintf(temp_path, sizeof temp_path, ".%s.segjit-XXXXXX", base);
    if (n < 0 || (size_t)n >= sizeof temp_path)
        return fail(SJ_E_ARG, "OUT: path '%s' is too long", out);
    sigset_t saved;
    block_cleanup(true, &saved);
    t->fd = mkstemp(temp_path);
    int e = errno;
    if (t->fd >= 0) {
        temp_live = 1;
        t->is_temp = true;
    }
    block_cleanup(false, &saved);
    if (t->fd < 0) {
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%.*s", slash ? (dirlen ? dirlen : 1) : 1, slash ? t->path : ".");
        return fail(SJ_E_ARG, "OUT: cannot create a file in directory '%s': %s", dir, strerror(e));
    }
    fchmod(t->fd, mode);
    return EXIT_OK;
}

/* On failure: the temporary file goes, OUT stays as it was. */
static void abandon_output(out_target *t) {
    if (t->fd >= 0 && t->fd != STDOUT_FILENO) close(t->fd);
    t->fd = -1;
    if (t->is_temp) {
        unlink(temp_path);
        temp_live = 0;
        t->is_temp = false;
    }
    free(t->path);
    t->path = NULL;
}

static int commit_output(out_target *t) {
    int rc = EXIT_OK;
    if (t->direct) {
        if (t->fd != STDOUT_FILENO && close(t->fd) != 0)
            rc = fail(SJ_E_ARG, "OUT: cannot write: %s", strerror(errno));
        t->fd = -1;
        return rc;
    }
    if (fsync(t->fd) != 0 || close(t->fd) != 0) {
        t->fd = -1;
        rc = fail(SJ_E_ARG, "OUT: cannot write '%s': %s", temp_path, strerror(errno));
        abandon_output(t);
        return rc;
    }
    t->fd = -1;
    /* No signal between the rename and forgetting the temporary name. */
    sigset_t saved;
    block_cleanup(true, &saved);
    int renamed = rename(temp_path, t->path), e = errno;
    if (renamed == 0) {
        temp_live = 0;
        t->is_temp = false;
    }
    block_cleanup(false, &saved);
    if (renamed != 0) {
        rc = fail(SJ_E_ARG, "OUT: cannot rename '%s' to '%s': %s", temp_path, t->path, strerror(e));
        abandon_output(t);
        return rc;
    }
    /* Make the rename durable; a failure here loses nothing already written. */
    const char *slash = strrchr(t->path, '/');
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%.*s", slash ? (slash == t->path ? 1 : (int)(slash - t->path)) : 1,
             slash ? t->path : ".");
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    free(t->path);
    t->path = NULL;
    return EXIT_OK;
}

/* The library's messages name its flags; the tool's user knows them as options. */
static void name_options(sj_error *e) {
    static const char *const map[][2] = {{"SJ_CONVERT_ZERO_UNMATCHED", "--zero-unmatched"},
                                         {"SJ_CONVERT_LOSSY", "--lossy"}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        char *at = strstr(e->message, map[i][0]);
        if (!at) continue;
        char rest[SJ_ERROR_MAX];
        snprintf(rest, sizeof rest, "%s", at + strlen(map[i][0]));
        snprintf(at, sizeof e->message - (size_t)(at - e->message), "%s%s", map[i][1], rest);
    }
}

static const char *tier_name(sj_tier t) {
    switch (t) {
        case SJ_TIER_AUTO:
            return "auto";
        case SJ_TIER_INTERP:
            return "interp";
        case SJ_TIER_JIT:
            return "jit";
        default:
            return "default";
    }
}

/* One paragraph about the command's kernel (sj_kernel_stats) into c->kernel_stats. */
static void keep_kernel_stats(ctx *c, const sj_kernel *k) {
    sj_kernel_info in;
    if (!k || sj_kernel_stats(k, &in, NULL) != SJ_OK) return;
    char code[200] = "not compiled", label[32];
    if (in.compiled)
        snprintf(code, sizeof code,
                 "compiled (%s), code ready after %.3f ms, compile %.3f ms, %" PRIu64
                 " bytes of code",
                 in.persisted_hit ? "read from the persistent cache"
                 : in.cache_hit   ? "found in the code cache"
                                  : "now",
                 (double)in.ns_jit / 1e6, (double)in.ns_compile / 1e6, in.code_bytes);
    else if (in.decline != SJ_DECLINE_NONE)
        snprintf(code, sizeof code, "declined (%s): %s", sj_decline_name(in.decline),
                 in.decline_why);
    else if (in.compile_pending)
        snprintf(code, sizeof code, "not compiled (its background compile had not ended)");
    if (in.variants_compiled || in.variants_declined) { /* loops of overlapping runs */
        size_t used = strlen(code);
        snprintf(code + used, sizeof code - used,
                 "; overlap loops: %u compiled (%" PRIu64 " bytes), %u declined",
                 in.variants_compiled, in.variants_code_bytes, in.variants_declined);
    }
    snprintf(label, sizeof label, "kernel (%s)", c->cmd);
    snprintf(c->kernel_stats, sizeof c->kernel_stats,
             "%-18s tier %s, last run %s; runs %" PRIu64 " interpreter, %" PRIu64
             " jit; fallbacks %" PRIu64 " heap, %" PRIu64 " overlap\n"
             "%-18s %s\n",
             label, tier_name(in.tier),
             in.last_tier == SJ_TIER_DEFAULT ? "none" : tier_name(in.last_tier), in.runs_interp,
             in.runs_jit, in.fallbacks_heap, in.fallbacks_overlap, "", code);
}

/* After a run over the n records in src failed: finds the first of them that fails on its
 * own (run one at a time) and puts its number (first + its index) and byte offset in IN
 * (by --skip and --stride) in front of its message in *err. */
static void name_failed_record(const sj_kernel *k, const sj_segment *src, const sj_segment *dst,
                               uint64_t n, uint64_t in_rec, uint64_t out_rec, uint64_t first,
                               const rec_place *p, sj_error *err) {
    uint64_t bad = 0;
    for (uint64_t i = 0; i < n; i++) {
        sj_args one = {src, (int64_t)(i * in_rec), dst, (int64_t)(i * out_rec), 1};
        sj_error e1 = {0};
        if (sj_kernel_run(k, &one, NULL, &e1) != SJ_OK) {
            bad = i;
            *err = e1;
            break;
        }
    }
    char msg[SJ_ERROR_MAX + 80];
    uint64_t idx = first + bad;
    int w = snprintf(msg, sizeof msg, "IN: record %" PRIu64 " at byte offset %" PRIu64 ": %s", idx,
                     p->skip + idx * (p->stride ? p->stride : in_rec), err->message);
    if (w < 0) return;
    snprintf(err->message, sizeof err->message, "%.*s", (int)sizeof err->message - 1, msg);
}

int cmd_convert(ctx *c) {
    if (!c->set[O_FROM]) return usage_error(c->cmd, "missing --from LAYOUT");
    if (!c->set[O_TO]) return usage_error(c->cmd, "missing --to LAYOUT");
    int r = want_args(c, 2, 2, c->npos == 0 ? "IN and OUT" : "OUT");
    if (r >= 0) return r;
    int64_t window = DEFAULT_WINDOW;
    if (c->set[O_WINDOW] && (!cli_parse_size(c->val[O_WINDOW], &window) || window <= 0))
        return usage_error(c->cmd, "--window must be a positive size, not '%s'", c->val[O_WINDOW]);
    rec_place place;
    if ((r = parse_place(c, &place)) >= 0) return r;
    const char *in = c->pos[0], *out = c->pos[1];
    if (strcmp(in, "-") == 0 && ((c->val[O_FROM][0] == '@' && strcmp(c->val[O_FROM], "@-") == 0) ||
                                 (c->val[O_TO][0] == '@' && strcmp(c->val[O_TO], "@-") == 0)))
        return usage_error(c->cmd, "IN and a layout cannot both come from standard input");

    sj_error err = {0};
    sj_layout *from = NULL, *to = NULL;
    sj_kernel *k = NULL;
    int rc = EXIT_OK;
    uint8_t *buf = NULL;
    rec_reader rd = {.fd = -1};
    out_target ot = {NULL, -1, false, false};
    struct sigaction old[NCLEANUP];
    bool handlers = false;

    if (cli_load_layout(c->val[O_FROM], &from, NULL, &err) != SJ_OK) {
        rc = report(&err, "--from: ");
        goto out;
    }
    if (cli_load_layout(c->val[O_TO], &to, NULL, &err) != SJ_OK) {
        rc = report(&err, "--to: ");
        goto out;
    }
    /* A file is a sequence of records: both layouts must be able to form one. Decided here,
     * once, so that no window size (and no file) can change the outcome. */
    if (rec_check_layout(from, "--from", &err) != SJ_OK ||
        rec_check_layout(to, "--to", &err) != SJ_OK) {
        rc = report(&err, NULL);
        goto out;
    }
    if ((rc = check_stride(&place, from, "--from")) != EXIT_OK) goto out;
    uint64_t in_rec = sj_layout_size(from), out_rec = sj_layout_size(to);
    unsigned flags = (c->set[O_LOSSY] ? SJ_CONVERT_LOSSY : 0u) |
                     (c->set[O_ZERO] ? SJ_CONVERT_ZERO_UNMATCHED : 0u);
    if (sj_kernel_convert(from, to, flags, &k, &err) != SJ_OK) {
        name_options(&err);
        rc = report(&err, NULL);
        goto out;
    }
    if (c->tier != SJ_TIER_DEFAULT) sj_kernel_set_tier(k, c->tier);

    /* Records per batch: whole records, at least one, the wider of the two within --window. */
    uint64_t widest = in_rec > out_rec ? in_rec : out_rec;
    uint64_t per_win = (uint64_t)window / widest;
    if (per_win == 0) per_win = 1;
    /* IN holds the records asked for: checked before anything is written. */
    if (rec_open(&rd, "IN", in, from, place, per_win * in_rec, &err) != SJ_OK) {
        rc = report(&err, NULL);
        goto out;
    }
    uint64_t out_size;
    if (rd.total != UINT64_MAX &&
        (__builtin_mul_overflow(rd.total, out_rec, &out_size) || out_size > (uint64_t)INT64_MAX)) {
        rc = fail(SJ_E_OVERFLOW, "OUT: %" PRIu64 " records of %" PRIu64 " bytes overflow 64 bits",
                  rd.total, out_rec);
        goto out;
    }
    per_win = rd.batch;
    size_t buf_size = (size_t)(per_win * out_rec);
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0) page = 4096;
    size_t oalign =
        sj_layout_align(to) > (uint64_t)page ? (size_t)sj_layout_align(to) : (size_t)page;
    if (posix_memalign((void **)&buf, oalign, buf_size ? buf_size : 1) != 0) {
        buf = NULL;
        rc = fail(SJ_E_NOMEM, "out of memory for a %zu-byte output window", buf_size);
        goto out;
    }
    /* Zeroed as batches first reach it, so that a small input (a pipe's few records) does
     * not touch a window's worth of memory. */
    size_t zeroed = 0;

    install_cleanup(old);
    handlers = true;
    rc = open_output(out, c->set[O_FORCE], &ot);
    if (rc != EXIT_OK) goto out;

    /* The bar goes to a terminal only, and not into records written to that terminal. */
    bool show =
        rd.regular && isatty(STDERR_FILENO) && !(ot.fd == STDOUT_FILENO && isatty(STDOUT_FILENO));
    uint64_t in_total = rd.total * (place.stride ? place.stride : in_rec);
    unsigned shown = UINT_MAX;
    for (;;) {
        const uint8_t *recs;
        uint64_t n, first = rd.next;
        if (rec_next(&rd, &recs, &n, &err) != SJ_OK) {
            if (show) fputc('\n', stderr);
            rc = report(&err, NULL);
            goto out;
        }
        if (n == 0) break;
        if (n * out_rec > zeroed) {
            memset(buf + zeroed, 0, (size_t)(n * out_rec) - zeroed);
            zeroed = (size_t)(n * out_rec);
        }
        sj_segment src, dst;
        sj_status st =
            sj_segment_native((void *)(uintptr_t)recs, (int64_t)(n * in_rec), &src, &err);
        if (st == SJ_OK) {
            src = sj_segment_readonly(&src);
            st = sj_segment_native(buf, (int64_t)(n * out_rec), &dst, &err);
        }
        if (st == SJ_OK) {
            sj_args args = {&src, 0, &dst, 0, (int64_t)n};
            st = sj_kernel_run(k, &args, NULL, &err);
            if (st != SJ_OK)
                name_failed_record(k, &src, &dst, n, in_rec, out_rec, first, &place, &err);
        }
        if (st != SJ_OK) {
            if (show) fputc('\n', stderr);
            rc = report(&err, NULL);
            goto out;
        }
        if (!cli_write_all(ot.fd, buf, (size_t)(n * out_rec))) {
            if (show) fputc('\n', stderr);
            rc = fail(SJ_E_ARG, "OUT: cannot write '%s': %s", ot.direct ? out : temp_path,
                      strerror(errno));
            goto out;
        }
        if (show) progress(rd.next * (place.stride ? place.stride : in_rec), in_total, &shown);
    }
    if (show) fprintf(stderr, "\r%*s\r", 72, "");
    rc = commit_output(&ot);

out:
    if (rc != EXIT_OK) abandon_output(&ot);
    free(ot.path);
    if (handlers) restore_cleanup(old);
    rec_close(&rd);
    free(buf);
    keep_kernel_stats(c, k);
    sj_kernel_free(k);
    sj_layout_unref(from);
    sj_layout_unref(to);
    if (rc == EXIT_OK) report_rss();
    return rc;
}
