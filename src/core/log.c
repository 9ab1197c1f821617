/* Rank-0 logging to stdout/stderr and the run's log file. */
#include "hytrain/log.h"

#include <stdarg.h>

static void log_emit(const ht_log *log, FILE *tty, const char *prefix, const char *fmt, va_list ap) {
  va_list copy;
  va_copy(copy, ap);
  if (tty) {
    fputs(prefix, tty);
    vfprintf(tty, fmt, ap);
    fputc('\n', tty);
    fflush(tty);
  }
  if (log->file) {
    fputs(prefix, log->file);
    vfprintf(log->file, fmt, copy);
    fputc('\n', log->file);
    fflush(log->file);
  }
  va_end(copy);
}

void ht_log_info(const ht_log *log, const char *fmt, ...) {
  if (!log || log->rank != 0) return;
  va_list ap;
  va_start(ap, fmt);
  log_emit(log, log->quiet ? NULL : stdout, "", fmt, ap);
  va_end(ap);
}

void ht_log_warn(const ht_log *log, const char *fmt, ...) {
  if (!log || log->rank != 0) return;
  va_list ap;
  va_start(ap, fmt);
  log_emit(log, stderr, "hytrain: warning: ", fmt, ap);
  va_end(ap);
}

void ht_log_file(const ht_log *log, const char *fmt, ...) {
  if (!log || log->rank != 0) return;
  va_list ap;
  va_start(ap, fmt);
  log_emit(log, NULL, "", fmt, ap);
  va_end(ap);
}
