/* tools/cli.h: helpers shared by the command-line programs in tools/ (segjit, segjit-gen):
 * reading a layout argument (TEXT or @FILE) and listing the value fields of a layout.
 * Command parsing and output formats do not belong here; they live in each program. */
#ifndef SEGJIT_TOOLS_CLI_H
#define SEGJIT_TOOLS_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <segjit/segjit.h>

#if defined(__GNUC__)
#define CLI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CLI_PRINTF(a, b)
#endif

/* Reads the whole file at `path` ("-" is standard input) into a NUL-terminated malloc'd
 * string. A file holding a NUL byte is refused (SJ_E_PARSE) when the byte is read, one
 * longer than CLI_MAX_TEXT bytes when the limit is passed (SJ_E_ARG), so that /dev/zero or
 * an endless pipe stop; an unreadable one is SJ_E_ARG (the library's status for files it
 * cannot open). */
#define CLI_MAX_TEXT ((size_t)16 << 20)
/* Fills *err (status st, the formatted message) and returns st. */
sj_status cli_fail(sj_error *err, sj_status st, const char *fmt, ...) CLI_PRINTF(3, 4);

/* write(2) until all n bytes are written (EINTR retried); false on an error (errno set). */
bool cli_write_all(int fd, const uint8_t *p, size_t n);

sj_status cli_read_text(const char *path, char **out, sj_error *err);

/* A layout argument: `@FILE` reads FILE (`@-`: standard input), anything else is the text
 * itself. The text is returned in *text (caller frees) so that errors can be shown in it. */
sj_status cli_load_layout(const char *arg, sj_layout **out, char **text, sj_error *err);

/* One value field of a record: its path text (`pos[2]`, `a.b`, `#1`), its byte offset
 * in the record and its value layout (borrowed from the root layout). A text field (see
 * cli_is_text) is one leaf whose layout is the byte sequence. */
typedef struct cli_leaf {
    char *path;
    uint64_t offset;
    const sj_layout *layout;
    bool text;
} cli_leaf;

typedef struct cli_leaves {
    cli_leaf *v;
    size_t n, cap;
} cli_leaves;

/* Every value field of `root` in layout order (padding skipped, every union member
 * listed). A member whose name an earlier member of its group already has is listed by
 * index (`#3`), so that every path is unique and selects that member. More than
 * CLI_MAX_LEAVES fields is SJ_E_UNSUPPORTED. */
#define CLI_MAX_LEAVES ((size_t)1 << 22)
sj_status cli_leaves_collect(const sj_layout *root, cli_leaves *out, sj_error *err);

/* Appends the fields of `l`, found at `offset` in the record, with paths under `prefix`;
 * with `text`, text fields are one leaf each. */
sj_status cli_leaves_add(const sj_layout *l, uint64_t offset, const char *prefix, bool text,
                         cli_leaves *out, sj_error *err);

/* A text field: a sequence of one-byte integers whose element is named "char", as the
 * C-like language writes `char name[N]` (canonical `[N:b1(char)]`). */
bool cli_is_text(const sj_layout *l);
/* Whether member i's name was taken by an earlier member of l (it is then listed as #i). */
bool cli_name_taken(const sj_layout *l, size_t i, const char *name);
void cli_leaves_free(cli_leaves *l);

/* Parses a count with an optional K, M or G suffix (powers of 1024); false when the text
 * is not a non-negative integer that fits 63 bits. */
bool cli_parse_size(const char *text, int64_t *out);

#endif
