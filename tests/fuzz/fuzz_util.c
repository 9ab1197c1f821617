/* Temporary files of the fuzz targets (fuzz_util.h). */
#include "fuzz_util.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hytrain/error.h"

static char dir[64];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

static void cleanup(void) {
  if (dir[0]) nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

const char *fuzz_dir(void) {
  if (!dir[0]) {
    snprintf(dir, sizeof dir, "/tmp/hytrain-fuzz-XXXXXX");
    if (!mkdtemp(dir)) {
      perror("mkdtemp");
      abort();
    }
    atexit(cleanup);
  }
  return dir;
}

const char *fuzz_file(int slot, const char *name, const uint8_t *data, size_t size) {
  static char paths[4][128];
  char *p = paths[slot & 3];
  snprintf(p, sizeof paths[0], "%s/%s", fuzz_dir(), name);
  FILE *f = fopen(p, "wb");
  if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
    perror(p);
    abort();
  }
  return p;
}
