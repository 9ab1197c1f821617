/* HDF5 attribute and checksummed-dataset helpers for checkpoints (h5io.h). */
#include "ckpt/h5io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hytrain/ckpt.h"
#include "hytrain/error.h"
#include "hytrain/model.h"

int ht__attr_write(hid_t obj, const char *name, hid_t type, const void *val, hsize_t n, const char *what) {
  hid_t space = n == 0 ? HT_H5(H5Screate(H5S_SCALAR), what) : HT_H5(H5Screate_simple(1, &n, NULL), what);
  if (space < 0) return HT_EH5;
  hid_t attr = HT_H5(H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT), what);
  herr_t rc = attr < 0 ? -1 : HT_H5(H5Awrite(attr, type, val), what);
  if (attr >= 0) H5Aclose(attr);
  H5Sclose(space);
  return rc < 0 ? HT_EH5 : 0;
}

int ht__attr_str(hid_t obj, const char *name, const char *val, const char *what) {
  hid_t type = HT_H5(H5Tcopy(H5T_C_S1), what);
  if (type < 0) return HT_EH5;
  int rc = 0;
  if (HT_H5(H5Tset_size(type, strlen(val) + 1), what) < 0 || HT_H5(H5Tset_strpad(type, H5T_STR_NULLTERM), what) < 0)
    rc = HT_EH5;
  if (rc == 0) rc = ht__attr_write(obj, name, type, val, 0, what);
  H5Tclose(type);
  return rc;
}

int ht__attr_i64(hid_t obj, const char *name, int64_t v, const char *what) {
  return ht__attr_write(obj, name, H5T_NATIVE_INT64, &v, 0, what);
}

int ht__attr_read_n(hid_t obj, const char *name, ht_h5num_want want, void *out, size_t max_n, size_t *got, const char *what) {
  htri_t has = HT_H5_OR(H5Aexists(obj, name), HT_EDATA, "%s: attribute '%s' cannot be looked up (corrupt file?)", what, name);
  if (has < 0) return HT_EDATA;
  if (has == 0) return ht_error(HT_EDATA, "%s: attribute '%s' is missing", what, name);
  hid_t attr = HT_H5(H5Aopen(obj, name, H5P_DEFAULT), what);
  if (attr < 0) return HT_EH5;
  char aw[1400];
  snprintf(aw, sizeof aw, "%s: attribute '%s'", what, name);
  /* The checkpoint format fixes every attribute's type: no widening. */
  int rc = ht__h5num_read_attr(attr, max_n, got, want, HT_H5NUM_EXACT, out, aw);
  H5Aclose(attr);
  return rc;
}

int ht__attr_read(hid_t obj, const char *name, ht_h5num_want want, void *out, const char *what) {
  return ht__attr_read_n(obj, name, want, out, 1, NULL, what);
}

int ht__attr_read_enum(hid_t obj, const char *name, const ht_enum_table *t, int *out, const char *what) {
  char text[64] = "";
  HT_CHECK(ht__attr_read_str(obj, name, text, sizeof text, what));
  *out = ht_enum_parse(t, text);
  if (*out < 0) return ht_error(HT_EDATA, "%s: attribute '%s' is '%s', expected one of %s", what, name, text, t->choices);
  return 0;
}

int ht__attr_read_str_opt(hid_t obj, const char *name, char *out, size_t len, const char *what) {
  htri_t has = HT_H5_OR(H5Aexists(obj, name), HT_EDATA, "%s: attribute '%s' cannot be looked up (corrupt file?)", what, name);
  if (has < 0) return HT_EDATA;
  if (len) out[0] = '\0';
  return has ? ht__attr_read_str(obj, name, out, len, what) : 0;
}

int ht__attr_read_str(hid_t obj, const char *name, char *out, size_t len, const char *what) {
  htri_t has = HT_H5_OR(H5Aexists(obj, name), HT_EDATA, "%s: attribute '%s' cannot be looked up (corrupt file?)", what, name);
  if (has < 0) return HT_EDATA;
  if (has == 0) return ht_error(HT_EDATA, "%s: attribute '%s' is missing", what, name);
  hid_t attr = HT_H5(H5Aopen(obj, name, H5P_DEFAULT), what);
  if (attr < 0) return HT_EH5;
  hid_t ftype = HT_H5(H5Aget_type(attr), what), aspace = HT_H5(H5Aget_space(attr), what);
  /* One fixed-length string: H5Aread writes every element, and turning any
   * other type into a C string would be HDF5 converting, not reading. */
  int one = aspace >= 0 && HT_H5_QUIET(H5Sget_simple_extent_npoints(aspace)) == 1;
  int is_str = ftype >= 0 && HT_H5_QUIET(H5Tget_class(ftype)) == H5T_STRING && HT_H5_QUIET(H5Tis_variable_str(ftype)) == 0;
  /* H5Tget_size returns 0 on failure. */
  size_t size = one && is_str ? HT_H5(H5Tget_size(ftype), what) : 0;
  int rc = 0;
  if (ftype < 0 || aspace < 0)
    rc = HT_EH5;
  else if (!one || !is_str)
    rc = ht_error(HT_EDATA, "%s: attribute '%s' must be one fixed-length string (corrupt file?)", what, name);
  else if (size == 0)
    rc = ht_error(HT_EDATA, "%s: attribute '%s' has no size (corrupt file?)", what, name);
  char *buf = rc == 0 ? calloc(size + 1, 1) : NULL;
  if (rc == 0 && !buf) rc = ht_error(HT_ENOMEM, "out of memory for attribute '%s'", name);
  hid_t mtype = rc == 0 ? HT_H5(H5Tcopy(H5T_C_S1), what) : H5I_INVALID_HID;
  if (rc == 0 && (mtype < 0 || HT_H5(H5Tset_size(mtype, size + 1), what) < 0 || HT_H5(H5Aread(attr, mtype, buf), what) < 0))
    rc = ht_error(HT_EH5, "%s: attribute '%s' cannot be read", what, name);
  if (rc == 0) snprintf(out, len, "%s", buf);
  free(buf);
  if (mtype >= 0) H5Tclose(mtype);
  if (aspace >= 0) H5Sclose(aspace);
  if (ftype >= 0) H5Tclose(ftype);
  H5Aclose(attr);
  return rc;
}

hid_t ht__group(hid_t f, const char *path) {
  htri_t has = HT_H5(H5Lexists(f, path, H5P_DEFAULT), path);
  if (has < 0) return H5I_INVALID_HID;
  if (has > 0) return HT_H5(H5Gopen2(f, path, H5P_DEFAULT), path);
  hid_t lcpl = HT_H5(H5Pcreate(H5P_LINK_CREATE), path);
  if (lcpl < 0) return H5I_INVALID_HID;
  hid_t g = H5I_INVALID_HID;
  if (HT_H5(H5Pset_create_intermediate_group(lcpl, 1), path) >= 0)
    g = HT_H5(H5Gcreate2(f, path, lcpl, H5P_DEFAULT, H5P_DEFAULT), path);
  H5Pclose(lcpl);
  return g;
}

int ht__write_ds(hid_t f, const char *name, hid_t filetype, hid_t memtype, const void *data, int ndims,
                 const hsize_t *dims, const char *file) {
  char what[1400];
  snprintf(what, sizeof what, "%s: %s", file, name);
  size_t type_bytes = HT_H5(H5Tget_size(filetype), what);
  if (type_bytes == 0) return ht_error(HT_EINTERNAL, "%s: the file type has no size", what);
  hid_t space = HT_H5(H5Screate_simple(ndims, dims, NULL), what);
  hid_t dcpl = HT_H5(H5Pcreate(H5P_DATASET_CREATE), what);
  hid_t lcpl = HT_H5(H5Pcreate(H5P_LINK_CREATE), what);
  herr_t rc = space < 0 || dcpl < 0 || lcpl < 0 ? -1 : HT_H5(H5Pset_create_intermediate_group(lcpl, 1), what);
  /* Chunks of whole rows, at most ~1 MiB, so one corrupt chunk is found
   * quickly and a reader of one layer stays cheap. */
  hsize_t chunk[2] = {dims[0], ndims > 1 ? dims[1] : 1};
  size_t row_bytes = (ndims > 1 ? dims[1] : 1) * type_bytes;
  hsize_t rows = (1u << 20) / (row_bytes ? row_bytes : 1);
  if (ndims == 1) rows = (1u << 20) / type_bytes;
  if (rows < 1) rows = 1;
  if (chunk[0] > rows) chunk[0] = rows;
  if (chunk[0] < 1) chunk[0] = 1;
  /* The checksum is a promise of the format (docs/checkpoint-format.md): a
   * dataset that cannot have one is not written at all. */
  if (rc >= 0) rc = HT_H5(H5Pset_chunk(dcpl, ndims, chunk), what);
  if (rc >= 0) rc = HT_H5(H5Pset_fletcher32(dcpl), what);
  hid_t ds = rc < 0 ? H5I_INVALID_HID : HT_H5(H5Dcreate2(f, name, filetype, space, lcpl, dcpl, H5P_DEFAULT), what);
  rc = ds < 0 ? -1 : HT_H5(H5Dwrite(ds, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), what);
  if (ds >= 0 && HT_H5(H5Dclose(ds), what) < 0) rc = -1;
  if (lcpl >= 0) H5Pclose(lcpl);
  if (dcpl >= 0) H5Pclose(dcpl);
  if (space >= 0) H5Sclose(space);
  return rc < 0 ? HT_EH5 : 0;
}

static void fmt_dims(char *buf, size_t len, int ndims, const hsize_t *d) {
  size_t off = (size_t)snprintf(buf, len, "[");
  for (int i = 0; i < ndims && off < len; i++)
    off += (size_t)snprintf(buf + off, len - off, "%s%llu", i ? ", " : "", (unsigned long long)d[i]);
  if (off < len) snprintf(buf + off, len - off, "]");
}

int ht__read_ds(hid_t f, const char *name, ht_h5num_want want, void *out, int ndims, const hsize_t *dims,
                const char *file) {
  char what[1400];
  snprintf(what, sizeof what, "%s: %s", file, name);
  htri_t has = HT_H5_OR(H5Lexists(f, name, H5P_DEFAULT), HT_EDATA, "%s: dataset is missing", what);
  if (has <= 0) return ht_error(HT_EDATA, "%s: dataset is missing", what);
  hid_t ds = HT_H5_OR(H5Dopen2(f, name, H5P_DEFAULT), HT_EDATA, "%s: cannot open the dataset (corrupt file?)", what);
  if (ds < 0) return HT_EDATA;
  hid_t space = HT_H5_OR(H5Dget_space(ds), HT_EDATA, "%s: the dataset has no dataspace (corrupt file?)", what);
  hsize_t got[8] = {0}, maxd[8] = {0};
  int got_ndims = space < 0 ? -1 : HT_H5_OR(H5Sget_simple_extent_ndims(space), HT_EDATA, "%s: unreadable shape (corrupt file?)", what);
  if (got_ndims > 0 && got_ndims <= 8 &&
      HT_H5_OR(H5Sget_simple_extent_dims(space, got, maxd), HT_EDATA, "%s: unreadable shape (corrupt file?)", what) < 0)
    got_ndims = -1;
  /* A damaged dataspace larger than its own maximum (HDF5 reads it anyway). */
  for (int i = 0; got_ndims > 0 && got_ndims <= 8 && i < got_ndims; i++)
    if (maxd[i] != H5S_UNLIMITED && got[i] > maxd[i]) {
      ht_error(HT_EDATA, "%s: dimension %d is %llu, beyond its maximum %llu (corrupt file?)", what, i,
               (unsigned long long)got[i], (unsigned long long)maxd[i]);
      got_ndims = -1;
    }
  if (space >= 0) H5Sclose(space);
  if (got_ndims < 0) {
    H5Dclose(ds);
    return HT_EDATA;
  }
  int same = got_ndims == ndims;
  for (int i = 0; same && i < ndims; i++) same = got[i] == dims[i];
  if (!same) {
    H5Dclose(ds);
    char a[128], b[128];
    fmt_dims(a, sizeof a, got_ndims > 0 && got_ndims <= 8 ? got_ndims : 0, got);
    fmt_dims(b, sizeof b, ndims, dims);
    return ht_error(HT_ESHAPE, "%s: shape %s does not match the expected %s (checkpoint of a different model?)",
                    what, a, b);
  }
  size_t n = 1;
  for (int i = 0; i < ndims; i++) n *= (size_t)dims[i];
  /* The format fixes each dataset's type (float32, int64, ...): anything
   * else is refused before HDF5 could convert it. */
  int rc = ht__h5num_read_dataset(ds, H5S_ALL, H5S_ALL, n, want, HT_H5NUM_EXACT, out, what);
  if (rc == HT_EH5) {
    ht_error_clear();
    rc = ht_error(HT_EDATA, "%s: data cannot be read or fails its fletcher32 checksum (corrupt file)", what);
  }
  H5Dclose(ds);
  return rc;
}

int ht__ckpt_write_header(hid_t f, const char *path, int64_t step, int64_t epoch, int64_t world_size, const char *config,
                          const char *data_test) {
  char stamp[64];
  time_t now = time(NULL);
  struct tm tmv;
  gmtime_r(&now, &tmv);
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tmv);
  HT_CHECK(ht__attr_str(f, "format", HT_CKPT_FORMAT, path));
  HT_CHECK(ht__attr_i64(f, "format_version", HT_CKPT_VERSION, path));
  HT_CHECK(ht__attr_i64(f, "step", step, path));
  HT_CHECK(ht__attr_i64(f, "epoch", epoch, path));
  HT_CHECK(ht__attr_i64(f, "world_size", world_size, path));
  HT_CHECK(ht__attr_str(f, "created", stamp, path));
  HT_CHECK(ht__attr_str(f, "config", config ? config : "", path));
  HT_CHECK(ht__attr_str(f, "data_test", data_test, path));
  return 0;
}

int ht__ckpt_open(const char *path, hid_t *out) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  if (access(path, R_OK) != 0) return ht_error(HT_ENOENT, "%s: cannot open checkpoint: no such readable file", path);
  if (H5Fis_hdf5(path) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    return ht_error(HT_EDATA, "%s: not an HDF5 file (truncated or corrupt checkpoint?)", path);
  }
  hid_t f = HT_H5_OR(H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT), HT_EDATA,
                     "%s: cannot open as HDF5 (truncated or corrupt checkpoint?)", path);
  if (f < 0) return HT_EDATA;
  char fmt[64] = "";
  int rc = ht__attr_read_str(f, "format", fmt, sizeof fmt, path);
  if (rc == 0 && strcmp(fmt, HT_CKPT_FORMAT) != 0)
    rc = ht_error(HT_EDATA, "%s: format is '%s', expected '%s'", path, fmt, HT_CKPT_FORMAT);
  int64_t version = 0;
  if (rc == 0) rc = ht__attr_read(f, "format_version", HT_H5NUM_INT64, &version, path);
  if (rc == 0 && version != HT_CKPT_VERSION)
    rc = ht_error(HT_EDATA, "%s: format_version %lld is not supported (this build reads %d)", path, (long long)version,
                  HT_CKPT_VERSION);
  if (rc < 0) {
    H5Eclear2(H5E_DEFAULT);
    H5Fclose(f);
    return rc;
  }
  *out = f;
  return 0;
}

int ht__layers_io(hid_t f, const char *path, const struct ht_model *m, const char *prefix, float *flat, int write) {
  char name[256];
  for (int i = 0; i < m->n_layers; i++) {
    const ht_layer *L = &m->layers[i];
    if (L->kind != HT_LAYER_DENSE) continue;
    hsize_t wd[2] = {(hsize_t)L->out, (hsize_t)L->in}, bd[1] = {(hsize_t)L->out};
    const char *part[2] = {"weight", "bias"};
    float *data[2] = {flat + L->w_off, flat + L->b_off};
    const hsize_t *dims[2] = {wd, bd};
    for (int k = 0; k < 2; k++) {
      snprintf(name, sizeof name, "%s/%s/%s", prefix, L->name, part[k]);
      if (write)
        HT_CHECK(ht__write_ds(f, name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, data[k], 2 - k, dims[k], path));
      else
        HT_CHECK(ht__read_ds(f, name, HT_H5NUM_FLOAT, data[k], 2 - k, dims[k], path));
    }
  }
  return 0;
}
