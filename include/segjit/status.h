/* segjit/status.h: status codes and the error value every fallible call fills.
 * Nothing in the library aborts or prints; a failed call returns a status and,
 * when the caller passes an sj_error, one human-readable line saying what and where. */
#ifndef SEGJIT_STATUS_H
#define SEGJIT_STATUS_H

/* Marks the library's interface: libsegjit exports these names and nothing else. */
#if defined(__GNUC__)
#define SJ_API __attribute__((visibility("default")))
#else
#define SJ_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sj_status {
    SJ_OK = 0,
    SJ_E_ARG,         /* bad size, count, alignment value, malformed layout */
    SJ_E_PATH,        /* bad layout path: unknown member, wrong element kind, ... */
    SJ_E_PARSE,       /* text malformed (message carries line:column) */
    SJ_E_BOUNDS,      /* offset, index or count outside the segment or bound */
    SJ_E_ALIGN,       /* misaligned access or copy (SEMANTICS rule 3.3) */
    SJ_E_READONLY,    /* write through a read-only segment */
    SJ_E_CLOSED,      /* the segment's arena is closed */
    SJ_E_THREAD,      /* confined segment touched from another thread */
    SJ_E_UNSUPPORTED, /* operation not defined for this layout or segment */
    SJ_E_OVERFLOW,    /* 64-bit overflow in size or offset arithmetic */
    SJ_E_NOMEM,       /* allocation failed */
    SJ_E_BUSY,        /* arena close refused: a view of it is open */
    SJ_STATUS_COUNT
} sj_status;

#define SJ_ERROR_MAX 320

/* Filled by a failing call; status is SJ_OK and message empty after success
 * only if the caller cleared it (calls that succeed leave it untouched). */
typedef struct sj_error {
    sj_status status;
    char message[SJ_ERROR_MAX];
} sj_error;

/* "SJ_OK", "SJ_E_ARG", ...; "SJ_E_?" for a value outside the enum. */
SJ_API const char *sj_status_name(sj_status status);

#ifdef __cplusplus
}
#endif
#endif
