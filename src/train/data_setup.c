/*
 * Choosing how the training shard is loaded (data.mode) and describing the
 * choice for the start-up table. Not collective: every rank decides from the
 * same inputs (file header, rank count, config), so all ranks agree.
 */
#include <hdf5.h>
#include <stdio.h>
#include <string.h>

#include "hytrain/error.h"
#include "train/internal.h"

/* Bytes of the largest shard: the first N % P ranks hold one row more. */
static int64_t largest_shard_bytes(const ht_dataset *ds, int size) {
  int64_t rows = ds->n_total / size + (ds->n_total % size ? 1 : 0);
  int64_t label = ds->task == HT_TASK_CLASSIFY ? 4 : (int64_t)ds->t * 4;
  return rows * ((int64_t)ds->d * 4 + label);
}

int ht__data_open_train(const ht_config *cfg, const ht_comm *comm, int batch, ht_dataset *ds, ht_loader_opts *o,
                        char *desc, size_t desc_len) {
  const char *path = cfg->data.train;
  ht_loader_opts_default(o);
  o->prefetch = cfg->data.prefetch;
  o->shuffle_buffer_chunks = cfg->data.shuffle_buffer_chunks;
  o->flip = cfg->data.augment.flip;
  o->shift = cfg->data.augment.shift;

  if (cfg->data.folds > 0) {
    /* K-fold reads rows of several folds, not one contiguous shard: memory mode only. */
    if (cfg->data.mode == HT_DATA_STREAM)
      return ht_error(HT_ECONFIG, "data.mode: stream does not support data.folds (cross-validation); use memory or auto");
    o->mode = HT_LOADER_MEMORY;
    HT_CHECK(ht_dataset_read_fold(ds, path, cfg->data.folds, cfg->data.fold, 0, comm->rank, comm->size));
    snprintf(desc, desc_len, "data: memory mode (k-fold: the %d training folds of %s), prefetch %d",
             cfg->data.folds - 1, path, o->prefetch);
    return 0;
  }
  HT_CHECK(ht_dataset_probe(ds, path));
  const int64_t budget = (int64_t)cfg->data.memory_budget_mb << 20;
  const int64_t shard_bytes = largest_shard_bytes(ds, comm->size);
  int stream = 0;
  const char *why = "data.mode";
  switch (cfg->data.mode) {
  case HT_DATA_MEMORY: stream = 0; break;
  case HT_DATA_STREAM: stream = 1; break;
  case HT_DATA_AUTO:
    stream = shard_bytes > budget;
    why = stream ? "auto: shard > budget" : "auto: shard fits budget";
    break;
  }
  if (o->flip || o->shift) {
    int side = 0;
    while ((int64_t)(side + 1) * (side + 1) <= ds->d) side++;
    o->image_side = side;
  }

  if (!stream) {
    o->mode = HT_LOADER_MEMORY;
    HT_CHECK(ht_dataset_read_shard(ds, path, comm->rank, comm->size));
    snprintf(desc, desc_len, "data: memory mode (%s; shard %.1f MB, data.memory_budget_mb %d), prefetch %d",
             why, (double)shard_bytes / 1048576.0, cfg->data.memory_budget_mb, o->prefetch);
    return 0;
  }

  /* The loader thread reads HDF5 while the main thread may write a
   * checkpoint with it: that needs the library's global lock. */
  hbool_t safe = 0;
  if (H5is_library_threadsafe(&safe) < 0 || !safe)
    return ht_error(HT_ECONFIG,
                    "data.mode: stream needs a thread-safe HDF5 library (the loader thread reads while the "
                    "checkpoint writer writes), and this one (%d.%d.%d) is not; use data.mode: memory or link "
                    "against a thread-safe build (Debian's libhdf5-dev is one)",
                    H5_VERS_MAJOR, H5_VERS_MINOR, H5_VERS_RELEASE);
  o->mode = HT_LOADER_STREAM;
  ht_shard_range(ds->n_total, comm->rank, comm->size, &ds->row0, &ds->n);
  o->chunk_rows = cfg->data.chunk_rows;
  if (o->chunk_rows == 0) {
    ht_dataset_reader *r = NULL;
    HT_CHECK(ht_dataset_reader_open(&r, path, ds));
    o->chunk_rows = ht_loader_auto_chunk_rows(ht_dataset_reader_file_chunk_rows(r), ds->d);
    ht_dataset_reader_close(&r);
  }
  int64_t need = ht_loader_memory_bytes(ds, batch, o);
  if (need > budget)
    return ht_error(HT_ECONFIG,
                    "data.memory_budget_mb: stream mode needs %.0f MB on rank %d (%d pieces of %lld rows of %d "
                    "features, %d batch slots), more than the budget of %d MB; lower data.shuffle_buffer_chunks, "
                    "data.chunk_rows or data.prefetch",
                    (double)need / 1048576.0, comm->rank, o->shuffle_buffer_chunks, (long long)o->chunk_rows, ds->d,
                    o->prefetch + 1, cfg->data.memory_budget_mb);
  snprintf(desc, desc_len,
           "data: stream mode (%s; shard %.1f MB, data.memory_budget_mb %d): pieces of %lld rows, shuffle buffer "
           "%d pieces, prefetch %d, loader memory %.1f MB",
           why, (double)shard_bytes / 1048576.0, cfg->data.memory_budget_mb, (long long)o->chunk_rows,
           o->shuffle_buffer_chunks, o->prefetch, (double)need / 1048576.0);
  return 0;
}

/* Peak resident set size of this process in MB (VmHWM), -1 if unknown. */
static double peak_rss_mb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  double mb = -1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "VmHWM:", 6) == 0) {
      long kb = 0;
      if (sscanf(line + 6, "%ld", &kb) == 1) mb = (double)kb / 1024.0;
      break;
    }
  fclose(f);
  return mb;
}

int ht__peak_rss_report(const ht_comm *comm, const ht_log *log) {
  double mine = peak_rss_mb();
  double all[comm->rank == 0 ? comm->size : 1];
  ht_comm_stall_enter(comm, "the peak memory report's gather (MPI_Gather)");
  int mrc = HT_MPI(MPI_Gather(&mine, 1, MPI_DOUBLE, all, 1, MPI_DOUBLE, 0, comm->main));
  ht_comm_stall_leave(comm);
  if (mrc < 0) return mrc;
  if (comm->rank != 0) return 0;
  char text[1024];
  size_t used = 0;
  for (int r = 0; r < comm->size && used < sizeof text - 32; r++)
    used += (size_t)snprintf(text + used, sizeof text - used, "%s%d:%.0f", r ? " " : "", r, all[r]);
  ht_log_info(log, "peak RSS per rank (MB, VmHWM): %s", text);
  return 0;
}
