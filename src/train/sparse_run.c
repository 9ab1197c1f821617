/*
 * The training run of the sparse engines (train.engine hogwild | locked |
 * serial; docs/sparse.md): the same run directory, config.yaml, log.txt,
 * metrics.jsonl, progress, event table, timeline and checkpoints as a dense
 * run, around the epoch of train/hogwild.h.
 *
 * Phases, each ending in an agreement across ranks:
 *   1. read this rank's shards of the CSR train and test files, check them
 *      against each other and the model type (data.mode stream: probe the
 *      training file only, scan its indptr for the longest row, and start
 *      the loader thread, hytrain/csr_loader.h);
 *   2. resume from a checkpoint (epoch boundary) or start from zero weights;
 *   3. run directory, outputs, events, workers and the communication thread;
 *   4. per epoch: shuffle the shard (seed, epoch, rank), take the first
 *      `rows` rows (the smallest shard's size, so every rank does the same
 *      number of updates and of averages), fill the clock from the schedule
 *      (one schedule step = one update of a rank), run the epoch (averaged,
 *      so every rank now holds the same weights), evaluate, record, and
 *      have rank 0 write the checkpoint. In stream mode the epoch is a
 *      sequence of chunks from the loader, each run as one engine epoch
 *      (its own clock segment, catch-up and average), so the engine
 *      (train/hogwild.h) is used unchanged.
 */
#include <hdf5.h>
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hytrain/csr.h"
#include "hytrain/csr_loader.h"
#include "hytrain/error.h"
#include "hytrain/events.h"
#include "hytrain/fileio.h"
#include "hytrain/rng.h"
#include "hytrain/sparse_ckpt.h"
#include "hytrain/sparse_train.h"
#include "hytrain/timer.h"
#include "train/hogwild.h"
#include "train/internal.h"

typedef struct sparse_run {
  const ht_config *cfg;
  const ht_comm *comm;
  const ht_train_opts *opts;
  ht_log log;
  ht_csr train, test;
  int have_test;
  ht_sparse_model model;
  ht_sparse_clock clock;
  ht_sched sched;
  ht_events events;
  ht__hogwild *hw;
  int64_t rows;         /* updates per rank per epoch */
  int64_t *order;       /* [train.n], or in stream mode [chunk_rows] 0, 1, 2, ... (a chunk is in training order) */
  int stream;           /* data.mode stream: train holds the header and shard range only */
  ht_csr_loader *loader;
  ht_csr_loader_opts lopts;
  ht_csr chunk;         /* the chunk being trained on; arrays borrowed from the loader, never freed here */
  int64_t max_nnz;      /* the longest row of the training shard */
  char data_desc[400];  /* the start-up line of the data mode */
  int64_t epoch0;       /* first epoch to run (resume) */
  FILE *metrics;
  char *config_yaml;
  char run_dir[HT_PATH_MAX];
  ht_binding_outcome binding;
} sparse_run;

/* The longest row of the shard [row0, row0 + n), from its indptr read in
 * pieces (stream mode never holds the shard; indptr is 8 bytes a row). */
static int scan_max_nnz(const ht_csr *hdr, int64_t *max_nnz) {
  ht_csr_reader *rd = NULL;
  HT_CHECK(ht_csr_reader_open(&rd, hdr->path, hdr));
  const int64_t piece = (int64_t)1 << 16;
  int64_t *ptr = malloc(sizeof(int64_t) * (size_t)(piece + 1));
  int rc = ptr ? 0 : ht_error(HT_ENOMEM, "out of memory");
  *max_nnz = 0;
  for (int64_t a = 0; rc == 0 && a < hdr->n; a += piece) {
    int64_t len = hdr->n - a < piece ? hdr->n - a : piece;
    rc = ht_csr_reader_indptr(rd, hdr->row0 + a, len, ptr);
    for (int64_t i = 0; rc == 0 && i < len; i++)
      if (ptr[i + 1] - ptr[i] > *max_nnz) *max_nnz = ptr[i + 1] - ptr[i];
  }
  free(ptr);
  ht_csr_reader_close(&rd);
  return rc;
}

/* data.mode for the training file: memory reads the shard here; stream (or
 * auto with a shard beyond data.memory_budget_mb, estimated from the file's
 * mean row so every rank decides alike) sets up the loader. */
static int open_train(sparse_run *r) {
  const ht_config *cfg = r->cfg;
  const ht_comm *comm = r->comm;
  HT_CHECK(ht_csr_probe(&r->train, cfg->data.train));
  int64_t rows_max = r->train.n_total / comm->size + (r->train.n_total % comm->size ? 1 : 0);
  double row_bytes = 8.0 * (double)r->train.nnz_total / (double)r->train.n_total + 12.0;
  double shard_mb = (double)rows_max * row_bytes / 1048576.0;
  const int64_t budget = (int64_t)cfg->data.memory_budget_mb << 20;
  const char *why = "data.mode";
  r->stream = cfg->data.mode == HT_DATA_STREAM;
  if (cfg->data.mode == HT_DATA_AUTO) {
    r->stream = shard_mb * 1048576.0 > (double)budget;
    why = r->stream ? "auto: shard > budget" : "auto: shard fits budget";
  }
  if (!r->stream) {
    ht_csr_free(&r->train);
    HT_CHECK(ht_csr_read_shard(&r->train, cfg->data.train, comm->rank, comm->size));
    for (int64_t i = 0; i < r->train.n; i++)
      if (r->train.indptr[i + 1] - r->train.indptr[i] > r->max_nnz) r->max_nnz = r->train.indptr[i + 1] - r->train.indptr[i];
    snprintf(r->data_desc, sizeof r->data_desc, "data: memory mode (%s; shard %.1f MB, data.memory_budget_mb %d)", why,
             shard_mb, cfg->data.memory_budget_mb);
    return 0;
  }
  /* The loader thread reads HDF5 while rank 0's main thread writes checkpoints. */
  hbool_t safe = 0;
  if (H5is_library_threadsafe(&safe) < 0 || !safe)
    return ht_error(HT_ECONFIG, "data.mode: stream needs a thread-safe HDF5 library (the loader thread reads while "
                                "checkpoints are written); use data.mode: memory");
  ht_shard_range(r->train.n_total, comm->rank, comm->size, &r->train.row0, &r->train.n);
  r->lopts = (ht_csr_loader_opts){.chunk_rows = cfg->data.chunk_rows > 0 ? cfg->data.chunk_rows : ht_csr_loader_auto_chunk_rows(&r->train),
                                  .window_chunks = cfg->data.shuffle_buffer_chunks,
                                  .prefetch = cfg->data.prefetch,
                                  .shuffle = cfg->data.shuffle,
                                  .seed = (uint64_t)cfg->train.seed,
                                  .rank = comm->rank,
                                  .rows_per_epoch = r->train.n_total / comm->size,
                                  .epochs = cfg->train.epochs};
  int64_t need = ht_csr_loader_memory_bytes(&r->train, &r->lopts);
  if (need > budget)
    return ht_error(HT_ECONFIG,
                    "data.memory_budget_mb: stream mode needs about %.0f MB on rank %d (windows of %d x %lld rows, %d chunk "
                    "slots, %.1f non-zeros per row), more than the budget of %d MB; lower data.shuffle_buffer_chunks, "
                    "data.chunk_rows or data.prefetch",
                    (double)need / 1048576.0, comm->rank, r->lopts.window_chunks, (long long)r->lopts.chunk_rows,
                    r->lopts.prefetch + 1, (double)r->train.nnz_total / (double)r->train.n_total, cfg->data.memory_budget_mb);
  HT_CHECK(scan_max_nnz(&r->train, &r->max_nnz));
  int64_t win_rows = (int64_t)r->lopts.window_chunks * r->lopts.chunk_rows;
  snprintf(r->data_desc, sizeof r->data_desc,
           "data: stream mode (%s; shard %.1f MB, data.memory_budget_mb %d): chunks of %lld rows, shuffle windows of %d "
           "chunks%s, prefetch %d, loader memory about %.1f MB",
           why, shard_mb, cfg->data.memory_budget_mb, (long long)r->lopts.chunk_rows, r->lopts.window_chunks,
           win_rows >= r->train.n ? " (the whole shard: memory mode's order)" : "", r->lopts.prefetch,
           (double)need / 1048576.0);
  return 0;
}

static int load(sparse_run *r) {
  const ht_config *cfg = r->cfg;
  HT_CHECK(open_train(r));
  int k = r->train.task == HT_TASK_REGRESS ? 0 : r->train.num_classes;
  HT_CHECK(ht_sparse_model_create(&r->model, cfg->model.type, r->train.d, k, cfg->model.l2));
  r->have_test = cfg->data.test[0] != '\0';
  if (r->have_test) {
    HT_CHECK(ht_csr_read_shard(&r->test, cfg->data.test, r->comm->rank, r->comm->size));
    if (r->test.d != r->train.d)
      return ht_error(HT_ESHAPE, "%s: %d features, but the training data %s has %d (convert both with the same --dims)",
                      cfg->data.test, r->test.d, cfg->data.train, r->train.d);
    if (r->test.task != r->train.task || r->test.num_classes > r->train.num_classes)
      return ht_error(HT_EDATA, "%s: its labels (%d classes, 0 = regression) do not fit the training data %s (%d)",
                      cfg->data.test, r->test.num_classes, cfg->data.train, r->train.num_classes);
  }
  r->rows = r->train.n_total / r->comm->size;
  if (r->rows < 1)
    return ht_error(HT_ECONFIG, "%s: %lld rows cannot be shared by %d ranks", cfg->data.train, (long long)r->train.n_total,
                    r->comm->size);
  /* Stream mode trains chunk by chunk: a chunk's rows come in training order. */
  int64_t len = r->stream ? (r->lopts.chunk_rows < r->rows ? r->lopts.chunk_rows : r->rows) : r->train.n;
  r->order = malloc(sizeof(int64_t) * (size_t)(len > 0 ? len : 1));
  if (!r->order) return ht_error(HT_ENOMEM, "out of memory for the epoch order of %lld rows", (long long)len);
  for (int64_t i = 0; i < len; i++) r->order[i] = i;
  HT_CHECK(ht_sparse_clock_create(&r->clock, r->stream ? len : r->rows));
  if (r->stream) {
    r->chunk = r->train; /* header; the arrays come with each chunk */
    HT_CHECK(ht_csr_loader_create(&r->loader, &r->train, &r->lopts));
  }
  ht_sched_opts so;
  ht_sched_opts_from_config(cfg, &so);
  HT_CHECK(ht_sched_create(&r->sched, &so, r->rows * cfg->train.epochs));
  return 0;
}

/* --resume PATH: a checkpoint file, a run directory (its checkpoints/latest)
 * or a checkpoints directory; "auto": the latest checkpoint of --run-dir, if
 * there is one. Returns 0 with path[0] = '\0' for a fresh start. */
static int resume_path(const ht_train_opts *o, char *path, size_t len) {
  path[0] = '\0';
  if (!o->resume || !o->resume[0]) return 0;
  const char *base = o->resume;
  int automatic = strcmp(base, "auto") == 0;
  if (automatic) {
    if (!o->run_dir || !o->run_dir[0]) return ht_error(HT_EUSAGE, "--resume auto: sparse engines need --run-dir DIR");
    base = o->run_dir;
  }
  struct stat st;
  if (stat(base, &st) != 0) {
    if (automatic) return 0;
    return ht_error(HT_ENOENT, "%s: cannot resume: %s", base, strerror(errno));
  }
  if (!S_ISDIR(st.st_mode)) {
    snprintf(path, len, "%s", base);
    return 0;
  }
  const char *dirs[2] = {"/checkpoints", ""};
  for (int i = 0; i < 2; i++) {
    char latest[HT_PATH_MAX + 32], name[256] = "";
    snprintf(latest, sizeof latest, "%s%s/latest", base, dirs[i]);
    FILE *f = fopen(latest, "r");
    if (!f) continue;
    int ok = fgets(name, sizeof name, f) != NULL;
    fclose(f);
    name[strcspn(name, "\r\n")] = '\0';
    if (ok && name[0]) {
      snprintf(path, len, "%s%s/%s", base, dirs[i], name);
      return 0;
    }
  }
  if (automatic) return 0;
  return ht_error(HT_ENOENT, "%s: no checkpoint to resume from (no checkpoints/latest)", base);
}

static int resume(sparse_run *r, const char *path) {
  ht_sparse_ckpt_info in;
  HT_CHECK(ht_sparse_ckpt_read_info(path, &in));
  if (in.position != 0) return ht_error(HT_EDATA, "%s: position %lld inside an epoch; sparse runs resume at epoch ends", path, (long long)in.position);
  HT_CHECK(ht_sparse_ckpt_read_weights(path, &r->model));
  r->epoch0 = in.epoch;
  if (in.step != in.epoch * r->rows)
    return ht_error(HT_EDATA, "%s: step %lld is not %lld epochs of %lld updates per rank (another number of ranks?)", path,
                    (long long)in.step, (long long)in.epoch, (long long)r->rows);
  ht_log_info(&r->log, "resumed from %s after epoch %lld (step %lld)", path, (long long)in.epoch, (long long)in.step);
  return 0;
}

/* Rank 0: ckpt-<step>.h5, then `latest`, then rotation. */
static int save(sparse_run *r, int64_t epoch, int64_t step) {
  if (r->comm->rank != 0) return 0;
  char dir[HT_PATH_MAX + 16], path[HT_PATH_MAX + 96], name[64], text[80];
  snprintf(dir, sizeof dir, "%s/checkpoints", r->run_dir);
  snprintf(name, sizeof name, "ckpt-%lld.h5", (long long)step);
  snprintf(path, sizeof path, "%s/%s", dir, name);
  ht_sparse_ckpt_info in = {.type = r->model.type,
                            .d = r->model.d,
                            .num_classes = r->train.task == HT_TASK_REGRESS ? 0 : r->train.num_classes,
                            .l2 = r->model.l2,
                            .step = step,
                            .epoch = epoch,
                            .position = 0,
                            .world_size = r->comm->size,
                            .threads = ht__hogwild_threads(r->hw)};
  snprintf(in.data_test, sizeof in.data_test, "%s", r->cfg->data.test);
  HT_CHECK(ht_sparse_ckpt_write(path, &r->model, &in, r->config_yaml));
  snprintf(text, sizeof text, "%s\n", name);
  HT_CHECK(ht_write_file_atomic(dir, "latest", text));
  HT_CHECK(ht_ckpt_rotate(dir, r->cfg->checkpoint.keep));
  return 0;
}

/* This epoch's order: the shard shuffled with (seed, epoch, rank), first `rows`. */
static void make_order(sparse_run *r, int64_t epoch) {
  for (int64_t i = 0; i < r->train.n; i++) r->order[i] = i;
  if (r->cfg->data.shuffle) {
    ht_rng g;
    ht_rng_seed(&g, ht_rng_mix((uint64_t)r->cfg->train.seed, (uint64_t)epoch, (uint64_t)r->comm->rank));
    ht_rng_shuffle_i64(&g, r->order, r->train.n);
  }
}

/* Stream mode: one epoch as a sequence of the loader's chunks, each run as
 * one engine epoch at its place on the schedule (step epoch * rows + pos0).
 * Every rank has the same chunk sizes, so the engine's collective averages
 * match. st->seconds is the epoch's wall time, waits for data included. */
static int stream_epoch(sparse_run *r, int64_t epoch, ht__epoch_stats *st, int64_t *rows_read, double *wait_s) {
  const ht_comm *comm = r->comm;
  memset(st, 0, sizeof *st);
  *rows_read = 0;
  *wait_s = 0;
  double t0 = ht_now();
  ht_track *main_track = &r->events.tracks[0];
  ht_csr_loader_start_epoch(r->loader, epoch);
  const int64_t chunks = ht_csr_loader_chunks(&r->lopts);
  for (int64_t j = 0; j < chunks; j++) {
    ht_csr_chunk c;
    double tw = ht_now();
    ht_track_begin(main_track, HT_EV_DATA_WAIT, -1);
    int rc = ht_csr_loader_next(r->loader, &c);
    ht_track_end(main_track);
    *wait_s += ht_now() - tw;
    HT_CHECK(ht_comm_agree(comm, rc));
    r->chunk = *c.rows; /* the engine reads the rows through r->chunk */
    *rows_read += c.rows_read;
    HT_CHECK(ht_comm_agree(comm, ht_sparse_clock_fill(&r->clock, &r->sched, epoch * r->rows + c.pos0, c.rows->n, r->cfg->model.l2)));
    ht__epoch_stats cs;
    rc = ht__hogwild_epoch(r->hw, r->order, c.rows->n, &r->clock, &cs);
    if (rc < 0) ht_comm_abort(comm, rc, ht_error_message());
    st->loss_sum += cs.loss_sum;
    st->updates += cs.updates;
    st->nnz += cs.nnz;
    st->cpu_s += cs.cpu_s;
    st->averages += cs.averages;
    st->average_s += cs.average_s;
  }
  st->seconds = ht_now() - t0;
  return 0;
}

static void metrics_epoch(sparse_run *r, int64_t epoch, int64_t step, double loss, const ht_eval_metrics *ev, double ups,
                          double wall, const ht__epoch_stats *st, double rows_read, double wait_s) {
  if (!r->metrics) return;
  fprintf(r->metrics, "{\"kind\": \"epoch\", \"epoch\": %lld, \"step\": %lld, \"train_loss\": %.9g", (long long)epoch,
          (long long)step, loss);
  if (ev && ev->accuracy >= 0) fprintf(r->metrics, ", \"test_loss\": %.9g, \"test_accuracy\": %.9g", ev->loss, ev->accuracy);
  if (ev && ev->rmse >= 0) fprintf(r->metrics, ", \"test_loss\": %.9g, \"test_rmse\": %.9g", ev->loss, ev->rmse);
  fprintf(r->metrics,
          ", \"samples_per_s\": %.6g, \"updates_per_s\": %.6g, \"nnz_per_s\": %.6g, \"nnz_per_cpu_s\": %.6g, "
          "\"epoch_s\": %.6g, \"wall_s\": %.6g, \"engine\": \"%s\", \"threads\": %d, \"averages\": %lld, \"average_s\": %.6g",
          ups, ups, (double)st->nnz / (st->seconds > 0 ? st->seconds : 1e-9), (double)st->nnz / (st->cpu_s > 0 ? st->cpu_s : 1e-9),
          st->seconds, wall, ht_enum_name(&ht_engines, (int)r->cfg->train.engine), ht__hogwild_threads(r->hw),
          (long long)st->averages, st->average_s);
  if (r->stream) fprintf(r->metrics, ", \"data_mode\": \"stream\", \"rows_read\": %.0f, \"data_wait_s\": %.6g", rows_read, wait_s);
  fprintf(r->metrics, "}\n");
  fflush(r->metrics);
}

/* Collective on comm->main: every rank must hold rank 0's weights bit for bit
 * after the epoch-end average (a cheap proof of the contract, once per run). */
static int check_identical(sparse_run *r) {
  size_t n = ht_sparse_model_size(&r->model);
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) {
    float v = atomic_load_explicit(&r->model.w[i], memory_order_relaxed);
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    h = (h ^ bits) * 1099511628211ull;
  }
  uint64_t lo = 0, hi = 0;
  ht_comm_stall_enter(r->comm, "the check of identical weights (MPI_Allreduce)");
  int rc = HT_MPI(MPI_Allreduce(&h, &lo, 1, MPI_UINT64_T, MPI_MIN, r->comm->main));
  if (rc == 0) rc = HT_MPI(MPI_Allreduce(&h, &hi, 1, MPI_UINT64_T, MPI_MAX, r->comm->main));
  ht_comm_stall_leave(r->comm);
  HT_CHECK(rc);
  if (lo != hi) return ht_error(HT_EINTERNAL, "the weights differ between ranks after the final average (a bug)");
  ht_log_file(&r->log, "weights identical on all %d ranks (hash %016llx)", r->comm->size, (unsigned long long)h);
  return 0;
}

static int run_epochs(sparse_run *r, ht_train_result *res) {
  const ht_config *cfg = r->cfg;
  const ht_comm *comm = r->comm;
  double t_start = ht_now();
  ht__progress prog;
  ht__progress_init(&prog, cfg->train.epochs, cfg->log.progress);
  prog.first_step = r->epoch0;
  ht_eval_metrics ev = {0, 0, -1, -1};
  ht_log_info(&r->log, "training %s with the %s engine: %zu weights, %d thread%s x %d rank%s, %lld updates per rank per epoch",
              ht_enum_name(&ht_model_types, (int)cfg->model.type), ht_enum_name(&ht_engines, (int)cfg->train.engine),
              ht_sparse_model_size(&r->model), ht__hogwild_threads(r->hw), ht__hogwild_threads(r->hw) == 1 ? "" : "s",
              comm->size, comm->size == 1 ? "" : "s", (long long)r->rows);
  for (int64_t epoch = r->epoch0; epoch < cfg->train.epochs; epoch++) {
    ht__epoch_stats st;
    int64_t rows_read = 0;
    double wait_s = 0;
    int rc = 0;
    if (r->stream) {
      HT_CHECK(stream_epoch(r, epoch, &st, &rows_read, &wait_s));
    } else {
      make_order(r, epoch);
      HT_CHECK(ht_comm_agree(comm, ht_sparse_clock_fill(&r->clock, &r->sched, epoch * r->rows, r->rows, cfg->model.l2)));
      rc = ht__hogwild_epoch(r->hw, r->order, r->rows, &r->clock, &st);
      if (rc < 0) ht_comm_abort(comm, rc, ht_error_message());
    }
    /* The mean training loss over every rank's updates (and the rows the loaders read). */
    double mine[5] = {st.loss_sum, (double)st.updates, (double)st.nnz, st.cpu_s, (double)rows_read}, all[5];
    ht_comm_stall_enter(comm, "the epoch's loss sum (MPI_Allreduce)");
    rc = HT_MPI(MPI_Allreduce(mine, all, 5, MPI_DOUBLE, MPI_SUM, comm->main));
    ht_comm_stall_leave(comm);
    HT_CHECK(ht_comm_agree(comm, rc));
    double loss = all[0] / (all[1] > 0 ? all[1] : 1);
    if (!isfinite(loss))
      return ht_error(HT_EDIVERGED, "training diverged in epoch %lld: the loss is %s; lower optimizer.lr (now %g)",
                      (long long)epoch + 1, isnan(loss) ? "NaN" : "infinite", cfg->optimizer.lr);
    /* Rates over the whole job: rank 0's wall time, every worker's CPU time. */
    double ups = all[1] / (st.seconds > 0 ? st.seconds : 1e-9);
    st.nnz = (int64_t)all[2];
    st.cpu_s = all[3];
    if (r->have_test) HT_CHECK(ht_sparse_eval(&r->model, &r->test, comm, &ev));
    int64_t step = (epoch + 1) * r->rows;
    metrics_epoch(r, epoch + 1, step, loss, r->have_test ? &ev : NULL, ups, ht_now() - t_start, &st, all[4], wait_s);
    if (r->stream) {
      ht_loader_stats ls;
      ht_csr_loader_get_stats(r->loader, &ls);
      ht_log_file(&r->log, "loader: data wait %.3f s of %.3f s this epoch; %.0f rows read by all ranks; rank 0 so far: read %.3f s "
                           "(%.1f MB), assembly %.3f s, %lld of %lld chunks waited",
                  wait_s, st.seconds, all[4], ls.read_s, (double)ls.bytes_read / 1048576.0, ls.assemble_s, (long long)ls.waits,
                  (long long)ls.batches);
    }
    ht__progress_step(&prog, &r->log, epoch, cfg->train.epochs, epoch + 1, loss, ups);
    ht__progress_clear(&prog);
    if (r->have_test && ev.accuracy >= 0)
      ht_log_info(&r->log, "epoch %lld/%d  step %lld  train_loss %.4f  test_loss %.4f  test_accuracy %.4f  %.0f updates/s",
                  (long long)epoch + 1, cfg->train.epochs, (long long)step, loss, ev.loss, ev.accuracy, ups);
    else if (r->have_test)
      ht_log_info(&r->log, "epoch %lld/%d  step %lld  train_loss %.4f  test_rmse %.4f  %.0f updates/s", (long long)epoch + 1,
                  cfg->train.epochs, (long long)step, loss, ev.rmse, ups);
    else
      ht_log_info(&r->log, "epoch %lld/%d  step %lld  train_loss %.4f  %.0f updates/s", (long long)epoch + 1,
                  cfg->train.epochs, (long long)step, loss, ups);
    ht_track *main_track = &r->events.tracks[0];
    ht_track_begin(main_track, HT_EV_CHECKPOINT, -1);
    rc = save(r, epoch + 1, step);
    ht_track_end(main_track);
    HT_CHECK(ht_comm_agree(comm, rc));
    res->train_loss = loss;
    res->steps = step;
    if (r->opts->stop_at_step > 0 && step >= r->opts->stop_at_step && epoch + 1 < cfg->train.epochs) {
      ht_log_info(&r->log, "stopped at step %lld (--stop-at-step); resume with --resume %s", (long long)step, r->run_dir);
      return HT_ESTOPPED;
    }
  }
  HT_CHECK(check_identical(r));
  res->test_accuracy = ev.accuracy;
  res->test_rmse = ev.rmse;
  if (r->epoch0 >= cfg->train.epochs) ht_log_info(&r->log, "nothing to do: the checkpoint already completes this run");
  ht__hogwild_destroy(&r->hw); /* stops the communication thread before the table reads its track */
  ht_csr_loader_destroy(&r->loader); /* likewise the loader thread */
  ht_comm_stall_enter(comm, "the event table's gather (MPI_Gather)");
  int rc = ht_events_print_table(&r->events, comm->main, stdout);
  ht_comm_stall_leave(comm);
  HT_CHECK(rc);
  if (r->opts->timeline) {
    ht_comm_stall_enter(comm, "the timeline's gather (MPI_Gatherv)");
    rc = ht_events_write_trace(&r->events, comm->main, r->opts->timeline);
    ht_comm_stall_leave(comm);
    if (rc == 0) ht_log_info(&r->log, "timeline written to %s (open it in https://ui.perfetto.dev)", r->opts->timeline);
    HT_CHECK(ht_comm_agree(comm, rc));
  }
  ht_log_info(&r->log, "done in %.1f s; run directory %s", ht_now() - t_start, r->run_dir);
  return 0;
}

static int setup_and_run(sparse_run *r, ht_train_result *res) {
  const ht_comm *comm = r->comm;
  const ht_config *cfg = r->cfg;
  HT_CHECK(ht_comm_agree(comm, ht_comm_set_watchdog(comm, cfg->comm.stall_warn_s, cfg->comm.stall_timeout_s)));
  ht_binding_opts bopts = {.mode = cfg->compute.binding};
  HT_CHECK(ht_binding_setup(&bopts, comm, &r->binding));
  HT_CHECK(ht_comm_agree(comm, load(r)));
  char ckpt[HT_PATH_MAX + 300];
  HT_CHECK(ht_comm_agree(comm, resume_path(r->opts, ckpt, sizeof ckpt)));
  if (ckpt[0]) HT_CHECK(ht_comm_agree(comm, resume(r, ckpt)));
  /* The loader reads the first chunks while the rest of start-up runs. */
  if (r->stream) ht_csr_loader_start_epoch(r->loader, r->epoch0);
  r->config_yaml = ht__config_text(cfg);
  HT_CHECK(ht_comm_agree(comm, r->config_yaml ? 0 : ht_error(HT_ENOMEM, "out of memory formatting the config")));
  char requested[HT_PATH_MAX];
  snprintf(requested, sizeof requested, "%s", r->opts->run_dir ? r->opts->run_dir : "");
  HT_CHECK(ht__run_dir_create(cfg, comm, requested, r->run_dir, sizeof r->run_dir));
  snprintf(res->run_dir, sizeof res->run_dir, "%s", r->run_dir);
  int rc = comm->rank == 0 ? ht__run_open_outputs(r->run_dir, r->config_yaml, &r->log, &r->metrics) : 0;
  HT_CHECK(ht_comm_agree(comm, rc));
  ht_log_file(&r->log, "config %s, run directory %s", cfg->source, r->run_dir);
  HT_CHECK(ht__startup_report(comm, &r->log, &r->binding));
  ht_log_info(&r->log, "  data: %s (sparse CSR): %lld rows, %d features, %lld non-zeros", cfg->data.train,
              (long long)r->train.n_total, r->train.d, (long long)r->train.nnz_total);
  ht_log_info(&r->log, "  %s", r->data_desc);
  ht__hogwild_opts ho = {.engine = cfg->train.engine,
                         .threads = omp_get_max_threads(),
                         .average_every = cfg->hogwild.average_every,
                         .wait = cfg->comm.wait.kind,
                         .wait_us = cfg->comm.wait.us,
                         .bucket_mb = cfg->comm.bucket_mb,
                         .first_track = r->stream ? 3 : 2}; /* stream: track 2 is the loader's */
  HT_CHECK(ht_events_create(&r->events, r->opts->timeline ? (1 << 14) : 0));
  rc = ht__hogwild_create(&r->hw, &ho, &r->model, r->stream ? &r->chunk : &r->train, comm, &r->events, r->max_nnz);
  HT_CHECK(ht_comm_agree(comm, rc));
  ht_comm_stall_enter(comm, "the aligning of the event clocks (MPI_Barrier)");
  rc = ht_events_start(&r->events, comm->main);
  ht_comm_stall_leave(comm);
  HT_CHECK(rc);
  /* Only now: ht_events_start resets the tracks, which the loader must not be writing. */
  if (r->stream) ht_csr_loader_set_track(r->loader, ht_events_track(&r->events, 2, "loader"));
  return run_epochs(r, res);
}

int ht__train_sparse(const ht_config *cfg, const ht_comm *comm, const ht_train_opts *opts, ht_train_result *res) {
  sparse_run r;
  memset(&r, 0, sizeof r);
  memset(res, 0, sizeof *res);
  res->test_accuracy = res->test_rmse = -1;
  r.cfg = cfg;
  r.comm = comm;
  r.opts = opts;
  r.log.rank = comm->rank;
  int rc = setup_and_run(&r, res);
  ht__hogwild_destroy(&r.hw);
  ht_csr_loader_destroy(&r.loader);
  ht_events_destroy(&r.events);
  ht_sparse_clock_destroy(&r.clock);
  ht_sparse_model_destroy(&r.model);
  ht_csr_free(&r.train);
  ht_csr_free(&r.test);
  free(r.order);
  free(r.config_yaml);
  if (r.metrics) fclose(r.metrics);
  if (r.log.file) fclose(r.log.file);
  return rc;
}
