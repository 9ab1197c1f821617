/*
 * IDX files (MNIST, Fashion-MNIST) -> hytrain dataset.
 *
 * An IDX file is a big-endian header, then raw values:
 *   images: magic 0x00000803 (ubyte, 3 dims), N, rows, cols, N*rows*cols bytes
 *   labels: magic 0x00000801 (ubyte, 1 dim),  N, N bytes
 * zlib's gzread reads gzip-compressed and plain files alike (it looks for the
 * 0x1f 0x8b magic), so both forms are accepted without a flag.
 */
#include "hytrain/convert.h"

#include "hytrain/error.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define HT__IDX_IMAGES_MAGIC 0x00000803u
#define HT__IDX_LABELS_MAGIC 0x00000801u

static int open_idx(const char *path, gzFile *out) {
  errno = 0;
  *out = gzopen(path, "rb");
  if (!*out) {
    int err = errno ? errno : ENOMEM;
    return ht_error(err == ENOENT ? HT_ENOENT : HT_EIO, "%s: cannot open: %s", path, strerror(err));
  }
  /* Larger than zlib's 8 KiB default: the image file is tens of MiB. */
  gzbuffer(*out, 1 << 17);
  return 0;
}

/* Reads up to len bytes, stopping early only at the end of the data; *got
 * says how many arrived. A damaged gzip stream is an error. */
static int read_bytes(gzFile g, const char *path, void *buf, size_t len, size_t *got) {
  unsigned char *p = buf;
  *got = 0;
  while (*got < len) {
    size_t left = len - *got;
    /* gzread takes an unsigned int length. */
    unsigned step = left > (1u << 30) ? (1u << 30) : (unsigned)left;
    int r = gzread(g, p + *got, step);
    if (r < 0) {
      int zerr = 0;
      const char *text = gzerror(g, &zerr);
      if (zerr == Z_ERRNO) return ht_error(HT_EIO, "%s: read error: %s", path, strerror(errno));
      return ht_error(HT_EDATA, "%s: corrupt gzip data: %s", path, text);
    }
    if (r == 0) break;
    *got += (size_t)r;
  }
  return 0;
}

static uint32_t be32(const unsigned char *b) {
  return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

/* Reads and checks the magic number and the ndims dimension sizes. */
static int read_header(gzFile g, const char *path, uint32_t magic, int ndims, uint32_t *dims, const char *what) {
  unsigned char b[16];
  size_t want = 4 + 4 * (size_t)ndims, got = 0;
  HT_CHECK(read_bytes(g, path, b, want, &got));
  if (got < 4 || be32(b) != magic) {
    if (got < 4) return ht_error(HT_EDATA, "%s: truncated: expected %zu bytes of IDX header, got %zu", path, want, got);
    return ht_error(HT_EDATA, "%s: bad magic 0x%08x, expected 0x%08x (IDX %s)", path, be32(b), magic, what);
  }
  if (got < want) return ht_error(HT_EDATA, "%s: truncated: expected %zu bytes of IDX header, got %zu", path, want, got);
  for (int i = 0; i < ndims; i++) dims[i] = be32(b + 4 + 4 * i);
  return 0;
}

/* Reads exactly len bytes of payload into *buf (allocated here) or reports
 * how short the file is. The buffer grows with the data that arrives
 * (doubling from 1 MiB), so a header claiming billions of values in a small
 * file costs a short read, not an allocation of that size. */
static int read_payload(gzFile g, const char *path, unsigned char **buf, size_t len, const char *what) {
  size_t got = 0, cap = 0;
  *buf = NULL;
  while (got < len) {
    size_t want = cap == 0 ? (len < (1u << 20) ? len : (1u << 20)) : (cap > len / 2 ? len : 2 * cap);
    unsigned char *grown = realloc(*buf, want);
    if (!grown) return ht_error(HT_ENOMEM, "%s: out of memory for %zu bytes of %s", path, len, what);
    *buf = grown;
    cap = want;
    size_t step = 0;
    HT_CHECK(read_bytes(g, path, *buf + got, cap - got, &step));
    got += step;
    if (got < cap) break;
  }
  if (got < len) return ht_error(HT_EDATA, "%s: truncated: expected %zu bytes of %s, got %zu", path, len, what, got);
  return 0;
}

/* The loaded contents; freed by free_idx. */
typedef struct idx_data {
  gzFile images, labels;
  unsigned char *pixels, *raw_labels;
  float *x;
  int32_t *y;
} idx_data;

static void free_idx(idx_data *a) {
  if (a->images) gzclose(a->images);
  if (a->labels) gzclose(a->labels);
  free(a->pixels);
  free(a->raw_labels);
  free(a->x);
  free(a->y);
}

static int convert(idx_data *a, const char *images, const char *labels, const char *out) {
  uint32_t ldims[1] = {0}, idims[3] = {0};
  HT_CHECK(open_idx(images, &a->images));
  HT_CHECK(read_header(a->images, images, HT__IDX_IMAGES_MAGIC, 3, idims, "ubyte images"));
  HT_CHECK(open_idx(labels, &a->labels));
  HT_CHECK(read_header(a->labels, labels, HT__IDX_LABELS_MAGIC, 1, ldims, "ubyte labels"));
  if (idims[0] != ldims[0])
    return ht_error(HT_ESHAPE, "%s has %u images but %s has %u labels", images, idims[0], labels, ldims[0]);
  if (idims[0] == 0) return ht_error(HT_EDATA, "%s: no images", images);
  uint64_t n = idims[0], d = (uint64_t)idims[1] * idims[2];
  if (d == 0 || d > INT_MAX || n * d > SIZE_MAX / sizeof(float))
    return ht_error(HT_EDATA, "%s: unsupported image size %u x %u", images, idims[1], idims[2]);

  HT_CHECK(read_payload(a->labels, labels, &a->raw_labels, (size_t)n, "label data"));
  HT_CHECK(read_payload(a->images, images, &a->pixels, (size_t)(n * d), "pixel data"));
  a->x = malloc(sizeof(float) * (size_t)(n * d));
  a->y = malloc(sizeof(int32_t) * (size_t)n);
  if (!a->x || !a->y) return ht_error(HT_ENOMEM, "%s: out of memory for %llu images", images, (unsigned long long)n);

  for (size_t i = 0; i < (size_t)(n * d); i++) a->x[i] = (float)a->pixels[i] / 255.0f;
  int max_label = 0;
  for (size_t i = 0; i < (size_t)n; i++) {
    a->y[i] = a->raw_labels[i];
    if (a->y[i] > max_label) max_label = a->y[i];
  }
  int num_classes = max_label + 1 < 2 ? 2 : max_label + 1;

  size_t slen = strlen(images) + strlen(labels) + 16;
  char *source = malloc(slen);
  if (!source) return ht_error(HT_ENOMEM, "out of memory");
  snprintf(source, slen, "idx: %s, %s", images, labels);
  int rc = ht_dataset_write(out, a->x, (int64_t)n, (int)d, a->y, num_classes, NULL, 0, source, NULL);
  free(source);
  HT_CHECK(rc);
  return 0;
}

int ht_convert_idx(const char *images, const char *labels, const char *out) {
  idx_data a = {0};
  int rc = convert(&a, images, labels, out);
  free_idx(&a);
  if (rc < 0) ht__error_trace_push(__FILE__, __LINE__, __func__);
  return rc;
}
