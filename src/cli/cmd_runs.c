/*
 * hytrain runs list DIR: one line per run directory found under DIR.
 *
 * A run directory is one that holds log.txt or metrics.jsonl; DIR may be a
 * run directory itself, an experiment directory (runs/<experiment>) or the
 * runs root (runs/), so directories are searched up to three levels down.
 *
 * Status, from the files alone (docs: README.md "Run directories"):
 *   running  another process holds the lock on log.txt (hytrain train holds
 *            an exclusive flock on it while it runs; the kernel drops it when
 *            the process ends, however it ends);
 *   done     log.txt has the final "done in ..." line after the last start
 *            line ("config ..., run directory ...");
 *   stopped  not running, not done, but checkpoints/latest exists: the run
 *            ended early and can continue with --resume auto;
 *   failed   not running, not done, no checkpoint.
 * Best metric: the highest test_accuracy (classification) or lowest
 * test_rmse (regression) over the epoch records, else the lowest train_loss.
 * Steps: the highest step recorded. Wall time: the sum over the run's
 * segments (a resumed run restarts wall_s at its own start).
 * Never touches MPI.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "hytrain/config.h"
#include "hytrain/error.h"

static const char ht__runs_help[] =
    "usage: hytrain runs list DIR\n"
    "\n"
    "Lists the run directories under DIR (a run directory, runs/<experiment> or runs/):\n"
    "run, status (running | done | stopped | failed), best metric, steps, wall time.\n"
    "  running  hytrain still holds the lock on log.txt\n"
    "  done     log.txt ends the last start with 'done in ...'\n"
    "  stopped  ended early with a checkpoint (continue with --resume auto)\n"
    "  failed   ended early without a checkpoint\n";

typedef struct run_row {
  char name[HT_PATH_MAX];
  const char *status;
  char best_key[32];
  double best;          /* NAN when no metric was recorded */
  long long steps;
  double wall;          /* seconds, summed over segments */
} run_row;

static int is_file(const char *dir, const char *name) {
  char path[HT_PATH_MAX + 64];
  struct stat st;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int is_run_dir(const char *dir) { return is_file(dir, "log.txt") || is_file(dir, "metrics.jsonl"); }

/* The number after "key": in one JSON line written by the trainer (flat
 * objects, numbers unquoted). Returns 1 if found. */
static int json_number(const char *line, const char *key, double *out) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\":", key);
  const char *p = strstr(line, pat);
  if (!p) return 0;
  char *end;
  double v = strtod(p + strlen(pat), &end);
  if (end == p + strlen(pat)) return 0;
  *out = v;
  return 1;
}

static void read_metrics(const char *dir, run_row *row) {
  char path[HT_PATH_MAX + 64];
  snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
  row->best = NAN;
  row->best_key[0] = '\0';
  FILE *f = fopen(path, "r");
  if (!f) return;
  char line[4096];
  double acc = -INFINITY, rmse = INFINITY, loss = INFINITY, wall_done = 0, wall_seg = 0, v;
  while (fgets(line, sizeof line, f)) {
    if (json_number(line, "step", &v) && v > (double)row->steps) row->steps = (long long)v;
    if (json_number(line, "wall_s", &v)) {
      /* wall_s restarts from 0 when a stopped run resumes: close the segment. */
      if (v < wall_seg) wall_done += wall_seg;
      wall_seg = v;
    }
    if (!strstr(line, "\"kind\": \"epoch\"")) continue;
    if (json_number(line, "test_accuracy", &v) && v > acc) acc = v;
    if (json_number(line, "test_rmse", &v) && v < rmse) rmse = v;
    if (json_number(line, "train_loss", &v) && v < loss) loss = v;
  }
  fclose(f);
  row->wall = wall_done + wall_seg;
  if (acc > -INFINITY) {
    snprintf(row->best_key, sizeof row->best_key, "test_accuracy");
    row->best = acc;
  } else if (rmse < INFINITY) {
    snprintf(row->best_key, sizeof row->best_key, "test_rmse");
    row->best = rmse;
  } else if (loss < INFINITY) {
    snprintf(row->best_key, sizeof row->best_key, "train_loss");
    row->best = loss;
  }
}

/* 1 if another process holds the trainer's lock on DIR/log.txt. */
static int log_locked(const char *dir) {
  char path[HT_PATH_MAX + 64];
  snprintf(path, sizeof path, "%s/log.txt", dir);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  int locked = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  close(fd); /* also drops the shared lock if we got it */
  return locked;
}

/* 1 if the log's last start line is followed by the final "done in" line. */
static int log_done(const char *dir) {
  char path[HT_PATH_MAX + 64];
  snprintf(path, sizeof path, "%s/log.txt", dir);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  char line[4096];
  int done = 0;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "config ", 7) == 0 && strstr(line, ", run directory ")) done = 0;
    if (strncmp(line, "done in ", 8) == 0) done = 1;
  }
  fclose(f);
  return done;
}

static void row_fill(const char *dir, const char *name, run_row *row) {
  memset(row, 0, sizeof *row);
  snprintf(row->name, sizeof row->name, "%s", name);
  read_metrics(dir, row);
  if (log_locked(dir))
    row->status = "running";
  else if (log_done(dir))
    row->status = "done";
  else if (is_file(dir, "checkpoints/latest"))
    row->status = "stopped";
  else
    row->status = "failed";
}

typedef struct row_span {
  run_row *v;
  int n, cap;
} row_span;

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Collects run directories under dir (name = path relative to the root). */
static int scan(const char *dir, const char *name, int depth, row_span *rows) {
  if (is_run_dir(dir)) {
    if (rows->n == rows->cap) {
      int cap = rows->cap ? 2 * rows->cap : 32;
      run_row *v = realloc(rows->v, sizeof *v * (size_t)cap);
      if (!v) return ht_error(HT_ENOMEM, "out of memory");
      rows->v = v;
      rows->cap = cap;
    }
    row_fill(dir, name[0] ? name : ".", &rows->v[rows->n++]);
    return 0;
  }
  if (depth == 0) return 0;
  DIR *d = opendir(dir);
  if (!d) return 0;
  /* Sorted, so the table is stable (job ids and timestamps sort by start). */
  char **names = NULL;
  int n = 0, cap = 0, rc = 0;
  struct dirent *e;
  while ((e = readdir(d)) && rc == 0) {
    if (e->d_name[0] == '.' || strcmp(e->d_name, "checkpoints") == 0) continue;
    if (n == cap) {
      cap = cap ? 2 * cap : 32;
      char **nn = realloc(names, sizeof *nn * (size_t)cap);
      if (!nn) {
        rc = ht_error(HT_ENOMEM, "out of memory");
        break;
      }
      names = nn;
    }
    names[n] = strdup(e->d_name);
    if (!names[n]) rc = ht_error(HT_ENOMEM, "out of memory");
    else n++;
  }
  closedir(d);
  if (n > 1) qsort(names, (size_t)n, sizeof *names, cmp_name);
  for (int i = 0; i < n; i++) {
    char sub[HT_PATH_MAX], subname[HT_PATH_MAX];
    struct stat st;
    int ok = snprintf(sub, sizeof sub, "%s/%s", dir, names[i]) < (int)sizeof sub &&
             snprintf(subname, sizeof subname, "%s%s%s", name, name[0] ? "/" : "", names[i]) < (int)sizeof subname;
    if (rc == 0 && ok && stat(sub, &st) == 0 && S_ISDIR(st.st_mode)) rc = scan(sub, subname, depth - 1, rows);
    free(names[i]);
  }
  free(names);
  return rc;
}

static void format_wall(double s, char *buf, size_t len) {
  if (s < 60)
    snprintf(buf, len, "%.1fs", s);
  else if (s < 3600)
    snprintf(buf, len, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
  else
    snprintf(buf, len, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
}

static int runs_list(const char *root) {
  struct stat st;
  if (stat(root, &st) != 0) return ht_error(HT_ENOENT, "%s: %s", root, strerror(errno));
  if (!S_ISDIR(st.st_mode)) return ht_error(HT_EUSAGE, "%s: not a directory (expected a runs directory)", root);
  row_span rows = {0};
  int rc = scan(root, "", 3, &rows);
  if (rc == 0 && rows.n == 0) rc = ht_error(HT_ENOENT, "%s: no run directories (with log.txt or metrics.jsonl) found", root);
  if (rc == 0) {
    int w = 3;
    for (int i = 0; i < rows.n; i++) {
      int l = (int)strlen(rows.v[i].name);
      if (l > w) w = l;
    }
    printf("%-*s  %-7s  %-13s  %8s  %10s  %9s\n", w, "run", "status", "best", "value", "steps", "wall");
    for (int i = 0; i < rows.n; i++) {
      const run_row *r = &rows.v[i];
      char wall[32], value[32];
      format_wall(r->wall, wall, sizeof wall);
      if (isnan(r->best))
        snprintf(value, sizeof value, "-");
      else
        snprintf(value, sizeof value, "%.4f", r->best);
      printf("%-*s  %-7s  %-13s  %8s  %10lld  %9s\n", w, r->name, r->status, r->best_key[0] ? r->best_key : "-", value,
             r->steps, wall);
    }
  }
  free(rows.v);
  return rc;
}

int ht_cmd_runs(int argc, char **argv) {
  if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    fputs(ht__runs_help, stdout);
    return 0;
  }
  if (argc < 2 || strcmp(argv[1], "list") != 0)
    return ht_cli_fail("runs", ht_error(HT_EUSAGE, "expected 'runs list DIR' (see hytrain runs --help)"));
  if (argc == 3 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
    fputs(ht__runs_help, stdout);
    return 0;
  }
  if (argc != 3) return ht_cli_fail("runs", ht_error(HT_EUSAGE, "expected exactly one DIR: hytrain runs list DIR"));
  int rc = runs_list(argv[2]);
  return rc < 0 ? ht_cli_fail("runs", rc) : 0;
}
