/*
 * Replays files through a fuzz target without libFuzzer (the CTest entries
 * fuzz.<target>): every regular file of every directory or file argument is
 * one input. A crash, a sanitizer report or an abort fails the entry; the
 * corpus and every crash file found so far are kept in tests/fuzz/corpus/
 * and tests/fuzz/crashes/ (docs/fuzzing.md).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_util.h"

static int replay(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    return 1;
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
  if (!buf || (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)) {
    fprintf(stderr, "%s: cannot read\n", path);
    fclose(f);
    free(buf);
    return 1;
  }
  fclose(f);
  LLVMFuzzerTestOneInput(buf, (size_t)n);
  free(buf);
  return 0;
}

int main(int argc, char **argv) {
  int inputs = 0, bad = 0;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) != 0) continue; /* e.g. no crashes/ directory yet */
    if (!S_ISDIR(st.st_mode)) {
      bad += replay(argv[i]);
      inputs++;
      continue;
    }
    struct dirent **names;
    int n = scandir(argv[i], &names, NULL, alphasort);
    for (int j = 0; j < n; j++) {
      char path[4096];
      snprintf(path, sizeof path, "%s/%s", argv[i], names[j]->d_name);
      if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
        bad += replay(path);
        inputs++;
      }
      free(names[j]);
    }
    free(names);
  }
  printf("replayed %d input(s)\n", inputs);
  return bad || inputs == 0 ? 1 : 0;
}
