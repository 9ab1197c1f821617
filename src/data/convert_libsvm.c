/*
 * LIBSVM / SVMlight text -> hytrain dataset.
 *
 *   <label> <index>:<value> <index>:<value> ...   # optional comment
 *
 * Indices are 1-based and strictly increasing within a line; features not
 * named on a line are 0. The file is parsed once into a sparse list of
 * (index, value) pairs per row, then spread into a dense [N, D] matrix once D
 * is known (the largest index, or --dims).
 */
#include "hytrain/convert.h"

#include "convert_util.h"
#include "hytrain/error.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Everything the converter owns; released by svm_free. */
typedef struct svm_state {
  const char *path;
  ht_libsvm_opts opts;
  FILE *in;
  char *line;
  size_t line_cap;
  int64_t rows;
  int max_index;
  int64_t *row_end; /* [rows] one past the row's last pair in idx/val */
  size_t row_end_cap;
  int32_t *idx; /* [nnz] 0-based feature index */
  size_t idx_cap;
  float *val; /* [nnz] */
  size_t val_cap;
  double *raw; /* [rows] label as written */
  size_t raw_cap;
  float *x;
  int32_t *y;
  float *yt;
  double *values;
} svm_state;

static void svm_free(svm_state *s) {
  if (s->in) fclose(s->in);
  free(s->line);
  free(s->row_end);
  free(s->idx);
  free(s->val);
  free(s->raw);
  free(s->x);
  free(s->y);
  free(s->yt);
  free(s->values);
}

static int parse_label(svm_state *s, long lineno, const char *tok) {
  double v;
  if (!ht__parse_number(tok, &v) || !isfinite(v))
    return ht_error(HT_EDATA, "%s:%ld: expected a numeric label, got '%.60s'", s->path, lineno, tok);
  if (s->opts.task == HT_TASK_CLASSIFY && !ht__is_int_label(v))
    return ht_error(HT_EDATA, "%s:%ld: class label must be an integer, got '%.60s' (use --task regress for a numeric target)",
                    s->path, lineno, tok);
  HT_CHECK(ht__grow((void **)&s->raw, &s->raw_cap, (size_t)s->rows + 1, sizeof(double)));
  s->raw[s->rows] = v;
  return 0;
}

/* Parses one "index:value" token; prev is the previous index on the line. */
static int parse_pair(svm_state *s, long lineno, char *tok, size_t nnz, long *prev) {
  char *colon = strchr(tok, ':');
  char *end = NULL;
  double v;
  if (!colon) return ht_error(HT_EDATA, "%s:%ld: expected idx:value, got '%.60s'", s->path, lineno, tok);
  *colon = '\0';
  errno = 0;
  long index = strtol(tok, &end, 10);
  int ok = end != tok && *end == '\0' && errno == 0 && ht__parse_number(colon + 1, &v);
  *colon = ':';
  if (!ok) return ht_error(HT_EDATA, "%s:%ld: expected idx:value, got '%.60s'", s->path, lineno, tok);
  if (index < 1) return ht_error(HT_EDATA, "%s:%ld: index %ld is less than 1 (indices start at 1)", s->path, lineno, index);
  if (index > INT_MAX) return ht_error(HT_EDATA, "%s:%ld: index %ld is too large", s->path, lineno, index);
  if (index <= *prev)
    return ht_error(HT_EDATA, "%s:%ld: index %ld is not greater than previous index %ld", s->path, lineno, index, *prev);
  if (s->opts.dims > 0 && index > s->opts.dims)
    return ht_error(HT_EDATA, "%s:%ld: index %ld is greater than --dims %d", s->path, lineno, index, s->opts.dims);
  if (!isfinite((float)v))
    return ht_error(HT_EDATA, "%s:%ld: index %ld: expected a finite float32 value, got '%.60s'", s->path, lineno, index, colon + 1);
  *prev = index;
  HT_CHECK(ht__grow((void **)&s->idx, &s->idx_cap, nnz + 1, sizeof(int32_t)));
  HT_CHECK(ht__grow((void **)&s->val, &s->val_cap, nnz + 1, sizeof(float)));
  s->idx[nnz] = (int32_t)(index - 1);
  s->val[nnz] = (float)v;
  if (index > s->max_index) s->max_index = (int)index;
  return 0;
}

static int read_svm(svm_state *s) {
  errno = 0;
  s->in = fopen(s->path, "r");
  if (!s->in) return ht_error(errno == ENOENT ? HT_ENOENT : HT_EIO, "%s: cannot open: %s", s->path, strerror(errno));
  long lineno = 0;
  size_t nnz = 0;
  ssize_t len;
  while ((len = getline(&s->line, &s->line_cap, s->in)) >= 0) {
    lineno++;
    if ((size_t)len != strlen(s->line)) return ht_error(HT_EDATA, "%s:%ld: line contains a NUL byte (not a text file?)", s->path, lineno);
    char *hash = strchr(s->line, '#');
    if (hash) *hash = '\0';
    char *save = NULL;
    char *tok = strtok_r(s->line, " \t\r\n", &save);
    if (!tok) continue;
    HT_CHECK(parse_label(s, lineno, tok));
    long prev = 0;
    while ((tok = strtok_r(NULL, " \t\r\n", &save)) != NULL) HT_CHECK(parse_pair(s, lineno, tok, nnz++, &prev));
    HT_CHECK(ht__grow((void **)&s->row_end, &s->row_end_cap, (size_t)s->rows + 1, sizeof(int64_t)));
    s->row_end[s->rows++] = (int64_t)nnz;
  }
  if (ferror(s->in)) return ht_error(HT_EIO, "%s: read error: %s", s->path, strerror(errno));
  if (s->rows == 0) return ht_error(HT_EDATA, "%s: no data rows", s->path);
  return 0;
}

static int convert(svm_state *s, const char *out) {
  HT_CHECK(read_svm(s));
  int d = s->opts.dims > 0 ? s->opts.dims : s->max_index;
  if (d < 1) return ht_error(HT_EDATA, "%s: no features: every line has only a label", s->path);
  size_t n = (size_t)s->rows;
  if (n > SIZE_MAX / sizeof(float) / (size_t)d)
    return ht_error(HT_ENOMEM, "%s: %zu rows x %d features is too large", s->path, n, d);
  s->x = calloc(n * (size_t)d, sizeof(float));
  if (!s->x) return ht_error(HT_ENOMEM, "%s: out of memory for %zu rows x %d features", s->path, n, d);
  int64_t k = 0;
  for (size_t i = 0; i < n; i++)
    for (; k < s->row_end[i]; k++) s->x[i * (size_t)d + (size_t)s->idx[k]] = s->val[k];

  return ht__convert_finish("libsvm", s->path, out, s->x, s->rows, d, s->opts.task, s->raw, &s->y, &s->yt, &s->values);
}

int ht_convert_libsvm(const char *in, const char *out, const ht_libsvm_opts *opts) {
  svm_state s = {0};
  s.path = in;
  s.opts = opts ? *opts : (ht_libsvm_opts){.dims = 0, .task = HT_TASK_CLASSIFY};
  if (s.opts.dims < 0) return ht_error(HT_EINVAL, "%s: --dims must be >= 0, got %d", in, s.opts.dims);
  int rc = convert(&s, out);
  svm_free(&s);
  if (rc < 0) ht__error_trace_push(__FILE__, __LINE__, __func__);
  return rc;
}
