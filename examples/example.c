/* examples/example.c: a short tour of the segjit API: parse a layout, allocate it in
 * an arena, reach a field through a path, an accessor and a view, and read the errors
 * the checks report.
 * README.md embeds this file verbatim (the ctest readme_example keeps them equal). */
#include <stdio.h>
#include <stdlib.h>

#include <segjit/accessor.h>
#include <segjit/layout.h>
#include <segjit/segment.h>
#include <segjit/status.h>
#include <segjit/view.h>

/* Every fallible call returns a status and fills an sj_error with one line. */
#define TRY(call)                                                                                  \
    do {                                                                                           \
        if ((call) != SJ_OK) {                                                                     \
            fprintf(stderr, "%s: %s: %s\n", #call, sj_status_name(err.status), err.message);       \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

int main(void) {
    sj_error err = {0};

    /* A layout from a C-like description (C padding rules), and a sequence of four. */
    sj_layout *point = NULL, *points = NULL;
    TRY(sj_layout_parse_c("struct point { i32 x; i32 y; f64 w; }", &point, &err));
    TRY(sj_layout_sequence(4, point, &points, &err));

    char *text = NULL;
    TRY(sj_layout_print(points, &text, &err));
    printf("layout: %s, %llu bytes\n", text, (unsigned long long)sj_layout_size(points));
    free(text);

    /* Zeroed memory for the four points, owned by an arena. */
    sj_arena arena;
    sj_segment seg;
    TRY(sj_arena_open(SJ_ARENA_CONFINED, &arena, &err));
    TRY(sj_arena_allocate_layout(arena, points, &seg, &err));

    /* A path with one free index: the y of every point. */
    sj_path *y = NULL;
    TRY(sj_path_parse(points, "[*].y", &y, &err));
    for (int64_t i = 0; i < 4; i++) {
        sj_value v = {.i32 = (int32_t)(10 * i)};
        TRY(sj_set_path(&seg, y, 0, &i, 1, v, &err));
    }
    int64_t idx = 2;
    sj_value v;
    TRY(sj_get_path(&seg, y, 0, &idx, 1, &v, &err));
    printf("points[2].y = %d\n", (int)v.i32);

    /* An accessor prepares a path once, and each call checks only what depends on the
     * call. A leading [*] on the record itself runs over the records the segment holds. */
    sj_accessor *ay = NULL;
    TRY(sj_accessor_new(point, "[*].y", &ay, &err));
    int64_t n = (int64_t)(sj_segment_size(&seg) / sj_layout_size(point)), sum = 0;
    for (int64_t i = 0; i < n; i++) {
        int32_t yi;
        TRY(sj_accessor_get_i32(ay, &seg, 0, &i, 1, &yi, &err));
        sum += yi;
    }
    printf("sum of y through an accessor: %lld\n", (long long)sum);

    /* A view checks a range once and holds its arena; a field binds the accessor to it.
     * Its static inline reads check only the index, so this loop compiles as the
     * unchecked one; a failed read would return 0 and be reported by sj_field_status. */
    sj_view view;
    sj_field fy;
    TRY(sj_view_open(&seg, 0, -1, SJ_VIEW_READ, &view, &err));
    TRY(sj_view_field(&view, ay, NULL, 0, &fy, &err));
    int64_t vsum = 0;
    for (int64_t i = 0; i < sj_field_count(&fy); i++)
        vsum += sj_field_get_i32(&fy, i);
    TRY(sj_field_status(&fy, &err));
    printf("sum of y through a view: %lld\n", (long long)vsum);
    sj_status busy = sj_arena_close(arena, &err); /* refused: the view is open */
    printf("close with a view open: %s: %s\n", sj_status_name(busy), err.message);
    TRY(sj_view_close(&view, &err));
    if (busy != SJ_E_BUSY) return 1;

    /* Checks report instead of crashing: an i32 read just past the end. */
    int64_t end = (int64_t)sj_segment_size(&seg);
    sj_status st = sj_get(&seg, sj_path_leaf(y), end, &v, &err);
    printf("read at offset %lld: %s: %s\n", (long long)end, sj_status_name(st), err.message);
    if (st != SJ_E_BOUNDS) return 1;

    /* Once the arena is closed, its segments answer SJ_E_CLOSED, never a stale read. */
    TRY(sj_arena_close(arena, &err));
    st = sj_get_path(&seg, y, 0, &idx, 1, &v, &err);
    printf("read after close: %s: %s\n", sj_status_name(st), err.message);
    if (st != SJ_E_CLOSED) return 1;

    sj_accessor_free(ay);
    sj_path_free(y);
    sj_layout_unref(points);
    sj_layout_unref(point);
    return 0;
}
