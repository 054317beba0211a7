/* tools/segjit.c: the segjit command-line tool: option parsing, the commands (layout,
 * offset, convert, dump, stats) and their output, exit statuses and error lines. Layout,
 * path and kernel logic does not belong here: every operation goes through the public API. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkstemp, realpath, sigaction, O_CLOEXEC under -std=c11 */
#endif

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "numtext.h"
#include "records.h"

#ifndef SEGJIT_VERSION
#define SEGJIT_VERSION "unknown"
#endif

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* Default input window of `convert`: this many bytes of whole records are mapped at once. */
#define DEFAULT_WINDOW ((int64_t)64 << 20)

/* ---- Errors ---- */

/* A failed operation: one line on stderr, `STATUS: message`. Returns EXIT_FAIL. */
static int report(const sj_error *e, const char *prefix) {
    fprintf(stderr, "%s: %s%s\n", sj_status_name(e->status), prefix ? prefix : "", e->message);
    return EXIT_FAIL;
}

static int fail(sj_status st, const char *fmt, ...) CLI_PRINTF(2, 3);
static int fail(sj_status st, const char *fmt, ...) {
    sj_error e = {.status = st};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.message, sizeof e.message, fmt, ap);
    va_end(ap);
    return report(&e, NULL);
}

/* Bad usage: one line naming the command and where its help is. Returns EXIT_USAGE. */
static int usage_error(const char *cmd, const char *fmt, ...) CLI_PRINTF(2, 3);
static int usage_error(const char *cmd, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (cmd)
        fprintf(stderr, "segjit %s: %s (see 'segjit %s --help')\n", cmd, msg, cmd);
    else
        fprintf(stderr, "segjit: %s (see 'segjit --help')\n", msg);
    return EXIT_USAGE;
}

/* A text error "L:C: ..." of `text`: the offending line and a caret under the column. */
static void show_caret(const char *text, const char *message) {
    unsigned long line = 0, col = 0;
    char *end = NULL;
    line = strtoul(message, &end, 10);
    if (end == message || *end != ':') return;
    const char *c = end + 1;
    col = strtoul(c, &end, 10);
    if (end == c || *end != ':' || line == 0 || col == 0) return;
    const char *p = text;
    for (unsigned long l = 1; l < line; l++) {
        p = strchr(p, '\n');
        if (!p) return;
        p++;
    }
    size_t len = strcspn(p, "\n");
    if (len > 0 && p[len - 1] == '\r') len--;
    fprintf(stderr, "  %.*s\n  ", (int)len, p);
    /* Columns count bytes; keep tabs so that the caret lines up under the same byte. */
    for (unsigned long i = 0; i + 1 < col && i < len; i++)
        fputc(p[i] == '\t' ? '\t' : ' ', stderr);
    for (unsigned long i = len; i + 1 < col; i++)
        fputc(' ', stderr);
    fputs("^\n", stderr);
}

/* ---- Options ---- */

enum opt_id {
    O_HELP,
    O_TIER,
    O_STATS,
    O_CANONICAL,
    O_SUMMARY,
    O_FROM,
    O_TO,
    O_LOSSY,
    O_ZERO,
    O_WINDOW,
    O_CSV,
    O_JSON,
    O_LIMIT,
    O_SKIP,
    O_NREC,
    O_STRIDE,
    O_COUNT
};

typedef struct opt_spec {
    const char *name; /* without the leading "--" */
    bool has_arg;
    enum opt_id id;
} opt_spec;

static const opt_spec global_opts[] = {
    {"help", false, O_HELP}, {"tier", true, O_TIER}, {"stats", false, O_STATS}, {NULL, false, 0}};

typedef struct ctx {
    const char *cmd;
    bool set[O_COUNT];
    const char *val[O_COUNT];
    const char **pos;
    int npos;
    sj_tier tier;
    char kernel_stats[512]; /* the command's kernel, for --stats and `segjit stats` ("": none) */
} ctx;

static const opt_spec *find_opt(const opt_spec *specs, const char *name, size_t len) {
    for (const opt_spec *o = specs; o && o->name; o++)
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0) return o;
    return NULL;
}

/* "-5" or "-0x10" is a (negative) number, not an option. */
static bool looks_numeric(const char *s) {
    return s[0] == '-' && s[1] >= '0' && s[1] <= '9';
}

static bool parse_tier(const char *t, sj_tier *out) {
    if (strcmp(t, "interp") == 0)
        *out = SJ_TIER_INTERP;
    else if (strcmp(t, "jit") == 0)
        *out = SJ_TIER_JIT;
    else if (strcmp(t, "auto") == 0)
        *out = SJ_TIER_AUTO;
    else
        return false;
    return true;
}

/* Parses argv into options and positionals. Options may come anywhere before "--".
 * Returns -1 when parsed, or an exit status (help shown: 0; bad usage: 2). */
static int parse_args(ctx *c, const opt_spec *specs, int argc, char **argv, void (*help)(void)) {
    c->pos = calloc((size_t)argc + 1, sizeof *c->pos);
    if (!c->pos) return fail(SJ_E_NOMEM, "out of memory");
    char bad[256] = "";
    bool opts_done = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (opts_done || a[0] != '-' || a[1] == '\0' || looks_numeric(a)) {
            c->pos[c->npos++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            opts_done = true;
            continue;
        }
        if (strcmp(a, "-h") == 0) {
            c->set[O_HELP] = true;
            continue;
        }
        if (a[1] != '-') {
            if (!*bad) snprintf(bad, sizeof bad, "unknown option '%s'", a);
            continue;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const opt_spec *o = find_opt(global_opts, name, len);
        if (!o) o = find_opt(specs, name, len);
        if (!o) {
            if (!*bad) snprintf(bad, sizeof bad, "unknown option '--%.*s'", (int)len, name);
            continue;
        }
        const char *v = NULL;
        if (o->has_arg) {
            if (eq) {
                v = eq + 1;
            } else if (i + 1 < argc) {
                v = argv[++i];
            } else if (!*bad) {
                snprintf(bad, sizeof bad, "option '--%s' needs an argument", o->name);
                continue;
            }
        } else if (eq && !*bad) {
            snprintf(bad, sizeof bad, "option '--%s' takes no argument", o->name);
            continue;
        }
        c->set[o->id] = true;
        c->val[o->id] = v;
    }
    if (c->set[O_HELP]) {
        help();
        return EXIT_OK;
    }
    if (*bad) return usage_error(c->cmd, "%s", bad);
    if (c->set[O_TIER] && !parse_tier(c->val[O_TIER], &c->tier))
        return usage_error(c->cmd, "--tier must be interp, jit or auto, not '%s'", c->val[O_TIER]);
    return -1;
}

/* Checks the number of positionals: between min and max (max < 0: no limit). */
static int want_args(const ctx *c, int min, int max, const char *what) {
    if (c->npos < min) return usage_error(c->cmd, "missing %s", what);
    if (max >= 0 && c->npos > max)
        return usage_error(c->cmd, "unexpected argument '%s'", c->pos[max]);
    return -1;
}

/* ---- Help texts ---- */

static void help_main(void) {
    fputs("usage: segjit [--tier interp|jit|auto] [--stats] COMMAND [ARGS...]\n"
          "\n"
          "Describe memory layouts and convert files of records between them.\n"
          "\n"
          "commands:\n"
          "  layout   LAYOUT                     parse a layout; print its canonical form, size,\n"
          "                                      alignment and field table\n"
          "  offset   LAYOUT PATH [INDEX...]     byte offset of a layout path\n"
          "  convert  --from L --to L IN OUT     convert a file of records between layouts\n"
          "  dump     LAYOUT FILE                print the records of a file as CSV or JSON\n"
          "  stats                               JIT counters of the last command\n"
          "  help     [COMMAND]                  this text, or a command's help\n"
          "\n"
          "A LAYOUT is canonical text ('[i4(x)i4(y)]') or C-like declarations\n"
          "('struct p { i32 x; i32 y; }'), given inline or as @FILE (@- reads stdin).\n"
          "\n"
          "options (before or after the command):\n"
          "  --tier interp|jit|auto  executor of kernels (default: $SEGJIT_TIER, else auto)\n"
          "  --stats                 print the JIT counters to stderr after the command\n"
          "  -h, --help              show help (segjit COMMAND --help for a command)\n"
          "  --version               print the version\n"
          "\n"
          "Exit status: 0 success, 1 failed operation, 2 bad usage. Errors are one line\n"
          "on stderr: the status name, then the message (SJ_E_PARSE: 1:5: expected ...).\n",
          stdout);
}

static void help_layout(void) {
    fputs("usage: segjit layout [--canonical | --summary] LAYOUT\n"
          "\n"
          "Parses LAYOUT (canonical text or C-like declarations, inline or @FILE) and prints\n"
          "its canonical form, size, alignment and a pahole-style table of its fields.\n"
          "A text error shows the offending line with a caret under the column.\n"
          "\n"
          "options:\n"
          "  --canonical   print only the canonical form\n"
          "  --summary     print one line: canonical form, size and alignment\n"
          "\n"
          "examples:\n"
          "  segjit layout '[2:[j8i4x4]]'\n"
          "  segjit layout --summary 'struct p { u32 id; f64 pos[3]; be i16 charge; }'\n"
          "  segjit layout @particle.h\n",
          stdout);
}

static void help_offset(void) {
    fputs("usage: segjit offset LAYOUT PATH [INDEX...]\n"
          "\n"
          "Prints the byte offset selected by PATH in LAYOUT, one INDEX per open element\n"
          "([*], [] or [s::k]) of the path, in order.\n"
          "\n"
          "example:\n"
          "  segjit offset '[[10:[10:[i4(x)i4(y)]]](data)]' 'data[*][*].x' 1 0   # 80\n",
          stdout);
}

/* The options that say where the records of an input are, shared by dump and convert. */
#define HELP_PLACE                                                                                 \
    "  --skip BYTES       records start after BYTES (a header), K/M/G suffixes\n"                  \
    "  --stride BYTES     record i starts at skip + i * BYTES (default: the record size;\n"        \
    "                     records spaced wider than the layout)\n"                                 \
    "  --count N          exactly N records (the file must hold them; bytes after them\n"          \
    "                     are ignored); default: every record to the end of the file\n"

static void help_convert(void) {
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
          "OUT may be - for standard output.\n"
          "\n"
          "options:\n"
          "  --from LAYOUT      record layout of IN\n"
          "  --to LAYOUT        record layout of OUT\n"
          "  --lossy            allow narrowing and float<->integer conversions\n"
          "  --zero-unmatched   zero --to fields that have no --from field (else an error)\n"
          "  --window SIZE      bytes of records held at once, K/M/G suffixes (default "
          "64M)\n" HELP_PLACE "\n"
          "A progress bar is shown on stderr when it is a terminal. With SEGJIT_REPORT_RSS=1\n"
          "the peak resident set size is printed to stderr at the end.\n"
          "\n"
          "example:\n"
          "  segjit convert --from 'struct { u32 id; f64 v; }' \\\n"
          "                 --to 'packed struct { be u64 id; be f64 v; }' in.bin out.bin\n",
          stdout);
}

static void help_dump(void) {
    fputs("usage: segjit dump LAYOUT FILE [OPTIONS]\n"
          "\n"
          "Prints the records of FILE (a sequence of LAYOUT records; - reads stdin) as CSV\n"
          "with a header of field paths (id,pos[0],pos[1],...), or as JSON lines.\n"
          "Padding is skipped; values are read in their byte order. Floats print as the\n"
          "shortest text that reads back to the same bits; NaN keeps its sign (-nan).\n"
          "\n"
          "options:\n"
          "  --csv              CSV (the default)\n"
          "  --json             one JSON object per record\n"
          "  --limit N          print at most N records\n" HELP_PLACE,
          stdout);
}

static void help_stats(void) {
    fputs("usage: segjit stats\n"
          "\n"
          "Prints the JIT counters (plans built, kernels compiled, the code cache, declines\n"
          "by reason, interpreter fallbacks, time per phase) and the statistics of the\n"
          "command's kernel (tiers run, compiled or declined and why, compile time)\n"
          "recorded by the last segjit command, kept in\n"
          "$XDG_CACHE_HOME/segjit/last-stats (default ~/.cache/segjit/last-stats).\n"
          "Exits 1 when none were recorded.\n",
          stdout);
}

/* ---- layout ---- */

static int print_layout_error(const sj_error *e, const char *text) {
    report(e, NULL);
    show_caret(text, e->message);
    return EXIT_FAIL;
}

static int cmd_layout(ctx *c) {
    int r = want_args(c, 1, 1, "LAYOUT");
    if (r >= 0) return r;
    if (c->set[O_CANONICAL] && c->set[O_SUMMARY])
        return usage_error(c->cmd, "--canonical and --summary exclude each other");
    sj_error err = {0};
    sj_layout *l = NULL;
    char *text = NULL, *canon = NULL, *table = NULL;
    int rc = EXIT_OK;
    if (cli_load_layout(c->pos[0], &l, &text, &err) != SJ_OK) {
        rc = text ? print_layout_error(&err, text) : report(&err, NULL);
        goto out;
    }
    if (sj_layout_print(l, &canon, &err) != SJ_OK) {
        rc = report(&err, NULL);
        goto out;
    }
    uint64_t size = sj_layout_size(l), align = sj_layout_align(l);
    if (c->set[O_CANONICAL]) {
        printf("%s\n", canon);
    } else if (c->set[O_SUMMARY]) {
        printf("%s %" PRIu64 " %" PRIu64 "\n", canon, size, align);
    } else {
        if (sj_layout_table(l, &table, &err) != SJ_OK) {
            rc = report(&err, NULL);
            goto out;
        }
        size_t tl = strlen(table);
        printf("canonical: %s\nsize:      %" PRIu64 "\nalignment: %" PRIu64 "\n\n%s%s", canon, size,
               align, table, tl && table[tl - 1] == '\n' ? "" : "\n");
    }
out:
    free(table);
    free(canon);
    free(text);
    sj_layout_unref(l);
    return rc;
}

/* ---- offset ---- */

static int cmd_offset(ctx *c) {
    int r = want_args(c, 2, -1, "LAYOUT and PATH");
    if (r >= 0) return r;
    size_t n = (size_t)c->npos - 2;
    int64_t *idx = calloc(n ? n : 1, sizeof *idx);
    if (!idx) return fail(SJ_E_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *s = c->pos[2 + i];
        char *end = NULL;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno || end == s || *end) {
            free(idx);
            return usage_error(c->cmd, "INDEX '%s' is not a 64-bit integer", s);
        }
        idx[i] = v;
    }
    sj_error err = {0};
    sj_layout *l = NULL;
    sj_path *p = NULL;
    int64_t off = 0;
    int rc = EXIT_OK;
    if (cli_load_layout(c->pos[0], &l, NULL, &err) != SJ_OK ||
        sj_path_parse(l, c->pos[1], &p, &err) != SJ_OK ||
        sj_path_offset(p, idx, n, &off, &err) != SJ_OK)
        rc = report(&err, NULL);
    else
        printf("%" PRId64 "\n", off);
    sj_path_free(p);
    sj_layout_unref(l);
    free(idx);
    return rc;
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

static void install_sigbus(void) {
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

static bool write_all(int fd, const uint8_t *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
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

static int open_output(const char *out, out_target *t) {
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
                 "compiled (%s), waited %.3f ms, compile %.3f ms, %" PRIu64 " bytes of code",
                 in.cache_hit ? "found in the code cache" : "now", (double)in.ns_jit / 1e6,
                 (double)in.ns_compile / 1e6, in.code_bytes);
    else if (in.decline != SJ_DECLINE_NONE)
        snprintf(code, sizeof code, "declined (%s): %s", sj_decline_name(in.decline),
                 in.decline_why);
    snprintf(label, sizeof label, "kernel (%s)", c->cmd);
    snprintf(c->kernel_stats, sizeof c->kernel_stats,
             "%-18s tier %s, last run %s; runs %" PRIu64 " interpreter, %" PRIu64
             " jit; fallbacks %" PRIu64 " heap, %" PRIu64 " overlap\n"
             "%-18s %s\n",
             label, tier_name(in.tier),
             in.last_tier == SJ_TIER_DEFAULT ? "none" : tier_name(in.last_tier), in.runs_interp,
             in.runs_jit, in.fallbacks_heap, in.fallbacks_overlap, "", code);
}

/* --skip, --stride and --count into *p (stride 0: the record size). Returns -1 when
 * parsed, else a usage exit status. */
static int parse_place(ctx *c, rec_place *p) {
    *p = (rec_place){0, 0, -1};
    int64_t v;
    if (c->set[O_SKIP]) {
        if (!cli_parse_size(c->val[O_SKIP], &v))
            return usage_error(c->cmd, "--skip must be a byte count, not '%s'", c->val[O_SKIP]);
        p->skip = (uint64_t)v;
    }
    if (c->set[O_STRIDE]) {
        if (!cli_parse_size(c->val[O_STRIDE], &v) || v == 0)
            return usage_error(c->cmd, "--stride must be a positive byte count, not '%s'",
                               c->val[O_STRIDE]);
        p->stride = (uint64_t)v;
    }
    if (c->set[O_NREC]) {
        const char *s = c->val[O_NREC];
        char *end = NULL;
        errno = 0;
        long long n = strtoll(s, &end, 10);
        if (errno || end == s || *end || n < 0 || *s == '-' || *s == '+')
            return usage_error(c->cmd, "--count must be a non-negative integer, not '%s'", s);
        p->count = n;
    }
    return -1;
}

/* --stride below the record size would overlap records: a failed operation (it depends on
 * the layout), reported before anything is read. */
static int check_stride(const rec_place *p, const sj_layout *l, const char *what) {
    uint64_t size = sj_layout_size(l);
    if (p->stride && p->stride < size)
        return fail(SJ_E_ARG, "--stride %" PRIu64 " is smaller than the %s record size %" PRIu64,
                    p->stride, what, size);
    uint64_t last;
    if (p->count > 0 &&
        (__builtin_mul_overflow((uint64_t)(p->count - 1), p->stride ? p->stride : size, &last) ||
         __builtin_add_overflow(last, p->skip, &last) || last > (uint64_t)INT64_MAX))
        return fail(SJ_E_OVERFLOW, "--skip, --stride and --count reach past 2^63 bytes");
    return EXIT_OK;
}

/* The first record of a failed batch that fails alone, for a message naming it. */
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

static int cmd_convert(ctx *c) {
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
    memset(buf, 0, buf_size ? buf_size : 1);

    install_cleanup(old);
    handlers = true;
    rc = open_output(out, &ot);
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
        if (!write_all(ot.fd, buf, (size_t)(n * out_rec))) {
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

/* ---- dump ---- */

/* A value as text; JSON has no NaN or infinities (null) and quotes addresses. */
static void format_value(const sj_layout *l, sj_value v, bool json, char *buf, size_t n) {
    switch (sj_layout_kind(l)) {
        case SJ_BOOL:
            snprintf(buf, n, "%s", v.z ? "true" : "false");
            return;
        case SJ_I8:
            snprintf(buf, n, "%d", (int)v.i8);
            return;
        case SJ_U8:
            snprintf(buf, n, "%u", (unsigned)v.u8);
            return;
        case SJ_CHAR:
            snprintf(buf, n, "%u", (unsigned)v.c16);
            return;
        case SJ_I16:
            snprintf(buf, n, "%d", (int)v.i16);
            return;
        case SJ_U16:
            snprintf(buf, n, "%u", (unsigned)v.u16);
            return;
        case SJ_I32:
            snprintf(buf, n, "%" PRId32, v.i32);
            return;
        case SJ_U32:
            snprintf(buf, n, "%" PRIu32, v.u32);
            return;
        case SJ_I64:
            snprintf(buf, n, "%" PRId64, v.i64);
            return;
        case SJ_U64:
            snprintf(buf, n, "%" PRIu64, v.u64);
            return;
        case SJ_ADDR:
            snprintf(buf, n, json ? "\"0x%" PRIx64 "\"" : "0x%" PRIx64, v.addr);
            return;
        case SJ_F32:
        case SJ_F64: {
            char t[NUMTEXT_MAX];
            int digits =
                sj_layout_kind(l) == SJ_F32 ? numtext_f32(v.f32, t) : numtext_f64(v.f64, t);
            snprintf(buf, n, "%s", json && digits == 0 ? "null" : t);
            return;
        }
        case SJ_KIND_COUNT:
            break;
    }
    snprintf(buf, n, "?");
}

static void csv_field(FILE *o, const char *s) {
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, o);
        return;
    }
    fputc('"', o);
    for (; *s; s++) {
        if (*s == '"') fputc('"', o);
        fputc(*s, o);
    }
    fputc('"', o);
}

static void json_string(FILE *o, const char *s) {
    fputc('"', o);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(o, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(o, "\\u%04x", *p);
        else
            fputc(*p, o);
    }
    fputc('"', o);
}

/* One record (or part of one) as JSON: structs and unions as objects, sequences as
 * arrays, padding skipped. */
static sj_status json_walk(FILE *o, const sj_segment *rec, const sj_layout *l, uint64_t off,
                           sj_error *err) {
    sj_status st = SJ_OK;
    switch (sj_layout_tag(l)) {
        case SJ_VALUE: {
            sj_value v;
            st = sj_get(rec, l, (int64_t)off, &v, err);
            if (st != SJ_OK) return st;
            char buf[64];
            format_value(l, v, true, buf, sizeof buf);
            fputs(buf, o);
            return SJ_OK;
        }
        case SJ_PADDING:
            fputs("null", o); /* only reached for a bare padding root or element */
            return SJ_OK;
        case SJ_STRUCT:
        case SJ_UNION: {
            fputc('{', o);
            bool first = true;
            for (size_t i = 0; i < sj_layout_member_count(l) && st == SJ_OK; i++) {
                const sj_layout *m = sj_layout_member(l, i);
                if (sj_layout_tag(m) == SJ_PADDING) continue;
                if (!first) fputc(',', o);
                first = false;
                const char *name = sj_layout_name(m);
                char key[32];
                if (!name) {
                    snprintf(key, sizeof key, "#%zu", i);
                    name = key;
                }
                json_string(o, name);
                fputc(':', o);
                st = json_walk(o, rec, m, off + sj_layout_member_offset(l, i), err);
            }
            fputc('}', o);
            return st;
        }
        case SJ_SEQUENCE: {
            const sj_layout *e = sj_layout_elem(l);
            uint64_t n = sj_layout_elem_count(l), es = sj_layout_size(e);
            fputc('[', o);
            for (uint64_t i = 0; i < n && st == SJ_OK; i++) {
                if (i) fputc(',', o);
                st = json_walk(o, rec, e, off + i * es, err);
            }
            fputc(']', o);
            return st;
        }
    }
    return st;
}

static int cmd_dump(ctx *c) {
    int r = want_args(c, 2, 2, c->npos == 0 ? "LAYOUT and FILE" : "FILE");
    if (r >= 0) return r;
    if (c->set[O_CSV] && c->set[O_JSON])
        return usage_error(c->cmd, "--csv and --json exclude each other");
    int64_t limit = -1;
    if (c->set[O_LIMIT]) {
        const char *s = c->val[O_LIMIT];
        char *end = NULL;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno || end == s || *end || v < 0)
            return usage_error(c->cmd, "--limit must be a non-negative integer, not '%s'", s);
        limit = v;
    }
    bool json = c->set[O_JSON];
    const char *file = c->pos[1];
    rec_place place;
    if ((r = parse_place(c, &place)) >= 0) return r;
    if (strcmp(file, "-") == 0 && strcmp(c->pos[0], "@-") == 0)
        return usage_error(c->cmd, "LAYOUT (@-) and FILE (-) cannot both come from standard input");

    sj_error err = {0};
    sj_layout *l = NULL;
    cli_leaves leaves = {0};
    rec_reader rd = {.fd = -1};
    int rc = EXIT_OK;
    if (cli_load_layout(c->pos[0], &l, NULL, &err) != SJ_OK) {
        rc = report(&err, NULL);
        goto out;
    }
    if ((rc = check_stride(&place, l, "LAYOUT")) != EXIT_OK) goto out;
    if (!json && cli_leaves_collect(l, &leaves, &err) != SJ_OK) {
        rc = report(&err, NULL);
        goto out;
    }
    uint64_t size = sj_layout_size(l);
    /* The records asked for are checked before anything is printed (in a regular file). */
    if (rec_open(&rd, "FILE", file, l, place, (uint64_t)1 << 20, &err) != SJ_OK) {
        rc = report(&err, NULL);
        goto out;
    }
    if (!json) {
        for (size_t i = 0; i < leaves.n; i++) {
            if (i) putchar(',');
            const char *p = leaves.v[i].path;
            if (!*p) p = sj_layout_name(l) ? sj_layout_name(l) : "value";
            csv_field(stdout, p);
        }
        putchar('\n');
    }
    for (int64_t done = 0; limit < 0 || done < limit;) {
        const uint8_t *recs;
        uint64_t n;
        if (rec_next(&rd, &recs, &n, &err) != SJ_OK) {
            rc = report(&err, NULL);
            goto out;
        }
        if (n == 0) break;
        for (uint64_t i = 0; i < n && (limit < 0 || done < limit); i++, done++) {
            sj_segment seg;
            if (sj_segment_native((void *)(uintptr_t)(recs + i * size), (int64_t)size, &seg,
                                  &err) != SJ_OK) {
                rc = report(&err, NULL);
                goto out;
            }
            seg = sj_segment_readonly(&seg);
            if (json) {
                if (json_walk(stdout, &seg, l, 0, &err) != SJ_OK) {
                    rc = report(&err, NULL);
                    goto out;
                }
            } else {
                for (size_t f = 0; f < leaves.n; f++) {
                    sj_value v;
                    if (sj_get(&seg, leaves.v[f].layout, (int64_t)leaves.v[f].offset, &v, &err) !=
                        SJ_OK) {
                        rc = report(&err, NULL);
                        goto out;
                    }
                    char buf[64];
                    format_value(leaves.v[f].layout, v, false, buf, sizeof buf);
                    if (f) putchar(',');
                    fputs(buf, stdout);
                }
            }
            putchar('\n');
        }
    }
out:
    rec_close(&rd);
    cli_leaves_free(&leaves);
    sj_layout_unref(l);
    return rc;
}

/* ---- stats ---- */

/* $XDG_CACHE_HOME/segjit/last-stats, else $HOME/.cache/segjit/last-stats. With `create`,
 * the directories are made. False when there is no home for it. */
static bool stats_path(char *buf, size_t n, bool create) {
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char dir[PATH_MAX];
    int k;
    if (xdg && xdg[0] == '/') {
        k = snprintf(dir, sizeof dir, "%s", xdg);
    } else if (home && home[0]) {
        k = snprintf(dir, sizeof dir, "%s/.cache", home);
    } else {
        return false;
    }
    if (k < 0 || (size_t)k >= sizeof dir) return false;
    if (create) mkdir(dir, 0700);
    size_t dl = strlen(dir);
    if (dl + sizeof "/segjit" > sizeof dir) return false;
    memcpy(dir + dl, "/segjit", sizeof "/segjit");
    if (create) mkdir(dir, 0700);
    k = snprintf(buf, n, "%s/last-stats", dir);
    return k >= 0 && (size_t)k < n;
}

/* The process's counters, then the command's kernel (if any). */
static char *counters_text(const ctx *c) {
    char *text = NULL;
    sj_error err;
    if (sj_counters_print(&text, &err) != SJ_OK) return NULL;
    size_t n = strlen(text), k = strlen(c->kernel_stats);
    char *all = realloc(text, n + k + 2);
    if (!all) return text;
    if (n && all[n - 1] != '\n') all[n++] = '\n';
    memcpy(all + n, c->kernel_stats, k + 1);
    return all;
}

/* Keeps the counters of this run for `segjit stats`; failing to is not an error. */
static void record_stats(const char *cmd, int rc, const char *counters) {
    char path[PATH_MAX], tmp[PATH_MAX + 16];
    if (!counters || !stats_path(path, sizeof path, true)) return;
    int k = snprintf(tmp, sizeof tmp, "%s.XXXXXX", path);
    if (k < 0 || (size_t)k >= sizeof tmp) return;
    int fd = mkstemp(tmp);
    if (fd < 0) return;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(tmp);
        return;
    }
    fprintf(f, "last command: segjit %s (exit status %d)\n%s", cmd, rc, counters);
    size_t cl = strlen(counters);
    if (cl && counters[cl - 1] != '\n') fputc('\n', f);
    if (fclose(f) != 0 || rename(tmp, path) != 0) unlink(tmp);
}

static int cmd_stats(ctx *c) {
    int r = want_args(c, 0, 0, "");
    if (r >= 0) return r;
    char path[PATH_MAX];
    if (!stats_path(path, sizeof path, false))
        return fail(SJ_E_ARG, "no statistics recorded: neither XDG_CACHE_HOME nor HOME is set");
    char *text = NULL;
    sj_error err;
    if (access(path, F_OK) != 0)
        return fail(SJ_E_ARG, "no statistics recorded yet ('%s' does not exist): run a command",
                    path);
    if (cli_read_text(path, &text, &err) != SJ_OK) return report(&err, NULL);
    fputs(text, stdout);
    free(text);
    return EXIT_OK;
}

/* ---- main ---- */

static const opt_spec layout_opts[] = {
    {"canonical", false, O_CANONICAL}, {"summary", false, O_SUMMARY}, {NULL, false, 0}};
static const opt_spec convert_opts[] = {{"from", true, O_FROM},
                                        {"to", true, O_TO},
                                        {"lossy", false, O_LOSSY},
                                        {"zero-unmatched", false, O_ZERO},
                                        {"window", true, O_WINDOW},
                                        {"skip", true, O_SKIP},
                                        {"count", true, O_NREC},
                                        {"stride", true, O_STRIDE},
                                        {NULL, false, 0}};
static const opt_spec dump_opts[] = {{"csv", false, O_CSV},    {"json", false, O_JSON},
                                     {"limit", true, O_LIMIT}, {"skip", true, O_SKIP},
                                     {"count", true, O_NREC},  {"stride", true, O_STRIDE},
                                     {NULL, false, 0}};
static const opt_spec no_opts[] = {{NULL, false, 0}};

typedef struct command {
    const char *name;
    const opt_spec *opts;
    int (*run)(ctx *c);
    void (*help)(void);
    bool records; /* keeps its counters for `segjit stats` */
} command;

static const command commands[] = {
    {"layout", layout_opts, cmd_layout, help_layout, true},
    {"offset", no_opts, cmd_offset, help_offset, true},
    {"convert", convert_opts, cmd_convert, help_convert, true},
    {"dump", dump_opts, cmd_dump, help_dump, true},
    {"stats", no_opts, cmd_stats, help_stats, false},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const command *find_command(const char *name) {
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0) return &commands[i];
    return NULL;
}

static int finish_stdout(int rc) {
    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (rc == EXIT_OK)
            rc = fail(SJ_E_ARG, "cannot write to standard output: %s", strerror(errno));
    }
    return rc;
}

int main(int argc, char **argv) {
    ctx c;
    memset(&c, 0, sizeof c);
    c.tier = SJ_TIER_DEFAULT;
    install_sigbus();
    /* Options before the command: the same global options. */
    int i = 1;
    bool pre_stats = false, pre_help = false;
    const char *pre_tier = NULL;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            pre_help = true;
        } else if (strcmp(a, "--version") == 0) {
            printf("segjit %s\n", SEGJIT_VERSION);
            return finish_stdout(EXIT_OK);
        } else if (strcmp(a, "--stats") == 0) {
            pre_stats = true;
        } else if (strcmp(a, "--tier") == 0) {
            if (i + 1 >= argc) return usage_error(NULL, "option '--tier' needs an argument");
            pre_tier = argv[++i];
        } else if (strncmp(a, "--tier=", 7) == 0) {
            pre_tier = a + 7;
        } else if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else {
            return usage_error(NULL, "unknown option '%s'", a);
        }
    }
    if (pre_help || (i < argc && strcmp(argv[i], "help") == 0 && i + 1 >= argc)) {
        help_main();
        return finish_stdout(EXIT_OK);
    }
    if (i >= argc)
        return usage_error(NULL, "missing command: layout, offset, convert, dump, stats or help");
    if (strcmp(argv[i], "help") == 0) {
        const command *h = find_command(argv[i + 1]);
        if (!h) return usage_error(NULL, "unknown command '%s'", argv[i + 1]);
        if (i + 2 < argc) return usage_error(NULL, "unexpected argument '%s'", argv[i + 2]);
        h->help();
        return finish_stdout(EXIT_OK);
    }
    const command *cmd = find_command(argv[i]);
    if (!cmd) return usage_error(NULL, "unknown command '%s'", argv[i]);
    c.cmd = cmd->name;
    int rc = parse_args(&c, cmd->opts, argc - i - 1, argv + i + 1, cmd->help);
    /* A --tier after the command wins over one before it. */
    if (rc < 0 && pre_tier && !c.set[O_TIER] && !parse_tier(pre_tier, &c.tier))
        rc = usage_error(NULL, "--tier must be interp, jit or auto, not '%s'", pre_tier);
    if (rc >= 0) {
        free(c.pos);
        return finish_stdout(rc);
    }
    rc = cmd->run(&c);
    rc = finish_stdout(rc);
    free(c.pos);
    if (rc != EXIT_USAGE) {
        char *counters = counters_text(&c);
        if (counters && (pre_stats || c.set[O_STATS])) {
            size_t n = strlen(counters);
            fprintf(stderr, "%s%s", counters, n && counters[n - 1] != '\n' ? "\n" : "");
        }
        if (cmd->records) record_stats(cmd->name, rc, counters);
        free(counters);
    }
    return rc;
}
