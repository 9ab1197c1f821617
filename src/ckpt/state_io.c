/*
 * Reading checkpoints: the model description (eval), the weights and
 * normalisation (eval), and the whole training state (resume). Every dataset
 * read is verified by HDF5's fletcher32 filter and its shape is checked
 * against the model it is read into.
 */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt/h5io.h"
#include "hytrain/ckpt.h"
#include "hytrain/error.h"

static int read_info(hid_t f, const char *path, ht_ckpt_info *info) {
  memset(info, 0, sizeof *info);
  int64_t v = 0;
  HT_CHECK(ht__attr_read(f, "step", HT_H5NUM_INT64, &info->step, path));
  HT_CHECK(ht__attr_read(f, "epoch", HT_H5NUM_INT64, &info->epoch, path));
  HT_CHECK(ht__attr_read(f, "samples_seen", HT_H5NUM_INT64, &info->samples_seen, path));
  HT_CHECK(ht__attr_read(f, "batch_size", HT_H5NUM_INT64, &info->batch_size, path));
  HT_CHECK(ht__attr_read(f, "world_size", HT_H5NUM_INT64, &v, path));
  if (v < 1 || v > 1 << 24) return ht_error(HT_EDATA, "%s: world_size %lld is out of range", path, (long long)v);
  info->world_size = (int)v;
  HT_CHECK(ht__attr_read_str(f, "data_test", info->data_test, sizeof info->data_test, path));
  /* Optional: files written before it was recorded lack it. */
  HT_CHECK(ht__attr_read_str_opt(f, "compute_backend", info->compute_backend, sizeof info->compute_backend, path));
  return 0;
}

int ht_ckpt_load_spec(const char *path, ht_model_spec *spec, ht_ckpt_info *info) {
  hid_t f;
  HT_CHECK(ht__ckpt_open(path, &f));
  memset(spec, 0, sizeof *spec);
  int rc = 0;
  int64_t v = 0;
  char what[1200];
  snprintf(what, sizeof what, "%s: /model", path);
  hid_t g = -1;
  HT_CHECK_GOTO(read_info(f, path, info), rc, done);
  if (HT_H5_OR(H5Lexists(f, "model", H5P_DEFAULT), HT_EDATA, "%s: /model cannot be looked up (corrupt file?)", path) <= 0) {
    rc = ht_error(HT_EDATA, "%s: /model is missing", path);
    goto done;
  }
  g = HT_H5_OR(H5Gopen2(f, "model", H5P_DEFAULT), HT_EDATA, "%s: /model is not a group (corrupt file?)", path);
  if (g < 0) {
    rc = HT_EDATA;
    goto done;
  }
  int e = 0;
  HT_CHECK_GOTO(ht__attr_read_enum(g, "type", &ht_model_types, &e, what), rc, done);
  spec->type = (ht_model_type)e;
  HT_CHECK_GOTO(ht__attr_read(g, "in", HT_H5NUM_INT64, &v, what), rc, done);
  spec->in = (int)v;
  HT_CHECK_GOTO(ht__attr_read(g, "out", HT_H5NUM_INT64, &v, what), rc, done);
  spec->out = (int)v;
  HT_CHECK_GOTO(ht__attr_read(g, "regression", HT_H5NUM_INT64, &v, what), rc, done);
  spec->regression = (int)v;
  HT_CHECK_GOTO(ht__attr_read(g, "n_hidden", HT_H5NUM_INT64, &v, what), rc, done);
  if (v < 0 || v > 16) {
    rc = ht_error(HT_EDATA, "%s: n_hidden %lld out of range", what, (long long)v);
    goto done;
  }
  spec->n_hidden = (int)v;
  size_t n_hidden = 0;
  HT_CHECK_GOTO(ht__attr_read_n(g, "hidden", HT_H5NUM_INT32, spec->hidden, sizeof spec->hidden / sizeof spec->hidden[0],
                                &n_hidden, what), rc, done);
  if (n_hidden < (size_t)spec->n_hidden) {
    rc = ht_error(HT_EDATA, "%s: attribute 'hidden' has %zu sizes but n_hidden is %d", what, n_hidden, spec->n_hidden);
    goto done;
  }
  HT_CHECK_GOTO(ht__attr_read_enum(g, "activation", &ht_activations, &e, what), rc, done);
  spec->activation = (ht_activation)e;
  HT_CHECK_GOTO(ht__attr_read_enum(g, "init", &ht_inits, &e, what), rc, done);
  spec->init = (ht_init)e;
  HT_CHECK_GOTO(ht__attr_read(g, "l2", HT_H5NUM_DOUBLE, &spec->l2, what), rc, done);
done:
  if (g >= 0) H5Gclose(g);
  H5Fclose(f);
  return rc;
}

static int read_norm(hid_t f, const char *path, int d, ht_norm *norm) {
  memset(norm, 0, sizeof *norm);
  norm->d = d;
  norm->mean = malloc(sizeof(float) * (size_t)(d > 0 ? d : 1));
  norm->std = malloc(sizeof(float) * (size_t)(d > 0 ? d : 1));
  if (!norm->mean || !norm->std) return ht_error(HT_ENOMEM, "out of memory");
  hsize_t dd[1] = {(hsize_t)d};
  HT_CHECK(ht__read_ds(f, "/preprocess/mean", HT_H5NUM_FLOAT, norm->mean, 1, dd, path));
  HT_CHECK(ht__read_ds(f, "/preprocess/std", HT_H5NUM_FLOAT, norm->std, 1, dd, path));
  int mode = HT_NORMALIZE_NONE;
  hid_t p = HT_H5_OR(H5Gopen2(f, "/preprocess", H5P_DEFAULT), HT_EDATA, "%s: /preprocess is not a group (corrupt file?)", path);
  if (p < 0) return HT_EDATA;
  int rc = ht__attr_read_enum(p, "normalize", &ht_normalizes, &mode, path);
  H5Gclose(p);
  norm->enabled = mode == HT_NORMALIZE_STANDARD;
  return rc;
}

int ht_ckpt_load_params(const char *path, ht_model *m, ht_norm *norm) {
  hid_t f;
  HT_CHECK(ht__ckpt_open(path, &f));
  int rc = ht__layers_io(f, path, m, "/model", m->params, 0);
  if (rc == 0) rc = read_norm(f, path, m->spec.in, norm);
  H5Fclose(f);
  return rc;
}

static int read_optimizer(hid_t f, const char *path, ht_ckpt_state *s) {
  char what[1200];
  int name = -1;
  snprintf(what, sizeof what, "%s: /optimizer", path);
  if (HT_H5_OR(H5Lexists(f, "/optimizer", H5P_DEFAULT), HT_EDATA, "%s: cannot be looked up (corrupt file?)", what) <= 0)
    return ht_error(HT_EDATA, "%s: group is missing", what);
  hid_t g = HT_H5_OR(H5Gopen2(f, "/optimizer", H5P_DEFAULT), HT_EDATA, "%s: not a group (corrupt file?)", what);
  if (g < 0) return HT_EDATA;
  int rc = ht__attr_read_enum(g, "name", &ht_optimizers, &name, what);
  H5Gclose(g);
  HT_CHECK(rc);
  if (name != (int)s->optim)
    return ht_error(HT_ECONFIG, "%s: optimizer '%s', but optimizer.name is '%s'; resume with the same optimizer", what,
                    ht_enum_name(&ht_optimizers, name), ht_enum_name(&ht_optimizers, (int)s->optim));
  hsize_t one[1] = {1};
  HT_CHECK(ht__read_ds(f, "/optimizer/t", HT_H5NUM_INT64, &s->opt_t, 1, one, path));
  if (s->optim == HT_OPTIM_ADAMW) {
    HT_CHECK(ht__layers_io(f, path, s->model, "/optimizer/m", s->opt_m, 0));
    HT_CHECK(ht__layers_io(f, path, s->model, "/optimizer/v", s->opt_v, 0));
  } else if (s->opt_m) {
    /* A checkpoint of plain SGD (no momentum) resumed with momentum starts
     * the buffer at zero, as PyTorch does for a fresh buffer. */
    htri_t has = HT_H5_OR(H5Lexists(f, "/optimizer/momentum", H5P_DEFAULT), HT_EDATA,
                          "%s: /optimizer/momentum cannot be looked up (corrupt file?)", path);
    if (has < 0) return HT_EDATA;
    if (has > 0)
      HT_CHECK(ht__layers_io(f, path, s->model, "/optimizer/momentum", s->opt_m, 0));
    else
      memset(s->opt_m, 0, sizeof(float) * s->model->n_params);
  }
  return 0;
}

static int read_ranks(hid_t f, const char *path, ht_ckpt_state *s) {
  int W = s->info.world_size;
  s->ranks = calloc((size_t)W, sizeof *s->ranks);
  if (!s->ranks) return ht_error(HT_ENOMEM, "out of memory");
  char name[64];
  hsize_t three[1] = {3};
  for (int r = 0; r < W; r++) {
    int64_t d[3];
    uint64_t key[3];
    snprintf(name, sizeof name, "/data/%d", r);
    HT_CHECK(ht__read_ds(f, name, HT_H5NUM_INT64, d, 1, three, path));
    snprintf(name, sizeof name, "/rng/%d", r);
    HT_CHECK(ht__read_ds(f, name, HT_H5NUM_UINT64, key, 1, three, path));
    if (key[0] != (uint64_t)d[2] || key[1] != (uint64_t)d[0] || key[2] != (uint64_t)r)
      return ht_error(HT_EDATA, "%s: /rng/%d does not agree with /data/%d (inconsistent checkpoint)", path, r, r);
    s->ranks[r] = (ht_ckpt_rank){.epoch = d[0], .position = d[1], .seed = d[2]};
  }
  return 0;
}

static int read_metrics(hid_t f, const char *path, ht_ckpt_info *in) {
  double best[2], prog[5];
  hsize_t two[1] = {2}, five[1] = {5};
  HT_CHECK(ht__read_ds(f, "/metrics/best", HT_H5NUM_DOUBLE, best, 1, two, path));
  hid_t ds = HT_H5_OR(H5Dopen2(f, "/metrics/best", H5P_DEFAULT), HT_EDATA, "%s: /metrics/best cannot be opened (corrupt file?)", path);
  if (ds < 0) return HT_EDATA;
  int rc = ht__attr_read_str(ds, "metric", in->best_name, sizeof in->best_name, path);
  H5Dclose(ds);
  HT_CHECK(rc);
  in->best_value = best[0];
  in->best_step = (int64_t)best[1];
  HT_CHECK(ht__read_ds(f, "/metrics/progress", HT_H5NUM_DOUBLE, prog, 1, five, path));
  in->progress = (ht_ckpt_progress){.epoch_loss_sum = prog[0],
                                    .epoch_steps = (int64_t)prog[1],
                                    .window_loss_sum = prog[2],
                                    .window_steps = (int64_t)prog[3],
                                    .wall_s = prog[4]};
  return 0;
}

int ht_ckpt_read(const char *path, ht_ckpt_state *s) {
  hid_t f;
  HT_CHECK(ht__ckpt_open(path, &f));
  int rc = 0;
  HT_CHECK_GOTO(read_info(f, path, &s->info), rc, done);
  HT_CHECK_GOTO(ht__layers_io(f, path, s->model, "/model", s->params, 0), rc, done);
  HT_CHECK_GOTO(read_optimizer(f, path, s), rc, done);
  HT_CHECK_GOTO(read_ranks(f, path, s), rc, done);
  HT_CHECK_GOTO(read_metrics(f, path, &s->info), rc, done);
  HT_CHECK_GOTO(read_norm(f, path, s->model->spec.in, s->norm), rc, done);
done:
  H5Fclose(f);
  return rc;
}
