/* Error codes, per-thread messages and the HT_CHECK trace. */
#include "hytrain/error.h"

#include <hdf5.h>
#include <mpi.h>
#include <stdio.h>
#include <string.h>

#define HT__MSG_MAX 1024
#define HT__TRACE_MAX 2048

/* Thread-local on purpose: each thread (main, loader, comm, writer) owns the
 * message of its own first failure, the way errno works. */
static _Thread_local char ht__msg[HT__MSG_MAX];
static _Thread_local char ht__trace[HT__TRACE_MAX];
static _Thread_local int ht__deferred;

const char *ht_strerror(int code) {
  switch (code) {
#define HT__ERR_CASE(name, value, text) \
  case value:                           \
    return text;
    HT_ERRNO_MAP(HT__ERR_CASE)
#undef HT__ERR_CASE
  }
  return "unknown error";
}

int ht_verror(int code, const char *fmt, va_list ap) {
  if (ht__msg[0] == '\0') {
    vsnprintf(ht__msg, sizeof ht__msg, fmt, ap);
    ht__deferred = 0;
  }
  return code;
}

int ht_error(int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  ht_verror(code, fmt, ap);
  va_end(ap);
  return code;
}

const char *ht_error_message(void) { return ht__msg; }
const char *ht_error_trace(void) { return ht__trace; }

void ht_error_clear(void) {
  ht__msg[0] = '\0';
  ht__trace[0] = '\0';
  ht__deferred = 0;
}

void ht_error_defer(void) {
  ht_error_clear();
  ht__deferred = 1;
}

int ht_error_deferred(void) { return ht__deferred; }

void ht__error_trace_push(const char *file, int line, const char *func) {
  size_t used = strlen(ht__trace);
  if (used + 1 >= sizeof ht__trace) return;
  snprintf(ht__trace + used, sizeof ht__trace - used, "  at %s:%d %s\n", file, line, func);
}

int ht_exit_code(int code) {
  switch (code) {
  case HT_OK:
    return 0;
  case HT_EUSAGE:
  case HT_ECONFIG:
  case HT_EDATA:
  case HT_ESHAPE:
  case HT_ENOENT:
    return 2;
  case HT_EDIVERGED:
    return 3;
  case HT_ESTOPPED:
    return 75;
  default:
    return 1;
  }
}

int ht__mpi_error(int mpi_rc, const char *call, const char *file, int line) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(mpi_rc, text, &len) != MPI_SUCCESS) snprintf(text, sizeof text, "code %d", mpi_rc);
  ht__error_trace_push(file, line, call);
  return ht_error(HT_EMPI, "MPI call failed: %s: %s", call, text);
}

/* Walk callback: keeps the innermost (last) description of the HDF5 stack. */
static herr_t h5_walk(unsigned n, const H5E_error2_t *e, void *data) {
  char *out = data;
  if (e->desc && e->desc[0]) snprintf(out, 256, "%s", e->desc);
  return 0;
}

int ht__h5_error(const char *what, const char *call, const char *file, int line) {
  char desc[256] = "unknown HDF5 failure";
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, h5_walk, desc);
  H5Eclear2(H5E_DEFAULT);
  ht__error_trace_push(file, line, call);
  return ht_error(HT_EH5, "%s: HDF5 error: %s", what ? what : "(hdf5)", desc);
}

int ht__h5_fail(int code, const char *fmt, ...) {
  H5Eclear2(H5E_DEFAULT);
  va_list ap;
  va_start(ap, fmt);
  int rc = ht_verror(code, fmt, ap);
  va_end(ap);
  return rc;
}
