/*
 * LIBSVM / SVMlight text -> hytrain dataset (dense or CSR).
 *
 *   <label> [qid:<q>] <index>:<value> <index>:<value> ...   # optional comment
 *
 * Indices are strictly increasing within a line, 1-based (the LIBSVM
 * convention) or 0-based: --base, or detected (0-based exactly when some
 * index is 0); features not named on a line are 0. qid tokens (ranking
 * data) are skipped. The file is parsed once into CSR arrays (indptr,
 * indices, values); then either written as they are (hytrain/csr.h) or
 * spread into a dense [N, D] matrix once D is known (the largest index, or
 * --dims). With a detected base the --dims check waits for the end of the
 * file, and names the line of the largest index.
 */
#include "hytrain/convert.h"

#include "convert_util.h"
#include "hytrain/csr.h"
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
  long max_index;   /* largest index as written, and its line */
  long max_line;
  long min_index;   /* smallest index as written (LONG_MAX: none yet) */
  int64_t *row_end; /* [rows + 1] CSR indptr: row i is idx/val [row_end[i], row_end[i+1]) */
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
  if (index < 0) return ht_error(HT_EDATA, "%s:%ld: index %ld is negative", s->path, lineno, index);
  if (index < 1 && s->opts.base == HT_LIBSVM_BASE_1)
    return ht_error(HT_EDATA, "%s:%ld: index %ld is less than 1 (indices start at 1; --base 0 reads 0-based files)", s->path,
                    lineno, index);
  if (index > INT_MAX - 1) return ht_error(HT_EDATA, "%s:%ld: index %ld is too large", s->path, lineno, index);
  if (*prev >= 0 && index <= *prev)
    return ht_error(HT_EDATA, "%s:%ld: index %ld is not greater than previous index %ld", s->path, lineno, index, *prev);
  if (s->opts.dims > 0 && s->opts.base == HT_LIBSVM_BASE_1 && index > s->opts.dims)
    return ht_error(HT_EDATA, "%s:%ld: index %ld is greater than --dims %d", s->path, lineno, index, s->opts.dims);
  if (s->opts.dims > 0 && s->opts.base == HT_LIBSVM_BASE_0 && index >= s->opts.dims)
    return ht_error(HT_EDATA, "%s:%ld: index %ld is not below --dims %d (0-based indices)", s->path, lineno, index, s->opts.dims);
  if (!isfinite((float)v))
    return ht_error(HT_EDATA, "%s:%ld: index %ld: expected a finite float32 value, got '%.60s'", s->path, lineno, index, colon + 1);
  *prev = index;
  HT_CHECK(ht__grow((void **)&s->idx, &s->idx_cap, nnz + 1, sizeof(int32_t)));
  HT_CHECK(ht__grow((void **)&s->val, &s->val_cap, nnz + 1, sizeof(float)));
  s->idx[nnz] = (int32_t)index; /* as written; the base is taken off at the end */
  s->val[nnz] = (float)v;
  if (index > s->max_index) {
    s->max_index = index;
    s->max_line = lineno;
  }
  if (index < s->min_index) s->min_index = index;
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
    long prev = -1;
    while ((tok = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
      if (strncmp(tok, "qid:", 4) == 0) continue; /* ranking groups: not a feature */
      HT_CHECK(parse_pair(s, lineno, tok, nnz++, &prev));
    }
    /* row_end doubles as CSR indptr: entry 0 is the leading 0. */
    HT_CHECK(ht__grow((void **)&s->row_end, &s->row_end_cap, (size_t)s->rows + 2, sizeof(int64_t)));
    s->row_end[0] = 0;
    s->row_end[++s->rows] = (int64_t)nnz;
  }
  if (ferror(s->in)) return ht_error(HT_EIO, "%s: read error: %s", s->path, strerror(errno));
  if (s->rows == 0) return ht_error(HT_EDATA, "%s: no data rows", s->path);
  return 0;
}

/* The index base (detected or given), the feature count, and the check of
 * --dims that a detected base had to postpone. Indices become 0-based. */
static int settle_indices(svm_state *s, int *d) {
  int base = s->opts.base == HT_LIBSVM_BASE_0 ? 0 : s->opts.base == HT_LIBSVM_BASE_1 ? 1 : s->min_index == 0 ? 0 : 1;
  if (s->max_index < 0 && s->opts.dims == 0) return ht_error(HT_EDATA, "%s: no features: every line has only a label", s->path);
  if (s->opts.dims > 0 && s->max_index >= 0 && s->max_index - base >= s->opts.dims) {
    if (base == 1)
      return ht_error(HT_EDATA, "%s:%ld: index %ld is greater than --dims %d", s->path, s->max_line, s->max_index, s->opts.dims);
    return ht_error(HT_EDATA, "%s:%ld: index %ld is not below --dims %d (0-based indices: the file has an index 0)", s->path,
                    s->max_line, s->max_index, s->opts.dims);
  }
  *d = s->opts.dims > 0 ? s->opts.dims : (int)(s->max_index - base + 1);
  int64_t nnz = s->row_end[s->rows];
  for (int64_t k = 0; k < nnz; k++) s->idx[k] -= base;
  return 0;
}

static int write_dense(svm_state *s, const char *out, int d) {
  size_t n = (size_t)s->rows;
  if (n > SIZE_MAX / sizeof(float) / (size_t)d)
    return ht_error(HT_ENOMEM, "%s: %zu rows x %d features is too large (--format csr stores only the non-zeros)", s->path, n, d);
  s->x = calloc(n * (size_t)d, sizeof(float));
  if (!s->x)
    return ht_error(HT_ENOMEM, "%s: out of memory for %zu rows x %d features (--format csr stores only the non-zeros)", s->path, n, d);
  for (size_t i = 0; i < n; i++)
    for (int64_t k = s->row_end[i]; k < s->row_end[i + 1]; k++) s->x[i * (size_t)d + (size_t)s->idx[k]] = s->val[k];
  return ht__convert_finish("libsvm", s->path, out, s->x, s->rows, d, s->opts.task, s->raw, &s->y, &s->yt, &s->values);
}

static int write_csr(svm_state *s, const char *out, int d) {
  int num_classes = 0;
  HT_CHECK(ht__convert_labels(s->path, s->opts.task, s->raw, s->rows, &s->y, &s->yt, &s->values, &num_classes));
  char *source = ht__convert_source("libsvm", s->path);
  if (!source) return HT_ENOMEM;
  int rc = ht_csr_write(out, s->rows, d, s->row_end, s->idx, s->val, s->y, num_classes, s->yt, source, s->values);
  free(source);
  return rc;
}

static int convert(svm_state *s, const char *out, int *wrote_csr) {
  HT_CHECK(read_svm(s));
  int d = 0;
  HT_CHECK(settle_indices(s, &d));
  double cells = (double)s->rows * (double)d, nnz = (double)s->row_end[s->rows];
  int csr = s->opts.format == HT_LIBSVM_OUT_CSR || (s->opts.format == HT_LIBSVM_OUT_AUTO && 4.0 * nnz < cells);
  if (wrote_csr) *wrote_csr = csr;
  return csr ? write_csr(s, out, d) : write_dense(s, out, d);
}

int ht_convert_libsvm_ex(const char *in, const char *out, const ht_libsvm_opts *opts, int *wrote_csr) {
  svm_state s = {0};
  s.path = in;
  s.opts = opts ? *opts : (ht_libsvm_opts){.dims = 0, .task = HT_TASK_CLASSIFY};
  s.max_index = -1;
  s.min_index = LONG_MAX;
  if (s.opts.dims < 0) return ht_error(HT_EINVAL, "%s: --dims must be >= 0, got %d", in, s.opts.dims);
  int rc = convert(&s, out, wrote_csr);
  svm_free(&s);
  if (rc < 0) ht__error_trace_push(__FILE__, __LINE__, __func__);
  return rc;
}

int ht_convert_libsvm(const char *in, const char *out, const ht_libsvm_opts *opts) {
  return ht_convert_libsvm_ex(in, out, opts, NULL);
}
