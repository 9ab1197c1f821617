/*
 * Atomic, durable file replacement (src/core/fileio.c): the final file
 * appears with exactly the bytes written and no NAME.partial is left; every
 * failure (missing directory, a rename that cannot happen, a writer that
 * gives up) removes the .partial file and leaves the old NAME untouched; the
 * directory fsync works for nested, relative and bare names.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ht_test.h"
#include "hytrain/error.h"
#include "hytrain/fileio.h"

static int exists(const char *path) { return access(path, F_OK) == 0; }

/* The whole file as a string (fails the test when unreadable). */
static void read_all(const char *path, char *buf, size_t len) {
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  size_t n = fread(buf, 1, len - 1, f);
  buf[n] = '\0';
  fclose(f);
}

static void write_creates_file_without_partial(void **state) {
  const char *dir = *state;
  char path[512], partial[600], got[64];
  snprintf(path, sizeof path, "%s/out.txt", dir);
  snprintf(partial, sizeof partial, "%s.partial", path);
  assert_int_equal(ht_file_write(path, "hello\n", 6), 0);
  read_all(path, got, sizeof got);
  assert_string_equal(got, "hello\n");
  assert_false(exists(partial));
  /* A second write replaces the file as a whole. */
  assert_int_equal(ht_write_file_atomic(dir, "out.txt", "second"), 0);
  read_all(path, got, sizeof got);
  assert_string_equal(got, "second");
  assert_false(exists(partial));
}

static void stream_commit_and_discard(void **state) {
  const char *dir = *state;
  char path[512], got[64];
  snprintf(path, sizeof path, "%s/stream.json", dir);
  ht_file_out o;
  assert_int_equal(ht_file_open(&o, path), 0);
  fprintf(o.f, "{\"n\": %d}\n", 42);
  /* Until the commit only the .partial file exists. */
  assert_false(exists(path));
  assert_true(exists(o.partial));
  assert_int_equal(ht_file_close_commit(&o), 0);
  read_all(path, got, sizeof got);
  assert_string_equal(got, "{\"n\": 42}\n");
  assert_false(exists(o.partial));

  /* A writer that gives up leaves the committed file as it was. */
  assert_int_equal(ht_file_open(&o, path), 0);
  fprintf(o.f, "half");
  ht_file_discard(&o);
  assert_false(exists(o.partial));
  read_all(path, got, sizeof got);
  assert_string_equal(got, "{\"n\": 42}\n");
}

/* The rename fails when NAME is a non-empty directory: the .partial file is
 * removed, NAME is untouched and the message names NAME. */
static void failed_rename_removes_partial(void **state) {
  const char *dir = *state;
  char target[512], inner[600], partial[600];
  snprintf(target, sizeof target, "%s/taken", dir);
  snprintf(inner, sizeof inner, "%s/keep", target);
  snprintf(partial, sizeof partial, "%s.partial", target);
  assert_int_equal(mkdir(target, 0755), 0);
  ht_test_write_file(inner, "x");
  ht_error_clear();
  int rc = ht_file_write(target, "data", 4);
  assert_int_equal(rc, HT_EIO);
  assert_non_null(strstr(ht_error_message(), target));
  assert_non_null(strstr(ht_error_message(), "cannot rename into place"));
  ht_error_clear();
  assert_false(exists(partial));
  assert_true(exists(inner));
}

static void missing_directory_leaves_nothing(void **state) {
  const char *dir = *state;
  char path[512], partial[600];
  snprintf(path, sizeof path, "%s/no/such/dir/f.txt", dir);
  snprintf(partial, sizeof partial, "%s.partial", path);
  ht_error_clear();
  assert_int_equal(ht_file_write(path, "x", 1), HT_ENOENT);
  assert_non_null(strstr(ht_error_message(), partial));
  ht_error_clear();
  assert_false(exists(partial));
  assert_false(exists(path));
}

/* ht_file_commit of a .partial file that is not there (its fsync fails):
 * an error naming it, and no final file. */
static void commit_without_partial_fails(void **state) {
  const char *dir = *state;
  char path[512], partial[600];
  snprintf(path, sizeof path, "%s/ghost.txt", dir);
  assert_int_equal(ht_file_partial_name(path, partial, sizeof partial), 0);
  ht_error_clear();
  assert_int_equal(ht_file_commit(partial, path), HT_EIO);
  assert_non_null(strstr(ht_error_message(), partial));
  ht_error_clear();
  assert_false(exists(path));
}

/* The directory fsync after the rename, for a name with a directory part, a
 * bare name (directory ".") and a file in the root's child ("/x" style is
 * covered by the parent rule "/"); and the fsync call itself on directories. */
static void directory_fsync_paths(void **state) {
  const char *dir = *state;
  assert_int_equal(ht_file_fsync(dir, 1), 0);
  assert_int_equal(ht_file_fsync("/", 1), 0);
  char missing[512];
  snprintf(missing, sizeof missing, "%s/absent", dir);
  ht_error_clear();
  assert_int_equal(ht_file_fsync(missing, 1), HT_EIO);
  assert_non_null(strstr(ht_error_message(), missing));
  ht_error_clear();

  char cwd[1024], got[16];
  assert_non_null(getcwd(cwd, sizeof cwd));
  assert_int_equal(chdir(dir), 0);
  int rc = ht_file_write("bare.txt", "b", 1);
  int rc2 = ht_file_write("./dot.txt", "d", 1);
  assert_int_equal(chdir(cwd), 0);
  assert_int_equal(rc, 0);
  assert_int_equal(rc2, 0);
  char path[512];
  snprintf(path, sizeof path, "%s/bare.txt", dir);
  read_all(path, got, sizeof got);
  assert_string_equal(got, "b");
  snprintf(path, sizeof path, "%s/dot.txt", dir);
  read_all(path, got, sizeof got);
  assert_string_equal(got, "d");
}

static void partial_name_too_long(void **state) {
  (void)state;
  char small[16];
  ht_error_clear();
  assert_int_equal(ht_file_partial_name("/a/rather/long/name.h5", small, sizeof small), HT_EINVAL);
  assert_non_null(strstr(ht_error_message(), "path too long"));
  ht_error_clear();
  assert_int_equal(ht_file_partial_name("x.h5", small, sizeof small), 0);
  assert_string_equal(small, "x.h5.partial");
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(write_creates_file_without_partial, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(stream_commit_and_discard, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(failed_rename_removes_partial, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(missing_directory_leaves_nothing, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(commit_without_partial_fails, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test_setup_teardown(directory_fsync_paths, ht_test_tmpdir_setup, ht_test_tmpdir_teardown),
    cmocka_unit_test(partial_name_too_long),
};

HT_TEST_MAIN("fileio", tests)
