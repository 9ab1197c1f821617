/* Internal pieces of the training run, one file each. */
#ifndef HT_TRAIN_INTERNAL_H
#define HT_TRAIN_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include "hytrain/comm.h"
#include "hytrain/config.h"
#include "hytrain/dataset.h"
#include "hytrain/loader.h"
#include "hytrain/log.h"

/* startup.c: collective on comm->main. Gathers host, cpuset, thread count and
 * BLAS core of every rank; rank 0 prints the table and binding warnings. */
int ht__startup_report(const ht_comm *comm, const ht_log *log);

/* run_dir.c: collective on comm->main. Rank 0 picks (or takes) the run
 * directory, creates it and broadcasts its path. */
int ht__run_dir_create(const ht_config *cfg, const ht_comm *comm, const char *requested, char *out, size_t len);

/* data_setup.c: picks data.mode for the training file (auto: memory when the
 * largest shard fits data.memory_budget_mb), then reads the shard (memory) or
 * only its header and range (stream), fills the loader options and a one-line
 * description for the start-up table. Refuses stream mode without a
 * thread-safe HDF5. Not collective. */
int ht__data_open_train(const ht_config *cfg, const ht_comm *comm, int batch, ht_dataset *ds, ht_loader_opts *o,
                        char *desc, size_t desc_len);

/* data_setup.c: collective on comm->main; rank 0 logs every rank's peak RSS. */
int ht__peak_rss_report(const ht_comm *comm, const ht_log *log);

/* progress.c: rank 0's live progress line (terminal) or plain periodic lines. */
typedef struct ht_progress {
  int tty;              /* stdout is a terminal: redraw one line with \r */
  int64_t total_steps;
  double t0;
  int dirty;            /* a \r line is on screen */
} ht_progress;
void ht__progress_init(ht_progress *p, int64_t total_steps);
void ht__progress_step(ht_progress *p, const ht_log *log, int64_t epoch, int64_t epochs, int64_t step, double loss,
                       double samples_per_s);
void ht__progress_clear(ht_progress *p);

#endif
