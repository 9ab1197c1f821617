/*
 * Writing and reading model checkpoints (layout in include/hytrain/ckpt.h).
 */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ckpt/atomic.h"
#include "hytrain/ckpt.h"
#include "hytrain/error.h"

/* ---- small attribute helpers ------------------------------------------- */

static int ht__attr_write(hid_t obj, const char *name, hid_t type, const void *val, hsize_t n, const char *what) {
  hid_t space = n == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, NULL);
  hid_t attr = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  herr_t rc = attr < 0 ? -1 : H5Awrite(attr, type, val);
  if (attr >= 0) H5Aclose(attr);
  H5Sclose(space);
  HT_CHECK_H5(rc, what);
  return 0;
}

static int ht__attr_str(hid_t obj, const char *name, const char *val, const char *what) {
  hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, strlen(val) + 1);
  H5Tset_strpad(type, H5T_STR_NULLTERM);
  int rc = ht__attr_write(obj, name, type, val, 0, what);
  H5Tclose(type);
  return rc;
}

static int ht__attr_i64(hid_t obj, const char *name, int64_t v, const char *what) {
  return ht__attr_write(obj, name, H5T_NATIVE_INT64, &v, 0, what);
}

static int ht__attr_read(hid_t obj, const char *name, hid_t memtype, void *out, const char *what) {
  if (H5Aexists(obj, name) <= 0) return ht_error(HT_EDATA, "%s: attribute '%s' is missing", what, name);
  hid_t attr = H5Aopen(obj, name, H5P_DEFAULT);
  herr_t rc = attr < 0 ? -1 : H5Aread(attr, memtype, out);
  if (attr >= 0) H5Aclose(attr);
  HT_CHECK_H5(rc, what);
  return 0;
}

static int ht__attr_read_str(hid_t obj, const char *name, char *out, size_t len, const char *what) {
  if (H5Aexists(obj, name) <= 0) return ht_error(HT_EDATA, "%s: attribute '%s' is missing", what, name);
  hid_t attr = H5Aopen(obj, name, H5P_DEFAULT);
  if (attr < 0) return ht__h5_error(what, "H5Aopen", __FILE__, __LINE__);
  hid_t ftype = H5Aget_type(attr);
  size_t size = H5Tget_size(ftype);
  char *buf = calloc(size + 1, 1);
  hid_t mtype = H5Tcopy(H5T_C_S1);
  H5Tset_size(mtype, size + 1);
  herr_t rc = buf ? H5Aread(attr, mtype, buf) : -1;
  if (rc >= 0) snprintf(out, len, "%s", buf);
  free(buf);
  H5Tclose(mtype);
  H5Tclose(ftype);
  H5Aclose(attr);
  HT_CHECK_H5(rc, what);
  return 0;
}

/* ---- datasets ----------------------------------------------------------- */

/* Writes a float32 dataset [dims] with chunking and the fletcher32 checksum. */
static int ht__write_floats(hid_t loc, const char *name, const float *data, int rank, const hsize_t *dims,
                            const char *file) {
  char what[1200];
  snprintf(what, sizeof what, "%s: %s", file, name);
  hid_t space = H5Screate_simple(rank, dims, NULL);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  /* Chunks of whole rows, at most ~1 MiB, so reads of one layer stay cheap. */
  hsize_t chunk[2] = {dims[0], rank > 1 ? dims[1] : 1};
  size_t row_bytes = (rank > 1 ? dims[1] : 1) * sizeof(float);
  hsize_t rows = (1u << 20) / (row_bytes ? row_bytes : 1);
  if (rows < 1) rows = 1;
  if (chunk[0] > rows) chunk[0] = rows;
  if (chunk[0] < 1) chunk[0] = 1;
  H5Pset_chunk(dcpl, rank, chunk);
  H5Pset_fletcher32(dcpl);
  hid_t ds = H5Dcreate2(loc, name, H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  herr_t rc = ds < 0 ? -1 : H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
  if (ds >= 0) H5Dclose(ds);
  H5Pclose(dcpl);
  H5Sclose(space);
  HT_CHECK_H5(rc, what);
  return 0;
}

/* Reads a float32 dataset whose shape must equal dims. */
static int ht__read_floats(hid_t loc, const char *name, float *out, int rank, const hsize_t *dims, const char *file) {
  char what[1200];
  snprintf(what, sizeof what, "%s: %s", file, name);
  if (H5Lexists(loc, name, H5P_DEFAULT) <= 0) return ht_error(HT_EDATA, "%s: dataset is missing", what);
  hid_t ds = H5Dopen2(loc, name, H5P_DEFAULT);
  if (ds < 0) return ht__h5_error(what, "H5Dopen2", __FILE__, __LINE__);
  hid_t space = H5Dget_space(ds);
  hsize_t got[8] = {0};
  int got_rank = H5Sget_simple_extent_ndims(space);
  if (got_rank > 0 && got_rank <= 8) H5Sget_simple_extent_dims(space, got, NULL);
  H5Sclose(space);
  int same = got_rank == rank;
  for (int i = 0; same && i < rank; i++) same = got[i] == dims[i];
  if (!same) {
    H5Dclose(ds);
    if (rank == 2)
      return ht_error(HT_ESHAPE, "%s: shape [%llu, %llu] does not match the model's [%llu, %llu]", what,
                      (unsigned long long)got[0], (unsigned long long)(got_rank > 1 ? got[1] : 0),
                      (unsigned long long)dims[0], (unsigned long long)dims[1]);
    return ht_error(HT_ESHAPE, "%s: shape [%llu] does not match the model's [%llu]", what,
                    (unsigned long long)got[0], (unsigned long long)dims[0]);
  }
  herr_t rc = H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out);
  H5Dclose(ds);
  if (rc < 0) {
    H5Eclear2(H5E_DEFAULT);
    return ht_error(HT_EDATA, "%s: data cannot be read or fails its checksum (corrupt file?)", what);
  }
  return 0;
}

/* ---- save ---------------------------------------------------------------- */

static int ht__save_body(hid_t f, const char *path, const ht_model *m, const ht_norm *norm, const ht_ckpt_info *info,
                         const char *config_yaml) {
  char stamp[64];
  time_t now = time(NULL);
  struct tm tmv;
  gmtime_r(&now, &tmv);
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tmv);
  HT_CHECK(ht__attr_str(f, "format", HT_CKPT_FORMAT, path));
  HT_CHECK(ht__attr_i64(f, "format_version", HT_CKPT_VERSION, path));
  HT_CHECK(ht__attr_i64(f, "step", info->step, path));
  HT_CHECK(ht__attr_i64(f, "epoch", info->epoch, path));
  HT_CHECK(ht__attr_i64(f, "samples_seen", info->samples_seen, path));
  HT_CHECK(ht__attr_i64(f, "world_size", info->world_size, path));
  HT_CHECK(ht__attr_str(f, "created", stamp, path));
  HT_CHECK(ht__attr_str(f, "config", config_yaml ? config_yaml : "", path));
  HT_CHECK(ht__attr_str(f, "data_test", info->data_test, path));

  hid_t g = H5Gcreate2(f, "model", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  HT_CHECK_H5(g, path);
  const ht_model_spec *s = &m->spec;
  int rc = 0;
  int hidden[16];
  memcpy(hidden, s->hidden, sizeof hidden);
  HT_CHECK_GOTO(ht__attr_str(g, "type", s->type, path), rc, out);
  HT_CHECK_GOTO(ht__attr_i64(g, "in", s->in, path), rc, out);
  HT_CHECK_GOTO(ht__attr_i64(g, "out", s->out, path), rc, out);
  HT_CHECK_GOTO(ht__attr_i64(g, "regression", s->regression, path), rc, out);
  HT_CHECK_GOTO(ht__attr_write(g, "hidden", H5T_NATIVE_INT, hidden, (hsize_t)(s->n_hidden ? s->n_hidden : 1), path), rc, out);
  HT_CHECK_GOTO(ht__attr_i64(g, "n_hidden", s->n_hidden, path), rc, out);
  HT_CHECK_GOTO(ht__attr_str(g, "activation", s->activation, path), rc, out);
  HT_CHECK_GOTO(ht__attr_str(g, "init", s->init, path), rc, out);
  HT_CHECK_GOTO(ht__attr_write(g, "l2", H5T_NATIVE_DOUBLE, &s->l2, 0, path), rc, out);
  for (int i = 0; i < m->n_layers; i++) {
    const ht_layer *L = &m->layers[i];
    if (L->kind != HT_LAYER_DENSE) continue;
    hid_t lg = H5Gcreate2(g, L->name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    HT_CHECK_H5(lg, path);
    hsize_t wd[2] = {(hsize_t)L->out, (hsize_t)L->in}, bd[1] = {(hsize_t)L->out};
    rc = ht__write_floats(lg, "weight", m->params + L->w_off, 2, wd, path);
    if (rc == 0) rc = ht__write_floats(lg, "bias", m->params + L->b_off, 1, bd, path);
    H5Gclose(lg);
    if (rc < 0) goto out;
  }
out:
  H5Gclose(g);
  if (rc < 0) return rc;

  hid_t p = H5Gcreate2(f, "preprocess", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  HT_CHECK_H5(p, path);
  hsize_t dd[1] = {(hsize_t)norm->d};
  rc = ht__attr_str(p, "normalize", norm->enabled ? "standard" : "none", path);
  if (rc == 0) rc = ht__write_floats(p, "mean", norm->mean, 1, dd, path);
  if (rc == 0) rc = ht__write_floats(p, "std", norm->std, 1, dd, path);
  H5Gclose(p);
  return rc;
}

int ht_ckpt_save_model(const char *path, const ht_model *m, const ht_norm *norm, const ht_ckpt_info *info,
                       const char *config_yaml) {
  char partial[4200];
  snprintf(partial, sizeof partial, "%s.partial", path);
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_libver_bounds(fapl, H5F_LIBVER_LATEST, H5F_LIBVER_LATEST);
  hid_t f = H5Fcreate(partial, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  H5Pclose(fapl);
  if (f < 0) return ht__h5_error(partial, "H5Fcreate", __FILE__, __LINE__);
  int rc = ht__save_body(f, partial, m, norm, info, config_yaml);
  if (rc == 0 && H5Fflush(f, H5F_SCOPE_GLOBAL) < 0) rc = ht__h5_error(partial, "H5Fflush", __FILE__, __LINE__);
  if (H5Fclose(f) < 0 && rc == 0) rc = ht__h5_error(partial, "H5Fclose", __FILE__, __LINE__);
  if (rc < 0) {
    unlink(partial);
    return rc;
  }
  return ht__commit_partial(partial, path);
}

/* ---- load ---------------------------------------------------------------- */

static int ht__open_checked(const char *path, hid_t *out) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  if (access(path, R_OK) != 0) return ht_error(HT_ENOENT, "%s: cannot open checkpoint: no such readable file", path);
  if (H5Fis_hdf5(path) <= 0) return ht_error(HT_EDATA, "%s: not an HDF5 file (truncated or corrupt checkpoint?)", path);
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) {
    H5Eclear2(H5E_DEFAULT);
    return ht_error(HT_EDATA, "%s: cannot open as HDF5 (truncated or corrupt checkpoint?)", path);
  }
  char fmt[64] = "";
  int rc = ht__attr_read_str(f, "format", fmt, sizeof fmt, path);
  if (rc == 0 && strcmp(fmt, HT_CKPT_FORMAT) != 0)
    rc = ht_error(HT_EDATA, "%s: format is '%s', expected '%s'", path, fmt, HT_CKPT_FORMAT);
  int64_t version = 0;
  if (rc == 0) rc = ht__attr_read(f, "format_version", H5T_NATIVE_INT64, &version, path);
  if (rc == 0 && version != HT_CKPT_VERSION)
    rc = ht_error(HT_EDATA, "%s: format_version %lld is not supported (this build reads %d)", path, (long long)version,
                  HT_CKPT_VERSION);
  if (rc < 0) {
    H5Fclose(f);
    return rc;
  }
  *out = f;
  return 0;
}

int ht_ckpt_load_spec(const char *path, ht_model_spec *spec, ht_ckpt_info *info) {
  hid_t f;
  HT_CHECK(ht__open_checked(path, &f));
  memset(spec, 0, sizeof *spec);
  memset(info, 0, sizeof *info);
  int rc = 0;
  int64_t v = 0;
  HT_CHECK_GOTO(ht__attr_read(f, "step", H5T_NATIVE_INT64, &info->step, path), rc, done);
  HT_CHECK_GOTO(ht__attr_read(f, "epoch", H5T_NATIVE_INT64, &info->epoch, path), rc, done);
  HT_CHECK_GOTO(ht__attr_read(f, "samples_seen", H5T_NATIVE_INT64, &info->samples_seen, path), rc, done);
  HT_CHECK_GOTO(ht__attr_read(f, "world_size", H5T_NATIVE_INT64, &v, path), rc, done);
  info->world_size = (int)v;
  HT_CHECK_GOTO(ht__attr_read_str(f, "data_test", info->data_test, sizeof info->data_test, path), rc, done);
  if (H5Lexists(f, "model", H5P_DEFAULT) <= 0) {
    rc = ht_error(HT_EDATA, "%s: /model is missing", path);
    goto done;
  }
  hid_t g = H5Gopen2(f, "model", H5P_DEFAULT);
  char what[1200];
  snprintf(what, sizeof what, "%s: /model", path);
  HT_CHECK_GOTO(ht__attr_read_str(g, "type", spec->type, sizeof spec->type, what), rc, gdone);
  HT_CHECK_GOTO(ht__attr_read(g, "in", H5T_NATIVE_INT64, &v, what), rc, gdone);
  spec->in = (int)v;
  HT_CHECK_GOTO(ht__attr_read(g, "out", H5T_NATIVE_INT64, &v, what), rc, gdone);
  spec->out = (int)v;
  HT_CHECK_GOTO(ht__attr_read(g, "regression", H5T_NATIVE_INT64, &v, what), rc, gdone);
  spec->regression = (int)v;
  HT_CHECK_GOTO(ht__attr_read(g, "n_hidden", H5T_NATIVE_INT64, &v, what), rc, gdone);
  if (v < 0 || v > 16) {
    rc = ht_error(HT_EDATA, "%s: n_hidden %lld out of range", what, (long long)v);
    goto gdone;
  }
  spec->n_hidden = (int)v;
  HT_CHECK_GOTO(ht__attr_read(g, "hidden", H5T_NATIVE_INT, spec->hidden, what), rc, gdone);
  HT_CHECK_GOTO(ht__attr_read_str(g, "activation", spec->activation, sizeof spec->activation, what), rc, gdone);
  HT_CHECK_GOTO(ht__attr_read_str(g, "init", spec->init, sizeof spec->init, what), rc, gdone);
  HT_CHECK_GOTO(ht__attr_read(g, "l2", H5T_NATIVE_DOUBLE, &spec->l2, what), rc, gdone);
gdone:
  H5Gclose(g);
done:
  H5Fclose(f);
  return rc;
}

int ht_ckpt_load_params(const char *path, ht_model *m, ht_norm *norm) {
  hid_t f;
  HT_CHECK(ht__open_checked(path, &f));
  int rc = 0;
  char name[128];
  for (int i = 0; i < m->n_layers && rc == 0; i++) {
    const ht_layer *L = &m->layers[i];
    if (L->kind != HT_LAYER_DENSE) continue;
    hsize_t wd[2] = {(hsize_t)L->out, (hsize_t)L->in}, bd[1] = {(hsize_t)L->out};
    snprintf(name, sizeof name, "/model/%s/weight", L->name);
    rc = ht__read_floats(f, name, m->params + L->w_off, 2, wd, path);
    snprintf(name, sizeof name, "/model/%s/bias", L->name);
    if (rc == 0) rc = ht__read_floats(f, name, m->params + L->b_off, 1, bd, path);
  }
  if (rc == 0) {
    memset(norm, 0, sizeof *norm);
    norm->d = m->spec.in;
    norm->mean = malloc(sizeof(float) * (size_t)norm->d);
    norm->std = malloc(sizeof(float) * (size_t)norm->d);
    hsize_t dd[1] = {(hsize_t)norm->d};
    if (!norm->mean || !norm->std) rc = ht_error(HT_ENOMEM, "out of memory");
    if (rc == 0) rc = ht__read_floats(f, "/preprocess/mean", norm->mean, 1, dd, path);
    if (rc == 0) rc = ht__read_floats(f, "/preprocess/std", norm->std, 1, dd, path);
    char mode[32] = "";
    if (rc == 0) {
      hid_t p = H5Gopen2(f, "preprocess", H5P_DEFAULT);
      rc = ht__attr_read_str(p, "normalize", mode, sizeof mode, path);
      H5Gclose(p);
      norm->enabled = strcmp(mode, "standard") == 0;
    }
  }
  H5Fclose(f);
  return rc;
}
