/*
 * Run directories: <run.root>/<experiment>/<run-id>.
 * The run id comes from SLURM when the job runs under it (job id, array task,
 * restart count), else from the start time, so runs never overwrite each other.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include "hytrain/error.h"
#include "hytrain/fileio.h"
#include "train/internal.h"

/* mkdir -p. */
static int mkdirs(const char *path) {
  char buf[HT_PATH_MAX];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(buf, 0775) != 0 && errno != EEXIST) return ht_error(HT_EIO, "%s: cannot create directory: %s", buf, strerror(errno));
    *p = '/';
  }
  if (mkdir(buf, 0775) != 0 && errno != EEXIST) return ht_error(HT_EIO, "%s: cannot create directory: %s", buf, strerror(errno));
  return 0;
}

void ht__experiment_name(const ht_config *cfg, char *out, size_t len) {
  if (cfg->run.name[0]) {
    snprintf(out, len, "%s", cfg->run.name);
    return;
  }
  const char *base = strrchr(cfg->source, '/');
  base = base ? base + 1 : cfg->source;
  if (snprintf(out, len, "%s", base[0] ? base : "run") >= (int)len) out[len - 1] = '\0';
  char *dot = strrchr(out, '.');
  if (dot && dot != out) *dot = '\0';
}

static void run_id(char *out, size_t len) {
  const char *job = getenv("SLURM_JOB_ID");
  if (job && job[0]) {
    const char *array_job = getenv("SLURM_ARRAY_JOB_ID");
    const char *task = getenv("SLURM_ARRAY_TASK_ID");
    const char *restarts = getenv("SLURM_RESTART_COUNT");
    if (array_job && array_job[0] && task && task[0])
      snprintf(out, len, "%s_%s", array_job, task);
    else
      snprintf(out, len, "%s", job);
    (void)restarts; /* a requeued job keeps its run directory so it can resume there */
    return;
  }
  time_t now = time(NULL);
  struct tm tmv;
  localtime_r(&now, &tmv);
  strftime(out, len, "%Y%m%d-%H%M%S", &tmv);
}

int ht__slurm_run_dir(const ht_config *cfg, char *out, size_t len) {
  const char *job = getenv("SLURM_JOB_ID");
  if (!job || !job[0]) return 0;
  char exp[HT_PATH_MAX], id[128];
  ht__experiment_name(cfg, exp, sizeof exp);
  run_id(id, sizeof id);
  if (snprintf(out, len, "%s/%s/%s", cfg->run.root[0] ? cfg->run.root : "runs", exp, id) >= (int)len) out[0] = '\0';
  return 1;
}

static int run_dir_pick(const ht_config *cfg, const char *requested, char *out, size_t len) {
  if (requested && requested[0]) {
    snprintf(out, len, "%s", requested);
    return mkdirs(out);
  }
  char exp[HT_PATH_MAX], id[128];
  ht__experiment_name(cfg, exp, sizeof exp);
  run_id(id, sizeof id);
  char parent[HT_PATH_MAX];
  if (snprintf(parent, sizeof parent, "%s/%s", cfg->run.root[0] ? cfg->run.root : "runs", exp) >= (int)sizeof parent)
    return ht_error(HT_ECONFIG, "run.root: path too long");
  HT_CHECK(mkdirs(parent));
  int under_slurm = getenv("SLURM_JOB_ID") != NULL;
  for (int k = 1; k < 1000; k++) {
    int n = k == 1 ? snprintf(out, len, "%s/%s", parent, id) : snprintf(out, len, "%s/%s-%d", parent, id, k);
    if (n >= (int)len) return ht_error(HT_ECONFIG, "run.root: path too long");
    if (mkdir(out, 0775) == 0) return 0;
    if (errno != EEXIST) return ht_error(HT_EIO, "%s: cannot create run directory: %s", out, strerror(errno));
    if (under_slurm) return 0; /* same job id: the same run (requeued), reuse it */
  }
  return ht_error(HT_EIO, "%s: too many runs started in the same second", parent);
}

int ht__run_dir_create(const ht_config *cfg, const ht_comm *comm, const char *requested, char *out, size_t len) {
  int rc = 0;
  if (comm->rank == 0) rc = run_dir_pick(cfg, requested, out, len);
  HT_CHECK(ht_comm_agree(comm, rc));
  ht_comm_stall_enter(comm, "the broadcast of the run directory (MPI_Bcast)");
  int mrc = HT_MPI(MPI_Bcast(out, (int)len, MPI_CHAR, 0, comm->main));
  ht_comm_stall_leave(comm);
  if (mrc < 0) return mrc;
  return 0;
}

char *ht__config_text(const ht_config *cfg) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) return NULL;
  ht_config_write_yaml(cfg, f);
  fclose(f);
  return buf;
}

int ht__run_open_outputs(const char *run_dir, const char *config_yaml, ht_log *log, FILE **metrics) {
  char path[HT_PATH_MAX + 64];
  snprintf(path, sizeof path, "%s/log.txt", run_dir);
  log->file = fopen(path, "a");
  if (!log->file) return ht_error(HT_EIO, "%s: cannot write: %s", path, strerror(errno));
  /* Held until the process ends: `hytrain runs list` reads it as "running",
   * and a second trainer in the same run directory is refused. A file system
   * without locks (ENOLCK) only costs the "running" status. */
  if (flock(fileno(log->file), LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK)
    return ht_error(HT_EIO, "%s: another hytrain process is writing this run directory", run_dir);
  HT_CHECK(ht_write_file_atomic(run_dir, "config.yaml", config_yaml));
  snprintf(path, sizeof path, "%s/metrics.jsonl", run_dir);
  *metrics = fopen(path, "a");
  if (!*metrics) return ht_error(HT_EIO, "%s: cannot write: %s", path, strerror(errno));
  snprintf(path, sizeof path, "%s/checkpoints", run_dir);
  if (mkdir(path, 0775) != 0 && errno != EEXIST) return ht_error(HT_EIO, "%s: cannot create: %s", path, strerror(errno));
  return 0;
}
