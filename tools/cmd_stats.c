/* tools/cmd_stats.c: `segjit stats` and the statistics each command keeps for it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkstemp, realpath, sigaction, O_CLOEXEC under -std=c11 */
#endif

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tool.h"

void help_stats(void) {
    fputs("usage: segjit stats\n"
          "\n"
          "Prints the JIT counters (plans built, kernels compiled, the code cache, declines\n"
          "by reason, interpreter fallbacks, time per phase) and the statistics of the\n"
          "command's kernel (tiers run, compiled or declined and why, compile time)\n"
          "recorded by the last segjit command run with --keep-stats, kept in\n"
          "$XDG_CACHE_HOME/segjit/last-stats (default ~/.cache/segjit/last-stats).\n"
          "Commands write that file only when given --keep-stats, so that concurrent\n"
          "commands do not overwrite each other's statistics unasked (--stats prints a\n"
          "command's own statistics to stderr). Exits 1 when none were recorded.\n",
          stdout);
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
char *counters_text(const ctx *c) {
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
void record_stats(const char *cmd, int rc, const char *counters) {
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

int cmd_stats(ctx *c) {
    int r = want_args(c, 0, 0, "");
    if (r >= 0) return r;
    char path[PATH_MAX];
    if (!stats_path(path, sizeof path, false))
        return fail(SJ_E_ARG, "no statistics recorded: neither XDG_CACHE_HOME nor HOME is set");
    char *text = NULL;
    sj_error err;
    if (access(path, F_OK) != 0)
        return fail(
            SJ_E_ARG,
            "no statistics recorded yet ('%s' does not exist): run a command with --keep-stats",
            path);
    if (cli_read_text(path, &text, &err) != SJ_OK) return report(&err, NULL);
    fputs(text, stdout);
    free(text);
    return EXIT_OK;
}
