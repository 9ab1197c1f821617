/*
 * Fuzz target: the sweep-file parser (src/sweep/sweep_file.c). Input: a sweep
 * file, in a directory that also holds a valid base config (base.yaml) and a
 * config with a bad value (bad.yaml), so `config:` can name either. Loads it,
 * then builds the config of up to four trials.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_util.h"
#include "hytrain/error.h"
#include "hytrain/sweep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int ready;
  if (!ready) {
    static const char base[] = "model: {type: softmax}\ntrain: {epochs: 1, batch_size: 8}\ndata: {train: t.h5}\n";
    static const char bad[] = "train: {epochs: -1}\n";
    fuzz_file(1, "base.yaml", (const uint8_t *)base, sizeof base - 1);
    fuzz_file(2, "bad.yaml", (const uint8_t *)bad, sizeof bad - 1);
    ready = 1;
  }
  const char *path = fuzz_file(0, "sweep.yaml", data, size);
  static ht_sweep sw; /* large: keep it off the stack */
  if (ht_sweep_load(&sw, path) == 0) {
    char value[256];
    for (int t = 0; t < sw.n_trials && t < 4; t++) {
      for (int p = 0; p < sw.n_params; p++) ht_sweep_value(&sw, t, p, value, sizeof value);
      ht_config cfg;
      ht_sweep_trial_config(&sw, t, NULL, 0, &cfg);
    }
  }
  ht_error_clear();
  return 0;
}
