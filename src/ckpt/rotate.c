/*
 * The checkpoint directory: listing complete checkpoints, keeping the last K
 * (plus the one named in `best`), removing partial files left by a crash.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hytrain/ckpt.h"
#include "hytrain/error.h"

/* Parses "ckpt-<step>.h5" exactly; returns 1 and the step, else 0. */
static int ckpt_name(const char *name, int64_t *step) {
  if (strncmp(name, "ckpt-", 5) != 0) return 0;
  char *end = NULL;
  errno = 0;
  long long v = strtoll(name + 5, &end, 10);
  if (errno || end == name + 5 || v < 0 || strcmp(end, ".h5") != 0) return 0;
  *step = v;
  return 1;
}

static int cmp_desc(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? 1 : x > y ? -1 : 0;
}

int ht_ckpt_list(const char *dir, int64_t **steps, int *n) {
  *steps = NULL;
  *n = 0;
  DIR *d = opendir(dir);
  if (!d) {
    if (errno == ENOENT) return 0;
    return ht_error(HT_EIO, "%s: cannot list checkpoints: %s", dir, strerror(errno));
  }
  int cap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    int64_t s;
    if (!ckpt_name(e->d_name, &s)) continue;
    if (*n == cap) {
      cap = cap ? cap * 2 : 16;
      int64_t *p = realloc(*steps, sizeof(int64_t) * (size_t)cap);
      if (!p) {
        closedir(d);
        free(*steps);
        *steps = NULL;
        *n = 0;
        return ht_error(HT_ENOMEM, "out of memory");
      }
      *steps = p;
    }
    (*steps)[(*n)++] = s;
  }
  closedir(d);
  if (*n) qsort(*steps, (size_t)*n, sizeof(int64_t), cmp_desc);
  return 0;
}

int ht_ckpt_rotate(const char *dir, int keep) {
  if (keep <= 0) return 0;
  int64_t *steps;
  int n;
  HT_CHECK(ht_ckpt_list(dir, &steps, &n));
  char best[256] = "", path[4200];
  snprintf(path, sizeof path, "%s/best", dir);
  FILE *f = fopen(path, "r");
  if (f) {
    if (!fgets(best, sizeof best, f)) best[0] = '\0';
    fclose(f);
    best[strcspn(best, "\r\n")] = '\0';
  }
  int rc = 0;
  for (int i = keep; i < n; i++) {
    char name[64];
    snprintf(name, sizeof name, "ckpt-%lld.h5", (long long)steps[i]);
    if (strcmp(name, best) == 0) continue;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (unlink(path) != 0 && errno != ENOENT && rc == 0)
      rc = ht_error(HT_EIO, "%s: cannot remove an old checkpoint: %s", path, strerror(errno));
  }
  free(steps);
  return rc;
}

int ht_ckpt_clean_partials(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return 0;
  int removed = 0;
  struct dirent *e;
  char path[4200];
  while ((e = readdir(d))) {
    size_t len = strlen(e->d_name);
    if (len < 8 || strcmp(e->d_name + len - 8, ".partial") != 0) continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (unlink(path) == 0) removed++;
  }
  closedir(d);
  return removed;
}
