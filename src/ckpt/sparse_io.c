/*
 * Sparse-model checkpoints (layout in hytrain/sparse_ckpt.h). The weights are
 * checksummed by HDF5's fletcher32 filter and verified on read.
 */
#include "hytrain/sparse_ckpt.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt/h5io.h"
#include "data/dataset_internal.h"
#include "hytrain/ckpt.h"
#include "hytrain/error.h"

int ht_sparse_ckpt_is_sparse(const char *path) { return ht__h5_file_has(path, "sparse"); }

typedef struct body {
  const ht_sparse_model *m;
  const ht_sparse_ckpt_info *info;
  const char *config;
} body;

static int write_body(hid_t f, const char *path, const void *ctx) {
  const body *b = ctx;
  const ht_sparse_ckpt_info *in = b->info;
  HT_CHECK(ht__ckpt_write_header(f, path, in->step, in->epoch, in->world_size, b->config, in->data_test));
  HT_CHECK(ht__attr_str(f, "engine", "sparse", path));
  HT_CHECK(ht__attr_i64(f, "position", in->position, path));
  HT_CHECK(ht__attr_i64(f, "threads", in->threads, path));
  hid_t g = ht__group(f, "/sparse");
  HT_CHECK_H5(g, path);
  int rc = 0;
  HT_CHECK_GOTO(ht__attr_str(g, "type", ht_enum_name(&ht_model_types, (int)b->m->type), path), rc, out);
  HT_CHECK_GOTO(ht__attr_i64(g, "num_features", b->m->d, path), rc, out);
  HT_CHECK_GOTO(ht__attr_i64(g, "num_classes", in->num_classes, path), rc, out);
  HT_CHECK_GOTO(ht__attr_write(g, "l2", H5T_NATIVE_DOUBLE, &b->m->l2, 0, path), rc, out);
  size_t n = ht_sparse_model_size(b->m);
  float *w = malloc(sizeof(float) * n);
  if (!w) {
    rc = ht_error(HT_ENOMEM, "%s: out of memory for %zu weights", path, n);
    goto out;
  }
  ht_sparse_model_get(b->m, w);
  hsize_t dims[2] = {(hsize_t)b->m->d + 1, (hsize_t)b->m->k};
  rc = ht__write_ds(f, "/sparse/weights", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, w, 2, dims, path);
  free(w);
out:
  ht__h5_close_id(&g);
  return rc;
}

int ht_sparse_ckpt_write(const char *path, const ht_sparse_model *m, const ht_sparse_ckpt_info *info, const char *config_yaml) {
  body b = {m, info, config_yaml};
  HT_CHECK(ht__dataset_write_atomic(path, write_body, &b));
  return 0;
}

static int read_info(hid_t f, const char *path, ht_sparse_ckpt_info *in) {
  memset(in, 0, sizeof *in);
  char what[1200];
  snprintf(what, sizeof what, "%s: /sparse", path);
  if (HT_H5_QUIET(H5Lexists(f, "sparse", H5P_DEFAULT)) <= 0)
    return ht_error(HT_EDATA, "%s: /sparse is missing (a checkpoint of a dense model?)", path);
  HT_CHECK(ht__attr_read(f, "step", HT_H5NUM_INT64, &in->step, path));
  HT_CHECK(ht__attr_read(f, "epoch", HT_H5NUM_INT64, &in->epoch, path));
  HT_CHECK(ht__attr_read(f, "position", HT_H5NUM_INT64, &in->position, path));
  HT_CHECK(ht__attr_read(f, "world_size", HT_H5NUM_INT64, &in->world_size, path));
  HT_CHECK(ht__attr_read(f, "threads", HT_H5NUM_INT64, &in->threads, path));
  HT_CHECK(ht__attr_read_str(f, "data_test", in->data_test, sizeof in->data_test, path));
  hid_t g = HT_H5_OR(H5Gopen2(f, "sparse", H5P_DEFAULT), HT_EDATA, "%s: /sparse is not a group", path);
  if (g < 0) return HT_EDATA;
  int rc = 0, e = 0;
  int64_t v = 0;
  HT_CHECK_GOTO(ht__attr_read_enum(g, "type", &ht_model_types, &e, what), rc, out);
  in->type = (ht_model_type)e;
  HT_CHECK_GOTO(ht__attr_read(g, "num_features", HT_H5NUM_INT64, &v, what), rc, out);
  if (v < 1 || v > INT32_MAX) {
    rc = ht_error(HT_EDATA, "%s: num_features %lld out of range", what, (long long)v);
    goto out;
  }
  in->d = (int)v;
  HT_CHECK_GOTO(ht__attr_read(g, "num_classes", HT_H5NUM_INT64, &v, what), rc, out);
  if (v < 0 || v > 1 << 20) {
    rc = ht_error(HT_EDATA, "%s: num_classes %lld out of range", what, (long long)v);
    goto out;
  }
  in->num_classes = (int)v;
  HT_CHECK_GOTO(ht__attr_read(g, "l2", HT_H5NUM_DOUBLE, &in->l2, what), rc, out);
out:
  ht__h5_close_id(&g);
  return rc;
}

int ht_sparse_ckpt_read_info(const char *path, ht_sparse_ckpt_info *info) {
  hid_t f;
  HT_CHECK(ht__ckpt_open(path, &f));
  int rc = read_info(f, path, info);
  ht__h5_close_id(&f);
  return rc;
}

int ht_sparse_ckpt_read_weights(const char *path, ht_sparse_model *m) {
  hid_t f;
  HT_CHECK(ht__ckpt_open(path, &f));
  ht_sparse_ckpt_info in;
  int rc = read_info(f, path, &in);
  if (rc == 0 && (in.d != m->d || in.type != m->type))
    rc = ht_error(HT_EDATA, "%s: holds a %s model of %d features, expected %s of %d features", path,
                  ht_enum_name(&ht_model_types, (int)in.type), in.d, ht_enum_name(&ht_model_types, (int)m->type), m->d);
  size_t n = ht_sparse_model_size(m);
  float *w = rc == 0 ? malloc(sizeof(float) * n) : NULL;
  if (rc == 0 && !w) rc = ht_error(HT_ENOMEM, "%s: out of memory for %zu weights", path, n);
  hsize_t dims[2] = {(hsize_t)m->d + 1, (hsize_t)m->k};
  if (rc == 0) rc = ht__read_ds(f, "/sparse/weights", HT_H5NUM_FLOAT, w, 2, dims, path);
  if (rc == 0) ht_sparse_model_set(m, w);
  free(w);
  ht__h5_close_id(&f);
  return rc;
}
