/*
 * Logging. Rank 0 alone prints progress and information (to stdout and to the
 * run's log.txt); warnings and errors go to stderr. A logger is a plain value
 * owned by the caller and passed down: there is no global logger.
 */
#ifndef HYTRAIN_LOG_H
#define HYTRAIN_LOG_H

#include <stdio.h>

typedef struct ht_log {
  int rank;      /* MPI rank of this process; only rank 0 prints info */
  FILE *file;    /* the run's log.txt on rank 0, or NULL */
  int quiet;     /* 1: info goes to the log file only */
} ht_log;

/* Rank 0: prints a line to stdout and to the log file. Other ranks: nothing. */
void ht_log_info(const ht_log *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Rank 0: "hytrain: warning: ..." to stderr and the log file. */
void ht_log_warn(const ht_log *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Any rank: writes to the log file only (rank 0), e.g. the full start-up table. */
void ht_log_file(const ht_log *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
