/* Helpers shared by the CSV and LIBSVM converters. */
#include "convert_util.h"

#include "hytrain/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ht__grow(void **buf, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return 0;
  size_t want = *cap ? *cap : 64;
  while (want < need) {
    if (want > SIZE_MAX / 2 / elem) return ht_error(HT_ENOMEM, "out of memory growing a buffer to %zu elements", need);
    want *= 2;
  }
  void *p = realloc(*buf, want * elem);
  if (!p) return ht_error(HT_ENOMEM, "out of memory growing a buffer to %zu elements", want);
  *buf = p;
  *cap = want;
  return 0;
}

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

char *ht__trim(char *s) {
  while (is_blank(*s)) s++;
  size_t len = strlen(s);
  while (len > 0 && is_blank(s[len - 1])) s[--len] = '\0';
  return s;
}

int ht__parse_number(const char *s, double *out) {
  if (!s[0]) return 0;
  char *end = NULL;
  double v = strtod(s, &end);
  if (end == s || *end != '\0') return 0;
  *out = v;
  return 1;
}

int ht__is_int_label(double v) { return isfinite(v) && v == floor(v) && v >= -2147483648.0 && v <= 2147483647.0; }

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int ht__labels_encode(const char *file, const double *raw, int64_t n, int32_t *y, double **values, int *k) {
  *values = NULL;
  *k = 0;
  double *uniq = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
  if (!uniq) return ht_error(HT_ENOMEM, "%s: out of memory mapping %lld labels", file, (long long)n);
  memcpy(uniq, raw, sizeof(double) * (size_t)n);
  qsort(uniq, (size_t)n, sizeof(double), cmp_double);
  int64_t m = 0;
  for (int64_t i = 0; i < n; i++)
    if (m == 0 || uniq[i] != uniq[m - 1]) uniq[m++] = uniq[i];
  if (m < 2) {
    free(uniq);
    if (m == 1)
      return ht_error(HT_EDATA, "%s: every row has label %g; classification needs at least 2 classes (use --task regress for a numeric target)",
                      file, raw[0]);
    return ht_error(HT_EDATA, "%s: no labels; classification needs at least 2 classes", file);
  }
  /* Each raw label is found in the sorted distinct values by binary search;
   * its position is the class index. */
  for (int64_t i = 0; i < n; i++) {
    int64_t lo = 0, hi = m - 1;
    while (lo < hi) {
      int64_t mid = lo + (hi - lo) / 2;
      if (uniq[mid] < raw[i])
        lo = mid + 1;
      else
        hi = mid;
    }
    y[i] = (int32_t)lo;
  }
  double *shrunk = realloc(uniq, sizeof(double) * (size_t)m);
  *values = shrunk ? shrunk : uniq;
  *k = (int)m;
  return 0;
}

int ht__convert_labels(const char *file, ht_task task, const double *raw, int64_t rows, int32_t **y, float **yt,
                       double **values, int *num_classes) {
  size_t n = (size_t)rows;
  *num_classes = 0;
  if (task == HT_TASK_CLASSIFY) {
    *y = malloc(sizeof(int32_t) * n);
    if (!*y) return ht_error(HT_ENOMEM, "%s: out of memory for %zu labels", file, n);
    HT_CHECK(ht__labels_encode(file, raw, rows, *y, values, num_classes));
  } else {
    *yt = malloc(sizeof(float) * n);
    if (!*yt) return ht_error(HT_ENOMEM, "%s: out of memory for %zu targets", file, n);
    for (size_t i = 0; i < n; i++) (*yt)[i] = (float)raw[i];
  }
  return 0;
}

char *ht__convert_source(const char *kind, const char *file) {
  size_t slen = strlen(kind) + strlen(file) + 3;
  char *source = malloc(slen);
  if (!source) {
    ht_error(HT_ENOMEM, "out of memory");
    return NULL;
  }
  snprintf(source, slen, "%s: %s", kind, file);
  return source;
}

int ht__convert_finish(const char *kind, const char *file, const char *out, const float *x, int64_t rows, int d,
                       ht_task task, const double *raw, int32_t **y, float **yt, double **values) {
  int num_classes = 0;
  HT_CHECK(ht__convert_labels(file, task, raw, rows, y, yt, values, &num_classes));
  char *source = ht__convert_source(kind, file);
  if (!source) return HT_ENOMEM;
  int rc = ht_dataset_write(out, x, rows, d, *y, num_classes, *yt, *yt ? 1 : 0, source, *values);
  free(source);
  HT_CHECK(rc);
  return 0;
}
