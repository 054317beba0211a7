/* tools/tool.h: what the commands of the segjit tool share: exit statuses, the option
 * table and the command context, error and usage lines, option parsing, where records are
 * (--skip, --stride, --count). Each command lives in its own tools/cmd_*.c. */
#ifndef SEGJIT_TOOLS_TOOL_H
#define SEGJIT_TOOLS_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "records.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

enum opt_id {
    O_HELP,
    O_TIER,
    O_STATS,
    O_KEEP_STATS,
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
    O_FIELDS,
    O_HEX,
    O_INT64_STRINGS,
    O_LOSSLESS,
    O_FORCE,
    O_COUNT
};

typedef struct opt_spec {
    const char *name; /* without the leading "--" */
    bool has_arg;
    enum opt_id id;
} opt_spec;

typedef struct ctx {
    const char *cmd;
    bool set[O_COUNT];
    const char *val[O_COUNT];
    const char **pos;
    int npos;
    sj_tier tier;
    char kernel_stats[512]; /* the command's kernel, for --stats and `segjit stats` ("": none) */
} ctx;

/* ---- Errors and usage ---- */

/* A failed operation: one line on stderr, `STATUS: prefix message`. Returns EXIT_FAIL. */
int report(const sj_error *e, const char *prefix);
int fail(sj_status st, const char *fmt, ...) CLI_PRINTF(2, 3);
/* Bad usage: one line naming the command and where its help is. Returns EXIT_USAGE. */
int usage_error(const char *cmd, const char *fmt, ...) CLI_PRINTF(2, 3);
/* A text error "L:C: ..." of `text`: a window of the offending line and a caret. */
void show_caret(const char *text, const char *message);

/* ---- Options ---- */

bool parse_tier(const char *t, sj_tier *out);
/* Parses argv into options and positionals. Returns -1 when parsed, or an exit status
 * (help shown: 0; bad usage: 2). */
int parse_args(ctx *c, const opt_spec *specs, int argc, char **argv, void (*help)(void));
/* Checks the number of positionals: between min and max (max < 0: no limit). */
int want_args(const ctx *c, int min, int max, const char *what);
/* --skip, --stride and --count into *p; -1 when parsed, else a usage exit status. */
int parse_place(ctx *c, rec_place *p);
/* --stride below the record size, or offsets past 2^63: a failed operation. */
int check_stride(const rec_place *p, const sj_layout *l, const char *what);

/* The options that say where the records of an input are, shared by dump and convert. */
#define HELP_PLACE                                                                                 \
    "  --skip BYTES       records start after BYTES (a header), K/M/G suffixes\n"                  \
    "  --stride BYTES     record i starts at skip + i * BYTES (default: the record size;\n"        \
    "                     records spaced wider than the layout)\n"                                 \
    "  --count N          exactly N records (the file must hold them; bytes after them\n"          \
    "                     are ignored); default: every record to the end of the file\n"

/* ---- Commands (tools/cmd_*.c) ---- */

int cmd_layout(ctx *c);
int cmd_offset(ctx *c);
int cmd_convert(ctx *c);
int cmd_dump(ctx *c);
int cmd_stats(ctx *c);
void help_layout(void);
void help_offset(void);
void help_convert(void);
void help_dump(void);
void help_stats(void);

/* SIGBUS (a mapped input shrank) answered as a failed operation. */
void install_sigbus(void);
/* The process's counters and the command's kernel; kept for `segjit stats`. */
char *counters_text(const ctx *c);
void record_stats(const char *cmd, int rc, const char *counters);

#endif
