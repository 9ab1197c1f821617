/*
 * A check for MPI test programs that keep running after a failure: it prints
 * the rank, file:line, the expression and a message, and counts the failure
 * in `counter` (the program exits non-zero when any rank counted one).
 */
#ifndef HT_RANK_CHECK_H
#define HT_RANK_CHECK_H

#include <stdio.h>

#define HT_RANK_CHECK(rank, counter, cond, ...)                                             \
  do {                                                                                      \
    if (!(cond)) {                                                                          \
      fprintf(stderr, "rank %d: %s:%d: check failed: %s: ", (rank), __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                                         \
      fputc('\n', stderr);                                                                  \
      (counter)++;                                                                          \
    }                                                                                       \
  } while (0)

#endif
