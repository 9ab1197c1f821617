/* Atomic, durable file replacement: NAME.partial, fsync, rename, fsync the directory. */
#include "hytrain/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hytrain/error.h"

int ht_file_partial_name(const char *path, char *partial, size_t len) {
  if (snprintf(partial, len, "%s.partial", path) >= (int)len)
    return ht_error(HT_EINVAL, "%.200s...: path too long (%zu characters)", path, strlen(path));
  return 0;
}

int ht_file_fsync(const char *path, int is_dir) {
  int fd = open(path, is_dir ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
  if (fd < 0) return ht_error(HT_EIO, "%s: cannot open for fsync: %s", path, strerror(errno));
  int rc = fsync(fd);
  int err = errno;
  close(fd);
  if (rc != 0) return ht_error(HT_EIO, "%s: fsync failed: %s", path, strerror(err));
  return 0;
}

/* The directory that holds path ("." for a bare name, "/" for "/x"). */
static int parent_dir(const char *path, char *dir, size_t len) {
  if (snprintf(dir, len, "%s", path) >= (int)len) return ht_error(HT_EINVAL, "%.200s...: path too long", path);
  char *slash = strrchr(dir, '/');
  if (!slash)
    snprintf(dir, len, ".");
  else if (slash == dir)
    dir[1] = '\0';
  else
    *slash = '\0';
  return 0;
}

/* Renames partial over path (removing partial if that fails), then fsyncs the
 * directory: the rename lives in the directory, and without this fsync a
 * power loss can bring back the old name even though the new bytes are on
 * disk. */
static int publish(const char *partial, const char *path) {
  if (rename(partial, path) != 0) {
    int err = errno;
    unlink(partial);
    return ht_error(HT_EIO, "%s: cannot rename into place: %s", path, strerror(err));
  }
  char dir[HT_FILE_PATH_MAX];
  HT_CHECK(parent_dir(path, dir, sizeof dir));
  return ht_file_fsync(dir, 1);
}

int ht_file_commit(const char *partial, const char *path) {
  int rc = ht_file_fsync(partial, 0);
  if (rc < 0) {
    unlink(partial);
    return rc;
  }
  return publish(partial, path);
}

int ht_file_open(ht_file_out *o, const char *path) {
  memset(o, 0, sizeof *o);
  if (snprintf(o->path, sizeof o->path, "%s", path) >= (int)sizeof o->path)
    return ht_error(HT_EINVAL, "%.200s...: path too long", path);
  HT_CHECK(ht_file_partial_name(path, o->partial, sizeof o->partial));
  o->f = fopen(o->partial, "w");
  if (!o->f) return ht_error(errno == ENOENT ? HT_ENOENT : HT_EIO, "%s: cannot write: %s", o->partial, strerror(errno));
  return 0;
}

int ht_file_close_commit(ht_file_out *o) {
  int rc = 0;
  if (fflush(o->f) != 0 || ferror(o->f)) rc = ht_error(HT_EIO, "%s: write failed: %s", o->partial, strerror(errno));
  if (rc == 0 && fsync(fileno(o->f)) != 0) rc = ht_error(HT_EIO, "%s: fsync failed: %s", o->partial, strerror(errno));
  if (fclose(o->f) != 0 && rc == 0) rc = ht_error(HT_EIO, "%s: write failed: %s", o->partial, strerror(errno));
  o->f = NULL;
  if (rc < 0) {
    unlink(o->partial);
    return rc;
  }
  return publish(o->partial, o->path);
}

void ht_file_discard(ht_file_out *o) {
  if (o->f) fclose(o->f);
  o->f = NULL;
  if (o->partial[0]) unlink(o->partial);
}

int ht_file_write(const char *path, const void *data, size_t len) {
  ht_file_out o;
  HT_CHECK(ht_file_open(&o, path));
  if (len > 0 && fwrite(data, 1, len, o.f) != len) {
    int rc = ht_error(HT_EIO, "%s: write failed: %s", o.partial, strerror(errno));
    ht_file_discard(&o);
    return rc;
  }
  return ht_file_close_commit(&o);
}

int ht_write_file_atomic(const char *dir, const char *name, const char *text) {
  char path[HT_FILE_PATH_MAX];
  if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
    return ht_error(HT_EINVAL, "%.200s...: path too long", dir);
  return ht_file_write(path, text, strlen(text));
}
