#include "ht_test.h"

#include <ftw.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ht_test_main(const char *group, const struct CMUnitTest *tests, size_t n, int argc, char **argv) {
  if (argc > 2 && strcmp(argv[1], "--expect") == 0) {
    long want = strtol(argv[2], NULL, 10);
    if ((long)n != want) {
      fprintf(stderr, "%s: %zu test cases in the binary, CMake lists %ld\n", group, n, want);
      return 1;
    }
    printf("%s: %zu cases registered\n", group, n);
    return 0;
  }
  if (argc > 1) {
    size_t i;
    for (i = 0; i < n; i++)
      if (strcmp(tests[i].name, argv[1]) == 0) break;
    if (i == n) {
      fprintf(stderr, "%s: no test case named '%s'\n", group, argv[1]);
      return 1;
    }
    return _cmocka_run_group_tests(group, &tests[i], 1, NULL, NULL);
  }
  return _cmocka_run_group_tests(group, tests, n, NULL, NULL);
}

void ht__assert_close(double a, double b, double rtol, double atol, const char *ea, const char *eb, const char *file,
                      int line) {
  double tol = atol + rtol * fabs(b);
  if (!(fabs(a - b) <= tol)) {
    print_error("%s:%d: %s = %.9g is not close to %s = %.9g (|diff| %.3g > tol %.3g)\n", file, line, ea, a, eb, b,
                fabs(a - b), tol);
    _fail(file, line);
  }
}

void ht_test_tmpdir(char *buf, size_t len) {
  const char *base = getenv("TMPDIR");
  snprintf(buf, len, "%s/hytrain-test-XXXXXX", base && base[0] ? base : "/tmp");
  if (!mkdtemp(buf)) fail_msg("mkdtemp(%s) failed", buf);
}

void ht_test_write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (!f) fail_msg("cannot write %s", path);
  fputs(text, f);
  fclose(f);
}

static int ht__rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) { return remove(path); }

int ht_test_tmpdir_setup(void **state) {
  char *dir = malloc(512);
  if (!dir) return -1;
  ht_test_tmpdir(dir, 512);
  *state = dir;
  return 0;
}

int ht_test_tmpdir_teardown(void **state) {
  nftw(*state, ht__rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  free(*state);
  return 0;
}
