/*
 * Sparse (CSR) dataset files: probe, shard read by hyperslabs, validation,
 * atomic write. Layout in hytrain/csr.h and docs/data-format.md.
 */
#include "hytrain/csr.h"

#include <hdf5.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset_internal.h"
#include "hytrain/error.h"

/* The open objects of a CSR file. */
typedef struct csr_file {
  ht__dataset_file f; /* file and /labels (features stays closed) */
  hid_t indptr, indices, values;
} csr_file;

static void csr_close(csr_file *c) {
  ht__h5_close_id(&c->values);
  ht__h5_close_id(&c->indices);
  ht__h5_close_id(&c->indptr);
  ht__dataset_close_file(&c->f);
}

int ht_csr_is_csr(const char *path) { return ht__h5_file_has(path, "csr"); }

/* Length of a 1-D dataset, or an error naming it. */
static int length_of(hid_t dset, const char *path, const char *name, hsize_t *len) {
  hid_t space = HT_H5_OR(H5Dget_space(dset), HT_EDATA, "%s:/%s has no dataspace (corrupt file?)", path, name);
  if (space < 0) return HT_EDATA;
  int rc = 0;
  if (HT_H5_QUIET(H5Sget_simple_extent_ndims(space)) != 1)
    rc = ht_error(HT_ESHAPE, "%s: /%s must be 1-D", path, name);
  else if (HT_H5_OR(H5Sget_simple_extent_dims(space, len, NULL), HT_EDATA, "%s:/%s has no size", path, name) < 0)
    rc = HT_EDATA;
  ht__h5_close_id(&space);
  return rc;
}

static int read_num_features(hid_t file, const char *path, int *d) {
  htri_t exists = HT_H5_OR(H5Aexists(file, "num_features"), HT_EDATA, "%s: attribute num_features cannot be looked up", path);
  if (exists < 0) return HT_EDATA;
  if (exists == 0) return ht_error(HT_EDATA, "%s: attribute num_features is missing (a CSR file needs it)", path);
  hid_t attr = HT_H5_OR(H5Aopen(file, "num_features", H5P_DEFAULT), HT_EDATA, "%s: attribute num_features cannot be opened", path);
  if (attr < 0) return HT_EDATA;
  char what[1100];
  snprintf(what, sizeof what, "%s: attribute num_features", path);
  int64_t v = 0;
  int rc = 0;
  if (ht__h5num_read_attr(attr, 1, NULL, HT_H5NUM_INT64, HT_H5NUM_SAME_CLASS, &v, what) < 0)
    rc = HT_EDATA;
  else if (v < 1 || v > INT32_MAX)
    rc = ht_error(HT_EDATA, "%s: attribute num_features is %lld, expected 1 .. %d", path, (long long)v, INT32_MAX);
  ht__h5_close_id(&attr);
  *d = (int)v;
  return rc;
}

static int open_and_probe(ht_csr *ds, const char *path, csr_file *c) {
  memset(ds, 0, sizeof *ds);
  ht_dataset hdr;
  HT_CHECK(ht__dataset_open_file(&hdr, path, &c->f));
  snprintf(ds->path, sizeof ds->path, "%s", path);
  if (HT_H5_QUIET(H5Lexists(c->f.file, "csr", H5P_DEFAULT)) <= 0)
    return ht_error(HT_EDATA, "%s: /csr is missing (not a sparse dataset; dense files have /features)", path);
  HT_CHECK(ht__dataset_open(c->f.file, path, "csr/indptr", &c->indptr));
  HT_CHECK(ht__dataset_open(c->f.file, path, "csr/indices", &c->indices));
  HT_CHECK(ht__dataset_open(c->f.file, path, "csr/values", &c->values));
  HT_CHECK(read_num_features(c->f.file, path, &ds->d));
  hsize_t np1, nnz, nv;
  HT_CHECK(length_of(c->indptr, path, "csr/indptr", &np1));
  HT_CHECK(length_of(c->indices, path, "csr/indices", &nnz));
  HT_CHECK(length_of(c->values, path, "csr/values", &nv));
  if (np1 < 2) return ht_error(HT_EDATA, "%s: /csr/indptr has %llu entries; a file needs at least one row", path, (unsigned long long)np1);
  if (nv != nnz)
    return ht_error(HT_ESHAPE, "%s: /csr/values has %llu entries but /csr/indices has %llu", path, (unsigned long long)nv,
                    (unsigned long long)nnz);
  ds->n_total = hdr.n_total = (int64_t)np1 - 1;
  ds->nnz_total = (int64_t)nnz;
  HT_CHECK(ht__dataset_probe_labels(&hdr, path, &c->f));
  if (hdr.task == HT_TASK_REGRESS && hdr.t != 1)
    return ht_error(HT_ESHAPE, "%s: sparse models take one regression target, /labels has %d", path, hdr.t);
  ds->task = hdr.task;
  ds->num_classes = hdr.num_classes;
  return 0;
}

int ht_csr_probe(ht_csr *ds, const char *path) {
  csr_file c = {{H5I_INVALID_HID, H5I_INVALID_HID, H5I_INVALID_HID, 0}, H5I_INVALID_HID, H5I_INVALID_HID, H5I_INVALID_HID};
  int rc = open_and_probe(ds, path, &c);
  csr_close(&c);
  if (rc < 0) ht__error_trace_push(__FILE__, __LINE__, __func__);
  return rc;
}

/* Rows [0, n) whose first is row0 of the file; indptr is rebased (starts at
 * 0) and indices/values hold indptr[n] entries. */
static int check_rows(const char *path, int64_t row0, int64_t n, const int64_t *indptr, const int32_t *indices,
                      const float *values, int d) {
  for (int64_t i = 0; i < n; i++) {
    if (indptr[i + 1] < indptr[i])
      return ht_error(HT_EDATA, "%s: row %" PRId64 ": /csr/indptr decreases (%" PRId64 " after %" PRId64 ")", path, row0 + i,
                      indptr[i + 1], indptr[i]);
    for (int64_t k = indptr[i]; k < indptr[i + 1]; k++) {
      if (indices[k] < 0 || indices[k] >= d)
        return ht_error(HT_EDATA, "%s: row %" PRId64 ": feature index %d out of range [0, %d)", path, row0 + i, (int)indices[k], d);
      if (k > indptr[i] && indices[k] <= indices[k - 1])
        return ht_error(HT_EDATA, "%s: row %" PRId64 ": feature index %d is not greater than the previous %d", path, row0 + i,
                        (int)indices[k], (int)indices[k - 1]);
      if (!isfinite(values[k]))
        return ht_error(HT_EDATA, "%s: row %" PRId64 ", feature %d: value is %s", path, row0 + i, (int)indices[k],
                        isnan(values[k]) ? "NaN" : "infinite");
    }
  }
  return 0;
}

static int read_body(ht_csr *ds, csr_file *c, const char *path, int rank, int size) {
  HT_CHECK(open_and_probe(ds, path, c));
  ht_shard_range(ds->n_total, rank, size, &ds->row0, &ds->n);
  char what[1100];
  ds->indptr = malloc(sizeof(int64_t) * (size_t)(ds->n + 1));
  if (!ds->indptr) return ht_error(HT_ENOMEM, "%s: out of memory for %" PRId64 " rows", path, ds->n);
  snprintf(what, sizeof what, "%s:/csr/indptr", path);
  HT_CHECK(ht__dataset_read_rows(c->indptr, 1, ds->row0, ds->n + 1, 1, HT_H5NUM_INT64, ds->indptr, what));
  int64_t k0 = ds->indptr[0], k1 = ds->indptr[ds->n];
  if (ds->row0 == 0 && k0 != 0) return ht_error(HT_EDATA, "%s: /csr/indptr[0] is %" PRId64 ", expected 0", path, k0);
  if (ds->row0 + ds->n == ds->n_total && k1 != ds->nnz_total)
    return ht_error(HT_EDATA, "%s: /csr/indptr[N] is %" PRId64 ", expected the number of non-zeros %" PRId64, path, k1,
                    ds->nnz_total);
  if (k0 < 0 || k1 < k0 || k1 > ds->nnz_total)
    return ht_error(HT_EDATA, "%s: rows [%" PRId64 ", %" PRId64 "): /csr/indptr range [%" PRId64 ", %" PRId64 ") is outside [0, %" PRId64 "]",
                    path, ds->row0, ds->row0 + ds->n, k0, k1, ds->nnz_total);
  for (int64_t i = 0; i <= ds->n; i++) ds->indptr[i] -= k0;
  size_t nnz = (size_t)(k1 - k0);
  ds->indices = malloc(sizeof(int32_t) * (nnz ? nnz : 1));
  ds->values = malloc(sizeof(float) * (nnz ? nnz : 1));
  if (!ds->indices || !ds->values) return ht_error(HT_ENOMEM, "%s: out of memory for %zu non-zeros", path, nnz);
  if (nnz > 0) {
    snprintf(what, sizeof what, "%s:/csr/indices", path);
    HT_CHECK(ht__dataset_read_rows(c->indices, 1, k0, (int64_t)nnz, 1, HT_H5NUM_INT32, ds->indices, what));
    snprintf(what, sizeof what, "%s:/csr/values", path);
    HT_CHECK(ht__dataset_read_rows(c->values, 1, k0, (int64_t)nnz, 1, HT_H5NUM_FLOAT, ds->values, what));
  }
  HT_CHECK(check_rows(path, ds->row0, ds->n, ds->indptr, ds->indices, ds->values, ds->d));
  snprintf(what, sizeof what, "%s:/labels", path);
  size_t n = (size_t)(ds->n ? ds->n : 1);
  if (ds->task == HT_TASK_CLASSIFY) {
    ds->y = malloc(sizeof(int32_t) * n);
    if (!ds->y) return ht_error(HT_ENOMEM, "%s: out of memory for labels", path);
    HT_CHECK(ht__dataset_read_rows(c->f.labels, 1, ds->row0, ds->n, 1, HT_H5NUM_INT32, ds->y, what));
    HT_CHECK(ht__dataset_check_labels(path, ds->y, ds->n, ds->num_classes, ds->row0));
  } else {
    ds->yt = malloc(sizeof(float) * n);
    if (!ds->yt) return ht_error(HT_ENOMEM, "%s: out of memory for targets", path);
    HT_CHECK(ht__dataset_read_rows(c->f.labels, c->f.labels_ndims, ds->row0, ds->n, 1, HT_H5NUM_FLOAT, ds->yt, what));
    HT_CHECK(ht__dataset_check_finite(path, ds->yt, ds->n, 1, ds->row0, "target"));
  }
  return 0;
}

int ht_csr_read_shard(ht_csr *ds, const char *path, int rank, int size) {
  csr_file c = {{H5I_INVALID_HID, H5I_INVALID_HID, H5I_INVALID_HID, 0}, H5I_INVALID_HID, H5I_INVALID_HID, H5I_INVALID_HID};
  int rc = read_body(ds, &c, path, rank, size);
  csr_close(&c);
  if (rc < 0) {
    ht__error_trace_push(__FILE__, __LINE__, __func__);
    ht_csr_free(ds);
  }
  return rc;
}

void ht_csr_free(ht_csr *ds) {
  if (!ds) return;
  free(ds->indptr);
  free(ds->indices);
  free(ds->values);
  free(ds->y);
  free(ds->yt);
  memset(ds, 0, sizeof *ds);
}

/* ---- writing ---------------------------------------------------------- */

typedef struct csr_body {
  int64_t n;
  int d;
  const int64_t *indptr;
  const int32_t *indices;
  const float *values;
  const int32_t *y;
  int num_classes;
  const float *yt;
  const char *source;
  const double *label_values;
} csr_body;

static int write_body(hid_t file, const char *path, const void *ctx) {
  const csr_body *b = ctx;
  hid_t group = HT_H5(H5Gcreate2(file, "csr", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), path);
  if (group < 0) return ht__h5_error(path, "H5Gcreate2(/csr)", __FILE__, __LINE__);
  ht__h5_close_id(&group);
  int64_t nnz = b->indptr[b->n];
  HT_CHECK(ht__dataset_write_rows(file, "csr/indptr", 1, b->n + 1, 1, H5T_STD_I64LE, H5T_NATIVE_INT64, b->indptr, path));
  /* HDF5 refuses a chunked dataset of size 0: a file of empty rows keeps one
   * unused entry out of reach of indptr. */
  int32_t zero_i = 0;
  float zero_v = 0;
  HT_CHECK(ht__dataset_write_rows(file, "csr/indices", 1, nnz ? nnz : 1, 1, H5T_STD_I32LE, H5T_NATIVE_INT32,
                                  nnz ? (const void *)b->indices : &zero_i, path));
  HT_CHECK(ht__dataset_write_rows(file, "csr/values", 1, nnz ? nnz : 1, 1, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
                                  nnz ? (const void *)b->values : &zero_v, path));
  if (b->y)
    HT_CHECK(ht__dataset_write_rows(file, "labels", 1, b->n, 1, H5T_STD_I32LE, H5T_NATIVE_INT32, b->y, path));
  else
    HT_CHECK(ht__dataset_write_rows(file, "labels", 1, b->n, 1, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, b->yt, path));
  long long d = b->d;
  HT_CHECK(ht__dataset_write_attr(file, "num_features", H5T_STD_I64LE, H5T_NATIVE_LLONG, 0, &d, path));
  return ht__dataset_write_meta(file, path, b->y ? b->num_classes : 0, b->source, b->label_values);
}

int ht_csr_write(const char *path, int64_t n, int d, const int64_t *indptr, const int32_t *indices, const float *values,
                 const int32_t *y, int num_classes, const float *yt, const char *source, const double *label_values) {
  if (!path || !path[0]) return ht_error(HT_EINVAL, "dataset write: no output path");
  if (n < 1 || d < 1 || !indptr) return ht_error(HT_EINVAL, "%s: cannot write a CSR dataset of %lld rows x %d features", path, (long long)n, d);
  if ((y == NULL) == (yt == NULL)) return ht_error(HT_EINVAL, "%s: give either class labels or regression targets", path);
  if (y && num_classes < 2) return ht_error(HT_EINVAL, "%s: num_classes is %d, classification needs at least 2", path, num_classes);
  if (indptr[0] != 0) return ht_error(HT_EINVAL, "%s: indptr[0] is %lld, expected 0", path, (long long)indptr[0]);
  /* Never write a file that the reader would reject. */
  HT_CHECK(check_rows(path, 0, n, indptr, indices, values, d));
  if (y) HT_CHECK(ht__dataset_check_labels(path, y, n, num_classes, 0));
  if (yt) HT_CHECK(ht__dataset_check_finite(path, yt, n, 1, 0, "target"));
  csr_body b = {n, d, indptr, indices, values, y, num_classes, yt, source, label_values};
  HT_CHECK(ht__dataset_write_atomic(path, write_body, &b));
  return 0;
}

/* ---- reading rows while training -------------------------------------- */

struct ht_csr_reader {
  ht_csr hdr; /* header fields only */
  csr_file c;
  char what_indptr[1100], what_indices[1100], what_values[1100], what_labels[1100];
  int64_t *ptr;   /* [ptr_cap] indptr of the piece being appended */
  int64_t ptr_cap;
};

int ht_csr_reader_open(ht_csr_reader **out, const char *path, const ht_csr *expect) {
  *out = NULL;
  ht_csr_reader *r = calloc(1, sizeof *r);
  if (!r) return ht_error(HT_ENOMEM, "%s: out of memory for a reader", path);
  r->c = (csr_file){{H5I_INVALID_HID, H5I_INVALID_HID, H5I_INVALID_HID, 0}, H5I_INVALID_HID, H5I_INVALID_HID, H5I_INVALID_HID};
  int rc = open_and_probe(&r->hdr, path, &r->c);
  if (rc == 0 && expect &&
      (r->hdr.n_total != expect->n_total || r->hdr.nnz_total != expect->nnz_total || r->hdr.d != expect->d ||
       r->hdr.task != expect->task || r->hdr.num_classes != expect->num_classes))
    rc = ht_error(HT_EDATA,
                  "%s: the file changed while training: now %lld rows, %lld non-zeros, %d features, expected %lld, %lld, "
                  "%d (and the same labels)",
                  path, (long long)r->hdr.n_total, (long long)r->hdr.nnz_total, r->hdr.d, (long long)expect->n_total,
                  (long long)expect->nnz_total, expect->d);
  if (rc < 0) {
    ht__error_trace_push(__FILE__, __LINE__, __func__);
    ht_csr_reader_close(&r);
    return rc;
  }
  snprintf(r->what_indptr, sizeof r->what_indptr, "%s:/csr/indptr", path);
  snprintf(r->what_indices, sizeof r->what_indices, "%s:/csr/indices", path);
  snprintf(r->what_values, sizeof r->what_values, "%s:/csr/values", path);
  snprintf(r->what_labels, sizeof r->what_labels, "%s:/labels", path);
  *out = r;
  return 0;
}

int ht_csr_reader_indptr(ht_csr_reader *r, int64_t row0, int64_t n, int64_t *out) {
  const char *path = r->hdr.path;
  if (row0 < 0 || n < 0 || row0 + n > r->hdr.n_total)
    return ht_error(HT_EINTERNAL, "%s: rows [%lld, %lld) are outside the file's %lld rows", path, (long long)row0,
                    (long long)(row0 + n), (long long)r->hdr.n_total);
  HT_CHECK(ht__dataset_read_rows(r->c.indptr, 1, row0, n + 1, 1, HT_H5NUM_INT64, out, r->what_indptr));
  if (row0 == 0 && out[0] != 0) return ht_error(HT_EDATA, "%s: /csr/indptr[0] is %" PRId64 ", expected 0", path, out[0]);
  if (row0 + n == r->hdr.n_total && out[n] != r->hdr.nnz_total)
    return ht_error(HT_EDATA, "%s: /csr/indptr[N] is %" PRId64 ", expected the number of non-zeros %" PRId64, path, out[n],
                    r->hdr.nnz_total);
  if (out[0] < 0 || out[n] > r->hdr.nnz_total)
    return ht_error(HT_EDATA, "%s: rows [%" PRId64 ", %" PRId64 "): /csr/indptr range [%" PRId64 ", %" PRId64 ") is outside [0, %" PRId64 "]",
                    path, row0, row0 + n, out[0], out[n], r->hdr.nnz_total);
  for (int64_t i = 0; i < n; i++)
    if (out[i + 1] < out[i])
      return ht_error(HT_EDATA, "%s: row %" PRId64 ": /csr/indptr decreases (%" PRId64 " after %" PRId64 ")", path, row0 + i,
                      out[i + 1], out[i]);
  return 0;
}

/* Grows *p (elements of size sz, *cap of them) to hold at least need. */
static int grow(void **p, int64_t *cap, int64_t need, size_t sz, const char *path) {
  if (need <= *cap) return 0;
  int64_t c = *cap > 0 ? *cap : 1024;
  while (c < need) c *= 2;
  void *q = realloc(*p, sz * (size_t)c);
  if (!q) return ht_error(HT_ENOMEM, "%s: out of memory for a piece of %lld entries", path, (long long)need);
  *p = q;
  *cap = c;
  return 0;
}

int ht_csr_reader_append(ht_csr_reader *r, int64_t row0, int64_t n, ht_csr *dst, int64_t *cap_rows, int64_t *cap_nnz) {
  const char *path = r->hdr.path;
  if (n <= 0) return 0;
  HT_CHECK(grow((void **)&r->ptr, &r->ptr_cap, n + 1, sizeof(int64_t), path));
  HT_CHECK(ht_csr_reader_indptr(r, row0, n, r->ptr));
  const int64_t k0 = r->ptr[0], nnz = r->ptr[n] - k0, base = dst->n > 0 ? dst->indptr[dst->n] : 0;
  /* The row arrays share one capacity: grow them together. */
  int64_t rows_need = dst->n + n, c_ptr = *cap_rows + 1, c_lab = *cap_rows;
  if (rows_need > *cap_rows) {
    HT_CHECK(grow((void **)&dst->indptr, &c_ptr, rows_need + 1, sizeof(int64_t), path));
    if (r->hdr.task == HT_TASK_CLASSIFY)
      HT_CHECK(grow((void **)&dst->y, &c_lab, rows_need, sizeof(int32_t), path));
    else
      HT_CHECK(grow((void **)&dst->yt, &c_lab, rows_need, sizeof(float), path));
    *cap_rows = c_lab < c_ptr - 1 ? c_lab : c_ptr - 1;
  }
  int64_t c_idx = *cap_nnz, c_val = *cap_nnz;
  HT_CHECK(grow((void **)&dst->indices, &c_idx, base + nnz, sizeof(int32_t), path));
  HT_CHECK(grow((void **)&dst->values, &c_val, base + nnz, sizeof(float), path));
  *cap_nnz = c_idx < c_val ? c_idx : c_val;
  if (dst->n == 0) dst->indptr[0] = 0;
  for (int64_t i = 1; i <= n; i++) dst->indptr[dst->n + i] = base + (r->ptr[i] - k0);
  if (nnz > 0) {
    HT_CHECK(ht__dataset_read_rows(r->c.indices, 1, k0, nnz, 1, HT_H5NUM_INT32, dst->indices + base, r->what_indices));
    HT_CHECK(ht__dataset_read_rows(r->c.values, 1, k0, nnz, 1, HT_H5NUM_FLOAT, dst->values + base, r->what_values));
  }
  HT_CHECK(check_rows(path, row0, n, dst->indptr + dst->n, dst->indices, dst->values, r->hdr.d));
  if (r->hdr.task == HT_TASK_CLASSIFY) {
    HT_CHECK(ht__dataset_read_rows(r->c.f.labels, 1, row0, n, 1, HT_H5NUM_INT32, dst->y + dst->n, r->what_labels));
    HT_CHECK(ht__dataset_check_labels(path, dst->y + dst->n, n, r->hdr.num_classes, row0));
  } else {
    HT_CHECK(ht__dataset_read_rows(r->c.f.labels, r->c.f.labels_ndims, row0, n, 1, HT_H5NUM_FLOAT, dst->yt + dst->n,
                                   r->what_labels));
    HT_CHECK(ht__dataset_check_finite(path, dst->yt + dst->n, n, 1, row0, "target"));
  }
  dst->n += n;
  return 0;
}

void ht_csr_reader_close(ht_csr_reader **rp) {
  ht_csr_reader *r = *rp;
  if (!r) return;
  csr_close(&r->c);
  free(r->ptr);
  free(r);
  *rp = NULL;
}
