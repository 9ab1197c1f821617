/*
 * Test-runner glue: each cmocka case is its own CTest entry.
 *   test_x            runs every case
 *   test_x NAME       runs the case named NAME (fails if there is none)
 *   test_x --expect N fails unless the binary holds exactly N cases, so a case
 *                     missing from CMake's CASES list is noticed.
 */
#ifndef HT_TEST_H
#define HT_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

int ht_test_main(const char *group, const struct CMUnitTest *tests, size_t n, int argc, char **argv);

#define HT_TEST_MAIN(group, tests) \
  int main(int argc, char **argv) { return ht_test_main(group, tests, sizeof(tests) / sizeof((tests)[0]), argc, argv); }

/* Asserts |a - b| <= atol + rtol*|b| and prints both values on failure. */
#define ht_assert_close(a, b, rtol, atol) ht__assert_close((double)(a), (double)(b), (rtol), (atol), #a, #b, __FILE__, __LINE__)
void ht__assert_close(double a, double b, double rtol, double atol, const char *ea, const char *eb, const char *file, int line);

/* A fresh empty directory under $TMPDIR (or /tmp); path written to buf. */
void ht_test_tmpdir(char *buf, size_t len);

/* cmocka fixtures: *state becomes a fresh temporary directory (char *), removed
 * with everything in it afterwards (cmocka runs the teardown also when the
 * case fails). */
int ht_test_tmpdir_setup(void **state);
int ht_test_tmpdir_teardown(void **state);

/* Writes text to path; fails the test on error. */
void ht_test_write_file(const char *path, const char *text);

#endif
