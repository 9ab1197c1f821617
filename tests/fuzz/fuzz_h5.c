/*
 * Fuzz target: the HDF5 dataset reader (src/data/dataset.c) and checkpoint
 * reader (src/ckpt), on the bytes of small HDF5 files. Input byte 0: even,
 * the rest is a dataset file (probe, then read it whole as one rank's shard;
 * a file with /csr goes to the sparse reader, src/data/csr.c, as hytrain's
 * own dispatch does); odd, a checkpoint (inspect, read the model description, build that model
 * and load its weights). Shapes that would take more than ~64 MB are not
 * read: the readers allocate what a valid file of that shape needs, which is
 * not a bug.
 */
#include <stdio.h>

#include "fuzz_util.h"
#include "hytrain/ckpt.h"
#include "hytrain/csr.h"
#include "hytrain/dataset.h"
#include "hytrain/error.h"
#include "hytrain/model.h"

#define FUZZ_MAX_FLOATS (16 << 20)

static void sparse(const char *path) {
  ht_csr cs = {0};
  if (ht_csr_probe(&cs, path) == 0 && (double)cs.n_total + (double)cs.nnz_total < FUZZ_MAX_FLOATS) {
    ht_csr_free(&cs);
    ht_csr_read_shard(&cs, path, 0, 1);
  }
  ht_csr_free(&cs);
}

static void dataset(const char *path) {
  if (ht_csr_is_csr(path)) {
    sparse(path);
    return;
  }
  ht_dataset ds = {0};
  if (ht_dataset_probe(&ds, path) == 0 && (double)ds.n_total * (double)(ds.d + ds.t + 1) < FUZZ_MAX_FLOATS) {
    ht_dataset_free(&ds);
    ht_dataset_read_shard(&ds, path, 0, 1);
  }
  ht_dataset_free(&ds);
}

static void checkpoint(const char *path) {
  FILE *out = fopen("/dev/null", "w");
  if (out) {
    ht_ckpt_inspect(path, out);
    fclose(out);
  }
  ht_model_spec spec;
  ht_ckpt_info info;
  if (ht_ckpt_load_spec(path, &spec, &info) != 0) return;
  double params = 0, in = spec.in;
  for (int i = 0; i < spec.n_hidden; i++) {
    params += in * spec.hidden[i];
    in = spec.hidden[i];
  }
  params += in * spec.out;
  if (params > FUZZ_MAX_FLOATS || spec.in > FUZZ_MAX_FLOATS || spec.out > FUZZ_MAX_FLOATS) return;
  ht_model m;
  if (ht_model_create(&m, &spec, 1) != 0) return;
  ht_norm norm = {0};
  ht_ckpt_load_params(path, &m, &norm);
  ht_norm_free(&norm);
  ht_model_destroy(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  const char *path = fuzz_file(0, "in.h5", data + 1, size - 1);
  if (data[0] % 2 == 0)
    dataset(path);
  else
    checkpoint(path);
  ht_error_clear();
  return 0;
}
