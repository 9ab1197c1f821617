/*
 * hytrain train --resume auto|PATH.
 *
 * Rank 0 picks the checkpoint, reads every dataset (verifying checksums and
 * shapes against the model built from the config) and broadcasts the state;
 * every rank then continues from it. "auto" (and a directory) tries `latest`
 * first and then the other checkpoints, newest first, saying which ones fail
 * to verify; a named file must verify itself.
 *
 * Data position. Same rank count and batch size: each rank continues its own
 * shuffled order at the saved (epoch, position), which makes the resumed run
 * bit-identical to an uninterrupted one. Otherwise (elastic): the shards and
 * orders are different, so the run continues the same epoch after the same
 * number of global samples, rounded down to a whole global batch of the new
 * layout; the log says the data order changed.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hytrain/error.h"
#include "hytrain/fileio.h"
#include "train/internal.h"

typedef struct found_ckpt {
  int resumed;
  char path[HT_PATH_MAX + 128];
  char run_dir[HT_PATH_MAX];
  ht_ckpt_info info;
  int64_t opt_t;
  ht_ckpt_rank *ranks;  /* rank 0: [info.world_size] from /data (not broadcast as a pointer) */
} found_ckpt;

static int is_dir(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The newest run directory of this experiment (by mtime of checkpoints/latest). */
static void newest_run(const ht_config *cfg, char *out, size_t len) {
  out[0] = '\0';
  char exp[HT_PATH_MAX];
  ht__experiment_name(cfg, exp, sizeof exp);
  char parent[HT_PATH_MAX * 2 + 8];
  snprintf(parent, sizeof parent, "%s/%s", cfg->run.root[0] ? cfg->run.root : "runs", exp);
  DIR *d = opendir(parent);
  if (!d) return;
  double best = -1;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char latest[HT_PATH_MAX * 3];
    snprintf(latest, sizeof latest, "%s/%s/checkpoints/latest", parent, e->d_name);
    struct stat st;
    if (stat(latest, &st) != 0) continue;
    double t = (double)st.st_mtim.tv_sec + 1e-9 * (double)st.st_mtim.tv_nsec;
    if (t > best && snprintf(out, len, "%s/%s", parent, e->d_name) < (int)len) best = t;
  }
  closedir(d);
}

/* Reads the checkpoint named in dir/latest ("" if none). */
static void read_latest(const char *dir, char *name, size_t len) {
  name[0] = '\0';
  char path[HT_PATH_MAX + 64];
  snprintf(path, sizeof path, "%s/latest", dir);
  FILE *f = fopen(path, "r");
  if (!f) return;
  if (!fgets(name, (int)len, f)) name[0] = '\0';
  fclose(f);
  name[strcspn(name, "\r\n")] = '\0';
}

/* Tries one file: reads and verifies it into the model/optimizer/norm. */
static int try(const char *path, ht_model *m, ht_optim *o, ht_norm *norm, found_ckpt *fd) {
  ht_ckpt_state s;
  memset(&s, 0, sizeof s);
  s.model = m;
  s.params = m->params;
  s.optim = o->kind;
  s.opt_m = o->m;
  s.opt_v = o->v;
  s.norm = norm;
  ht_norm_free(norm);
  int rc = ht_ckpt_read(path, &s);
  if (rc < 0) free(s.ranks);
  if (rc == 0) {
    free(fd->ranks);
    fd->ranks = s.ranks;
    fd->info = s.info;
    fd->opt_t = s.opt_t;
    snprintf(fd->path, sizeof fd->path, "%s", path);
  }
  return rc;
}

/* Rank 0: finds and reads the checkpoint. */
static int find(const ht_config *cfg, const ht_log *log, const char *arg, const char *run_dir_req, ht_model *m,
                    ht_optim *o, ht_norm *norm, found_ckpt *fd) {
  char dir[HT_PATH_MAX + 32] = "";
  int is_auto = strcmp(arg, "auto") == 0;
  if (is_auto) {
    char run[HT_PATH_MAX] = "";
    if (run_dir_req && run_dir_req[0])
      snprintf(run, sizeof run, "%s", run_dir_req);
    else if (ht__slurm_run_dir(cfg, run, sizeof run)) {
      /* Under SLURM, auto means this job's own run (a requeued job keeps its
       * id), never the newest run of another job from the same config, which
       * may be running at the same time. */
    } else
      newest_run(cfg, run, sizeof run);
    if (!run[0] || !is_dir(run)) {
      ht_log_info(log, "--resume auto: no earlier run with a checkpoint; starting from scratch");
      return 0;
    }
    snprintf(dir, sizeof dir, "%s/checkpoints", run);
  } else if (is_dir(arg)) {
    char sub[HT_PATH_MAX + 32];
    snprintf(sub, sizeof sub, "%s/checkpoints", arg);
    snprintf(dir, sizeof dir, "%s", is_dir(sub) ? sub : arg);
  } else {
    /* One named file: it must verify; no fallback. */
    HT_CHECK(try(arg, m, o, norm, fd));
    fd->resumed = 1;
    goto run_dir;
  }
  {
    int64_t *steps = NULL;
    int n = 0;
    HT_CHECK(ht_ckpt_list(dir, &steps, &n));
    char latest[256];
    read_latest(dir, latest, sizeof latest);
    if (n == 0 && !latest[0]) {
      free(steps);
      if (!is_auto) return ht_error(HT_ENOENT, "%s: --resume: no checkpoint (ckpt-<step>.h5) in this directory", dir);
      ht_log_info(log, "--resume auto: no checkpoint in %s; starting from scratch", dir);
      return 0;
    }
    /* latest first, then every checkpoint newest first. */
    char first_err[2048] = "", path[HT_PATH_MAX + 128];
    int rc = HT_ENOENT, tried = 0;
    for (int i = -1; i < n; i++) {
      if (i < 0 && !latest[0]) continue;
      char name[96];
      if (i < 0)
        snprintf(name, sizeof name, "%s", latest);
      else
        snprintf(name, sizeof name, "ckpt-%lld.h5", (long long)steps[i]);
      if (i >= 0 && strcmp(name, latest) == 0) continue;
      snprintf(path, sizeof path, "%s/%s", dir, name);
      ht_error_clear();
      rc = try(path, m, o, norm, fd);
      tried++;
      if (rc == 0) break;
      if (!first_err[0]) snprintf(first_err, sizeof first_err, "%s", ht_error_message());
      ht_log_warn(log, "%s; trying an older checkpoint", ht_error_message());
    }
    free(steps);
    if (rc < 0) {
      ht_error_clear();
      return ht_error(rc, "no checkpoint in %s verifies (%d tried); the newest failed with: %s", dir, tried,
                      first_err);
    }
    if (tried > 1) ht_log_warn(log, "resuming from %s, the newest checkpoint that verifies", fd->path);
    fd->resumed = 1;
  }
run_dir:
  /* Continue in the run directory that holds the checkpoint, unless told otherwise. */
  if (run_dir_req && run_dir_req[0]) {
    snprintf(fd->run_dir, sizeof fd->run_dir, "%s", run_dir_req);
  } else {
    char buf[HT_PATH_MAX + 128];
    snprintf(buf, sizeof buf, "%s", fd->path);
    char *slash = strrchr(buf, '/');
    if (slash) {
      *slash = '\0';
      char *parent = strrchr(buf, '/');
      const char *base = parent ? parent + 1 : buf;
      if (strcmp(base, "checkpoints") == 0) {
        if (parent)
          *parent = '\0';
        else
          snprintf(buf, sizeof buf, ".");
        if (snprintf(fd->run_dir, sizeof fd->run_dir, "%s", buf[0] ? buf : "/") >= (int)sizeof fd->run_dir)
          return ht_error(HT_EUSAGE, "%s: run directory path too long", buf);
      }
    }
  }
  return 0;
}

int ht__resume(const ht_config *cfg, const ht_comm *comm, const ht_log *log, const char *arg,
               const char *run_dir_req, ht_model *m, ht_optim *o, ht_norm *norm, int64_t n_train,
               int64_t steps_per_epoch, ht__cursor *cur, char *run_dir_out, size_t len, int *resumed) {
  found_ckpt fd;
  memset(&fd, 0, sizeof fd);
  int rc = comm->rank == 0 ? find(cfg, log, arg, run_dir_req, m, o, norm, &fd) : 0;
  rc = ht_comm_agree(comm, rc);
  ht_ckpt_rank *ranks = fd.ranks;
  fd.ranks = NULL;
  ht_comm_stall_enter(comm, "the broadcast of the checkpoint found (MPI_Bcast)");
  if (rc == 0) rc = HT_MPI(MPI_Bcast(&fd, (int)sizeof fd, MPI_BYTE, 0, comm->main));
  ht_comm_stall_leave(comm);
  /* Every rank learns its own saved data state (ranks beyond the old world
   * size take rank 0's: its epoch is the same, its position is recomputed). */
  ht_ckpt_rank own = {0, 0, 0};
  if (rc == 0 && fd.resumed) {
    ht_ckpt_rank *all = calloc((size_t)fd.info.world_size, sizeof *all);
    if (!all) ht_comm_abort(comm, HT_ENOMEM, "out of memory");
    if (comm->rank == 0) memcpy(all, ranks, sizeof *all * (size_t)fd.info.world_size);
    ht_comm_stall_enter(comm, "the broadcast of the ranks' data cursors (MPI_Bcast)");
    rc = HT_MPI(MPI_Bcast(all, 3 * fd.info.world_size, MPI_INT64_T, 0, comm->main));
    ht_comm_stall_leave(comm);
    own = all[comm->rank < fd.info.world_size ? comm->rank : 0];
    free(all);
  }
  free(ranks);
  if (rc < 0) return rc;
  *resumed = fd.resumed;
  snprintf(run_dir_out, len, "%s", fd.run_dir[0] ? fd.run_dir : (run_dir_req ? run_dir_req : ""));
  if (!fd.resumed) return 0;

  /* Model, optimizer and normalisation: rank 0's verified copy everywhere. */
  HT_CHECK(ht_comm_bcast_floats(comm, m->params, m->n_params));
  if (o->m) HT_CHECK(ht_comm_bcast_floats(comm, o->m, m->n_params));
  if (o->v) HT_CHECK(ht_comm_bcast_floats(comm, o->v, m->n_params));
  o->t = fd.opt_t;
  int d = m->spec.in;
  if (comm->rank != 0) {
    ht_norm_free(norm);
    memset(norm, 0, sizeof *norm);
    norm->d = d;
    norm->mean = malloc(sizeof(float) * (size_t)d);
    norm->std = malloc(sizeof(float) * (size_t)d);
    if (!norm->mean || !norm->std) ht_comm_abort(comm, HT_ENOMEM, "out of memory");
  }
  ht_comm_stall_enter(comm, "the broadcast of the normalisation (MPI_Bcast)");
  int mrc = HT_MPI(MPI_Bcast(&norm->enabled, 1, MPI_INT, 0, comm->main));
  ht_comm_stall_leave(comm);
  if (mrc < 0) return mrc;
  HT_CHECK(ht_comm_bcast_floats(comm, norm->mean, (size_t)d));
  HT_CHECK(ht_comm_bcast_floats(comm, norm->std, (size_t)d));

  /* Where to continue. */
  const ht_ckpt_info *in = &fd.info;
  int64_t B = cfg->train.batch_size, P = comm->size;
  memset(cur, 0, sizeof *cur);
  cur->step = in->step;
  cur->samples_seen = in->samples_seen;
  cur->epoch = in->epoch;
  cur->epoch_loss = in->progress.epoch_loss_sum;
  cur->epoch_steps = in->progress.epoch_steps;
  cur->window_loss = in->progress.window_loss_sum;
  cur->window_steps = in->progress.window_steps;
  cur->wall_offset = in->progress.wall_s;
  cur->best_value = in->best_value;
  cur->best_step = in->best_step;
  int be = in->compute_backend[0] ? ht_enum_parse(&ht_gemm_backends, in->compute_backend) : -1;
  cur->backend = be == HT_GEMM_OPENBLAS || be == HT_GEMM_ONEDNN ? (ht_gemm_backend)be : HT_GEMM_AUTO;
  int64_t spe_old = (n_train / in->world_size) / (in->batch_size > 0 ? in->batch_size : 1);
  int64_t pos_saved = own.position;
  int same_layout = in->world_size == P && in->batch_size == B;
  rc = 0;
  if (own.epoch != in->epoch) {
    ht_error_clear();
    rc = ht_error(HT_EDATA, "%s: /data/%d is at epoch %lld but the file's epoch is %lld (inconsistent checkpoint)",
                    fd.path, comm->rank < in->world_size ? comm->rank : 0, (long long)own.epoch,
                    (long long)in->epoch);
  }
  if (own.seed != cfg->train.seed)
    ht_log_warn(log, "train.seed is %lld but the checkpoint was trained with %lld: the data order changes",
                (long long)cfg->train.seed, (long long)own.seed);
  if (same_layout) {
    cur->position = pos_saved;
  } else {
    int64_t into = pos_saved * in->batch_size * in->world_size;
    int64_t skip = pos_saved >= spe_old ? steps_per_epoch : into / (B * P);
    if (skip > steps_per_epoch) skip = steps_per_epoch;
    cur->position = skip;
  }
  if (rc == 0 && (cur->position < 0 || cur->position > steps_per_epoch)) {
    ht_error_clear();
    rc = ht_error(HT_EDATA, "%s: step %lld and epoch %lld do not fit %lld steps per epoch (different data?)",
                    fd.path, (long long)in->step, (long long)in->epoch, (long long)steps_per_epoch);
  }
  HT_CHECK(ht_comm_agree(comm, rc));
  ht_log_info(log, "resuming from %s: step %lld, epoch %lld, batch %lld of the epoch, %lld samples seen", fd.path,
              (long long)in->step, (long long)in->epoch + 1, (long long)cur->position, (long long)in->samples_seen);
  if (!same_layout)
    ht_log_warn(log,
                "elastic resume: the checkpoint was written by %d rank(s) x batch %lld, this run is %lld x %lld; the "
                "data order changed (new shards and shuffles); continuing epoch %lld at batch %lld, after %lld of "
                "the epoch's %lld global samples",
                in->world_size, (long long)in->batch_size, (long long)P, (long long)B, (long long)in->epoch + 1,
                (long long)cur->position, (long long)(cur->position * B * P),
                (long long)(pos_saved * in->batch_size * in->world_size));
  return 0;
}

/* Reads an integer field "key": N from a metrics record. */
static int json_int(const char *line, const char *key, long long *out) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\": ", key);
  const char *p = strstr(line, pat);
  if (!p) return 0;
  *out = strtoll(p + strlen(pat), NULL, 10);
  return 1;
}

int ht__metrics_rewind(const char *run_dir, const ht__cursor *cur) {
  char path[HT_PATH_MAX + 64];
  snprintf(path, sizeof path, "%s/metrics.jsonl", run_dir);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  char *out = NULL, *line = NULL;
  size_t out_len = 0, cap = 0;
  FILE *mem = open_memstream(&out, &out_len);
  if (!mem) {
    fclose(f);
    return ht_error(HT_ENOMEM, "out of memory");
  }
  int dropped = 0;
  while (getline(&line, &cap, f) > 0) {
    long long step = 0, epoch = 0;
    int keep = 1;
    if (strstr(line, "\"kind\": \"step\"") && json_int(line, "step", &step)) keep = step <= cur->step;
    /* Epoch records count epochs from 1; the checkpoint's epoch in progress
     * (0-based cur->epoch) has not ended in the checkpoint's view. */
    if (strstr(line, "\"kind\": \"epoch\"") && json_int(line, "epoch", &epoch)) keep = epoch <= cur->epoch;
    if (keep)
      fputs(line, mem);
    else
      dropped++;
  }
  free(line);
  fclose(f);
  fclose(mem);
  int rc = 0;
  if (dropped) rc = ht_write_file_atomic(run_dir, "metrics.jsonl", out);
  free(out);
  return rc;
}
