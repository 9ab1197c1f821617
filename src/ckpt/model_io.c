/*
 * Writing a checkpoint (layout in include/hytrain/ckpt.h and
 * docs/checkpoint-format.md). Runs on the checkpoint writer thread or, for
 * synchronous checkpoints, on the main thread; it touches only the state it
 * is given (a staging copy when asynchronous).
 */
#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ckpt/h5io.h"
#include "hytrain/ckpt.h"
#include "hytrain/error.h"
#include "hytrain/fileio.h"

static int write_root(hid_t f, const char *path, const ht_ckpt_state *s) {
  const ht_ckpt_info *info = &s->info;
  HT_CHECK(ht__ckpt_write_header(f, path, info->step, info->epoch, info->world_size, s->config_yaml, info->data_test));
  HT_CHECK(ht__attr_i64(f, "samples_seen", info->samples_seen, path));
  HT_CHECK(ht__attr_i64(f, "batch_size", info->batch_size, path));
  if (info->compute_backend[0]) HT_CHECK(ht__attr_str(f, "compute_backend", info->compute_backend, path));
  return 0;
}

static int write_model_attrs(hid_t f, const char *path, const ht_model_spec *sp) {
  hid_t g = ht__group(f, "/model");
  HT_CHECK_H5(g, path);
  int rc = 0, hidden[16];
  memcpy(hidden, sp->hidden, sizeof hidden);
  HT_CHECK_GOTO(ht__attr_str(g, "type", ht_enum_name(&ht_model_types, (int)sp->type), path), rc, out);
  HT_CHECK_GOTO(ht__attr_i64(g, "in", sp->in, path), rc, out);
  HT_CHECK_GOTO(ht__attr_i64(g, "out", sp->out, path), rc, out);
  HT_CHECK_GOTO(ht__attr_i64(g, "regression", sp->regression, path), rc, out);
  HT_CHECK_GOTO(ht__attr_write(g, "hidden", H5T_NATIVE_INT, hidden, (hsize_t)(sp->n_hidden ? sp->n_hidden : 1), path),
                rc, out);
  HT_CHECK_GOTO(ht__attr_i64(g, "n_hidden", sp->n_hidden, path), rc, out);
  HT_CHECK_GOTO(ht__attr_str(g, "activation", ht_enum_name(&ht_activations, (int)sp->activation), path), rc, out);
  HT_CHECK_GOTO(ht__attr_str(g, "init", ht_enum_name(&ht_inits, (int)sp->init), path), rc, out);
  HT_CHECK_GOTO(ht__attr_write(g, "l2", H5T_NATIVE_DOUBLE, &sp->l2, 0, path), rc, out);
out:
  H5Gclose(g);
  return rc;
}

static int write_optimizer(hid_t f, const char *path, const ht_ckpt_state *s) {
  hid_t g = ht__group(f, "/optimizer");
  HT_CHECK_H5(g, path);
  int rc = ht__attr_str(g, "name", ht_enum_name(&ht_optimizers, (int)s->optim), path);
  H5Gclose(g);
  HT_CHECK(rc);
  hsize_t one[1] = {1};
  HT_CHECK(ht__write_ds(f, "/optimizer/t", H5T_STD_I64LE, H5T_NATIVE_INT64, &s->opt_t, 1, one, path));
  if (s->optim == HT_OPTIM_ADAMW) {
    HT_CHECK(ht__layers_io(f, path, s->model, "/optimizer/m", s->opt_m, 1));
    HT_CHECK(ht__layers_io(f, path, s->model, "/optimizer/v", s->opt_v, 1));
  } else if (s->opt_m) {
    HT_CHECK(ht__layers_io(f, path, s->model, "/optimizer/momentum", s->opt_m, 1));
  }
  return 0;
}

static int write_ranks(hid_t f, const char *path, const ht_ckpt_state *s) {
  char name[64];
  hsize_t three[1] = {3};
  for (int r = 0; r < s->info.world_size; r++) {
    const ht_ckpt_rank *k = &s->ranks[r];
    int64_t data[3] = {k->epoch, k->position, k->seed};
    uint64_t key[3] = {(uint64_t)k->seed, (uint64_t)k->epoch, (uint64_t)r};
    snprintf(name, sizeof name, "/data/%d", r);
    HT_CHECK(ht__write_ds(f, name, H5T_STD_I64LE, H5T_NATIVE_INT64, data, 1, three, path));
    snprintf(name, sizeof name, "/rng/%d", r);
    HT_CHECK(ht__write_ds(f, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, key, 1, three, path));
  }
  return 0;
}

static int write_metrics(hid_t f, const char *path, const ht_ckpt_state *s) {
  const ht_ckpt_info *in = &s->info;
  double best[2] = {in->best_value, (double)in->best_step};
  hsize_t two[1] = {2}, five[1] = {5};
  HT_CHECK(ht__write_ds(f, "/metrics/best", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, best, 1, two, path));
  hid_t ds = HT_H5(H5Dopen2(f, "/metrics/best", H5P_DEFAULT), path);
  if (ds < 0) return HT_EH5;
  int rc = ht__attr_str(ds, "metric", in->best_name[0] ? in->best_name : "none", path);
  H5Dclose(ds);
  HT_CHECK(rc);
  const ht_ckpt_progress *p = &in->progress;
  double prog[5] = {p->epoch_loss_sum, (double)p->epoch_steps, p->window_loss_sum, (double)p->window_steps, p->wall_s};
  HT_CHECK(ht__write_ds(f, "/metrics/progress", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, prog, 1, five, path));
  return 0;
}

static int write_preprocess(hid_t f, const char *path, const ht_norm *norm) {
  hsize_t dd[1] = {(hsize_t)norm->d};
  HT_CHECK(ht__write_ds(f, "/preprocess/mean", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, norm->mean, 1, dd, path));
  HT_CHECK(ht__write_ds(f, "/preprocess/std", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, norm->std, 1, dd, path));
  hid_t p = HT_H5(H5Gopen2(f, "/preprocess", H5P_DEFAULT), path);
  if (p < 0) return HT_EH5;
  int rc = ht__attr_str(p, "normalize",
                        ht_enum_name(&ht_normalizes, norm->enabled ? HT_NORMALIZE_STANDARD : HT_NORMALIZE_NONE), path);
  H5Gclose(p);
  return rc;
}

static int write_body(hid_t f, const char *path, const ht_ckpt_state *s, int stall_ms) {
  HT_CHECK(write_root(f, path, s));
  HT_CHECK(write_model_attrs(f, path, &s->model->spec));
  HT_CHECK(ht__layers_io(f, path, s->model, "/model", s->params, 1));
  if (stall_ms > 0) {
    /* Test hook (HT_TEST_CKPT_STALL_MS): hold the half-written file open so a
     * crash test can kill the process mid-write. Flushed first so the partial
     * file really holds data. */
    HT_CHECK_H5(H5Fflush(f, H5F_SCOPE_GLOBAL), path);
    struct timespec ts = {stall_ms / 1000, (long)(stall_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
  }
  HT_CHECK(write_optimizer(f, path, s));
  HT_CHECK(write_ranks(f, path, s));
  HT_CHECK(write_metrics(f, path, s));
  HT_CHECK(write_preprocess(f, path, s->norm));
  return 0;
}

/* errno values that mean "the file system refused the write"; reported as
 * such rather than as the HDF5 error stack's innermost line. */
static int io_errno(int e) {
  return e == ENOSPC || e == EDQUOT || e == EFBIG || e == EIO || e == EACCES || e == EROFS || e == ENOENT ||
         e == ENOTDIR || e == EPERM;
}

int ht_ckpt_write(const char *path, const ht_ckpt_state *s, int stall_ms) {
  char partial[HT_FILE_PATH_MAX];
  HT_CHECK(ht_file_partial_name(path, partial, sizeof partial));
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  hid_t fapl = HT_H5(H5Pcreate(H5P_FILE_ACCESS), partial);
  if (fapl < 0) return HT_EH5;
  if (HT_H5(H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST), partial) < 0) {
    H5Pclose(fapl);
    return HT_EH5;
  }
  errno = 0;
  hid_t f = HT_H5(H5Fcreate(partial, H5F_ACC_TRUNC, H5P_DEFAULT, fapl), partial);
  int rc = 0;
  if (f < 0) {
    rc = ht__h5_error(partial, "H5Fcreate", __FILE__, __LINE__); /* before H5Pclose clears the stack */
  } else {
    rc = write_body(f, partial, s, stall_ms);
    if (rc == 0 && HT_H5(H5Fflush(f, H5F_SCOPE_GLOBAL), partial) < 0) rc = ht__h5_error(partial, "H5Fflush", __FILE__, __LINE__);
    if (H5Fclose(f) < 0 && rc == 0) rc = ht__h5_error(partial, "H5Fclose", __FILE__, __LINE__);
  }
  int err = errno;
  H5Pclose(fapl);
  if (rc < 0) {
    H5Eclear2(H5E_DEFAULT);
    if (io_errno(err)) {
      ht_error_clear();
      rc = ht_error(HT_EIO, "%s: cannot write the checkpoint: %s", partial, strerror(err));
    }
    unlink(partial);
    return rc;
  }
  return ht_file_commit(partial, path);
}
