/*
 * hytrain inspect: a checkpoint's attributes, every dataset with its shape
 * and checksum status (each dataset is read in full so HDF5 verifies its
 * fletcher32 checksum), and the config it was trained with.
 */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckpt/h5io.h"
#include "hytrain/ckpt.h"
#include "hytrain/error.h"
#include "hytrain/sparse_ckpt.h"

typedef struct dir_walk {
  FILE *out;
  const char *path;
  int bad;            /* datasets that failed */
  char first[1400];   /* the first failure, as an error line */
  int first_code;
} dir_walk;

static void inspect_fail(dir_walk *w, int code, const char *msg) {
  if (!w->bad++) {
    snprintf(w->first, sizeof w->first, "%s", msg);
    w->first_code = code;
  }
}

static herr_t visit(hid_t obj, const char *name, const H5O_info_t *info, void *user) {
  dir_walk *w = user;
  if (info->type != H5O_TYPE_DATASET) return 0;
  char msg[1400];
  hid_t ds = HT_H5_QUIET(H5Dopen2(obj, name, H5P_DEFAULT));
  if (ds < 0) {
    H5Eclear2(H5E_DEFAULT);
    snprintf(msg, sizeof msg, "%s: /%s: cannot open the dataset (corrupt file?)", w->path, name);
    fprintf(w->out, "  /%-34s  CANNOT OPEN\n", name);
    inspect_fail(w, HT_EDATA, msg);
    return 0;
  }
  hid_t space = HT_H5_QUIET(H5Dget_space(ds)), type = HT_H5_QUIET(H5Dget_type(ds)), dcpl = HT_H5_QUIET(H5Dget_create_plist(ds));
  hsize_t dims[8] = {0};
  int ndims = HT_H5_QUIET(H5Sget_simple_extent_ndims(space));
  if (ndims > 0 && ndims <= 8) HT_H5_QUIET(H5Sget_simple_extent_dims(space, dims, NULL));
  char shape[128] = "[";
  size_t off = 1;
  for (int i = 0; i < ndims && off < sizeof shape; i++)
    off += (size_t)snprintf(shape + off, sizeof shape - off, "%s%llu", i ? ", " : "", (unsigned long long)dims[i]);
  if (off < sizeof shape) snprintf(shape + off, sizeof shape - off, "]");
  int has_fletcher = 0;
  int nf = HT_H5_QUIET(H5Pget_nfilters(dcpl));
  for (int i = 0; i < nf; i++) {
    unsigned flags;
    size_t nelmts = 0;
    char fname[64];
    if (HT_H5_QUIET(H5Pget_filter2(dcpl, (unsigned)i, &flags, &nelmts, NULL, sizeof fname, fname, NULL)) == H5Z_FILTER_FLETCHER32)
      has_fletcher = 1;
  }
  char tname[96];
  ht__h5num_describe(type, tname, sizeof tname);
  /* Only the standard numeric types are read (in the file's own type, so
   * HDF5 converts nothing): checkpoints hold nothing else. */
  ht_h5num num;
  int known = ht__h5num_identify(type, &num) == 0;
  hssize_t n = HT_H5_QUIET(H5Sget_simple_extent_npoints(space));
  void *buf = known ? malloc((size_t)(n > 0 ? n : 1) * num.size) : NULL;
  herr_t rc = buf ? HT_H5_QUIET(H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf)) : -1;
  free(buf);
  const char *status;
  if (!known) {
    status = "UNEXPECTED TYPE";
    snprintf(msg, sizeof msg, "%s: /%s: stored as %s, which no checkpoint dataset is (corrupt or foreign file?)", w->path,
             name, tname);
    inspect_fail(w, HT_EDATA, msg);
  } else if (rc < 0) {
    H5Eclear2(H5E_DEFAULT);
    status = "CORRUPT (fletcher32 mismatch or unreadable)";
    snprintf(msg, sizeof msg, "%s: /%s: data cannot be read or fails its fletcher32 checksum (corrupt file)", w->path,
             name);
    inspect_fail(w, HT_EDATA, msg);
  } else if (!has_fletcher) {
    status = "no checksum";
    snprintf(msg, sizeof msg, "%s: /%s: dataset has no fletcher32 checksum", w->path, name);
    inspect_fail(w, HT_EDATA, msg);
  } else {
    status = "fletcher32 ok";
  }
  fprintf(w->out, "  /%-34s %-8s %-16s %s\n", name, tname, shape, status);
  H5Pclose(dcpl);
  H5Tclose(type);
  H5Sclose(space);
  H5Dclose(ds);
  return 0;
}

/* The value of `key: value` in the config text's `section:` block, or "". */
static void config_value(const char *config, const char *section, const char *key, char *out, size_t len) {
  out[0] = '\0';
  char head[64];
  snprintf(head, sizeof head, "\n%s:", section);
  const char *p = strstr(config, head);
  if (!p) return;
  for (p = strchr(p + 1, '\n'); p && (p[1] == ' ' || p[1] == '#'); p = strchr(p + 1, '\n')) {
    const char *k = p + 1;
    while (*k == ' ') k++;
    size_t kl = strlen(key);
    if (strncmp(k, key, kl) == 0 && k[kl] == ':') {
      k += kl + 1;
      while (*k == ' ') k++;
      size_t n = strcspn(k, " #\n");
      snprintf(out, len, "%.*s", (int)(n < len ? n : len - 1), k);
      return;
    }
  }
}

/* The model section of a sparse checkpoint (hytrain/sparse_ckpt.h), and the
 * engine it was trained with, from its config. */
static int inspect_sparse(const char *path, const char *config, FILE *out) {
  ht_sparse_ckpt_info in;
  HT_CHECK(ht_sparse_ckpt_read_info(path, &in));
  char engine[32];
  config_value(config, "train", "engine", engine, sizeof engine);
  int k = in.type == HT_MODEL_SOFTMAX ? in.num_classes : 1;
  fprintf(out, "  %-18s %lld\n  %-18s %lld\n", "position", (long long)in.position, "threads", (long long)in.threads);
  fprintf(out, "sparse model:\n  %-18s %s\n  %-18s %d\n  %-18s %d%s\n  %-18s %g\n  %-18s %lld ([%d + 1, %d]: a row per feature, the last the bias)\n",
          "type", ht_enum_name(&ht_model_types, (int)in.type), "num_features", in.d, "num_classes", in.num_classes,
          in.num_classes == 0 ? " (regression)" : "", "l2", in.l2, "weights", (long long)(in.d + 1) * k, in.d, k);
  fprintf(out, "  %-18s %s\n", "engine", engine[0] ? engine : "(not in the config)");
  return 0;
}

int ht_ckpt_inspect(const char *path, FILE *out) {
  hid_t f;
  HT_CHECK(ht__ckpt_open(path, &f));
  ht_ckpt_info info;
  memset(&info, 0, sizeof info);
  char created[64] = "", config[65536] = "";
  int rc = 0;
  /* Sparse checkpoints have no samples_seen or batch_size (hytrain/sparse_ckpt.h). */
  int sparse = HT_H5_QUIET(H5Lexists(f, "sparse", H5P_DEFAULT)) > 0;
  const char *dense_keys[] = {"step", "epoch", "samples_seen", "world_size", "batch_size"};
  const char *sparse_keys[] = {"step", "epoch", "world_size"};
  const char **keys = sparse ? sparse_keys : dense_keys;
  size_t n_keys = sparse ? 3 : 5;
  fprintf(out, "checkpoint %s\n  format             %s\n  format_version     %d\n", path, HT_CKPT_FORMAT,
          HT_CKPT_VERSION);
  for (size_t i = 0; i < n_keys && rc == 0; i++) {
    int64_t v = 0;
    rc = ht__attr_read(f, keys[i], HT_H5NUM_INT64, &v, path);
    if (rc == 0) fprintf(out, "  %-18s %lld\n", keys[i], (long long)v);
  }
  if (rc == 0) rc = ht__attr_read_str(f, "created", created, sizeof created, path);
  if (rc == 0) rc = ht__attr_read_str(f, "data_test", info.data_test, sizeof info.data_test, path);
  if (rc == 0) rc = ht__attr_read_str(f, "config", config, sizeof config, path);
  if (rc == 0) rc = ht__attr_read_str_opt(f, "compute_backend", info.compute_backend, sizeof info.compute_backend, path);
  if (rc < 0) {
    H5Fclose(f);
    return rc;
  }
  fprintf(out, "  %-18s %s\n  %-18s %s\n", "created", created, "data_test", info.data_test);
  if (info.compute_backend[0]) fprintf(out, "  %-18s %s\n", "compute_backend", info.compute_backend);
  if (sparse && (rc = inspect_sparse(path, config, out)) < 0) {
    H5Fclose(f);
    return rc;
  }
  fprintf(out, "datasets:\n");
  dir_walk w = {.out = out, .path = path};
  if (HT_H5_QUIET(H5Ovisit(f, H5_INDEX_NAME, H5_ITER_INC, visit, &w)) < 0) {
    H5Eclear2(H5E_DEFAULT);
    inspect_fail(&w, HT_EDATA, "");
    snprintf(w.first, sizeof w.first, "%s: cannot walk the file's objects (corrupt metadata?)", path);
  }
  H5Fclose(f);
  fprintf(out, "config:\n%s", config);
  if (config[0] && config[strlen(config) - 1] != '\n') fputc('\n', out);
  if (w.bad) return ht_error(w.first_code, "%s", w.first);
  fprintf(out, "verified: every dataset passed its checksum\n");
  return 0;
}
