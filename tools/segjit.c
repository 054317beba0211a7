/* tools/segjit.c: the segjit command-line tool's entry point: the global options, the
 * table of commands and their options, help. Each command lives in tools/cmd_*.c; what they
 * share in tools/tool.c. Layout, path and kernel logic goes through the public API. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkstemp, realpath, sigaction, O_CLOEXEC under -std=c11 */
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

#ifndef SEGJIT_VERSION
#define SEGJIT_VERSION "unknown"
#endif

/* ---- Help texts ---- */

static void help_main(void) {
    fputs("usage: segjit [--tier interp|jit|auto] [--stats] [--keep-stats] COMMAND [ARGS...]\n"
          "\n"
          "Describe memory layouts and convert files of records between them.\n"
          "\n"
          "commands:\n"
          "  layout   LAYOUT                     parse a layout; print its canonical form, size,\n"
          "                                      alignment and field table\n"
          "  offset   LAYOUT PATH [INDEX...]     byte offset of a layout path\n"
          "  convert  --from L --to L IN OUT     convert a file of records between layouts\n"
          "  dump     LAYOUT FILE                print the records of a file as CSV or JSON\n"
          "  stats                               JIT counters kept by --keep-stats\n"
          "  help     [COMMAND]                  this text, or a command's help\n"
          "\n"
          "A LAYOUT is canonical text ('[i4(x)i4(y)]'), C-like declarations\n"
          "('struct p { i32 x; i32 y; char name[8]; }') or a bare type ('be u32'), given\n"
          "inline or as @FILE (@- reads stdin; at most 16 MiB of text). A file of records\n"
          "is a sequence: the record size must be a multiple of its alignment. dump and\n"
          "convert take --skip, --stride and --count to say where the records are.\n"
          "\n"
          "options (before or after the command):\n"
          "  --tier interp|jit|auto  executor of kernels (default: $SEGJIT_TIER, else auto)\n"
          "  --stats                 print the JIT counters to stderr after the command\n"
          "  --keep-stats            keep them for 'segjit stats' (one file per user, so\n"
          "                          written only when asked)\n"
          "  -h, --help              show help (segjit COMMAND --help for a command)\n"
          "  --version               print the version\n"
          "\n"
          "Exit status: 0 success, 1 failed operation, 2 bad usage. Errors are one line\n"
          "on stderr: a failed operation's starts with the status name (SJ_E_PARSE: 1:5:\n"
          "expected ...), bad usage's with the command (segjit dump: ...).\n",
          stdout);
}

/* ---- main ---- */

static const opt_spec layout_opts[] = {
    {"canonical", false, O_CANONICAL}, {"summary", false, O_SUMMARY}, {NULL, false, 0}};
static const opt_spec convert_opts[] = {
    {"from", true, O_FROM},     {"to", true, O_TO},
    {"lossy", false, O_LOSSY},  {"zero-unmatched", false, O_ZERO},
    {"window", true, O_WINDOW}, {"skip", true, O_SKIP},
    {"count", true, O_NREC},    {"stride", true, O_STRIDE},
    {"force", false, O_FORCE},  {NULL, false, 0}};
static const opt_spec dump_opts[] = {{"csv", false, O_CSV},
                                     {"json", false, O_JSON},
                                     {"limit", true, O_LIMIT},
                                     {"skip", true, O_SKIP},
                                     {"count", true, O_NREC},
                                     {"stride", true, O_STRIDE},
                                     {"fields", true, O_FIELDS},
                                     {"hex", false, O_HEX},
                                     {"int64-strings", false, O_INT64_STRINGS},
                                     {"lossless", false, O_LOSSLESS},
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
    bool pre_stats = false, pre_help = false, pre_keep = false;
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
        } else if (strcmp(a, "--keep-stats") == 0) {
            pre_keep = true;
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
        if (cmd->records && (pre_keep || c.set[O_KEEP_STATS]))
            record_stats(cmd->name, rc, counters);
        free(counters);
    }
    return rc;
}
