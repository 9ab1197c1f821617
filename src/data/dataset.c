/*
 * hytrain dataset files (layout in docs/data-format.md): probing the header,
 * reading one rank's shard of rows with a hyperslab per dataset, validating
 * the values, and writing a file atomically.
 *
 *   /features  float [N, D]            (float32 on write; any float on read)
 *   /labels    integer [N]             classification, in [0, num_classes)
 *              float [N] or [N, T]     regression targets
 */
#include "hytrain/dataset.h"

#include "hytrain/error.h"
#include "hytrain/fileio.h"
#include "core/h5num.h"
#include "data/dataset_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


void ht__h5_close_id(hid_t *id) {
  if (*id < 0) return;
  /* Int switches over HDF5's enums: their lists are not ours to enumerate. */
  switch ((int)H5Iget_type(*id)) {
  case H5I_FILE: H5Fclose(*id); break;
  case H5I_DATASET: H5Dclose(*id); break;
  case H5I_GROUP: H5Gclose(*id); break;
  case H5I_DATASPACE: H5Sclose(*id); break;
  case H5I_ATTR: H5Aclose(*id); break;
  case H5I_DATATYPE: H5Tclose(*id); break;
  case H5I_GENPROP_LST: H5Pclose(*id); break;
  default: break;
  }
  *id = H5I_INVALID_HID;
}

int ht__h5_file_has(const char *path, const char *name) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  if (!path || HT_H5_QUIET(H5Fis_hdf5(path)) <= 0) return 0;
  hid_t file = HT_H5_QUIET(H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT));
  if (file < 0) return 0;
  int yes = HT_H5_QUIET(H5Lexists(file, name, H5P_DEFAULT)) > 0;
  ht__h5_close_id(&file);
  return yes;
}

void ht__dataset_close_file(ht__dataset_file *f) {
  ht__h5_close_id(&f->labels);
  ht__h5_close_id(&f->features);
  ht__h5_close_id(&f->file);
}

/* "3-D float32", "2-D float16", "1-D float of 3 bytes (not IEEE ...)" for
 * error messages. */
static void describe(hid_t dset, char *buf, size_t len) {
  /* Quiet: this text goes into the caller's message, which must stay the one recorded. */
  hid_t space = HT_H5_QUIET(H5Dget_space(dset)), type = HT_H5_QUIET(H5Dget_type(dset));
  int ndims = space >= 0 ? HT_H5_QUIET(H5Sget_simple_extent_ndims(space)) : -1;
  char tname[96];
  ht__h5num_describe(type, tname, sizeof tname);
  snprintf(buf, len, "%d-D %s", ndims, tname);
  ht__h5_close_id(&type);
  ht__h5_close_id(&space);
}

/* A damaged dataspace can claim more elements than its own maximum, which
 * HDF5 does not check on read (its chunk index may be sized by the
 * maximum): refuse it. */
static int check_maxdims(hid_t space, int ndims, const char *what) {
  hsize_t dims[H5S_MAX_RANK], maxdims[H5S_MAX_RANK];
  if (ndims < 1 || ndims > H5S_MAX_RANK) return 0;
  if (HT_H5_OR(H5Sget_simple_extent_dims(space, dims, maxdims), HT_EDATA, "%s: unreadable shape (corrupt file?)", what) < 0)
    return HT_EDATA;
  for (int i = 0; i < ndims; i++)
    if (maxdims[i] != H5S_UNLIMITED && dims[i] > maxdims[i])
      return ht_error(HT_EDATA, "%s: dimension %d is %llu, beyond its maximum %llu (corrupt file?)", what, i,
                      (unsigned long long)dims[i], (unsigned long long)maxdims[i]);
  return 0;
}

/* Class and dimensions of a dataset; ndims is at most 2 here (more is an
 * error reported by the caller, with dims left partly unset). *cls is
 * H5T_NO_CLASS for a float or integer type other than the standard ones
 * and IEEE half (core/h5num.h), which hytrain does not read. */
static int shape_of(hid_t dset, const char *what, H5T_class_t *cls, int *ndims, hsize_t dims[2]) {
  hid_t space = HT_H5(H5Dget_space(dset), what), type = HT_H5(H5Dget_type(dset), what);
  int rc = 0;
  if (space < 0 || type < 0) {
    rc = ht__h5_error(what, "H5Dget_space/H5Dget_type", __FILE__, __LINE__);
  } else {
    *cls = HT_H5(H5Tget_class(type), what);
    *ndims = HT_H5(H5Sget_simple_extent_ndims(space), what);
    dims[0] = dims[1] = 0;
    if (*cls < 0 || *ndims < 0)
      rc = ht__h5_error(what, "H5Tget_class/H5Sget_simple_extent_ndims", __FILE__, __LINE__);
    else if (*ndims >= 1 && *ndims <= 2 && HT_H5(H5Sget_simple_extent_dims(space, dims, NULL), what) < 0)
      rc = ht__h5_error(what, "H5Sget_simple_extent_dims", __FILE__, __LINE__);
    else
      rc = check_maxdims(space, *ndims, what);
    ht_h5num num;
    if (rc == 0 && (*cls == H5T_FLOAT || *cls == H5T_INTEGER) && ht__h5num_identify_data(type, &num) != 0) *cls = H5T_NO_CLASS;
  }
  ht__h5_close_id(&type);
  ht__h5_close_id(&space);
  return rc;
}

/* Opens /name as a dataset, or explains why it cannot be. */
int ht__dataset_open(hid_t file, const char *path, const char *name, hid_t *out) {
  htri_t exists = HT_H5_OR(H5Lexists(file, name, H5P_DEFAULT), HT_EDATA, "%s: /%s cannot be looked up (corrupt file?)", path, name);
  if (exists < 0) return HT_EDATA;
  if (exists == 0) return ht_error(HT_EDATA, "%s: /%s is missing", path, name);
  *out = HT_H5_OR(H5Dopen2(file, name, H5P_DEFAULT), HT_EDATA, "%s: /%s is not a dataset", path, name);
  if (*out < 0) return HT_EDATA;
  return 0;
}

/* A file without the num_classes attribute (as h5py users write them):
 * classes are 0 .. the largest label, read from the whole /labels column so
 * every rank, and every reader of the file, infers the same count. At least
 * 2 (a file whose labels are all 0 is still a classification). */
static int infer_num_classes(hid_t labels, const char *path, int64_t n, int *num_classes) {
  const int64_t block = 1 << 20;
  int32_t *buf = malloc(sizeof *buf * (size_t)(n < block ? (n > 0 ? n : 1) : block));
  if (!buf) return ht_error(HT_ENOMEM, "%s: out of memory reading /labels", path);
  char what[1100];
  snprintf(what, sizeof what, "%s:/labels", path);
  int32_t mx = 0;
  int rc = 0;
  for (int64_t r0 = 0; r0 < n && rc == 0; r0 += block) {
    int64_t k = n - r0 < block ? n - r0 : block;
    rc = ht__dataset_read_rows(labels, 1, r0, k, 1, HT_H5NUM_INT32, buf, what);
    for (int64_t i = 0; i < k && rc == 0; i++) {
      if (buf[i] < 0)
        rc = ht_error(HT_EDATA, "%s: row %lld: label %d is negative (classes are 0, 1, ...; the file has no num_classes "
                      "attribute, so hytrain infers the classes from the labels)", path, (long long)(r0 + i), (int)buf[i]);
      else if (buf[i] == INT32_MAX)
        rc = ht_error(HT_EDATA, "%s: row %lld: label %d is too large", path, (long long)(r0 + i), (int)buf[i]);
      else if (buf[i] > mx)
        mx = buf[i];
    }
  }
  free(buf);
  if (rc == 0) *num_classes = mx + 1 < 2 ? 2 : mx + 1;
  return rc;
}

static int read_num_classes(hid_t file, hid_t labels, const char *path, int64_t n, int *num_classes, int *inferred) {
  htri_t exists = HT_H5_OR(H5Aexists(file, "num_classes"), HT_EDATA, "%s: attribute num_classes cannot be looked up (corrupt file?)", path);
  if (exists < 0) return HT_EDATA;
  *inferred = exists == 0;
  if (exists == 0) return infer_num_classes(labels, path, n, num_classes);
  char what[1100];
  snprintf(what, sizeof what, "%s: attribute num_classes", path);
  hid_t attr = HT_H5(H5Aopen(file, "num_classes", H5P_DEFAULT), path);
  hid_t space = attr >= 0 ? HT_H5(H5Aget_space(attr), path) : H5I_INVALID_HID;
  int rc = 0;
  if (attr < 0 || space < 0) {
    rc = ht__h5_error(path, "H5Aopen(num_classes)", __FILE__, __LINE__);
  } else if (HT_H5_OR(H5Sget_simple_extent_npoints(space), HT_EDATA, "%s: attribute num_classes has no size", path) != 1) {
    rc = ht_error(HT_EDATA, "%s: attribute num_classes must be a single integer", path);
  } else if (ht__h5num_read_attr(attr, 1, NULL, HT_H5NUM_INT32, HT_H5NUM_SAME_CLASS, num_classes, what) < 0) {
    rc = HT_EDATA;
  } else if (*num_classes < 2) {
    rc = ht_error(HT_EDATA, "%s: attribute num_classes is %d, classification needs at least 2", path, *num_classes);
  }
  ht__h5_close_id(&space);
  ht__h5_close_id(&attr);
  return rc;
}

int ht__dataset_open_file(ht_dataset *ds, const char *path, ht__dataset_file *f) {
  memset(ds, 0, sizeof *ds);
  if (!path) return ht_error(HT_EINVAL, "dataset path is NULL");
  if (strlen(path) >= sizeof ds->path) return ht_error(HT_EINVAL, "%s: path is too long", path);
  snprintf(ds->path, sizeof ds->path, "%s", path);
  /* Users see our one-line message; HDF5's own stack dump would bury it. */
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);

  struct stat st;
  if (stat(path, &st) != 0) return ht_error(errno == ENOENT ? HT_ENOENT : HT_EIO, "%s: cannot open: %s", path, strerror(errno));
  if (S_ISDIR(st.st_mode)) return ht_error(HT_EDATA, "%s: cannot open: %s", path, strerror(EISDIR));
  if (access(path, R_OK) != 0) return ht_error(HT_EIO, "%s: cannot open: %s", path, strerror(errno));
  if (H5Fis_hdf5(path) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    return ht_error(HT_EDATA, "%s: not an HDF5 file", path);
  }
  f->file = HT_H5_OR(H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT), HT_EDATA, "%s: cannot open as HDF5 (truncated or corrupt file?)", path);
  if (f->file < 0) return HT_EDATA;
  return 0;
}

/* Opens path and /features and fills n_total and d; /labels is not looked
 * at. On failure f may hold open identifiers (closed by the caller). */
static int open_features(ht_dataset *ds, const char *path, ht__dataset_file *f) {
  HT_CHECK(ht__dataset_open_file(ds, path, f));
  char what[1100], found[112];
  H5T_class_t cls;
  int ndims;
  hsize_t dims[2];
  if (HT_H5_QUIET(H5Lexists(f->file, "features", H5P_DEFAULT)) == 0 && HT_H5_QUIET(H5Lexists(f->file, "csr", H5P_DEFAULT)) > 0)
    return ht_error(HT_EDATA,
                    "%s: is a sparse (CSR) dataset, which dense models cannot read; train it with train.engine "
                    "hogwild, locked or serial (docs/sparse.md), or convert with --format dense",
                    path);
  HT_CHECK(ht__dataset_open(f->file, path, "features", &f->features));
  snprintf(what, sizeof what, "%s:/features", path);
  HT_CHECK(shape_of(f->features, what, &cls, &ndims, dims));
  if (ndims != 2 || cls != H5T_FLOAT) {
    describe(f->features, found, sizeof found);
    return ht_error(ndims != 2 ? HT_ESHAPE : HT_EDATA, "%s: /features must be 2-D float32 [N, D], found %s", path, found);
  }
  if (dims[0] == 0) return ht_error(HT_EDATA, "%s: /features has no rows", path);
  if (dims[1] == 0) return ht_error(HT_EDATA, "%s: /features has no columns", path);
  if (dims[1] > INT_MAX || dims[0] > INT64_MAX / dims[1])
    return ht_error(HT_ESHAPE, "%s: /features is too large [%llu, %llu]", path, (unsigned long long)dims[0],
                    (unsigned long long)dims[1]);
  ds->n_total = (int64_t)dims[0];
  ds->d = (int)dims[1];
  return 0;
}

/* Opens path and fills the header fields of ds. On failure f may hold open
 * identifiers; the caller closes them with ht__dataset_close_file either way. */
int ht__dataset_open_and_probe(ht_dataset *ds, const char *path, ht__dataset_file *f) {
  HT_CHECK(open_features(ds, path, f));
  return ht__dataset_probe_labels(ds, path, f);
}

int ht__dataset_probe_labels(ht_dataset *ds, const char *path, ht__dataset_file *f) {
  char what[1100], found[112];
  H5T_class_t cls;
  int ndims;
  hsize_t dims[2];
  HT_CHECK(ht__dataset_open(f->file, path, "labels", &f->labels));
  snprintf(what, sizeof what, "%s:/labels", path);
  HT_CHECK(shape_of(f->labels, what, &cls, &ndims, dims));
  describe(f->labels, found, sizeof found);
  if (cls == H5T_INTEGER && ndims == 1) {
    ds->task = HT_TASK_CLASSIFY;
    ds->t = 1;
  } else if (cls == H5T_FLOAT && (ndims == 1 || ndims == 2)) {
    ds->task = HT_TASK_REGRESS;
    ds->t = ndims == 1 ? 1 : (int)(dims[1] > INT_MAX ? 0 : dims[1]);
    if (ds->t < 1) return ht_error(HT_ESHAPE, "%s: /labels must have at least one target column, found %s", path, found);
  } else {
    return ht_error(ndims < 1 || ndims > 2 ? HT_ESHAPE : HT_EDATA,
                    "%s: /labels must be int32 [N] (classes) or float32 [N] or [N, T] (targets), found %s", path, found);
  }
  f->labels_ndims = ndims;
  if ((int64_t)dims[0] != ds->n_total)
    return ht_error(HT_ESHAPE, "%s: /labels has %llu rows but %s has %lld", path, (unsigned long long)dims[0],
                    f->features >= 0 ? "/features" : "/csr/indptr", (long long)ds->n_total);
  if (ds->task == HT_TASK_CLASSIFY)
    HT_CHECK(read_num_classes(f->file, f->labels, path, ds->n_total, &ds->num_classes, &ds->classes_inferred));
  return 0;
}

int ht_dataset_probe(ht_dataset *ds, const char *path) {
  ht__dataset_file f = {H5I_INVALID_HID, H5I_INVALID_HID, H5I_INVALID_HID, 0};
  int rc = ht__dataset_open_and_probe(ds, path, &f);
  ht__dataset_close_file(&f);
  if (rc < 0) ht__error_trace_push(__FILE__, __LINE__, __func__);
  return rc;
}

/* Pieces of at most this many file bytes when the file's type needs
 * converting, so a float64 file costs little memory beyond the shard. */
#define HT__CONVERT_PIECE_BYTES ((size_t)4 << 20)

/* The file's rank and dimensions must hold the rows asked for: HDF5 would
 * refuse a selection outside them, but a damaged dataspace is better named. */
static int check_rows_space(hid_t fspace, int ndims, int64_t row0, int64_t n, int cols, const char *what) {
  int got = HT_H5_OR(H5Sget_simple_extent_ndims(fspace), HT_EDATA, "%s: unreadable shape (corrupt file?)", what);
  if (got < 0) return HT_EDATA;
  hsize_t dims[2] = {0, 0};
  if (got != ndims || got > 2)
    return ht_error(HT_ESHAPE, "%s: the dataset is %d-D, expected %d-D (the file changed?)", what, got, ndims);
  if (HT_H5_OR(H5Sget_simple_extent_dims(fspace, dims, NULL), HT_EDATA, "%s: unreadable shape (corrupt file?)", what) < 0)
    return HT_EDATA;
  HT_CHECK(check_maxdims(fspace, ndims, what));
  if ((hsize_t)(row0 + n) > dims[0] || (ndims == 2 && dims[1] != (hsize_t)cols) || (ndims == 1 && cols != 1))
    return ht_error(HT_ESHAPE, "%s: rows [%lld, %lld) x %d columns are outside its shape (the file changed?)", what,
                    (long long)row0, (long long)(row0 + n), cols);
  return 0;
}

/* Reads rows [row0, row0 + n) of a 1-D or 2-D dataset with `cols` columns
 * into buf (n x cols, row-major): one hyperslab when the file holds the
 * native type, else pieces of rows read in the file's type and converted. */
int ht__dataset_read_rows(hid_t dset, int ndims, int64_t row0, int64_t n, int cols, ht_h5num_want want, void *buf,
                          const char *what) {
  hid_t fspace = HT_H5_OR(H5Dget_space(dset), HT_EDATA, "%s: the dataset has no dataspace (corrupt file?)", what);
  if (fspace < 0) return HT_EDATA;
  hid_t ftype = H5I_INVALID_HID, mspace = H5I_INVALID_HID;
  int rc = check_rows_space(fspace, ndims, row0, n, cols, what);
  ht_h5num src;
  if (rc == 0) {
    ftype = HT_H5_OR(H5Dget_type(dset), HT_EDATA, "%s: the dataset has no type (corrupt file?)", what);
    rc = ftype < 0 ? HT_EDATA : ht__h5num_check(ftype, want, HT_H5NUM_SAME_CLASS, &src, what);
  }
  if (rc == 0) {
    size_t out_size = want == HT_H5NUM_FLOAT || want == HT_H5NUM_INT32 ? 4 : 8;
    size_t row_bytes = src.size * (size_t)cols;
    int64_t piece = ht__h5num_is_native(&src, want) || row_bytes == 0 ? n : (int64_t)(HT__CONVERT_PIECE_BYTES / row_bytes);
    if (piece < 1) piece = 1;
    for (int64_t r = 0; r < n && rc == 0; r += piece) {
      int64_t k = n - r < piece ? n - r : piece;
      hsize_t start[2] = {(hsize_t)(row0 + r), 0}, count[2] = {(hsize_t)k, (hsize_t)cols};
      ht__h5_close_id(&mspace);
      mspace = HT_H5(H5Screate_simple(ndims, count, NULL), what);
      if (mspace < 0 || HT_H5(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL), what) < 0)
        rc = ht__h5_error(what, "H5Sselect_hyperslab", __FILE__, __LINE__);
      else
        rc = ht__h5num_read_dataset(dset, mspace, fspace, (size_t)k * (size_t)cols, want, HT_H5NUM_SAME_CLASS,
                                    (char *)buf + (size_t)r * (size_t)cols * out_size, what);
    }
  }
  ht__h5_close_id(&mspace);
  ht__h5_close_id(&ftype);
  ht__h5_close_id(&fspace);
  return rc;
}

static const char *nonfinite_name(float v) { return isnan(v) ? "NaN" : (v > 0 ? "inf" : "-inf"); }

/* Finds the first non-finite value of an [n, cols] block; `kind` is "feature"
 * or "target" and row0 turns local rows into the file's row numbers. */
int ht__dataset_check_finite(const char *path, const float *v, int64_t n, int cols, int64_t row0, const char *kind) {
  for (int64_t i = 0; i < n; i++)
    for (int j = 0; j < cols; j++) {
      float x = v[i * cols + j];
      if (!isfinite(x))
        return ht_error(HT_EDATA, "%s: row %lld, column %d: %s is %s", path, (long long)(row0 + i), j, kind, nonfinite_name(x));
    }
  return 0;
}

int ht__dataset_check_labels(const char *path, const int32_t *y, int64_t n, int num_classes, int64_t row0) {
  for (int64_t i = 0; i < n; i++)
    if (y[i] < 0 || y[i] >= num_classes)
      return ht_error(HT_EDATA, "%s: row %lld: label %d out of range [0, %d)", path, (long long)(row0 + i), (int)y[i], num_classes);
  return 0;
}

/* Buffers for ds->n rows of features and labels or targets. An empty shard
 * still gets one-row buffers so callers need not special-case NULL. */
static int alloc_rows(ht_dataset *ds, const char *path) {
  size_t rows = (size_t)(ds->n > 0 ? ds->n : 1);
  ds->x = malloc(sizeof(float) * rows * (size_t)ds->d);
  if (ds->task == HT_TASK_CLASSIFY)
    ds->y = malloc(sizeof(int32_t) * rows);
  else
    ds->yt = malloc(sizeof(float) * rows * (size_t)ds->t);
  if (!ds->x || (!ds->y && !ds->yt))
    return ht_error(HT_ENOMEM, "%s: out of memory for %lld rows x %d features", path, (long long)ds->n, ds->d);
  return 0;
}

static int read_shard_body(ht_dataset *ds, ht__dataset_file *f, const char *path, int rank, int size) {
  HT_CHECK(ht__dataset_open_and_probe(ds, path, f));
  ht_shard_range(ds->n_total, rank, size, &ds->row0, &ds->n);
  HT_CHECK(alloc_rows(ds, path));
  if (ds->n == 0) return 0;

  char what[1100];
  snprintf(what, sizeof what, "%s:/features", path);
  HT_CHECK(ht__dataset_read_rows(f->features, 2, ds->row0, ds->n, ds->d, HT_H5NUM_FLOAT, ds->x, what));
  snprintf(what, sizeof what, "%s:/labels", path);
  if (ds->task == HT_TASK_CLASSIFY)
    HT_CHECK(ht__dataset_read_rows(f->labels, 1, ds->row0, ds->n, 1, HT_H5NUM_INT32, ds->y, what));
  else
    HT_CHECK(ht__dataset_read_rows(f->labels, f->labels_ndims, ds->row0, ds->n, ds->t, HT_H5NUM_FLOAT, ds->yt, what));

  HT_CHECK(ht__dataset_check_finite(path, ds->x, ds->n, ds->d, ds->row0, "feature"));
  if (ds->y) HT_CHECK(ht__dataset_check_labels(path, ds->y, ds->n, ds->num_classes, ds->row0));
  if (ds->yt) HT_CHECK(ht__dataset_check_finite(path, ds->yt, ds->n, ds->t, ds->row0, "target"));
  return 0;
}


static int read_features_body(ht_dataset *ds, ht__dataset_file *f, const char *path, int rank, int size) {
  HT_CHECK(open_features(ds, path, f));
  ht_shard_range(ds->n_total, rank, size, &ds->row0, &ds->n);
  size_t rows = (size_t)(ds->n > 0 ? ds->n : 1);
  ds->x = malloc(sizeof(float) * rows * (size_t)ds->d);
  if (!ds->x) return ht_error(HT_ENOMEM, "%s: out of memory for %lld rows x %d features", path, (long long)ds->n, ds->d);
  if (ds->n == 0) return 0;
  char what[1100];
  snprintf(what, sizeof what, "%s:/features", path);
  HT_CHECK(ht__dataset_read_rows(f->features, 2, ds->row0, ds->n, ds->d, HT_H5NUM_FLOAT, ds->x, what));
  HT_CHECK(ht__dataset_check_finite(path, ds->x, ds->n, ds->d, ds->row0, "feature"));
  return 0;
}

typedef int (*shard_body)(ht_dataset *ds, ht__dataset_file *f, const char *path, int rank, int size);

/* Checks the shard, runs body on an open file, closes it whatever happened,
 * and on failure frees ds and adds the caller to the error trace. */
static int read_with(shard_body body, ht_dataset *ds, const char *path, int rank, int size, const char *caller) {
  if (size < 1 || rank < 0 || rank >= size) {
    memset(ds, 0, sizeof *ds);
    return ht_error(HT_EINVAL, "%s: invalid shard: rank %d of %d ranks", path ? path : "(null)", rank, size);
  }
  ht__dataset_file f = {H5I_INVALID_HID, H5I_INVALID_HID, H5I_INVALID_HID, 0};
  int rc = body(ds, &f, path, rank, size);
  ht__dataset_close_file(&f);
  if (rc < 0) {
    ht__error_trace_push(__FILE__, __LINE__, caller);
    ht_dataset_free(ds);
  }
  return rc;
}

int ht_dataset_read_shard(ht_dataset *ds, const char *path, int rank, int size) {
  return read_with(read_shard_body, ds, path, rank, size, __func__);
}

int ht_dataset_read_features(ht_dataset *ds, const char *path, int rank, int size) {
  return read_with(read_features_body, ds, path, rank, size, __func__);
}

/* Like read_shard_body, for a selection of up to HT_DATASET_MAX_RANGES row
 * ranges read one after the other (K-fold: the rows around a held-out fold).
 * n_total becomes the number of rows selected over all ranks (n_selected). */
static int read_ranges_body(ht_dataset *ds, ht__dataset_file *f, const char *path, int n_ranges, const int64_t *row0,
                            const int64_t *count, int64_t n_selected) {
  HT_CHECK(ht__dataset_open_and_probe(ds, path, f));
  int64_t n = 0;
  for (int i = 0; i < n_ranges; i++) {
    if (row0[i] < 0 || count[i] < 0 || row0[i] + count[i] > ds->n_total)
      return ht_error(HT_EINVAL, "%s: rows [%lld, %lld) are outside the file's %lld rows", path, (long long)row0[i],
                      (long long)(row0[i] + count[i]), (long long)ds->n_total);
    n += count[i];
  }
  ds->n_total = n_selected;
  ds->n = n;
  ds->row0 = n_ranges > 0 ? row0[0] : 0;
  HT_CHECK(alloc_rows(ds, path));
  char what[1100];
  int64_t at = 0; /* first local row of range i */
  for (int i = 0; i < n_ranges; i++) {
    if (count[i] == 0) continue;
    float *x = ds->x + (size_t)at * (size_t)ds->d;
    snprintf(what, sizeof what, "%s:/features", path);
    HT_CHECK(ht__dataset_read_rows(f->features, 2, row0[i], count[i], ds->d, HT_H5NUM_FLOAT, x, what));
    HT_CHECK(ht__dataset_check_finite(path, x, count[i], ds->d, row0[i], "feature"));
    snprintf(what, sizeof what, "%s:/labels", path);
    if (ds->task == HT_TASK_CLASSIFY) {
      HT_CHECK(ht__dataset_read_rows(f->labels, 1, row0[i], count[i], 1, HT_H5NUM_INT32, ds->y + at, what));
      HT_CHECK(ht__dataset_check_labels(path, ds->y + at, count[i], ds->num_classes, row0[i]));
    } else {
      float *yt = ds->yt + (size_t)at * (size_t)ds->t;
      HT_CHECK(ht__dataset_read_rows(f->labels, f->labels_ndims, row0[i], count[i], ds->t, HT_H5NUM_FLOAT, yt, what));
      HT_CHECK(ht__dataset_check_finite(path, yt, count[i], ds->t, row0[i], "target"));
    }
    at += count[i];
  }
  return 0;
}

int ht_dataset_read_ranges(ht_dataset *ds, const char *path, int n_ranges, const int64_t *row0, const int64_t *count,
                           int64_t n_selected) {
  if (n_ranges < 0 || n_ranges > HT_DATASET_MAX_RANGES) {
    memset(ds, 0, sizeof *ds);
    return ht_error(HT_EINVAL, "%s: %d row ranges (at most %d)", path ? path : "(null)", n_ranges, HT_DATASET_MAX_RANGES);
  }
  ht__dataset_file f = {H5I_INVALID_HID, H5I_INVALID_HID, H5I_INVALID_HID, 0};
  int rc = read_ranges_body(ds, &f, path, n_ranges, row0, count, n_selected);
  ht__dataset_close_file(&f);
  if (rc < 0) {
    ht__error_trace_push(__FILE__, __LINE__, __func__);
    ht_dataset_free(ds);
  }
  return rc;
}

void ht_dataset_free(ht_dataset *ds) {
  if (!ds) return;
  free(ds->x);
  free(ds->y);
  free(ds->yt);
  memset(ds, 0, sizeof *ds);
}

/* ---- writing ---------------------------------------------------------- */

/* Creates /name as a chunked [n] or [n, cols] dataset of file_type and
 * writes all of buf. */
int ht__dataset_write_rows(hid_t file, const char *name, int ndims, int64_t n, int cols, hid_t file_type, hid_t mem_type,
                      const void *buf, const char *path) {
  hsize_t dims[2] = {(hsize_t)n, (hsize_t)cols};
  int64_t row_bytes = (int64_t)cols * (int64_t)HT_H5(H5Tget_size(file_type), path);
  if (row_bytes <= 0) return ht_error(HT_EINTERNAL, "%s:/%s: the file type has no size", path, name);
  int64_t chunk_rows = HT__CHUNK_BYTES / row_bytes;
  if (chunk_rows < 1) chunk_rows = 1;
  if (chunk_rows > n) chunk_rows = n;
  hsize_t chunk[2] = {(hsize_t)chunk_rows, (hsize_t)cols};
  hid_t space = HT_H5(H5Screate_simple(ndims, dims, NULL), path);
  hid_t dcpl = HT_H5(H5Pcreate(H5P_DATASET_CREATE), path);
  hid_t dset = H5I_INVALID_HID;
  int rc = 0;
  if (space < 0 || dcpl < 0 || HT_H5(H5Pset_chunk(dcpl, ndims, chunk), path) < 0 ||
      (dset = HT_H5(H5Dcreate2(file, name, file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), path)) < 0 ||
      HT_H5(H5Dwrite(dset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf), path) < 0) {
    char what[1100];
    snprintf(what, sizeof what, "%s:/%s", path, name);
    rc = ht__h5_error(what, "H5Dcreate2/H5Dwrite", __FILE__, __LINE__);
  }
  ht__h5_close_id(&dset);
  ht__h5_close_id(&dcpl);
  ht__h5_close_id(&space);
  return rc;
}

/* Writes attribute `name` on obj: n values of file_type from buf, scalar
 * when n == 0. */
int ht__dataset_write_attr(hid_t obj, const char *name, hid_t file_type, hid_t mem_type, hsize_t n, const void *buf,
                      const char *path) {
  hid_t space = n ? HT_H5(H5Screate_simple(1, &n, NULL), path) : HT_H5(H5Screate(H5S_SCALAR), path);
  hid_t attr = H5I_INVALID_HID;
  int rc = 0;
  if (space < 0 || (attr = HT_H5(H5Acreate2(obj, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT), path)) < 0 ||
      HT_H5(H5Awrite(attr, mem_type, buf), path) < 0) {
    char what[1100];
    snprintf(what, sizeof what, "%s: attribute %s", path, name);
    rc = ht__h5_error(what, "H5Awrite", __FILE__, __LINE__);
  }
  ht__h5_close_id(&attr);
  ht__h5_close_id(&space);
  return rc;
}

static int write_body(hid_t file, const char *path, const float *x, int64_t n, int d, const int32_t *y, int num_classes,
                      const float *yt, int t, const char *source, const double *label_values) {
  HT_CHECK(ht__dataset_write_rows(file, "features", 2, n, d, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, x, path));
  if (y)
    HT_CHECK(ht__dataset_write_rows(file, "labels", 1, n, 1, H5T_STD_I32LE, H5T_NATIVE_INT32, y, path));
  else
    HT_CHECK(ht__dataset_write_rows(file, "labels", 2, n, t, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, yt, path));
  return ht__dataset_write_meta(file, path, y ? num_classes : 0, source, label_values);
}

int ht__dataset_write_meta(hid_t file, const char *path, int k, const char *source, const double *label_values) {
  HT_CHECK(ht__dataset_write_attr(file, "num_classes", H5T_STD_I32LE, H5T_NATIVE_INT, 0, &k, path));
  /* A variable-length UTF-8 string, which h5py returns as a str. */
  hid_t str = HT_H5(H5Tcopy(H5T_C_S1), path);
  int rc = 0;
  if (str < 0 || HT_H5(H5Tset_size(str, H5T_VARIABLE), path) < 0 || HT_H5(H5Tset_cset(str, H5T_CSET_UTF8), path) < 0) {
    rc = ht__h5_error(path, "H5Tcopy(string)", __FILE__, __LINE__);
  } else {
    const char *text = source ? source : "";
    rc = ht__dataset_write_attr(file, "source", str, str, 0, &text, path);
  }
  ht__h5_close_id(&str);
  if (rc < 0) return rc;
  if (k > 0 && label_values)
    HT_CHECK(ht__dataset_write_attr(file, "label_values", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, (hsize_t)k, label_values, path));
  return 0;
}

static int check_write_args(const char *path, const float *x, int64_t n, int d, const int32_t *y, int num_classes,
                            const float *yt, int t) {
  if (!path || !path[0]) return ht_error(HT_EINVAL, "dataset write: no output path");
  if (n < 1 || d < 1 || !x) return ht_error(HT_EINVAL, "%s: cannot write a dataset of %lld rows x %d features", path, (long long)n, d);
  if ((y == NULL) == (yt == NULL)) return ht_error(HT_EINVAL, "%s: give either class labels or regression targets", path);
  if (y && num_classes < 2) return ht_error(HT_EINVAL, "%s: num_classes is %d, classification needs at least 2", path, num_classes);
  if (yt && t < 1) return ht_error(HT_EINVAL, "%s: regression needs at least 1 target, got %d", path, t);
  /* Never write a file that the reader would reject. */
  HT_CHECK(ht__dataset_check_finite(path, x, n, d, 0, "feature"));
  if (y) HT_CHECK(ht__dataset_check_labels(path, y, n, num_classes, 0));
  if (yt) HT_CHECK(ht__dataset_check_finite(path, yt, n, t, 0, "target"));
  return 0;
}

/* The arguments of write_body, for ht__dataset_write_atomic. */
typedef struct dense_body {
  const float *x;
  int64_t n;
  int d;
  const int32_t *y;
  int num_classes;
  const float *yt;
  int t;
  const char *source;
  const double *label_values;
} dense_body;

static int dense_body_write(hid_t file, const char *path, const void *ctx) {
  const dense_body *b = ctx;
  return write_body(file, path, b->x, b->n, b->d, b->y, b->num_classes, b->yt, b->t, b->source, b->label_values);
}

int ht__dataset_write_atomic(const char *path, int (*body)(hid_t file, const char *path, const void *ctx), const void *ctx) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  char partial[HT_FILE_PATH_MAX];
  HT_CHECK(ht_file_partial_name(path, partial, sizeof partial));

  /* Creating the file with open() first gives the system's reason
   * ("No such file or directory") rather than HDF5's generic one. */
  int fd = open(partial, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return ht_error(errno == ENOENT ? HT_ENOENT : HT_EIO, "%s: cannot create: %s", path, strerror(errno));
  close(fd);
  int rc = 0;
  hid_t file = HT_H5(H5Fcreate(partial, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), path);
  if (file < 0) rc = ht__h5_error(path, "H5Fcreate", __FILE__, __LINE__);
  if (rc == 0) rc = body(file, path, ctx);
  if (file >= 0 && H5Fclose(file) < 0 && rc == 0) rc = ht__h5_error(path, "H5Fclose", __FILE__, __LINE__);
  if (rc < 0) {
    unlink(partial);
    ht__error_trace_push(__FILE__, __LINE__, __func__);
    return rc;
  }
  /* Removes the .partial file itself if the fsync or rename fails. */
  HT_CHECK(ht_file_commit(partial, path));
  return 0;
}

int ht_dataset_write(const char *path, const float *x, int64_t n, int d, const int32_t *y, int num_classes, const float *yt,
                     int t, const char *source, const double *label_values) {
  HT_CHECK(check_write_args(path, x, n, d, y, num_classes, yt, t));
  dense_body b = {x, n, d, y, num_classes, yt, t, source, label_values};
  HT_CHECK(ht__dataset_write_atomic(path, dense_body_write, &b));
  return 0;
}
