/*
 * Reading a shard in pieces while training runs (data.mode: stream).
 *
 * The loader asks for row ranges that follow the file's chunk grid (its
 * chunk_rows is a multiple of the file's chunk rows, and pieces start at
 * multiples of it), so a read touches each file chunk once and HDF5 can move
 * whole chunks without the chunk cache. The cache still matters where a shard
 * boundary cuts a file chunk: both neighbouring reads touch that chunk, so the
 * cache holds two file chunks (the default of 1 MiB would drop a large chunk
 * and read it twice, and a compressed chunk would be inflated twice).
 */
#include "hytrain/dataset.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/dataset_internal.h"
#include "hytrain/error.h"

struct ht_dataset_reader {
  ht_dataset hdr;          /* header fields only (x, y, yt stay NULL) */
  ht__dataset_file f;
  int64_t file_chunk_rows; /* chunk extent along rows */
  char what_x[1100];       /* "file:/features" for messages */
  char what_y[1100];
  long long file_bytes;    /* size when opened */
};

/* Reopens /name with a dataset-access property list that sizes the cache. */
static int reopen_with_cache(ht_dataset_reader *r, const char *name, hid_t *dset, size_t bytes) {
  hid_t dapl = HT_H5(H5Pcreate(H5P_DATASET_ACCESS), r->hdr.path);
  int rc = 0;
  /* 521 hash slots (a prime, as HDF5 advises) is plenty for two chunks; w0=1
   * evicts fully read chunks first, which is what a forward scan wants. */
  if (dapl < 0 || HT_H5(H5Pset_chunk_cache(dapl, 521, bytes, 1.0), r->hdr.path) < 0) {
    rc = ht__h5_error(r->hdr.path, "H5Pset_chunk_cache", __FILE__, __LINE__);
  } else {
    H5Dclose(*dset);
    *dset = HT_H5(H5Dopen2(r->f.file, name, dapl), r->hdr.path);
    if (*dset < 0) rc = ht__h5_error(r->hdr.path, "H5Dopen2", __FILE__, __LINE__);
  }
  if (dapl >= 0) H5Pclose(dapl);
  return rc;
}

static int open_body(ht_dataset_reader *r, const char *path, const ht_dataset *expect) {
  HT_CHECK(ht__dataset_open_and_probe(&r->hdr, path, &r->f));
  if (expect && (r->hdr.n_total != expect->n_total || r->hdr.d != expect->d || r->hdr.task != expect->task ||
                 r->hdr.t != expect->t || r->hdr.num_classes != expect->num_classes))
    return ht_error(HT_EDATA,
                    "%s: the file changed while training: now %lld rows x %d features, expected %lld x %d "
                    "(and the same labels)",
                    path, (long long)r->hdr.n_total, r->hdr.d, (long long)expect->n_total, expect->d);
  struct stat st;
  r->file_bytes = stat(path, &st) == 0 ? (long long)st.st_size : -1;
  snprintf(r->what_x, sizeof r->what_x, "%s:/features", path);
  snprintf(r->what_y, sizeof r->what_y, "%s:/labels", path);

  r->file_chunk_rows = r->hdr.n_total;
  hid_t dcpl = HT_H5(H5Dget_create_plist(r->f.features), r->what_x);
  if (dcpl < 0) return ht__h5_error(r->what_x, "H5Dget_create_plist", __FILE__, __LINE__);
  hsize_t chunk[2] = {0, 0};
  H5D_layout_t layout = HT_H5(H5Pget_layout(dcpl), r->what_x);
  int chunk_dims = layout == H5D_CHUNKED ? HT_H5(H5Pget_chunk(dcpl, 2, chunk), r->what_x) : 0;
  H5Pclose(dcpl);
  if (layout < 0 || chunk_dims < 0) return HT_EH5;
  if (chunk_dims == 2 && chunk[0] > 0) r->file_chunk_rows = (int64_t)chunk[0];
  if (r->file_chunk_rows < r->hdr.n_total) {
    size_t row_bytes = sizeof(float) * (size_t)r->hdr.d;
    HT_CHECK(reopen_with_cache(r, "features", &r->f.features, 2 * (size_t)r->file_chunk_rows * row_bytes));
    HT_CHECK(reopen_with_cache(r, "labels", &r->f.labels, 2 * (size_t)r->file_chunk_rows * sizeof(float) * (size_t)r->hdr.t));
  }
  return 0;
}

int ht_dataset_reader_open(ht_dataset_reader **out, const char *path, const ht_dataset *expect) {
  *out = NULL;
  ht_dataset_reader *r = calloc(1, sizeof *r);
  if (!r) return ht_error(HT_ENOMEM, "%s: out of memory opening a reader", path);
  r->f.file = r->f.features = r->f.labels = H5I_INVALID_HID;
  int rc = open_body(r, path, expect);
  if (rc < 0) {
    ht__error_trace_push(__FILE__, __LINE__, __func__);
    ht_dataset_reader_close(&r);
    return rc;
  }
  *out = r;
  return 0;
}

int64_t ht_dataset_reader_file_chunk_rows(const ht_dataset_reader *r) { return r->file_chunk_rows; }

int ht_dataset_reader_read(ht_dataset_reader *r, int64_t row0, int64_t n, float *x, int32_t *y, float *yt) {
  const ht_dataset *h = &r->hdr;
  if (row0 < 0 || n < 0 || row0 + n > h->n_total)
    return ht_error(HT_EINVAL, "%s: rows [%lld, %lld) are outside the file's %lld rows", h->path, (long long)row0,
                    (long long)(row0 + n), (long long)h->n_total);
  if (n == 0) return 0;
  /* HDF5's POSIX driver reads zeros past the end of a file, so a file cut
   * short under us would feed zeros silently; and a removed file stays
   * readable through the open handle. Check before every piece. */
  struct stat st;
  if (stat(h->path, &st) != 0)
    return ht_error(HT_EIO, "%s: rows [%lld, %lld): the file is gone while training: %s", h->path, (long long)row0,
                    (long long)(row0 + n), strerror(errno));
  if ((long long)st.st_size < r->file_bytes)
    return ht_error(HT_EIO, "%s: rows [%lld, %lld): the file shrank from %lld to %lld bytes while training", h->path,
                    (long long)row0, (long long)(row0 + n), r->file_bytes, (long long)st.st_size);
  int rc = ht__dataset_read_rows(r->f.features, 2, row0, n, h->d, HT_H5NUM_FLOAT, x, r->what_x);
  if (rc == 0) {
    if (h->task == HT_TASK_CLASSIFY)
      rc = ht__dataset_read_rows(r->f.labels, 1, row0, n, 1, HT_H5NUM_INT32, y, r->what_y);
    else
      rc = ht__dataset_read_rows(r->f.labels, r->f.labels_ndims, row0, n, h->t, HT_H5NUM_FLOAT, yt, r->what_y);
  }
  if (rc < 0) {
    /* The HDF5 text says what failed; the user also needs which rows. */
    char inner[512];
    snprintf(inner, sizeof inner, "%s", ht_error_message());
    ht_error_clear();
    return ht_error(rc, "%s: rows [%lld, %lld): read failed (%s)", h->path, (long long)row0, (long long)(row0 + n), inner);
  }
  HT_CHECK(ht__dataset_check_finite(h->path, x, n, h->d, row0, "feature"));
  if (y) HT_CHECK(ht__dataset_check_labels(h->path, y, n, h->num_classes, row0));
  if (yt) HT_CHECK(ht__dataset_check_finite(h->path, yt, n, h->t, row0, "target"));
  return 0;
}

void ht_dataset_reader_close(ht_dataset_reader **r) {
  if (!r || !*r) return;
  ht__dataset_close_file(&(*r)->f);
  free(*r);
  *r = NULL;
}
