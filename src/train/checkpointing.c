/*
 * Checkpoint scheduling during training: every checkpoint.every_steps steps,
 * every checkpoint.every_seconds seconds (rank 0's clock), after an
 * evaluation that improves the best metric (checkpoint.keep_best), at the end
 * of training, and on a stop signal or --stop-at-step. Every decision is
 * taken identically on every rank (step counts, or flags agreed in the
 * per-step allreduce), so all ranks enter the same collectives.
 *
 * A checkpoint gathers each rank's data state (epoch, position, seed) to rank
 * 0 (MPI_Gather on comm->main); rank 0's writer stages and commits it. The
 * model and optimizer state are identical on every rank (data parallel), so
 * rank 0's copy is written.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hytrain/error.h"
#include "hytrain/timer.h"
#include "train/internal.h"

/* Rank 0: fails now, not after hours, if checkpoints cannot be written. */
static int probe_dir(const char *dir) {
  if (mkdir(dir, 0775) != 0 && errno != EEXIST)
    return ht_error(HT_EIO, "%s: cannot create the checkpoint directory: %s", dir, strerror(errno));
  char probe[HT_PATH_MAX + 64];
  snprintf(probe, sizeof probe, "%s/.write-test", dir);
  FILE *f = fopen(probe, "w");
  if (!f || fputs("x", f) < 0 || fclose(f) != 0) {
    int err = errno;
    return ht_error(HT_EIO, "%s: checkpoints cannot be written there: %s", dir, strerror(err));
  }
  unlink(probe);
  return 0;
}

static int stall_ms(void) {
  /* Test hook, read once at start-up: the writer sleeps this long in the
   * middle of each checkpoint file (docs/checkpoint-format.md). */
  const char *v = getenv("HT_TEST_CKPT_STALL_MS");
  int ms = v ? atoi(v) : 0;
  return ms > 0 ? ms : 0;
}

int ht__ckpt_setup(ht__ckpt_ctl *c, const ht_config *cfg, const ht_comm *comm, const ht_log *log,
                   const char *run_dir, ht_model *m, ht_optim *o, ht_norm *norm, const char *config_yaml,
                   int64_t stop_at_step, int64_t total_steps) {
  memset(c, 0, sizeof *c);
  c->cfg = cfg;
  c->comm = comm;
  c->log = log;
  c->model = m;
  c->opt = o;
  c->norm = norm;
  c->config_yaml = config_yaml;
  c->stop_at_step = stop_at_step;
  c->total_steps = total_steps;
  c->last_step = -1;
  c->last_time = ht_now();
  snprintf(c->dir, sizeof c->dir, "%s/checkpoints", run_dir);
  int rc = 0;
  if (comm->rank == 0) {
    rc = probe_dir(c->dir);
    if (rc == 0) {
      int n = ht_ckpt_clean_partials(c->dir);
      if (n > 0) ht_log_info(log, "removed %d unfinished checkpoint file(s) (*.partial) left by an earlier crash", n);
      c->gathered = calloc((size_t)comm->size, sizeof *c->gathered);
      if (!c->gathered) rc = ht_error(HT_ENOMEM, "out of memory");
    }
    if (rc == 0)
      rc = ht_ckpt_writer_create(&c->writer, c->dir, m, o->m != NULL, o->v != NULL, comm->size, cfg->checkpoint.async,
                                 cfg->checkpoint.keep, stall_ms());
  }
  HT_CHECK(ht_comm_agree(comm, rc));
  ht__signals_install(&c->sig);
  return 0;
}

int ht__ckpt_step_agree_begin(ht__ckpt_ctl *c, double loss) {
  double *v = c->agree_in;
  v[0] = loss;
  v[1] = ht__signals_pending() ? 1.0 : 0.0;
  v[2] = v[3] = 0.0;
  if (c->comm->rank == 0) {
    double every = c->cfg->checkpoint.every_seconds;
    v[2] = every > 0 && ht_now() - c->last_time >= every ? 1.0 : 0.0;
    v[3] = c->writer && ht_ckpt_writer_poll(c->writer) < 0 ? 1.0 : 0.0;
    ht_error_clear(); /* the poll's message is recorded again when it is reported */
  }
  HT_CHECK_MPI(MPI_Iallreduce(c->agree_in, c->agree_out, 4, MPI_DOUBLE, MPI_SUM, c->comm->main, &c->agree_req));
  return 0;
}

int ht__ckpt_step_agree_end(ht__ckpt_ctl *c, double *loss, ht__step_flags *f) {
  ht_comm_stall_enter(c->comm, "the step agreement (MPI_Iallreduce of the loss and the checkpoint flags)");
  int rc = HT_MPI(MPI_Wait(&c->agree_req, MPI_STATUS_IGNORE));
  ht_comm_stall_leave(c->comm);
  if (rc < 0) return rc;
  const double *v = c->agree_out;
  *loss = v[0];
  f->stop = v[1] > 0;
  f->due = v[2] > 0;
  f->failed = v[3] > 0;
  return 0;
}

int ht__ckpt_save(ht__ckpt_ctl *c, const ht__cursor *cur, int sync, int best, double wall_s) {
  const ht_comm *comm = c->comm;
  ht_ckpt_rank mine = {.epoch = cur->epoch, .position = cur->position, .seed = c->cfg->train.seed};
  ht_comm_stall_enter(comm, "the checkpoint's gather of the data cursors (MPI_Gather)");
  int rc = HT_MPI(MPI_Gather(&mine, 3, MPI_INT64_T, c->gathered, 3, MPI_INT64_T, 0, comm->main));
  ht_comm_stall_leave(c->comm);
  if (rc < 0) return rc;
  if (comm->rank == 0) {
    ht_ckpt_state s;
    memset(&s, 0, sizeof s);
    s.info = (ht_ckpt_info){.step = cur->step,
                            .epoch = cur->epoch,
                            .samples_seen = cur->samples_seen,
                            .batch_size = c->cfg->train.batch_size,
                            .world_size = comm->size,
                            .best_value = cur->best_value,
                            .best_step = cur->best_step,
                            .progress = {.epoch_loss_sum = cur->epoch_loss,
                                         .epoch_steps = cur->epoch_steps,
                                         .window_loss_sum = cur->window_loss,
                                         .window_steps = cur->window_steps,
                                         .wall_s = wall_s}};
    snprintf(s.info.data_test, sizeof s.info.data_test, "%s", c->cfg->data.test);
    snprintf(s.info.compute_backend, sizeof s.info.compute_backend, "%s",
             ht_gemm_backend_name(ht_gemm_options(c->model->gemm)->backend));
    snprintf(s.info.best_name, sizeof s.info.best_name, "%s",
             !c->cfg->data.test[0] ? "none" : c->model->spec.regression ? "test_rmse" : "test_accuracy");
    s.model = c->model;
    s.params = c->model->params;
    s.optim = c->opt->kind;
    s.opt_m = c->opt->m;
    s.opt_v = c->opt->v;
    s.opt_t = c->opt->t;
    s.ranks = c->gathered;
    s.norm = c->norm;
    s.config_yaml = c->config_yaml;
    double stall = 0, waited = 0;
    rc = ht_ckpt_writer_save(c->writer, &s, best, &stall, &waited);
    if (rc == 0 && sync) {
      double t0 = ht_now();
      rc = ht_ckpt_writer_wait(c->writer);
      stall += ht_now() - t0;
    }
    if (rc == 0 && !sync) {
      /* Statistics of the scheduled checkpoints only: the final and the stop
       * checkpoints wait for their write by design. */
      c->n_saves++;
      c->stall_total += stall;
      if (stall > c->stall_max) c->stall_max = stall;
      if (waited > 0.001 && c->cfg->checkpoint.async && !sync) {
        c->waited_total += waited;
        if (c->n_waits++ == 0)
          ht_log_warn(c->log,
                      "checkpoint at step %lld waited %.3f s for the previous write to finish; checkpoints come "
                      "faster than they are written (raise checkpoint.every_steps / every_seconds)",
                      (long long)cur->step, waited);
        else
          ht_log_file(c->log, "checkpoint at step %lld waited %.3f s for the previous write to finish",
                      (long long)cur->step, waited);
      }
    }
    if (rc == 0) {
      ht_log_file(c->log, "checkpoint ckpt-%lld.h5 %s (stall %.3f s)", (long long)cur->step,
                  sync || !c->cfg->checkpoint.async ? "written" : "staged", stall);
    }
    c->last_time = ht_now();
  }
  HT_CHECK(ht_comm_agree(comm, rc));
  c->last_step = cur->step;
  return 0;
}

int ht__ckpt_will_save(const ht__ckpt_ctl *c, const ht__cursor *cur, const ht__step_flags *f) {
  if (f->failed) return 0;
  if (f->stop || (c->stop_at_step > 0 && cur->step >= c->stop_at_step)) return 1;
  if (cur->step >= c->total_steps) return 0;
  int64_t every = c->cfg->checkpoint.every_steps;
  return (every > 0 && cur->step % every == 0) || f->due;
}

int ht__ckpt_after_step(ht__ckpt_ctl *c, const ht__cursor *cur, const ht__step_flags *f, double wall_s) {
  const ht_comm *comm = c->comm;
  if (f->failed) {
    int rc = comm->rank == 0 ? ht_ckpt_writer_poll(c->writer) : HT_EIO;
    if (comm->rank != 0) ht_error_defer();
    return ht_comm_agree(comm, rc);
  }
  int stop_step = c->stop_at_step > 0 && cur->step >= c->stop_at_step;
  if (f->stop || stop_step) {
    int sig = ht__signals_pending();
    HT_CHECK(ht__ckpt_save(c, cur, 1, 0, wall_s));
    if (comm->rank != 0) {
      ht_error_defer();
      return HT_ESTOPPED;
    }
    char why[128];
    if (f->stop)
      snprintf(why, sizeof why, "%s%s", sig ? ht__signal_name(sig) : "a stop signal", sig ? "" : " on another rank");
    else
      snprintf(why, sizeof why, "--stop-at-step %lld", (long long)c->stop_at_step);
    return ht_error(HT_ESTOPPED, "stopped by %s at step %lld; checkpoint %s/ckpt-%lld.h5; continue with --resume auto",
                    why, (long long)cur->step, c->dir, (long long)cur->step);
  }
  /* The last step's checkpoint is the final one, written after the evaluation. */
  if (cur->step >= c->total_steps) return 0;
  int64_t every = c->cfg->checkpoint.every_steps;
  if ((every > 0 && cur->step % every == 0) || f->due) HT_CHECK(ht__ckpt_save(c, cur, 0, 0, wall_s));
  return 0;
}

void ht__ckpt_report(ht__ckpt_ctl *c) {
  if (c->comm->rank != 0 || !c->writer) return;
  ht_ckpt_writer_stats st;
  ht_ckpt_writer_get_stats(c->writer, &st);
  int64_t n = st.n_written;
  double wt = st.write_s_total, wmax = st.write_s_max, bytes = st.bytes_total;
  if (n == 0) return;
  if (c->n_saves > 0)
    ht_log_info(c->log,
                "checkpoints: %lld scheduled (%s), training stall per checkpoint mean %.4f s max %.4f s; %d waited for "
                "the previous write",
                (long long)c->n_saves, c->cfg->checkpoint.async ? "async" : "sync", c->stall_total / (double)c->n_saves,
                c->stall_max, c->n_waits);
  ht_log_info(c->log, "checkpoint writes: %lld, mean %.3f s max %.3f s, %.1f MB/s of tensors", (long long)n,
              wt / (double)n, wmax, wt > 0 ? bytes / wt / 1e6 : 0.0);
}

void ht__ckpt_destroy(ht__ckpt_ctl *c) {
  ht_ckpt_writer_destroy(&c->writer);
  free(c->gathered);
  c->gathered = NULL;
  ht__signals_restore(&c->sig);
}
