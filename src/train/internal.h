/* Internal pieces of the training run, one file each. */
#ifndef HT_TRAIN_INTERNAL_H
#define HT_TRAIN_INTERNAL_H

#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "hytrain/binding.h"
#include "hytrain/comm.h"
#include "hytrain/config.h"
#include "hytrain/dataset.h"
#include "hytrain/loader.h"
#include "hytrain/ckpt.h"
#include "hytrain/ckpt_writer.h"
#include "hytrain/log.h"
#include "hytrain/model.h"
#include "hytrain/optim.h"
#include "hytrain/train.h"

/* eval.c: this rank's part of loading checkpoint ckpt for data at path (no
 * collectives): reads the rank's shard (labels = 1: features and labels,
 * checked like ht_eval_check_data; 0: /features alone, only its width
 * checked), builds the model of spec for max_batch rows, loads the weights
 * and normalisation and normalises the shard. The caller frees ds, m, norm
 * whatever it returns, then agrees on the result (ht_comm_agree). */
int ht__eval_load(const char *ckpt, const char *path, int max_batch, const ht_gemm_opts *gemm, const ht_comm *comm,
                  const ht_model_spec *spec, int labels, ht_dataset *ds, ht_model *m, ht_norm *norm);

/* binding.c: formats a cpu set as ranges, "0-3,8". */
void ht__cpuset_text(const cpu_set_t *set, char *out, size_t len);

/* startup.c: collective on comm->main. Gathers host, cpuset, thread count and
 * BLAS core of every rank and each node's binding outcome (may be NULL);
 * rank 0 prints the table, the binding notes and the warnings. */
int ht__startup_report(const ht_comm *comm, const ht_log *log, const ht_binding_outcome *binding);

/* compute.c: collective on comm->main. Resolves compute.backend auto (timing
 * both backends on B-row steps of m; all ranks agree), switches m to the
 * chosen backend and precision, and has rank 0 print the compute line and ISA
 * warnings. Overwrites m's gradients (not its parameters). */
/* resumed: the backend of the checkpoint being resumed (HT_GEMM_AUTO: none),
 * which compute.backend auto keeps so that a resumed run computes as before. */
int ht__compute_setup(const ht_config *cfg, const ht_comm *comm, const ht_log *log, ht_model *m, int B,
                      ht_gemm_backend resumed);

/* run_dir.c: collective on comm->main. Rank 0 picks (or takes) the run
 * directory, creates it and broadcasts its path. */
int ht__run_dir_create(const ht_config *cfg, const ht_comm *comm, const char *requested, char *out, size_t len);

/* run_dir.c: the effective config as YAML text (malloc'ed), or NULL when out
 * of memory. */
char *ht__config_text(const ht_config *cfg);

/* run_dir.c, rank 0: opens (appends to) run_dir/log.txt into log->file and
 * locks it, writes config.yaml atomically, opens metrics.jsonl for appending
 * and creates checkpoints/. Returns 0 or HT_EIO naming the file. */
int ht__run_open_outputs(const char *run_dir, const char *config_yaml, ht_log *log, FILE **metrics);

/* sparse_run.c: ht_train_ex for train.engine hogwild | locked | serial
 * (docs/sparse.md). Collective on comm->main and comm->grad. */
int ht__train_sparse(const ht_config *cfg, const ht_comm *comm, const ht_train_opts *opts, ht_train_result *res);

/* data_setup.c: picks data.mode for the training file (auto: memory when the
 * largest shard fits data.memory_budget_mb), then reads the shard (memory) or
 * only its header and range (stream), fills the loader options and a one-line
 * description for the start-up table. Refuses stream mode without a
 * thread-safe HDF5. Not collective. */
int ht__data_open_train(const ht_config *cfg, const ht_comm *comm, int batch, ht_dataset *ds, ht_loader_opts *o,
                        char *desc, size_t desc_len);

/* data_setup.c: collective on comm->main; rank 0 logs every rank's peak RSS. */
int ht__peak_rss_report(const ht_comm *comm, const ht_log *log);
/* run_dir.c: under SLURM (SLURM_JOB_ID set), writes the run directory this
 * job uses, <run.root>/<experiment>/<job id or array job_task>, and returns 1;
 * returns 0 elsewhere. A requeued job keeps its id, so this is where it resumes. */
int ht__slurm_run_dir(const ht_config *cfg, char *out, size_t len);

/* run_dir.c: the experiment name, run.name or the config file's stem. */
void ht__experiment_name(const ht_config *cfg, char *out, size_t len);

/* progress.c: rank 0's live progress line (when a person watches, see
 * log.progress) or plain periodic lines. */
/* 1 when a person watches rank 0's output (see progress.c for the rules per launcher). */
int ht__progress_watched(void);
typedef struct ht__progress {
  int tty;              /* a person watches: redraw one line with \r */
  int64_t total_steps;
  int64_t first_step;   /* step this process started from (resume): the ETA uses the steps since */
  double t0;
  int dirty;            /* a \r line is on screen */
} ht__progress;
void ht__progress_init(ht__progress *p, int64_t total_steps, ht_progress_mode mode);
void ht__progress_step(ht__progress *p, const ht_log *log, int64_t epoch, int64_t epochs, int64_t step, double loss,
                       double samples_per_s);
void ht__progress_clear(ht__progress *p);

/* Where training stands; everything a checkpoint needs to continue the loop
 * and metrics.jsonl exactly. */
typedef struct ht__cursor {
  int64_t step;          /* optimizer steps taken (global, all epochs) */
  int64_t epoch;         /* 0-based epoch in progress */
  int64_t position;      /* batches of that epoch consumed */
  int64_t samples_seen;  /* global samples consumed */
  double epoch_loss;     /* sum of step losses in this epoch */
  int64_t epoch_steps;
  double window_loss;    /* sum of step losses since the last step record */
  int64_t window_steps;
  double wall_offset;    /* training seconds spent before this process (resume) */
  double best_value;     /* best evaluation metric (NaN: none yet) */
  int64_t best_step;
  ht_gemm_backend backend; /* resume: the backend the checkpoint's run computed on (HT_GEMM_AUTO: not recorded) */
} ht__cursor;

/* signals.c: the stop-signal flag (SIGTERM, SIGINT, SIGUSR1). */
typedef struct ht__signals {
  struct sigaction old[4];
  int installed;
} ht__signals;
void ht__signals_install(ht__signals *s);
int ht__signals_pending(void);  /* the signal received, or 0 */
const char *ht__signal_name(int sig);
void ht__signals_restore(ht__signals *s);

/* checkpointing.c: when to checkpoint, and the snapshot of the run's state. */
typedef struct ht__step_flags {
  int stop;     /* a rank received a stop signal */
  int due;      /* checkpoint.every_seconds elapsed (rank 0's clock) */
  int failed;   /* rank 0's writer thread failed */
} ht__step_flags;

typedef struct ht__ckpt_ctl {
  const ht_config *cfg;
  const ht_comm *comm;
  const ht_log *log;
  ht_model *model;
  ht_optim *opt;
  ht_norm *norm;
  const char *config_yaml;
  char dir[HT_PATH_MAX + 32];    /* <run>/checkpoints */
  int64_t stop_at_step;          /* --stop-at-step (0: none) */
  int64_t total_steps;           /* the run's last step: its checkpoint is the final one */
  int64_t last_step;             /* step of the last checkpoint (-1: none) */
  double last_time;              /* rank 0: ht_now() of the last checkpoint */
  ht_ckpt_writer *writer;        /* rank 0 only, else NULL */
  ht_ckpt_rank *gathered;        /* rank 0: [size] data states */
  ht__signals sig;
  int64_t n_saves;
  double stall_total, stall_max, waited_total;
  int n_waits;
  double agree_in[4], agree_out[4]; /* the step agreement in flight: loss, stop, due, failed */
  MPI_Request agree_req;
} ht__ckpt_ctl;

/* Collective on comm->main. Rank 0 checks that <run_dir>/checkpoints is
 * writable (a probe file), removes *.partial left by a crash and starts the
 * writer; every rank installs the stop-signal handlers. */
int ht__ckpt_setup(ht__ckpt_ctl *c, const ht_config *cfg, const ht_comm *comm, const ht_log *log,
                   const char *run_dir, ht_model *m, ht_optim *o, ht_norm *norm, const char *config_yaml,
                   int64_t stop_at_step, int64_t total_steps);

/* Collective on comm->main, once per step in place of the loss allreduce:
 * sums the loss and agrees on the stop / due / failed flags. Split in two so
 * the main thread can update the weights while the agreement travels (on a
 * slow link it queues behind gradient buckets): _begin posts a non-blocking
 * allreduce of this rank's loss and flags, _end waits for it. */
int ht__ckpt_step_agree_begin(ht__ckpt_ctl *c, double loss);
int ht__ckpt_step_agree_end(ht__ckpt_ctl *c, double *loss, ht__step_flags *f);

/* Collective on comm->main, after the optimizer update of a step: writes a
 * checkpoint when one is due; on a stop (signal or --stop-at-step) writes it
 * synchronously and returns HT_ESTOPPED. Returns errors every rank agrees on. */
int ht__ckpt_after_step(ht__ckpt_ctl *c, const ht__cursor *cur, const ht__step_flags *f, double wall_s);

/* Whether ht__ckpt_after_step will write a checkpoint for this step (same
 * decision, no side effects; every rank gets the same answer from the
 * agreed flags). */
int ht__ckpt_will_save(const ht__ckpt_ctl *c, const ht__cursor *cur, const ht__step_flags *f);

/* Collective on comm->main: a checkpoint of cur now (sync: wait until it is
 * committed; best: it is the best so far). */
int ht__ckpt_save(ht__ckpt_ctl *c, const ht__cursor *cur, int sync, int best, double wall_s);

/* Rank 0 logs checkpoint statistics (stall per checkpoint, write rate). */
void ht__ckpt_report(ht__ckpt_ctl *c);

/* Waits for the write in flight, stops the writer, restores signal handlers. */
void ht__ckpt_destroy(ht__ckpt_ctl *c);

/* resume.c: collective on comm->main. Finds the checkpoint (arg "auto" or a
 * path), verifies and reads it on rank 0, broadcasts it, and fills the model,
 * optimizer, normalisation and cursor. *resumed = 0 when "auto" finds no
 * checkpoint. run_dir_out receives the run directory to continue in (""
 * means derive a new one). n_train: global training rows, steps_per_epoch:
 * this run's. */
int ht__resume(const ht_config *cfg, const ht_comm *comm, const ht_log *log, const char *arg,
               const char *run_dir_req, ht_model *m, ht_optim *o, ht_norm *norm, int64_t n_train,
               int64_t steps_per_epoch, ht__cursor *cur, char *run_dir_out, size_t len, int *resumed);

/* resume.c, rank 0: drops the records after the checkpoint from
 * run_dir/metrics.jsonl (step records with step > cur->step, epoch records
 * of epochs not finished at the checkpoint), atomically. */
int ht__metrics_rewind(const char *run_dir, const ht__cursor *cur);

#endif
