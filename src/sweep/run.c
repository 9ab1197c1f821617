/*
 * Trial scheduling of sweeps and cross-validation (hytrain/sweep_run.h):
 * world rank 0 builds every trial's config and broadcasts it; groups of ranks
 * then take trials from the shared queue (queue.c) and train them.
 */
#include "hytrain/sweep_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hytrain/error.h"
#include "hytrain/train.h"
#include "sweep/queue.h"

int ht_sweep_build_file(ht_sweep *sw, const ht_sweep_run_opts *o) { return ht_sweep_load(sw, o->source); }

int ht_sweep_out_dir(const ht_sweep *sw, const ht_sweep_run_opts *o, char *out, size_t len) {
  if (o->out) {
    if (snprintf(out, len, "%s", o->out) >= (int)len) return ht_error(HT_EUSAGE, "--out: path too long");
    return 0;
  }
  ht_config cfg;
  HT_CHECK(ht_sweep_trial_config(sw, 0, o->sets, o->n_sets, &cfg));
  if (snprintf(out, len, "%s/%s", cfg.run.root[0] ? cfg.run.root : "runs", sw->name) >= (int)len)
    return ht_error(HT_ECONFIG, "run.root: path too long");
  return 0;
}

int ht_sweep_list(const ht_sweep *sw, char **sets, int n_sets, FILE *f) {
  for (int t = 0; t < sw->n_trials; t++) {
    ht_config cfg;
    HT_CHECK(ht_sweep_trial_config(sw, t, sets, n_sets, &cfg));
    fprintf(f, "%d", t);
    for (int p = 0; p < sw->n_params; p++) {
      char v[HT_SWEEP_VALUE_MAX];
      ht_sweep_value(sw, t, p, v, sizeof v);
      fprintf(f, " %s=%s", sw->params[p].key, v);
    }
    fprintf(f, "\n");
  }
  return 0;
}

/* Trains trial t on comm (all its ranks) and, on comm rank 0, writes its row.
 * Returns 0 when the trial ran (done or diverged), 1 when it failed (its
 * message printed), or an error that ends the sweep (the row not written). */
static int run_trial(const ht_sweep *sw, const char *out, const ht_config *cfg, int t, const ht_comm *comm) {
  char dir[HT_PATH_MAX];
  ht_sweep_trial_dir(out, t, dir, sizeof dir);
  ht_train_result res;
  int rc = ht_train(cfg, comm, dir, &res);
  ht_trial_result r = {.trial = t, .steps = res.steps, .train_loss = res.train_loss,
                       .test_accuracy = res.test_accuracy, .test_rmse = res.test_rmse};
  snprintf(r.status, sizeof r.status, "%s", rc == 0 ? "done" : rc == HT_EDIVERGED ? "diverged" : "failed");
  if (rc < 0) {
    r.steps = 0;
    r.train_loss = r.test_accuracy = r.test_rmse = -1;
    /* The rank that holds the message (ht_comm_agree) reports it. */
    if (ht_error_message()[0]) fprintf(stderr, "hytrain sweep: trial %d %s: %s\n", t, r.status, ht_error_message());
    ht_error_clear();
  }
  int wrc = comm->rank == 0 ? ht_sweep_write_result(sw, out, &r) : 0;
  HT_CHECK(ht_comm_agree(comm, wrc));
  return rc < 0 && rc != HT_EDIVERGED ? 1 : 0;
}

/* The whole sweep over the world's groups. Returns the number of failed trials
 * (>= 0) or an error. */
static int run_groups(const ht_sweep *sw, const char *out, const ht_config *cfgs, int group_size, const ht_comm *world) {
  ht_comm group;
  HT_CHECK(ht_comm_split(world, world->rank / group_size, world->rank, &group));
  ht_trial_queue q;
  int rc = ht_trial_queue_open(&q, world, sw->n_trials, world->size / group_size);
  int failed = 0;
  while (rc == 0) {
    int t = -1;
    if (group.rank == 0) rc = ht_trial_queue_next(&q, &t);
    /* A queue failure on a leader is reported by the queue thread's abort. */
    if (rc < 0) ht_comm_abort(world, rc, ht_error_message());
    if (HT_MPI(MPI_Bcast(&t, 1, MPI_INT, 0, group.main)) < 0) ht_comm_abort(world, HT_EMPI, ht_error_message());
    if (t < 0) break;
    if (group.rank == 0) printf("hytrain sweep: trial %d of %d on ranks %d-%d\n", t, sw->n_trials, world->rank, world->rank + group.size - 1);
    fflush(stdout);
    int r = run_trial(sw, out, &cfgs[t], t, &group);
    /* Writing a row failed inside one group only: end the whole sweep. */
    if (r < 0) ht_comm_abort(world, r, ht_error_message());
    failed += group.rank == 0 ? r : 0;
  }
  int crc = ht_trial_queue_close(&q);
  if (rc == 0) rc = crc;
  ht_comm_free(&group);
  HT_CHECK(rc);
  HT_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, &failed, 1, MPI_INT, MPI_SUM, world->main));
  return failed;
}

/* World rank 0: builds the sweep, the output directory and the configs of the
 * trials to run (n of them). */
static int build_on_root(const ht_sweep_run_opts *o, const ht_comm *world, ht_sweep_builder build, ht_sweep *sw,
                         char *out, size_t out_len, ht_config **cfgs, int *n) {
  HT_CHECK(build(sw, o));
  HT_CHECK(ht_sweep_out_dir(sw, o, out, out_len));
  if (o->trial >= sw->n_trials)
    return ht_error(HT_EUSAGE, "--trial %d: %s has trials 0..%d", o->trial, o->source, sw->n_trials - 1);
  if (o->trial < 0 && world->size % o->group_size != 0)
    return ht_error(HT_EUSAGE, "--group-size %d does not divide the %d MPI ranks", o->group_size, world->size);
  *n = o->trial >= 0 ? 1 : sw->n_trials;
  if (!(*cfgs = calloc((size_t)*n, sizeof **cfgs))) return ht_error(HT_ENOMEM, "out of memory for %d trial configs", *n);
  for (int i = 0; i < *n; i++) HT_CHECK(ht_sweep_trial_config(sw, o->trial >= 0 ? o->trial : i, o->sets, o->n_sets, &(*cfgs)[i]));
  return 0;
}

int ht_sweep_run(const ht_sweep_run_opts *o, const ht_comm *world, ht_sweep_builder build, char *out_dir) {
  ht_sweep *sw = calloc(1, sizeof *sw);
  ht_config *cfgs = NULL;
  char out[HT_PATH_MAX] = "";
  int rc = sw ? 0 : ht_error(HT_ENOMEM, "out of memory"), n = 0;
  /* Rank 0 reads and checks everything; the others receive it. */
  if (rc == 0 && world->rank == 0) rc = build_on_root(o, world, build, sw, out, sizeof out, &cfgs, &n);
  if (world->rank != 0) ht_error_clear();
  rc = ht_comm_agree(world, world->rank == 0 ? rc : 0);
  if (rc < 0) goto done;
  HT_CHECK_MPI_GOTO(MPI_Bcast(&n, 1, MPI_INT, 0, world->main), rc, done);
  if (world->rank != 0 && !(cfgs = calloc((size_t)n, sizeof *cfgs))) ht_comm_abort(world, HT_ENOMEM, "out of memory for the trial configs");
  HT_CHECK_MPI_GOTO(MPI_Bcast(sw, (int)sizeof *sw, MPI_BYTE, 0, world->main), rc, done);
  HT_CHECK_MPI_GOTO(MPI_Bcast(out, (int)sizeof out, MPI_CHAR, 0, world->main), rc, done);
  for (int i = 0; i < n; i++) HT_CHECK_GOTO(ht_config_bcast(&cfgs[i], 0, world->main), rc, done);
  if (out_dir) snprintf(out_dir, HT_PATH_MAX, "%s", out);

  int failed;
  if (o->trial >= 0) {
    failed = run_trial(sw, out, &cfgs[0], o->trial, world);
    if (failed < 0) rc = failed;
  } else {
    failed = run_groups(sw, out, cfgs, o->group_size, world);
    if (failed < 0) rc = failed;
    int crc = rc == 0 && world->rank == 0 ? ht_sweep_collect(sw, out) : 0;
    rc = rc == 0 ? ht_comm_agree(world, crc) : rc;
  }
  if (rc == 0 && failed > 0) {
    if (world->rank == 0) {
      rc = ht_error(HT_EINTERNAL, "%d trial(s) failed (status 'failed' in the results; messages above)", failed);
    } else {
      ht_error_defer(); /* rank 0 reports the count */
      rc = HT_EINTERNAL;
    }
  }
done:
  free(cfgs);
  free(sw);
  return rc;
}
