/*
 * The training run.
 *
 * Phases, each ending in an agreement across ranks so that a failure on any
 * rank ends the job everywhere with one message and nothing half-written:
 *   1. read this rank's shards of the train and test files, validate them;
 *   2. check they fit each other and the configured model; build the model;
 *   3. fit normalisation on the training split (collective) and apply it;
 *   4. create the run directory, write config.yaml, open log and metrics;
 *   5. broadcast rank 0's initial weights; train; evaluate after each epoch;
 *   6. write the final checkpoint.
 * One step: take a batch from the loader, forward + backward (OpenMP-threaded
 * GEMMs) while the communication thread averages finished gradient buckets
 * over ranks (see hytrain/grad_sync.h for comm.mode); start the non-blocking
 * agreement on the loss and the checkpoint flags; the optimizer updates each
 * bucket as soon as it is averaged; then complete the agreement, so a
 * non-finite mean loss stops every rank at the same step (before any
 * checkpoint of that state) and a due checkpoint is taken by all.
 */
#include "hytrain/train.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "hytrain/binding.h"
#include "hytrain/ckpt.h"
#include "hytrain/dataset.h"
#include "hytrain/error.h"
#include "hytrain/eval.h"
#include "hytrain/fileio.h"
#include "hytrain/events.h"
#include "hytrain/grad_sync.h"
#include "hytrain/loader.h"
#include "hytrain/log.h"
#include "hytrain/model.h"
#include "hytrain/optim.h"
#include "hytrain/timer.h"
#include "train/internal.h"

typedef struct train_run {
  const ht_config *cfg;
  const ht_comm *comm;
  ht_log log;
  ht_dataset train, test;
  int have_test;
  ht_norm norm;
  ht_model model;
  ht_optim opt;
  ht_sched sched;
  ht_loader loader;
  ht_loader_opts lopts; /* data.mode and friends, chosen by ht__data_open_train */
  char data_desc[320];  /* the start-up table's data line */
  ht_events events;     /* named events of every thread (table, timeline) */
  ht_grad_sync *sync;   /* buckets, communication thread, per-bucket optimizer */
  const char *timeline; /* --timeline FILE, or NULL */
  FILE *metrics;        /* rank 0: metrics.jsonl */
  char *config_yaml;    /* effective config text */
  int64_t steps_per_epoch, total_steps;
  char run_dir[HT_PATH_MAX];
  ht__cursor cur;       /* where training stands (restored by --resume) */
  ht_binding_outcome binding; /* compute.binding's check and split, for the start-up table */
  ht__ckpt_ctl ck;      /* checkpoint scheduling, writer and stop signals */
  int ck_ready;
  int skipped_in_row;   /* train.on_nonfinite skip_step: gradients dropped in a row */
  int64_t skipped_total;
  int poison_rank;      /* test hook HT_TEST_NAN_INPUT=RANK:STEP (-1: off) */
  int64_t poison_step, poison_count;
  float *poison;        /* that batch's copy with feature 0 of row 0 set to NaN */
} train_run;

int ht_train_model_spec(const ht_config *cfg, const ht_dataset *ds, ht_model_spec *spec) {
  memset(spec, 0, sizeof *spec);
  spec->type = cfg->model.type;
  spec->in = ds->d;
  spec->regression = ds->task == HT_TASK_REGRESS;
  spec->out = spec->regression ? ds->t : ds->num_classes;
  spec->n_hidden = cfg->model.type == HT_MODEL_MLP ? cfg->model.n_hidden : 0;
  memcpy(spec->hidden, cfg->model.hidden, sizeof(int) * (size_t)spec->n_hidden);
  spec->activation = cfg->model.activation;
  spec->init = cfg->model.init;
  spec->l2 = cfg->model.l2;
  return 0;
}

/* Phase 1-2 on this rank (no collectives). */
static int load_and_build(train_run *r) {
  const ht_config *cfg = r->cfg;
  HT_CHECK(ht__data_open_train(cfg, r->comm, cfg->train.batch_size, &r->train, &r->lopts, r->data_desc,
                               sizeof r->data_desc));
  if (cfg->data.folds > 0) {
    /* K-fold: ht__data_open_train read the other folds of data.train; evaluate on fold data.fold. */
    HT_CHECK(ht_dataset_read_fold(&r->test, cfg->data.train, cfg->data.folds, cfg->data.fold, 1, r->comm->rank, r->comm->size));
    r->have_test = 1;
  } else {
    r->have_test = cfg->data.test[0] != '\0';
  }
  if (r->have_test && cfg->data.folds == 0) {
    HT_CHECK(ht_dataset_read_shard(&r->test, cfg->data.test, r->comm->rank, r->comm->size));
    /* Classes inferred from the training labels: a test label beyond them
     * has no output of the model to land on. */
    if (r->test.task == HT_TASK_CLASSIFY && r->train.task == HT_TASK_CLASSIFY && r->train.classes_inferred &&
        r->test.num_classes > r->train.num_classes)
      return ht_error(HT_EDATA,
                      "%s: %s %d, beyond the training data's classes 0..%d (%s has no num_classes attribute, so its "
                      "classes are inferred from its labels); add the attribute to %s, or training rows of that class",
                      cfg->data.test, r->test.classes_inferred ? "has a label" : "declares num_classes",
                      r->test.classes_inferred ? r->test.num_classes - 1 : r->test.num_classes,
                      r->train.num_classes - 1, cfg->data.train, cfg->data.train);
    ht_data_shape want;
    ht_data_shape_of_dataset(&r->train, &want);
    char against[HT_PATH_MAX + 32];
    snprintf(against, sizeof against, "the training data %s", cfg->data.train);
    HT_CHECK(ht_eval_check_data(&r->test, cfg->data.test, &want, against));
  }
  /* Every rank takes the same number of full batches per epoch: the smallest shard decides. */
  int64_t min_shard = r->train.n_total / r->comm->size;
  r->steps_per_epoch = min_shard / cfg->train.batch_size;
  if (r->steps_per_epoch == 0)
    return ht_error(HT_ECONFIG,
                    "train.batch_size: %d rows per rank is more than the smallest shard (%lld rows of %s over %d "
                    "ranks); lower the batch size or use fewer ranks",
                    cfg->train.batch_size, (long long)min_shard, cfg->data.train, r->comm->size);
  r->total_steps = r->steps_per_epoch * cfg->train.epochs;
  if (cfg->train.max_steps > 0 && cfg->train.max_steps < r->total_steps) r->total_steps = cfg->train.max_steps;

  ht_model_spec spec;
  HT_CHECK(ht_train_model_spec(cfg, &r->train, &spec));
  int max_batch = cfg->train.batch_size > cfg->train.eval_batch_size ? cfg->train.batch_size : cfg->train.eval_batch_size;
  HT_CHECK(ht_model_create(&r->model, &spec, max_batch));
  ht_optim_opts oo;
  ht_sched_opts so;
  ht_optim_opts_from_config(cfg, &oo);
  ht_sched_opts_from_config(cfg, &so);
  HT_CHECK(ht_optim_create(&r->opt, &oo, r->model.n_params));
  HT_CHECK(ht_sched_create(&r->sched, &so, r->total_steps));
  /* The loader normalises each batch with r->norm, fitted later (ht_loader_norm_ready). */
  r->lopts.batches_per_epoch = r->steps_per_epoch;
  r->lopts.norm = &r->norm;
  r->lopts.norm_deferred = 1;
  r->lopts.epochs = cfg->train.epochs;
  HT_CHECK(ht_loader_create_opts(&r->loader, &r->train, cfg->train.batch_size, cfg->data.shuffle,
                                 (uint64_t)cfg->train.seed, r->comm->rank, &r->lopts));
  /* Epoch 0's shuffle buffer fills while the statistics pass and the rest of start-up run. */
  ht_loader_start_epoch(&r->loader, 0, 0);
  return 0;
}

static void metrics_step(train_run *r, int64_t epoch, int64_t step, double loss, double lr, double sps, double wall) {
  if (!r->metrics) return;
  fprintf(r->metrics,
          "{\"kind\": \"step\", \"epoch\": %lld, \"step\": %lld, \"loss\": %.9g, \"lr\": %.9g, "
          "\"samples_per_s\": %.6g, \"wall_s\": %.6g}\n",
          (long long)epoch, (long long)step, loss, lr, sps, wall);
  fflush(r->metrics);
}

static void metrics_epoch(train_run *r, int64_t epoch, int64_t step, double train_loss, const ht_eval_metrics *ev,
                              double sps, double wall, double data_wait_s) {
  if (!r->metrics) return;
  fprintf(r->metrics, "{\"kind\": \"epoch\", \"epoch\": %lld, \"step\": %lld, \"train_loss\": %.9g", (long long)epoch,
          (long long)step, train_loss);
  if (ev && r->test.task == HT_TASK_CLASSIFY)
    fprintf(r->metrics, ", \"test_loss\": %.9g, \"test_accuracy\": %.9g", ev->loss, ev->accuracy);
  if (ev && r->test.task == HT_TASK_REGRESS) fprintf(r->metrics, ", \"test_loss\": %.9g, \"test_rmse\": %.9g", ev->loss, ev->rmse);
  fprintf(r->metrics, ", \"samples_per_s\": %.6g, \"wall_s\": %.6g, \"data_wait_s\": %.6g}\n", sps, wall, data_wait_s);
  fflush(r->metrics);
}

/* Best evaluation metric so far: accuracy (higher) or RMSE (lower). */
static int improved(const train_run *r, const ht_eval_metrics *ev) {
  double v = r->test.task == HT_TASK_CLASSIFY ? ev->accuracy : ev->rmse;
  if (r->cur.best_step < 0 || isnan(r->cur.best_value)) return 1;
  return r->test.task == HT_TASK_CLASSIFY ? v > r->cur.best_value : v < r->cur.best_value;
}

/* An error every rank reached on agreed values: rank 0 reports it, the
 * others exit with the same code silently (one line per job, not per rank). */
static int agreed(const train_run *r, int code) {
  if (r->comm->rank != 0) ht_error_defer();
  return code;
}

/* Test hook (docs/errors.md): HT_TEST_NAN_INPUT=RANK:STEP[:COUNT] makes
 * feature 0 of the first row of rank RANK's batches at steps STEP ..
 * STEP+COUNT-1 (0-based; COUNT 1 by default) NaN, as if the data held it,
 * past the data checks that refuse NaN in a file. */
static void poison_init(train_run *r) {
  const char *v = getenv("HT_TEST_NAN_INPUT");
  long long step = -1, count = 1;
  r->poison_rank = -1;
  if (v && sscanf(v, "%d:%lld:%lld", &r->poison_rank, &step, &count) < 2) r->poison_rank = -1;
  r->poison_step = step;
  r->poison_count = count;
}

static void poison_batch(train_run *r, ht_batch *b) {
  if (r->poison_rank != r->comm->rank || r->cur.step < r->poison_step ||
      r->cur.step >= r->poison_step + r->poison_count || b->n < 1)
    return;
  size_t n = (size_t)b->n * (size_t)r->train.d;
  free(r->poison);
  r->poison = malloc(n * sizeof *r->poison);
  if (!r->poison) return;
  memcpy(r->poison, b->x, n * sizeof *r->poison);
  r->poison[0] = NAN;
  b->x = r->poison;
}

/* After the optimizer ran (ht_grad_sync_apply or _flush): a NaN or infinite
 * gradient sum, agreed over ranks, ends the run (train.on_nonfinite stop,
 * before any checkpoint of that state) or its update was dropped (skip_step:
 * counted, logged, a "skipped_step" metrics record; the run stops after
 * train.max_skipped_steps in a row). *found: there was one. Returns 0 or the
 * error every rank agrees on. */
static int check_nonfinite(train_run *r, ht__progress *prog, int *found) {
  const ht_config *cfg = r->cfg;
  ht_grad_nonfinite nf;
  *found = ht_grad_sync_nonfinite(r->sync, &nf);
  if (!*found) return 0;
  char who[160];
  if (nf.rank < r->comm->size)
    snprintf(who, sizeof who, "first in rank %d's own gradient (from its batch of that step: check that rank's data)", nf.rank);
  else
    snprintf(who, sizeof who, "in no rank's own gradient (each is finite: their sum overflowed)");
  if (cfg->train.on_nonfinite == HT_NONFINITE_STOP) {
    ht__progress_clear(prog);
    return agreed(r, ht_error(HT_EDIVERGED,
                              "training diverged at step %lld: the gradient's sum over ranks is NaN or infinite in %s "
                              "(element %zu), %s; with sound data lower optimizer.lr (now %g) or add "
                              "schedule.warmup_steps; no checkpoint of this state was written (train.on_nonfinite: stop)",
                              (long long)nf.step, nf.layer, nf.elem, who, cfg->optimizer.lr));
  }
  r->skipped_in_row++;
  r->skipped_total++;
  ht__progress_clear(prog);
  ht_log_warn(&r->log, "step %lld skipped: the gradient's sum over ranks is NaN or infinite in %s, %s; %d in a row (train.max_skipped_steps %d)",
              (long long)nf.step, nf.layer, who, r->skipped_in_row, cfg->train.max_skipped_steps);
  if (r->metrics) {
    fprintf(r->metrics, "{\"kind\": \"skipped_step\", \"step\": %lld, \"layer\": \"%s\", \"rank\": %d, \"in_a_row\": %d, \"total\": %lld}\n",
            (long long)nf.step, nf.layer, nf.rank, r->skipped_in_row, (long long)r->skipped_total);
    fflush(r->metrics);
  }
  if (r->skipped_in_row >= cfg->train.max_skipped_steps)
    return agreed(r, ht_error(HT_EDIVERGED,
                    "training diverged: %d steps in a row skipped (train.max_skipped_steps %d), the last at step %lld: the "
                    "gradient's sum over ranks is NaN or infinite in %s, %s; no checkpoint of this state was written",
                    r->skipped_in_row, cfg->train.max_skipped_steps, (long long)nf.step, nf.layer, who));
  return 0;
}

/* After the last step: stops the communication thread, prints the event table
 * and the communication summary, writes the timeline (collective). */
static int comm_finish(train_run *r) {
  /* From here the main thread reads every track: the loader (prefetching
   * past the last step) and the writer stop recording first. */
  ht_loader_set_track(&r->loader, NULL);
  ht_ckpt_writer_set_track(r->ck.writer, NULL); /* NULL writer (not rank 0): no-op */
  int rc = ht_grad_sync_finish(r->sync);
  if (rc < 0) ht_comm_abort(r->comm, rc, ht_error_message());
  HT_CHECK(ht_grad_sync_report(r->sync, &r->events, &r->log, r->metrics));
  if (r->timeline) {
    ht_comm_stall_enter(r->comm, "the timeline's gather (MPI_Gatherv)");
    rc = ht_events_write_trace(&r->events, r->comm->main, r->timeline);
    ht_comm_stall_leave(r->comm);
    if (rc == 0) ht_log_info(&r->log, "timeline written to %s (open it in https://ui.perfetto.dev)", r->timeline);
    HT_CHECK(ht_comm_agree(r->comm, rc));
  }
  return 0;
}

/* Phase 5-6: the loop, from r->cur (step 0, or where a checkpoint left off).
 * Returns an error every rank agrees on, or HT_ESTOPPED after a stop. */
static int train_loop(train_run *r, ht_train_result *res) {
  const ht_config *cfg = r->cfg;
  const ht_comm *comm = r->comm;
  const int64_t B = cfg->train.batch_size, P = comm->size;
  ht__cursor *cur = &r->cur;
  int epochs_run = 0;
  double t_start = ht_now() - cur->wall_offset; /* wall_s continues across resumes */
  double t_window = ht_now();
  ht__progress prog;
  ht__progress_init(&prog, r->total_steps, cfg->log.progress);
  prog.first_step = cur->step;
  ht_eval_metrics ev = {0, 0, -1, -1};

  ht_log_info(&r->log, "training %s: %zu parameters, %lld steps (%lld per epoch), global batch %lld", ht_enum_name(&ht_model_types, (int)cfg->model.type),
              r->model.n_params, (long long)r->total_steps, (long long)r->steps_per_epoch, (long long)(B * P));
  for (int64_t epoch = cur->epoch; epoch < cfg->train.epochs && cur->step < r->total_steps; epoch++) {
    double t_epoch = ht_now(), t_train = 0;
    ht_loader_stats ls0, ls1;
    ht_loader_get_stats(&r->loader, &ls0);
    epochs_run++;
    int64_t steps_here = 0; /* steps of this epoch run by this process (throughput) */
    ht_loader_start_epoch(&r->loader, epoch, cur->position);
    while (cur->position < r->steps_per_epoch && cur->step < r->total_steps) {
      ht_batch b;
      ht_track_begin(ht_grad_sync_track(r->sync), HT_EV_DATA_WAIT, -1);
      int rc = ht_loader_next(&r->loader, &b);
      ht_track_end(ht_grad_sync_track(r->sync));
      if (rc < 0) ht_comm_abort(comm, rc, ht_error_message());
      poison_batch(r, &b);
      double lr = ht_sched_lr(&r->sched, cur->step);
      ht_grad_sync_at_step(r->sync, cur->step);
      /* Forward + backward; in overlap mode the buckets already travel. */
      double loss = ht_grad_sync_compute(r->sync, b.x, b.y, b.yt, b.n);
      if (isnan(loss) && ht_error_message()[0]) ht_comm_abort(comm, HT_EINTERNAL, ht_error_message());
      /* Agree on the mean loss (all ranks stop together on divergence) and on
       * the checkpoint flags (stop signal, time due, writer failure).
       * Non-blocking, completed after the update: on a slow link this small
       * message queues behind gradient buckets, and waiting for it here would
       * stall the main thread. */
      if (ht__ckpt_step_agree_begin(&r->ck, loss) < 0) ht_comm_abort(comm, HT_EMPI, ht_error_message());
      /* Average the gradient over ranks and update, bucket by bucket (comm.mode). */
      rc = ht_grad_sync_apply(r->sync, lr);
      if (rc < 0) ht_comm_abort(comm, rc, ht_error_message());
      ht__step_flags flags;
      if (ht__ckpt_step_agree_end(&r->ck, &loss, &flags) < 0) ht_comm_abort(comm, HT_EMPI, ht_error_message());
      loss /= (double)P;
      /* comm.mode delayed: a non-finite loss means this step's gradient, still
       * in flight, is likely non-finite too: reduce it now, so the check below
       * names where. */
      if (!isfinite(loss) && cfg->comm.mode == HT_SYNC_DELAYED) {
        rc = ht_grad_sync_flush(r->sync);
        if (rc < 0) ht_comm_abort(comm, rc, ht_error_message());
      }
      int nonfinite;
      HT_CHECK(check_nonfinite(r, &prog, &nonfinite));
      int skipping = cfg->train.on_nonfinite == HT_NONFINITE_SKIP_STEP;
      if (!nonfinite && isfinite(loss)) r->skipped_in_row = 0;
      if (!isfinite(loss) && !skipping) {
        ht__progress_clear(&prog);
        return agreed(r, ht_error(HT_EDIVERGED,
                        "training diverged at step %lld (epoch %lld): the loss is %s; lower optimizer.lr "
                        "(now %g) or add schedule.warmup_steps",
                        (long long)cur->step, (long long)epoch + 1, isnan(loss) ? "NaN" : "infinite", cfg->optimizer.lr));
      }
      cur->step++;
      cur->position++;
      cur->samples_seen += B * P;
      steps_here++;
      if (isfinite(loss)) { /* skip_step: a non-finite loss is left out of the means */
        cur->epoch_steps++;
        cur->epoch_loss += loss;
        cur->window_loss += loss;
        cur->window_steps++;
      }
      if ((cur->step % cfg->train.log_every == 0 || cur->step == r->total_steps) && cur->window_steps > 0) {
        double now = ht_now();
        double sps = (double)(cur->window_steps * B * P) / (now - t_window);
        metrics_step(r, epoch + 1, cur->step, cur->window_loss / (double)cur->window_steps, lr, sps, now - t_start);
        ht__progress_step(&prog, &r->log, epoch, cfg->train.epochs, cur->step,
                          cur->window_loss / (double)cur->window_steps, sps);
        cur->window_loss = 0;
        cur->window_steps = 0;
        t_window = now;
      }
      /* Delayed mode holds one gradient in flight: apply it before a
       * checkpoint, as at an epoch end, so the checkpoint is the whole state. */
      int saving = ht__ckpt_will_save(&r->ck, cur, &flags);
      if (saving) {
        rc = ht_grad_sync_flush(r->sync);
        if (rc < 0) ht_comm_abort(comm, rc, ht_error_message());
        HT_CHECK(check_nonfinite(r, &prog, &nonfinite));
        ht_track_begin(ht_grad_sync_track(r->sync), HT_EV_CHECKPOINT, -1);
      }
      rc = ht__ckpt_after_step(&r->ck, cur, &flags, ht_now() - t_start);
      if (saving) ht_track_end(ht_grad_sync_track(r->sync));
      if (rc < 0) {
        ht__progress_clear(&prog);
        return rc;
      }
    }
    /* comm.mode delayed: apply the last pending gradient before evaluating. */
    int frc = ht_grad_sync_flush(r->sync);
    if (frc < 0) ht_comm_abort(comm, frc, ht_error_message());
    int nonfinite;
    HT_CHECK(check_nonfinite(r, &prog, &nonfinite));
    t_train = ht_now() - t_epoch;
    ht_loader_get_stats(&r->loader, &ls1);
    /* Rank 0's data wait: the metrics record what compute on rank 0 saw. */
    double data_wait = ls1.wait_s - ls0.wait_s;
    double sps = (double)(steps_here * B * P) / (t_train > 0 ? t_train : 1e-9);
    if (r->have_test) HT_CHECK(ht_eval_model(&r->model, &r->test, comm, &ev));
    ht__progress_clear(&prog);
    double mean_loss = cur->epoch_steps ? cur->epoch_loss / (double)cur->epoch_steps : 0;
    metrics_epoch(r, epoch + 1, cur->step, mean_loss, r->have_test ? &ev : NULL, sps, ht_now() - t_start, data_wait);
    ht_log_file(&r->log,
                "loader: data wait %.3f s of %.3f s training (%lld of %lld batches waited, longest wait so far %.3f s); loader "
                "thread read %.3f s (%.1f MB), assemble %.3f s",
                data_wait, t_train, (long long)(ls1.waits - ls0.waits), (long long)(ls1.batches - ls0.batches),
                ls1.max_wait_s, ls1.read_s - ls0.read_s, (double)(ls1.bytes_read - ls0.bytes_read) / 1048576.0,
                ls1.assemble_s - ls0.assemble_s);
    if (r->have_test && r->test.task == HT_TASK_CLASSIFY)
      ht_log_info(&r->log, "epoch %lld/%d  step %lld  train_loss %.4f  test_loss %.4f  test_accuracy %.4f  %.0f samples/s",
                  (long long)epoch + 1, cfg->train.epochs, (long long)cur->step, mean_loss, ev.loss, ev.accuracy, sps);
    else if (r->have_test)
      ht_log_info(&r->log, "epoch %lld/%d  step %lld  train_loss %.4f  test_rmse %.4f  %.0f samples/s",
                  (long long)epoch + 1, cfg->train.epochs, (long long)cur->step, mean_loss, ev.rmse, sps);
    else
      ht_log_info(&r->log, "epoch %lld/%d  step %lld  train_loss %.4f  %.0f samples/s", (long long)epoch + 1,
                  cfg->train.epochs, (long long)cur->step, mean_loss, sps);
    res->train_loss = mean_loss;
    int best = r->have_test && improved(r, &ev);
    if (best) {
      cur->best_value = r->test.task == HT_TASK_CLASSIFY ? ev.accuracy : ev.rmse;
      cur->best_step = cur->step;
    }
    /* The epoch's work is done: a checkpoint from here on starts the next one. */
    if (cur->position >= r->steps_per_epoch) {
      cur->epoch = epoch + 1;
      cur->position = 0;
      cur->epoch_loss = 0;
      cur->epoch_steps = 0;
    }
    int last = cur->epoch >= cfg->train.epochs || cur->step >= r->total_steps;
    if (best && cfg->checkpoint.keep_best && !last) HT_CHECK(ht__ckpt_save(&r->ck, cur, 0, 1, ht_now() - t_start));
    if (last) {
      /* The final checkpoint, synchronous; it is the best one when this evaluation was. */
      ht_track_begin(ht_grad_sync_track(r->sync), HT_EV_CHECKPOINT, -1);
      int src = ht__ckpt_save(&r->ck, cur, 1, best && cfg->checkpoint.keep_best, ht_now() - t_start);
      ht_track_end(ht_grad_sync_track(r->sync));
      HT_CHECK(src);
      if (comm->rank == 0) ht_log_info(&r->log, "saved %s/ckpt-%lld.h5", r->ck.dir, (long long)cur->step);
    }
  }
  res->steps = cur->step;
  res->test_accuracy = ev.accuracy;
  res->test_rmse = ev.rmse;
  if (epochs_run == 0)
    ht_log_info(&r->log, "nothing to do: the checkpoint at step %lld already completes this run", (long long)cur->step);
  ht__ckpt_report(&r->ck);
  HT_CHECK(comm_finish(r));
  HT_CHECK(ht__peak_rss_report(comm, &r->log));
  ht_log_info(&r->log, "done in %.1f s: %lld steps; run directory %s", ht_now() - t_start, (long long)cur->step,
              r->run_dir);
  return 0;
}

static void run_free(train_run *r) {
  if (r->ck_ready) ht__ckpt_destroy(&r->ck);
  ht_grad_sync_destroy(&r->sync);
  ht_events_destroy(&r->events);
  ht_loader_destroy(&r->loader);
  ht_optim_destroy(&r->opt);
  ht_model_destroy(&r->model);
  ht_norm_free(&r->norm);
  ht_dataset_free(&r->train);
  ht_dataset_free(&r->test);
  if (r->metrics) fclose(r->metrics);
  if (r->log.file) fclose(r->log.file);
  free(r->config_yaml);
  free(r->poison);
}

int ht_train(const ht_config *cfg, const ht_comm *comm, const char *run_dir, ht_train_result *res) {
  ht_train_opts opts = {.run_dir = run_dir};
  return ht_train_ex(cfg, comm, &opts, res);
}

/* Events, the bucket plan and the communication thread (collective on
 * comm->main: agreement, binding table, aligned event clocks). */
static int comm_setup(train_run *r) {
  /* Timeline records per thread: about 40 per step for a 3-layer MLP, so
   * 2^16 covers the first ~1600 steps; the table's totals are always exact. */
  int rc = ht_events_create(&r->events, r->timeline ? (1 << 16) : 0);
  ht_grad_sync_opts o;
  if (rc == 0) rc = ht_grad_sync_opts_from_config(r->cfg, &o);
  /* After compute.binding's split the communication thread gets its own core
   * of the rank's block, unless comm.thread_core names one. */
  if (rc == 0 && o.thread_core < 0) o.thread_core = r->binding.comm_cpu;
  cpu_set_t cpus;
  ht_rank_cpuset(&cpus);
  if (rc == 0) rc = ht_grad_sync_create(&r->sync, &o, r->comm, &r->model, &r->opt, &r->events, &cpus);
  HT_CHECK(ht_comm_agree(r->comm, rc));
  HT_CHECK(ht_grad_sync_binding_report(r->sync, &r->log));
  /* Tracks 0 (main) and 1 (comm) belong to grad_sync; the loader and writer
   * threads already run, so they get theirs after the reset of the totals. */
  ht_track *loader_track = ht_events_track(&r->events, 2, "loader");
  ht_track *ckpt_track =
      ht_ckpt_writer_is_async(r->ck.writer) ? ht_events_track(&r->events, 3, "ckpt") : NULL;
  ht_comm_stall_enter(r->comm, "the aligning of the event clocks (MPI_Barrier)");
  rc = ht_events_start(&r->events, r->comm->main);
  ht_comm_stall_leave(r->comm);
  HT_CHECK(rc);
  ht_loader_set_track(&r->loader, loader_track);
  if (ckpt_track) ht_ckpt_writer_set_track(r->ck.writer, ckpt_track);
  return 0;
}

int ht_train_ex(const ht_config *cfg, const ht_comm *comm, const ht_train_opts *opts, ht_train_result *res) {
  if (cfg->train.engine != HT_ENGINE_SYNC) return ht__train_sparse(cfg, comm, opts, res);
  train_run r;
  memset(&r, 0, sizeof r);
  memset(res, 0, sizeof *res);
  res->test_accuracy = res->test_rmse = -1;
  r.cfg = cfg;
  r.comm = comm;
  r.timeline = opts->timeline;
  r.log.rank = comm->rank;
  r.cur.best_value = NAN;
  r.cur.best_step = -1;
  r.cur.backend = HT_GEMM_AUTO;
  poison_init(&r);
  /* The watchdog times every collective from here on, start-up and resume
   * included (only the config's own broadcast, which brings its limits,
   * comes before). */
  int rc = ht_comm_set_watchdog(comm, cfg->comm.stall_warn_s, cfg->comm.stall_timeout_s);
  HT_CHECK_GOTO(ht_comm_agree(comm, rc), rc, done);
  /* Before the loader, checkpoint and communication threads start: they
   * inherit the main thread's cpus, so they follow a split. */
  ht_binding_opts bopts = {.mode = cfg->compute.binding};
  HT_CHECK_GOTO(ht_binding_setup(&bopts, comm, &r.binding), rc, done);
  rc = load_and_build(&r);
  HT_CHECK_GOTO(ht_comm_agree(comm, rc), rc, done);
  if (cfg->checkpoint.keep_best && !r.have_test) rc = ht_error(HT_ECONFIG, "checkpoint.keep_best: needs data.test (the best checkpoint is the one with the best test metric)");
  HT_CHECK_GOTO(ht_comm_agree(comm, rc), rc, done);

  /* Resume: model, optimizer, normalisation and position from a checkpoint. */
  char run_dir[HT_PATH_MAX];
  snprintf(run_dir, sizeof run_dir, "%s", opts->run_dir ? opts->run_dir : "");
  int resumed = 0;
  if (opts->resume && opts->resume[0])
    HT_CHECK_GOTO(ht__resume(cfg, comm, &r.log, opts->resume, opts->run_dir, &r.model, &r.opt, &r.norm,
                             r.train.n_total, r.steps_per_epoch, &r.cur, run_dir, sizeof run_dir, &resumed),
                  rc, done);
  if (resumed) {
    /* The run's length in steps, seen from where it continues: equal to the
     * uninterrupted run's with the same layout; after an elastic resume the
     * epochs left have a different number of steps. */
    int64_t spe = r.steps_per_epoch, left = 0;
    if (r.cur.epoch < cfg->train.epochs) left = (spe - r.cur.position) + spe * (cfg->train.epochs - 1 - r.cur.epoch);
    int64_t total = r.cur.step + left;
    if (cfg->train.max_steps > 0 && cfg->train.max_steps < total) total = cfg->train.max_steps;
    if (total != r.total_steps) {
      r.total_steps = total;
      ht_sched_opts so;
      ht_sched_opts_from_config(cfg, &so);
      HT_CHECK_GOTO(ht_sched_create(&r.sched, &so, total), rc, done);
    }
  } else {
    int standard = cfg->data.normalize == HT_NORMALIZE_STANDARD;
    if (r.lopts.mode == HT_LOADER_STREAM)
      HT_CHECK_GOTO(ht_norm_fit_stream(&r.norm, &r.train, standard, r.lopts.chunk_rows, comm->main), rc, done);
    else
      HT_CHECK_GOTO(ht_norm_fit(&r.norm, &r.train, standard, comm->main), rc, done);
  }
  /* The training shard stays raw: the loader thread normalises each batch (after augmenting it). */
  ht_loader_norm_ready(&r.loader);
  if (r.have_test) ht_norm_apply(&r.norm, r.test.x, r.test.n);

  r.config_yaml = ht__config_text(cfg);
  if (!r.config_yaml) rc = ht_error(HT_ENOMEM, "out of memory formatting the config");
  HT_CHECK_GOTO(ht_comm_agree(comm, rc), rc, done);
  HT_CHECK_GOTO(ht__run_dir_create(cfg, comm, run_dir, r.run_dir, sizeof r.run_dir), rc, done);
  snprintf(res->run_dir, sizeof res->run_dir, "%s", r.run_dir);
  rc = comm->rank == 0 && resumed ? ht__metrics_rewind(r.run_dir, &r.cur) : 0;
  if (rc == 0 && comm->rank == 0) rc = ht__run_open_outputs(r.run_dir, r.config_yaml, &r.log, &r.metrics);
  HT_CHECK_GOTO(ht_comm_agree(comm, rc), rc, done);
  ht_log_file(&r.log, "config %s, run directory %s", cfg->source, r.run_dir);
  HT_CHECK_GOTO(ht__startup_report(comm, &r.log, &r.binding), rc, done);
  ht_log_info(&r.log, "  %s", r.data_desc);
  if (r.train.task == HT_TASK_CLASSIFY && r.train.classes_inferred)
    ht_log_info(&r.log, "  classes: %d, inferred from the labels of %s (largest label %d): the file has no num_classes attribute",
                r.train.num_classes, cfg->data.train, r.train.num_classes - 1);
  HT_CHECK_GOTO(ht__compute_setup(cfg, comm, &r.log, &r.model, cfg->train.batch_size, r.cur.backend), rc, done);
  HT_CHECK_GOTO(ht__ckpt_setup(&r.ck, cfg, comm, &r.log, r.run_dir, &r.model, &r.opt, &r.norm, r.config_yaml,
                               opts->stop_at_step, r.total_steps),
                rc, done);
  r.ck_ready = 1;

  /* Identical initial weights everywhere: rank 0 initialises, everyone receives. */
  if (!resumed) {
    if (comm->rank == 0) ht_model_init(&r.model, (uint64_t)cfg->train.seed);
    HT_CHECK_GOTO(ht_comm_bcast_floats(comm, r.model.params, r.model.n_params), rc, done);
  }
  HT_CHECK_GOTO(comm_setup(&r), rc, done);
  rc = train_loop(&r, res);
done:
  run_free(&r);
  return rc;
}
