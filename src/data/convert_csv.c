/*
 * CSV -> hytrain dataset.
 *
 * One row per line, every row the same number of columns, every field a
 * number; one column is the label, the rest are the features in file order.
 * Fields are trimmed of blanks and of one pair of surrounding double quotes
 * (quoted fields may not contain the delimiter). Empty lines are skipped.
 * Messages count lines and columns from 1, like an editor.
 */
#include "hytrain/convert.h"

#include "convert_util.h"
#include "hytrain/error.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Everything the converter owns; released by csv_free. */
typedef struct csv_state {
  const char *path;
  ht_csv_opts opts;
  FILE *in;
  char *line;
  size_t line_cap;
  char **fields; /* [cols] pointers into line */
  size_t fields_cap;
  int cols;      /* columns per row, fixed by the first row; 0 before it */
  int label_col; /* 0-based */
  int64_t rows;
  float *x; /* [rows, cols - 1] */
  size_t x_cap;
  double *raw; /* [rows] label as written */
  size_t raw_cap;
  int32_t *y;
  float *yt;
  double *values;
} csv_state;

static void csv_free(csv_state *s) {
  if (s->in) fclose(s->in);
  free(s->line);
  free(s->fields);
  free(s->x);
  free(s->raw);
  free(s->y);
  free(s->yt);
  free(s->values);
}

static char *unquote(char *f) {
  f = ht__trim(f);
  size_t len = strlen(f);
  if (len >= 2 && f[0] == '"' && f[len - 1] == '"') {
    f[len - 1] = '\0';
    f = ht__trim(f + 1);
  }
  return f;
}

/* Splits line in place at the delimiter; *count gets the number of fields. */
static int split(csv_state *s, char *line, int *count) {
  size_t n = 0;
  char *start = line;
  for (char *p = line;; p++) {
    if (*p == s->opts.delimiter || *p == '\0') {
      int end = *p == '\0';
      *p = '\0';
      HT_CHECK(ht__grow((void **)&s->fields, &s->fields_cap, n + 1, sizeof(char *)));
      s->fields[n++] = unquote(start);
      if (end) break;
      start = p + 1;
    }
  }
  if (n > 1000000000) return ht_error(HT_EDATA, "%s: too many columns", s->path);
  *count = (int)n;
  return 0;
}

static int all_numeric(char **fields, int n) {
  double v;
  for (int i = 0; i < n; i++)
    if (!ht__parse_number(fields[i], &v)) return 0;
  return 1;
}

/* Fixes the column count and the label column from the first row. */
static int set_columns(csv_state *s, long lineno, int n) {
  if (n < 2)
    return ht_error(HT_EDATA, "%s:%ld: expected at least 2 columns (features and a label), found %d", s->path, lineno, n);
  s->cols = n;
  s->label_col = s->opts.label_col < 0 ? n - 1 : s->opts.label_col;
  if (s->label_col >= n)
    return ht_error(HT_EDATA, "%s:%ld: label column %d is beyond the %d columns of the file", s->path, lineno, s->label_col + 1, n);
  return 0;
}

static int parse_row(csv_state *s, long lineno, int n) {
  if (n != s->cols) return ht_error(HT_EDATA, "%s:%ld: expected %d columns, found %d", s->path, lineno, s->cols, n);
  int d = s->cols - 1;
  HT_CHECK(ht__grow((void **)&s->x, &s->x_cap, (size_t)(s->rows + 1) * (size_t)d, sizeof(float)));
  HT_CHECK(ht__grow((void **)&s->raw, &s->raw_cap, (size_t)s->rows + 1, sizeof(double)));
  float *row = s->x + (size_t)s->rows * (size_t)d;
  for (int c = 0, j = 0; c < n; c++) {
    double v;
    const char *f = s->fields[c];
    if (!ht__parse_number(f, &v))
      return ht_error(HT_EDATA, "%s:%ld: column %d: expected a number, got '%.60s'", s->path, lineno, c + 1, f);
    if (!isfinite((float)v))
      return ht_error(HT_EDATA, "%s:%ld: column %d: expected a finite float32 number, got '%.60s'", s->path, lineno, c + 1, f);
    if (c != s->label_col) {
      row[j++] = (float)v;
    } else {
      if (s->opts.task == HT_TASK_CLASSIFY && !ht__is_int_label(v))
        return ht_error(HT_EDATA, "%s:%ld: column %d: class label must be an integer, got '%.60s' (use --task regress for a numeric target)",
                        s->path, lineno, c + 1, f);
      s->raw[s->rows] = v;
    }
  }
  s->rows++;
  return 0;
}

static int read_csv(csv_state *s) {
  errno = 0;
  s->in = fopen(s->path, "r");
  if (!s->in) return ht_error(errno == ENOENT ? HT_ENOENT : HT_EIO, "%s: cannot open: %s", s->path, strerror(errno));
  long lineno = 0;
  int first = 1;
  ssize_t len;
  while ((len = getline(&s->line, &s->line_cap, s->in)) >= 0) {
    lineno++;
    if ((size_t)len != strlen(s->line)) return ht_error(HT_EDATA, "%s:%ld: line contains a NUL byte (not a text file?)", s->path, lineno);
    char *text = s->line;
    /* A UTF-8 byte order mark, as spreadsheet programs write it. */
    if (lineno == 1 && (unsigned char)text[0] == 0xEF && (unsigned char)text[1] == 0xBB && (unsigned char)text[2] == 0xBF)
      text += 3;
    if (ht__trim(text)[0] == '\0') continue;
    int n = 0;
    HT_CHECK(split(s, text, &n));
    if (first) {
      first = 0;
      HT_CHECK(set_columns(s, lineno, n));
      int header = s->opts.header < 0 ? !all_numeric(s->fields, n) : s->opts.header;
      if (header) continue;
    }
    HT_CHECK(parse_row(s, lineno, n));
  }
  if (ferror(s->in)) return ht_error(HT_EIO, "%s: read error: %s", s->path, strerror(errno));
  if (s->rows == 0) return ht_error(HT_EDATA, "%s: no data rows", s->path);
  return 0;
}

static int convert(csv_state *s, const char *out) {
  HT_CHECK(read_csv(s));
  return ht__convert_finish("csv", s->path, out, s->x, s->rows, s->cols - 1, s->opts.task, s->raw, &s->y, &s->yt, &s->values);
}

int ht_convert_csv(const char *in, const char *out, const ht_csv_opts *opts) {
  csv_state s = {0};
  s.path = in;
  s.opts = opts ? *opts : (ht_csv_opts){.header = -1, .label_col = -1, .task = HT_TASK_CLASSIFY, .delimiter = ','};
  if (!s.opts.delimiter) s.opts.delimiter = ',';
  int rc = convert(&s, out);
  csv_free(&s);
  if (rc < 0) ht__error_trace_push(__FILE__, __LINE__, __func__);
  return rc;
}
