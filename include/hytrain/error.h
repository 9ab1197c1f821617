/*
 * Error codes and the HT_CHECK family.
 *
 * Every function that can fail returns int: 0 on success, a negative HT_E* code
 * on failure. The first failure on a thread records a one-line message that
 * names the input (file, line:column, key, row, rank) and what was expected;
 * callers up the stack wrap calls in HT_CHECK, which appends "file:line func"
 * to a trace that is printed only with HT_DEBUG=1. The message is thread-local
 * (like errno) so that the loader, communication and checkpoint threads can
 * each report their own failure without locking.
 */
#ifndef HYTRAIN_ERROR_H
#define HYTRAIN_ERROR_H

#include <stdarg.h>

/* X(name, value, text). One table generates the enum and ht_strerror(). */
#define HT_ERRNO_MAP(X)                                              \
  X(OK, 0, "success")                                                \
  X(EINVAL, -1, "invalid argument")                                  \
  X(ENOMEM, -2, "out of memory")                                     \
  X(EIO, -3, "input/output error")                                   \
  X(ENOENT, -4, "no such file")                                      \
  X(EUSAGE, -5, "bad command line")                                  \
  X(ECONFIG, -6, "bad configuration")                                \
  X(EDATA, -7, "bad data")                                           \
  X(ESHAPE, -8, "shape mismatch")                                    \
  X(EMPI, -9, "MPI error")                                           \
  X(EH5, -10, "HDF5 error")                                          \
  X(EDIVERGED, -11, "training diverged")                             \
  X(ESTOPPED, -12, "stopped early, resumable")                       \
  X(EINTERNAL, -13, "internal error")

typedef enum {
#define HT__ERR_ENUM(name, value, text) HT_##name = value,
  HT_ERRNO_MAP(HT__ERR_ENUM)
#undef HT__ERR_ENUM
} ht_errno;

/* Short text for a code ("bad data"); never NULL. */
const char *ht_strerror(int code);

/* Records a formatted message for this thread unless one is already recorded,
 * and returns code. Use as: return ht_error(HT_EDATA, "%s: row %lld: ...", ...). */
int ht_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* ht_error with a va_list. Returns code. */
int ht_verror(int code, const char *fmt, va_list ap);

/* The recorded message of this thread ("" if none). */
const char *ht_error_message(void);

/* The HT_CHECK trace of this thread ("" if none). */
const char *ht_error_trace(void);

/* Forgets this thread's message and trace. */
void ht_error_clear(void);

/* Collective failures are reported once, by the lowest rank that holds the
 * message (ht_comm_agree): the other ranks call this, which forgets their
 * message and marks the failure as reported elsewhere, so that the CLI stays
 * silent there instead of printing the bare code's text. */
void ht_error_defer(void);

/* 1 after ht_error_defer until the next ht_error_clear or recorded message. */
int ht_error_deferred(void);

/* Appends "file:line function" to this thread's trace. Used by HT_CHECK. */
void ht__error_trace_push(const char *file, int line, const char *func);

/* Process exit code for an error code (documented in docs/errors.md):
 * 0 success, 2 bad input (usage, config, data, shape, missing file),
 * 3 diverged, 75 stopped early but resumable, 1 anything else. */
int ht_exit_code(int code);

#define HT_CHECK(expr)                                            \
  do {                                                            \
    int ht__rc = (expr);                                          \
    if (ht__rc < 0) {                                             \
      ht__error_trace_push(__FILE__, __LINE__, __func__);         \
      return ht__rc;                                              \
    }                                                             \
  } while (0)

/* Like HT_CHECK, but jumps to a cleanup label with rc set. */
#define HT_CHECK_GOTO(expr, rc, label)                            \
  do {                                                            \
    (rc) = (expr);                                                \
    if ((rc) < 0) {                                               \
      ht__error_trace_push(__FILE__, __LINE__, __func__);         \
      goto label;                                                 \
    }                                                             \
  } while (0)

/* MPI and HDF5 calls. Every call into either library in src/ goes through one
 * of these (scripts/lint-errors enforces it; its short allow-list names the
 * calls whose result is deliberately ignored, such as close calls on error
 * paths and MPI_Abort). A failure records the library's own text with the
 * call and file:line in the trace, so no failure can leave the message empty.
 *
 *   HT_MPI(call)                    expression: 0, or HT_EMPI after recording
 *   HT_CHECK_MPI(call)              returns HT_EMPI from the function
 *   HT_CHECK_MPI_GOTO(call, rc, l)  sets rc and jumps to l
 *   HT_H5(call, what)               expression: the call's own value (hid_t,
 *                                   herr_t, htri_t, ...); a negative value is
 *                                   recorded as HT_EH5 naming `what`
 *   HT_CHECK_H5(call, what)         returns HT_EH5 from the function
 *   HT_CHECK_H5_GOTO(call, what, rc, l)
 *   HT_H5_OR(call, code, fmt, ...)  like HT_H5, but a failure is bad input
 *                                   (a corrupt or foreign file), recorded as
 *                                   the caller's own message and code
 *   HT_H5_QUIET(call)               records nothing and clears HDF5's stack:
 *                                   for calls that only describe an object
 *                                   inside another error message, and for
 *                                   `hytrain inspect`, which reports every
 *                                   failing dataset in its own verdict line
 *
 * `what` names the input, typically "file.h5:/dataset". */

/* Translates an MPI return code into HT_EMPI with MPI's own text. */
int ht__mpi_error(int mpi_rc, const char *call, const char *file, int line);
/* Translates a failed (negative) HDF5 call into HT_EH5 naming `what`
 * (typically "file.h5:/dataset"), with the innermost HDF5 error text. */
int ht__h5_error(const char *what, const char *call, const char *file, int line);

/* Clears HDF5's error stack and records ht_error(code, fmt, ...). */
int ht__h5_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static inline int ht__mpi_check(int mpi_rc, const char *call, const char *file, int line) {
  return mpi_rc == 0 ? 0 : ht__mpi_error(mpi_rc, call, file, line);
}
#define HT_MPI(call) ht__mpi_check((call), #call, __FILE__, __LINE__)

#define HT_CHECK_MPI(call)                                        \
  do {                                                            \
    int ht__mrc = HT_MPI(call);                                   \
    if (ht__mrc < 0) return ht__mrc;                              \
  } while (0)

#define HT_CHECK_MPI_GOTO(call, rc, label)                        \
  do {                                                            \
    (rc) = HT_MPI(call);                                          \
    if ((rc) < 0) goto label;                                     \
  } while (0)

/* A GNU statement expression keeps the call's own type (hid_t, herr_t,
 * htri_t, int), so callers keep testing it as before. */
#define HT_H5(call, what)                                                  \
  __extension__({                                                          \
    __typeof__(call) ht__hv = (call);                                      \
    if ((long long)ht__hv < 0) ht__h5_error((what), #call, __FILE__, __LINE__); \
    ht__hv;                                                                \
  })

#define HT_H5_OR(call, code, ...)                                          \
  __extension__({                                                          \
    __typeof__(call) ht__hv = (call);                                      \
    if ((long long)ht__hv < 0) ht__h5_fail((code), __VA_ARGS__);           \
    ht__hv;                                                                \
  })

#define HT_H5_QUIET(call)                                                  \
  __extension__({                                                          \
    __typeof__(call) ht__hv = (call);                                      \
    if ((long long)ht__hv < 0) H5Eclear2(H5E_DEFAULT);                     \
    ht__hv;                                                                \
  })

#define HT_CHECK_H5(call, what)                                   \
  do {                                                            \
    if ((long long)(call) < 0)                                    \
      return ht__h5_error((what), #call, __FILE__, __LINE__);     \
  } while (0)

#define HT_CHECK_H5_GOTO(call, what, rc, label)                   \
  do {                                                            \
    if ((long long)(call) < 0) {                                  \
      (rc) = ht__h5_error((what), #call, __FILE__, __LINE__);     \
      goto label;                                                 \
    }                                                             \
  } while (0)

#endif
