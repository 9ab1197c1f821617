/*
 * Resolution of relative paths read from a config file.
 *
 * A config usually lives in configs/ of a checkout and names its data as
 * either "../data/x.h5" (relative to itself) or "data/x.h5" (relative to the
 * checkout). So a relative path is tried against, in order, (1) the config
 * file's directory, (2) that directory's parent, (3) the current directory;
 * the first that exists wins, and when none exists (the data is yet to be
 * made) it keeps form (1), which is what the file's author most likely meant.
 * Options flagged HT_OPT_CWD (run.root: an output, often not made yet) are
 * relative to the current directory instead and stay as written.
 *
 * All of this is lexical: "." and ".." are joined as text, not canonicalised,
 * so messages show paths the way the user wrote them.
 */
#include "config_internal.h"

#include <string.h>
#include <sys/stat.h>

#include "hytrain/error.h"

/* The directory part of a file path: "configs/x.yaml" -> "configs",
 * "x.yaml" -> ".", "/x.yaml" -> "/". */
static void dir_of(const char *file, char *dir, size_t cap) {
  const char *slash = strrchr(file, '/');
  size_t n;
  if (!slash) {
    snprintf(dir, cap, ".");
    return;
  }
  n = (size_t)(slash - file);
  while (n > 0 && file[n - 1] == '/') n--;
  if (n == 0) n = 1; /* the root directory keeps its slash */
  snprintf(dir, cap, "%.*s", (int)n, file);
}

/* The parent of a directory path: "configs" -> ".", "." -> "..",
 * "a/b" -> "a", ".." -> "../..", "/a" -> "/", "/" -> "/". */
static void parent_of(const char *dir, char *parent, size_t cap) {
  const char *slash = strrchr(dir, '/');
  const char *last = slash ? slash + 1 : dir;
  size_t keep;
  if (strcmp(dir, "/") == 0) {
    snprintf(parent, cap, "/");
  } else if (strcmp(last, ".") == 0) { /* "x/." -> "x/.." */
    snprintf(parent, cap, "%.*s..", (int)(last - dir), dir);
  } else if (strcmp(last, "..") == 0) {
    snprintf(parent, cap, "%s/..", dir);
  } else if (!slash) {
    snprintf(parent, cap, ".");
  } else {
    keep = (size_t)(slash - dir);
    while (keep > 0 && dir[keep - 1] == '/') keep--;
    if (keep == 0) keep = 1; /* "/a" -> "/" */
    snprintf(parent, cap, "%.*s", (int)keep, dir);
  }
}

/* dir + "/" + rel, leaving out a "." directory. Returns -1 if it does not fit. */
static int join(const char *dir, const char *rel, char *out, size_t cap) {
  int n;
  if (strcmp(dir, ".") == 0)
    n = snprintf(out, cap, "%s", rel);
  else if (dir[strlen(dir) - 1] == '/')
    n = snprintf(out, cap, "%s%s", dir, rel);
  else
    n = snprintf(out, cap, "%s/%s", dir, rel);
  return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static int exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

int ht__config_resolve_path(const char *config_path, const ht_option *opt, char *value, ht__config_fail *fail) {
  char dir[HT_PATH_MAX], parent[HT_PATH_MAX + 4];
  char cand[3][HT_PATH_MAX];
  int ok[3];
  if (value[0] == '\0' || value[0] == '/' || (opt->flags & HT_OPT_CWD)) return 0;
  dir_of(config_path, dir, sizeof dir);
  parent_of(dir, parent, sizeof parent);
  ok[0] = join(dir, value, cand[0], sizeof cand[0]) == 0;
  ok[1] = join(parent, value, cand[1], sizeof cand[1]) == 0;
  ok[2] = join(".", value, cand[2], sizeof cand[2]) == 0;
  for (int i = 0; i < 3; i++) {
    if (ok[i] && exists(cand[i])) {
      memcpy(value, cand[i], strlen(cand[i]) + 1);
      return 0;
    }
  }
  if (!ok[0])
    return ht__config_failf(fail, "'%s' is longer than %d characters once joined to '%s'", value, HT_PATH_MAX - 1,
                            dir);
  memcpy(value, cand[0], strlen(cand[0]) + 1);
  return 0;
}
