/* HDF5 attribute and checksummed-dataset helpers for checkpoints (h5io.h). */
#include "ckpt/h5io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hytrain/ckpt.h"
#include "hytrain/error.h"

int ht__attr_write(hid_t obj, const char *name, hid_t type, const void *val, hsize_t n, const char *what) {
  hid_t space = n == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, NULL);
  hid_t attr = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  herr_t rc = attr < 0 ? -1 : H5Awrite(attr, type, val);
  if (attr >= 0) H5Aclose(attr);
  H5Sclose(space);
  HT_CHECK_H5(rc, what);
  return 0;
}

int ht__attr_str(hid_t obj, const char *name, const char *val, const char *what) {
  hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, strlen(val) + 1);
  H5Tset_strpad(type, H5T_STR_NULLTERM);
  int rc = ht__attr_write(obj, name, type, val, 0, what);
  H5Tclose(type);
  return rc;
}

int ht__attr_i64(hid_t obj, const char *name, int64_t v, const char *what) {
  return ht__attr_write(obj, name, H5T_NATIVE_INT64, &v, 0, what);
}

int ht__attr_read(hid_t obj, const char *name, hid_t memtype, void *out, const char *what) {
  if (H5Aexists(obj, name) <= 0) return ht_error(HT_EDATA, "%s: attribute '%s' is missing", what, name);
  hid_t attr = H5Aopen(obj, name, H5P_DEFAULT);
  herr_t rc = attr < 0 ? -1 : H5Aread(attr, memtype, out);
  if (attr >= 0) H5Aclose(attr);
  HT_CHECK_H5(rc, what);
  return 0;
}

int ht__attr_read_enum(hid_t obj, const char *name, const ht_enum_table *t, int *out, const char *what) {
  char text[64] = "";
  HT_CHECK(ht__attr_read_str(obj, name, text, sizeof text, what));
  *out = ht_enum_parse(t, text);
  if (*out < 0) return ht_error(HT_EDATA, "%s: attribute '%s' is '%s', expected one of %s", what, name, text, t->choices);
  return 0;
}

int ht__attr_read_str(hid_t obj, const char *name, char *out, size_t len, const char *what) {
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

hid_t ht__group(hid_t f, const char *path) {
  if (H5Lexists(f, path, H5P_DEFAULT) > 0) return H5Gopen2(f, path, H5P_DEFAULT);
  hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  hid_t g = H5Gcreate2(f, path, lcpl, H5P_DEFAULT, H5P_DEFAULT);
  H5Pclose(lcpl);
  return g;
}

int ht__write_ds(hid_t f, const char *name, hid_t filetype, hid_t memtype, const void *data, int ndims,
                 const hsize_t *dims, const char *file) {
  char what[1400];
  snprintf(what, sizeof what, "%s: %s", file, name);
  hid_t space = H5Screate_simple(ndims, dims, NULL);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  /* Chunks of whole rows, at most ~1 MiB, so one corrupt chunk is found
   * quickly and a reader of one layer stays cheap. */
  hsize_t chunk[2] = {dims[0], ndims > 1 ? dims[1] : 1};
  size_t row_bytes = (ndims > 1 ? dims[1] : 1) * H5Tget_size(filetype);
  hsize_t rows = (1u << 20) / (row_bytes ? row_bytes : 1);
  if (ndims == 1) rows = (1u << 20) / H5Tget_size(filetype);
  if (rows < 1) rows = 1;
  if (chunk[0] > rows) chunk[0] = rows;
  if (chunk[0] < 1) chunk[0] = 1;
  H5Pset_chunk(dcpl, ndims, chunk);
  H5Pset_fletcher32(dcpl);
  hid_t ds = H5Dcreate2(f, name, filetype, space, lcpl, dcpl, H5P_DEFAULT);
  herr_t rc = ds < 0 ? -1 : H5Dwrite(ds, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
  if (ds >= 0 && H5Dclose(ds) < 0) rc = -1;
  H5Pclose(lcpl);
  H5Pclose(dcpl);
  H5Sclose(space);
  HT_CHECK_H5(rc, what);
  return 0;
}

static void fmt_dims(char *buf, size_t len, int ndims, const hsize_t *d) {
  size_t off = (size_t)snprintf(buf, len, "[");
  for (int i = 0; i < ndims && off < len; i++)
    off += (size_t)snprintf(buf + off, len - off, "%s%llu", i ? ", " : "", (unsigned long long)d[i]);
  if (off < len) snprintf(buf + off, len - off, "]");
}

int ht__read_ds(hid_t f, const char *name, hid_t memtype, void *out, int ndims, const hsize_t *dims,
                const char *file) {
  char what[1400];
  snprintf(what, sizeof what, "%s: %s", file, name);
  if (H5Lexists(f, name, H5P_DEFAULT) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    return ht_error(HT_EDATA, "%s: dataset is missing", what);
  }
  hid_t ds = H5Dopen2(f, name, H5P_DEFAULT);
  if (ds < 0) {
    H5Eclear2(H5E_DEFAULT);
    return ht_error(HT_EDATA, "%s: cannot open the dataset (corrupt file?)", what);
  }
  hid_t space = H5Dget_space(ds);
  hsize_t got[8] = {0};
  int got_ndims = H5Sget_simple_extent_ndims(space);
  if (got_ndims > 0 && got_ndims <= 8) H5Sget_simple_extent_dims(space, got, NULL);
  H5Sclose(space);
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
  herr_t rc = H5Dread(ds, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, out);
  H5Dclose(ds);
  if (rc < 0) {
    H5Eclear2(H5E_DEFAULT);
    return ht_error(HT_EDATA, "%s: data cannot be read or fails its fletcher32 checksum (corrupt file)", what);
  }
  return 0;
}

int ht__ckpt_open(const char *path, hid_t *out) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  if (access(path, R_OK) != 0) return ht_error(HT_ENOENT, "%s: cannot open checkpoint: no such readable file", path);
  if (H5Fis_hdf5(path) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    return ht_error(HT_EDATA, "%s: not an HDF5 file (truncated or corrupt checkpoint?)", path);
  }
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
    H5Eclear2(H5E_DEFAULT);
    H5Fclose(f);
    return rc;
  }
  *out = f;
  return 0;
}
