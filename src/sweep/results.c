/*
 * Sweep results: one row file per trial (OUT/trial-NNNN/result.csv), gathered
 * into OUT/results.csv and OUT/best.yaml.
 *
 * Each trial writes its own row, so the same files come out of every way of
 * running a sweep (groups under one mpirun, a SLURM array, trials rerun one at
 * a time) and collecting is a pure function of those files. Rows hold only
 * what the trial computed (no wall time), so two runs of the same sweep give
 * byte-identical results.csv whenever the trials train with the same rank
 * and thread counts.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hytrain/error.h"
#include "hytrain/fileio.h"
#include "hytrain/sweep.h"

void ht_sweep_trial_dir(const char *out, int t, char *buf, size_t len) { snprintf(buf, len, "%s/trial-%04d", out, t); }

/* Appends text to a CSV line, quoted when it holds a comma or a quote. */
static void csv_field(char *line, size_t len, const char *text, int first) {
  size_t used = strlen(line);
  if (!first && used + 1 < len) line[used++] = ',', line[used] = '\0';
  if (!strpbrk(text, ",\"\n")) {
    snprintf(line + used, len - used, "%s", text);
    return;
  }
  if (used + 1 < len) line[used++] = '"';
  for (const char *c = text; *c && used + 2 < len; c++) {
    if (*c == '"') line[used++] = '"';
    line[used++] = *c;
  }
  if (used + 1 < len) line[used++] = '"';
  line[used] = '\0';
}

static void results_header(const ht_sweep *sw, char *line, size_t len) {
  line[0] = '\0';
  csv_field(line, len, "trial", 1);
  for (int p = 0; p < sw->n_params; p++) csv_field(line, len, sw->params[p].key, 0);
  static const char *const fixed[] = {"status", "steps", "train_loss", "test_accuracy", "test_rmse"};
  for (int i = 0; i < 5; i++) csv_field(line, len, fixed[i], 0);
}

static void num(double v, char *buf, size_t len) {
  if (v < 0 || !isfinite(v)) buf[0] = '\0';
  else snprintf(buf, len, "%.9g", v);
}

int ht_sweep_write_result(const ht_sweep *sw, const char *out, const ht_trial_result *r) {
  char line[8192], text[32], dir[HT_PATH_MAX + 32], body[16384];
  results_header(sw, body, sizeof body);
  line[0] = '\0';
  snprintf(text, sizeof text, "%d", r->trial);
  csv_field(line, sizeof line, text, 1);
  for (int p = 0; p < sw->n_params; p++) {
    char value[HT_SWEEP_VALUE_MAX];
    ht_sweep_value(sw, r->trial, p, value, sizeof value);
    csv_field(line, sizeof line, value, 0);
  }
  csv_field(line, sizeof line, r->status, 0);
  snprintf(text, sizeof text, "%lld", (long long)r->steps);
  csv_field(line, sizeof line, text, 0);
  num(r->train_loss, text, sizeof text);
  csv_field(line, sizeof line, text, 0);
  num(r->test_accuracy, text, sizeof text);
  csv_field(line, sizeof line, text, 0);
  num(r->test_rmse, text, sizeof text);
  csv_field(line, sizeof line, text, 0);
  size_t used = strlen(body);
  snprintf(body + used, sizeof body - used, "\n%s\n", line);
  ht_sweep_trial_dir(out, r->trial, dir, sizeof dir);
  return ht_write_file_atomic(dir, "result.csv", body);
}

/* Reads a whole small file; NULL if it cannot be read. */
static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  while (buf) {
    size_t got = fread(buf + n, 1, cap - n - 1, f);
    n += got;
    if (got == 0) break;
    if (n + 1 == cap) {
      char *nb = realloc(buf, cap *= 2);
      if (!nb) free(buf);
      buf = nb;
    }
  }
  fclose(f);
  if (buf) buf[n] = '\0';
  return buf;
}

/* The metric of a row: the last five fields are status, steps, train_loss,
 * test_accuracy, test_rmse (never quoted). Returns 1 if the trial is done
 * and has the metric. */
static int row_metric(const char *row, ht_sweep_metric metric, double *out) {
  const char *f[5];
  const char *end = row + strlen(row);
  int k = 5;
  for (const char *c = end; c > row && k > 0; c--)
    if (c[-1] == ',') f[--k] = c;
  if (k > 0) return 0;
  if (strncmp(f[0], "done,", 5) != 0) return 0;
  const char *field = f[4];
  switch (metric) {
  case HT_METRIC_TRAIN_LOSS: field = f[2]; break;
  case HT_METRIC_TEST_ACCURACY: field = f[3]; break;
  case HT_METRIC_TEST_RMSE: field = f[4]; break;
  }
  if (*field == ',' || *field == '\0') return 0;
  *out = strtod(field, NULL);
  return 1;
}

int ht_sweep_collect(const ht_sweep *sw, const char *out) {
  char header[8192], path[HT_PATH_MAX + 64], dir[HT_PATH_MAX + 32];
  results_header(sw, header, sizeof header);
  size_t cap = strlen(header) + 2 + (size_t)sw->n_trials * 256, used = 0;
  char *csv = malloc(cap);
  if (!csv) return ht_error(HT_ENOMEM, "out of memory");
  used = (size_t)snprintf(csv, cap, "%s\n", header);
  int missing = 0, first_missing = -1, best = -1, rc = 0;
  double best_v = 0, sum = 0, sumsq = 0;
  int n_done = 0;
  int maximize = sw->metric == HT_METRIC_TEST_ACCURACY;
  const char *metric = ht_enum_name(&ht_sweep_metrics, (int)sw->metric);
  for (int t = 0; t < sw->n_trials && rc == 0; t++) {
    ht_sweep_trial_dir(out, t, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/result.csv", dir);
    char *text = slurp(path);
    if (!text) {
      if (missing++ == 0) first_missing = t;
      continue;
    }
    char *nl = strchr(text, '\n');
    if (!nl || strncmp(text, header, (size_t)(nl - text)) != 0 || (size_t)(nl - text) != strlen(header)) {
      rc = ht_error(HT_EDATA, "%s: its columns differ from the sweep file %s (was the sweep file changed?)", path, sw->path);
    } else {
      char *row = nl + 1;
      row[strcspn(row, "\n")] = '\0';
      size_t need = strlen(row) + 2;
      if (used + need >= cap) {
        char *nc = realloc(csv, cap = 2 * (used + need));
        if (!nc) rc = ht_error(HT_ENOMEM, "out of memory");
        else csv = nc;
      }
      if (rc == 0) used += (size_t)snprintf(csv + used, cap - used, "%s\n", row);
      double v;
      if (rc == 0 && row_metric(row, sw->metric, &v)) {
        sum += v;
        sumsq += v * v;
        n_done++;
      }
      /* Strictly better only: ties keep the lowest trial number. */
      if (rc == 0 && row_metric(row, sw->metric, &v) && (best < 0 || (maximize ? v > best_v : v < best_v))) {
        best = t;
        best_v = v;
      }
    }
    free(text);
  }
  if (rc == 0) rc = ht_write_file_atomic(out, "results.csv", csv);
  free(csv);
  if (rc < 0) return rc;
  if (sw->cv) {
    double mean = n_done ? sum / n_done : NAN, var = n_done ? sumsq / n_done - mean * mean : NAN;
    double sd = var > 0 ? sqrt(var) : 0;
    char summary[512];
    snprintf(summary, sizeof summary, "metric: %s\nfolds: %d\ndone: %d\nmean: %.9g\nstd: %.9g\n", metric, sw->n_trials,
             n_done, mean, n_done ? sd : NAN);
    HT_CHECK(ht_write_file_atomic(out, "summary.yaml", summary));
    printf("cv: %s %.4f +- %.4f (mean +- std over %d of %d folds); %s/results.csv, %s/summary.yaml\n", metric, mean,
           n_done ? sd : NAN, n_done, sw->n_trials, out, out);
  } else if (best >= 0) {
    ht_sweep_trial_dir(out, best, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/config.yaml", dir);
    char *cfg = slurp(path);
    if (!cfg) return ht_error(HT_EIO, "%s: cannot read the best trial's config: %s", path, strerror(errno));
    rc = ht_write_file_atomic(out, "best.yaml", cfg);
    free(cfg);
    HT_CHECK(rc);
    printf("best trial %d of %d: %s %.6g; config %s/best.yaml, all trials %s/results.csv\n", best, sw->n_trials,
           metric, best_v, out, out);
  } else {
    printf("no trial finished with a %s; all trials %s/results.csv\n", metric, out);
  }
  if (missing)
    return ht_error(HT_ENOENT, "%s: %d of %d trials have no result (first: trial %d, %s/trial-%04d/result.csv)", out,
                    missing, sw->n_trials, first_missing, out, first_missing);
  return 0;
}
