/*
 * Fuzz target: the converters (src/data/convert_*.c). Input byte 0 picks the
 * converter and its options, the rest is the input file:
 *   byte0 % 3 == 0: CSV; bits of byte0 pick header (auto/no/yes), the label
 *                   column (last/first), the task and the delimiter (',' or tab);
 *   byte0 % 3 == 1: LIBSVM; bit 3 picks the task, bit 4 dims 0 or 8;
 *   byte0 % 3 == 2: IDX; bytes 1-2 (little-endian) split the rest into the
 *                   images file and the labels file.
 * The output goes to a temporary directory and is removed.
 */
#include <stdio.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "hytrain/convert.h"
#include "hytrain/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  unsigned sel = data[0];
  char out[128];
  snprintf(out, sizeof out, "%s/out.h5", fuzz_dir());
  if (sel % 3 == 0) {
    const char *in = fuzz_file(0, "in.csv", data + 1, size - 1);
    ht_csv_opts o = {.header = (int)((sel >> 2) % 3) - 1,
                     .label_col = (sel & 0x10) ? 0 : -1,
                     .task = (sel & 0x20) ? HT_TASK_REGRESS : HT_TASK_CLASSIFY,
                     .delimiter = (sel & 0x40) ? '\t' : ','};
    ht_convert_csv(in, out, &o);
  } else if (sel % 3 == 1) {
    const char *in = fuzz_file(0, "in.txt", data + 1, size - 1);
    ht_libsvm_opts o = {.dims = (sel & 0x10) ? 8 : 0, .task = (sel & 0x8) ? HT_TASK_REGRESS : HT_TASK_CLASSIFY};
    ht_convert_libsvm(in, out, &o);
  } else {
    if (size < 3) return 0;
    size_t split = (size_t)data[1] | (size_t)data[2] << 8, rest = size - 3;
    if (split > rest) split = rest;
    const char *images = fuzz_file(0, "images.idx", data + 3, split);
    const char *labels = fuzz_file(1, "labels.idx", data + 3 + split, rest - split);
    ht_convert_idx(images, labels, out);
  }
  unlink(out);
  ht_error_clear();
  return 0;
}
