/* Atomic file replacement: write a temporary, fsync, rename, fsync the directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ckpt/atomic.h"
#include "hytrain/ckpt.h"
#include "hytrain/error.h"

int ht__fsync_path(const char *path, int is_dir) {
  int fd = open(path, is_dir ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
  if (fd < 0) return ht_error(HT_EIO, "%s: cannot open for fsync: %s", path, strerror(errno));
  int rc = fsync(fd);
  int err = errno;
  close(fd);
  if (rc != 0) return ht_error(HT_EIO, "%s: fsync failed: %s", path, strerror(err));
  return 0;
}

int ht__commit_partial(const char *partial, const char *final_path) {
  HT_CHECK(ht__fsync_path(partial, 0));
  if (rename(partial, final_path) != 0) {
    int err = errno;
    unlink(partial);
    return ht_error(HT_EIO, "%s: cannot rename into place: %s", final_path, strerror(err));
  }
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", final_path);
  char *slash = strrchr(dir, '/');
  if (slash)
    *slash = '\0';
  else
    snprintf(dir, sizeof dir, ".");
  return ht__fsync_path(dir[0] ? dir : "/", 1);
}

int ht_write_file_atomic(const char *dir, const char *name, const char *text) {
  char path[4096], partial[4200];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  snprintf(partial, sizeof partial, "%s.partial", path);
  FILE *f = fopen(partial, "w");
  if (!f) return ht_error(HT_EIO, "%s: cannot write: %s", partial, strerror(errno));
  size_t len = strlen(text);
  int bad = fwrite(text, 1, len, f) != len;
  bad |= fclose(f) != 0;
  if (bad) {
    unlink(partial);
    return ht_error(HT_EIO, "%s: write failed: %s", partial, strerror(errno));
  }
  return ht__commit_partial(partial, path);
}
