/*
 * The loader thread in both modes (run at 1, 2 and 4 ranks).
 *
 * Rank 0 writes a file of N = 1003 rows whose feature 0 is the row index and
 * whose label is row % 5, so every batch says which rows it holds. For memory
 * mode and for stream mode with several piece sizes (not dividing the shard),
 * buffer sizes (1 piece .. the whole shard) and prefetch depths, each rank
 * checks that:
 *   - with batch 1, every row of its shard appears exactly once per epoch;
 *     with batch 7, rows are distinct, in the shard, and there are
 *     floor(n / 7) * 7 of them; labels always match their row;
 *   - the same seed gives the same order, another epoch another order;
 *   - a loader started at (epoch, batch k) continues the exact order;
 *   - stream mode whose buffer holds the shard gives memory mode's order;
 *   - normalisation is applied exactly as ht_norm_apply does it, and the
 *     streamed statistics (ht_norm_fit_stream) equal ht_norm_fit's bitwise;
 *   - augmentation is reproducible per (seed, epoch, batch) and flips as
 *     documented.
 * A failure flag is allreduced so every rank returns the same exit code.
 */
#include "hytrain/dataset.h"
#include "hytrain/error.h"
#include "ht_rank_check.h"
#include "hytrain/config.h"
#include "hytrain/loader.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N 1003
#define D 4
#define K 5

#define CHECK(cond, ...) HT_RANK_CHECK(g_rank, g_fail, cond, __VA_ARGS__)

/* Test-program state (one process, one thread using it). */
static int g_rank, g_size, g_fail;

static int write_file(const char *path, int64_t n, int d) {
  float *x = malloc(sizeof(float) * (size_t)n * (size_t)d);
  int32_t *y = malloc(sizeof(int32_t) * (size_t)n);
  if (!x || !y) return HT_ENOMEM;
  for (int64_t i = 0; i < n; i++) {
    for (int j = 0; j < d; j++) x[i * d + j] = j == 0 ? (float)i : (float)((i * 7 + j * 13) % 17);
    y[i] = (int32_t)(i % K);
  }
  int rc = ht_dataset_write(path, x, n, d, y, K, NULL, 0, "test_loader", NULL);
  free(x);
  free(y);
  return rc;
}

typedef struct variant {
  const char *name;
  ht_loader_mode mode;
  int64_t chunk_rows;
  int buffer_chunks;
  int prefetch;
} variant;

/* Global row numbers of one epoch, batch by batch, from batch `skip` on;
 * returns how many rows were taken. */
static int64_t run_epoch(ht_loader *l, int64_t epoch, int64_t skip, int64_t *rows) {
  ht_loader_start_epoch(l, epoch, skip);
  int64_t got = 0;
  ht_batch b;
  for (int64_t k = skip; k < l->batches; k++) {
    int rc = ht_loader_next(l, &b);
    CHECK(rc == 0, "next() failed at batch %lld: %s", (long long)k, ht_error_message());
    if (rc < 0) return got;
    for (int i = 0; i < b.n; i++) {
      int64_t row = (int64_t)b.x[i * D];
      rows[got++] = row;
      CHECK(b.y[i] == (int32_t)(row % K), "row %lld has label %d", (long long)row, (int)b.y[i]);
    }
  }
  CHECK(ht_loader_next(l, &b) == HT_EINVAL, "a batch past the end of the epoch");
  ht_error_clear();
  return got;
}

static int make_loader(ht_loader *l, const ht_dataset *ds, const variant *v, int batch, uint64_t seed) {
  ht_loader_opts o;
  ht_loader_opts_default(&o);
  o.mode = v->mode;
  o.chunk_rows = v->chunk_rows;
  o.shuffle_buffer_chunks = v->buffer_chunks;
  o.prefetch = v->prefetch;
  int rc = ht_loader_create_opts(l, ds, batch, 1, seed, g_rank, &o);
  CHECK(rc == 0, "%s: create: %s", v->name, ht_error_message());
  return rc;
}

static void check_variant(const ht_dataset *mem, const ht_dataset *hdr, const variant *v, const int64_t *mem_order) {
  const ht_dataset *ds = v->mode == HT_LOADER_MEMORY ? mem : hdr;
  int64_t n = ds->n;
  int64_t *a = malloc(sizeof(int64_t) * (size_t)n), *b = malloc(sizeof(int64_t) * (size_t)n);
  int64_t *e1 = malloc(sizeof(int64_t) * (size_t)(n + 1));
  char *seen = calloc((size_t)n, 1);
  ht_loader l, l2;
  if (make_loader(&l, ds, v, 1, 11) < 0) goto out;

  /* Batch 1: every row exactly once, in two epochs with different orders. */
  for (int64_t e = 0; e < 2; e++) {
    int64_t got = run_epoch(&l, e, 0, e == 0 ? a : b);
    CHECK(got == n, "%s: epoch %lld gave %lld rows, shard has %lld", v->name, (long long)e, (long long)got, (long long)n);
    memset(seen, 0, (size_t)n);
    for (int64_t i = 0; i < got; i++) {
      int64_t r = (e == 0 ? a : b)[i] - ds->row0;
      CHECK(r >= 0 && r < n && !seen[r], "%s: epoch %lld: row %lld repeated or outside the shard", v->name,
            (long long)e, (long long)(r + ds->row0));
      if (r >= 0 && r < n) seen[r] = 1;
    }
  }
  if (n > 8) CHECK(memcmp(a, b, sizeof(int64_t) * (size_t)n) != 0, "%s: epochs 0 and 1 have the same order", v->name);
  memcpy(e1, b, sizeof(int64_t) * (size_t)n);
  if (mem_order && n > 0)
    CHECK(memcmp(a, mem_order, sizeof(int64_t) * (size_t)n) == 0, "%s: order differs from memory mode's", v->name);

  /* Same seed, new loader: same order (epoch 1 started cold equals epoch 1
   * that the first loader ran on into). Then resume mid-epoch at batch k. */
  if (make_loader(&l2, ds, v, 1, 11) == 0) {
    int64_t got = run_epoch(&l2, 1, 0, b);
    CHECK(got == n && memcmp(e1, b, sizeof(int64_t) * (size_t)n) == 0, "%s: epoch 1 cold != epoch 1 run on", v->name);
    got = run_epoch(&l2, 0, 0, b);
    CHECK(got == n && memcmp(a, b, sizeof(int64_t) * (size_t)n) == 0, "%s: same seed, different order", v->name);
    int64_t k = n / 3;
    got = run_epoch(&l2, 0, k, b);
    CHECK(got == n - k && memcmp(a + k, b, sizeof(int64_t) * (size_t)(n - k)) == 0,
          "%s: resumed at batch %lld, the order does not continue", v->name, (long long)k);
    /* An interrupted epoch: take a few batches, then restart another epoch. */
    ht_loader_start_epoch(&l2, 1, 0);
    ht_batch bb;
    for (int i = 0; i < 3 && i < n; i++) ht_loader_next(&l2, &bb);
    got = run_epoch(&l2, 0, 0, b);
    CHECK(got == n && memcmp(a, b, sizeof(int64_t) * (size_t)n) == 0, "%s: restart after a partial epoch", v->name);
    ht_loader_destroy(&l2);
  }
  ht_loader_destroy(&l);

  /* Batch 7 (does not divide the shard): drop_last semantics. */
  if (make_loader(&l, ds, v, 7, 12) == 0) {
    int64_t got = run_epoch(&l, 3, 0, a);
    CHECK(got == (n / 7) * 7, "%s: batch 7 gave %lld rows, expected %lld", v->name, (long long)got, (long long)((n / 7) * 7));
    memset(seen, 0, (size_t)n);
    for (int64_t i = 0; i < got; i++) {
      int64_t r = a[i] - ds->row0;
      CHECK(r >= 0 && r < n && !seen[r], "%s: batch 7: row %lld repeated or outside", v->name, (long long)a[i]);
      if (r >= 0 && r < n) seen[r] = 1;
    }
    int64_t k = 5;
    int64_t got2 = run_epoch(&l, 3, k, b);
    CHECK(got2 == got - 7 * k && memcmp(a + 7 * k, b, sizeof(int64_t) * (size_t)got2) == 0,
          "%s: batch 7 resumed at batch 5 does not continue the order", v->name);
    ht_loader_destroy(&l);
  }
out:
  free(a);
  free(b);
  free(e1);
  free(seen);
}

/* Normalisation and augmentation through the loader, memory vs stream. */
static void check_norm_and_augment(const ht_dataset *mem, const ht_dataset *hdr) {
  ht_norm nm, ns;
  int rc1 = ht_norm_fit(&nm, mem, 1, MPI_COMM_WORLD);
  int rc2 = ht_norm_fit_stream(&ns, hdr, 1, 37, MPI_COMM_WORLD);
  CHECK(rc1 == 0 && rc2 == 0, "norm fit: %s", ht_error_message());
  if (rc1 || rc2) return;
  CHECK(memcmp(nm.mean, ns.mean, sizeof(float) * D) == 0 && memcmp(nm.std, ns.std, sizeof(float) * D) == 0,
        "streamed statistics differ from in-memory ones: mean[0] %.9g vs %.9g, std[0] %.9g vs %.9g", nm.mean[0],
        ns.mean[0], nm.std[0], ns.std[0]);
  /* Stream with a whole-shard buffer and memory give identical normalised batches. */
  ht_loader lm, ls;
  ht_loader_opts o;
  ht_loader_opts_default(&o);
  o.norm = &nm;
  o.flip = 1;
  o.shift = 1;
  o.image_side = 2;
  int ok = ht_loader_create_opts(&lm, mem, 4, 1, 5, g_rank, &o) == 0;
  o.mode = HT_LOADER_STREAM;
  o.chunk_rows = 64;
  o.shuffle_buffer_chunks = 1000;
  ok = ok && ht_loader_create_opts(&ls, hdr, 4, 1, 5, g_rank, &o) == 0;
  CHECK(ok, "create: %s", ht_error_message());
  if (ok) {
    ht_loader_start_epoch(&lm, 2, 0);
    ht_loader_start_epoch(&ls, 2, 0);
    ht_batch bm, bs;
    int same = 1, augmented = 0;
    for (int64_t k = 0; k < lm.batches; k++) {
      if (ht_loader_next(&lm, &bm) < 0 || ht_loader_next(&ls, &bs) < 0) {
        CHECK(0, "next: %s", ht_error_message());
        break;
      }
      same &= memcmp(bm.x, bs.x, sizeof(float) * 4 * D) == 0;
      /* Un-normalise and compare with the raw row: feature 0 is the row only
       * where no augmentation moved it; count how often it moved. */
      for (int i = 0; i < 4; i++) {
        float raw0 = bm.x[i * D] * nm.std[0] + nm.mean[0];
        augmented += raw0 < 0 || raw0 > N || bm.y[i] != ((int64_t)(raw0 + 0.5f)) % K;
      }
    }
    CHECK(same, "memory and whole-shard stream batches differ");
    CHECK(augmented > 0, "flip,shift:1 never changed pixel 0 of a 2x2 image");
  }
  ht_loader_destroy(&lm);
  ht_loader_destroy(&ls);
  ht_norm_free(&nm);
  ht_norm_free(&ns);
}

/* Applies mirror (0/1) and shift (dx, dy) to a side x side image as
 * documented: out[y][x] = in[y-dy][mirror ? side-1-(x-dx) : x-dx], 0 outside. */
static void reference_transform(const float *in, float *out, int side, int mirror, int dx, int dy) {
  for (int y = 0; y < side; y++)
    for (int x = 0; x < side; x++) {
      int sy = y - dy, sx = x - dx;
      if (mirror) sx = side - 1 - sx;
      out[y * side + x] = sy >= 0 && sy < side && sx >= 0 && sx < side ? in[sy * side + sx] : 0.0f;
    }
}

/* Every augmented 3x3 image must be one of the documented transforms of its
 * source row, and over 600 rows each transform must occur (the draws are
 * uniform: 18 transforms, so each is expected ~33 times). */
static void check_augment_transforms(void) {
  enum { S = 3, R = 600 };
  ht_dataset ds;
  memset(&ds, 0, sizeof ds);
  snprintf(ds.path, sizeof ds.path, "in-memory");
  ds.n_total = ds.n = R;
  ds.d = S * S;
  ds.t = 1;
  ds.task = HT_TASK_CLASSIFY;
  ds.num_classes = 2;
  ds.x = malloc(sizeof(float) * R * S * S);
  ds.y = malloc(sizeof(int32_t) * R);
  for (int i = 0; i < R; i++) {
    ds.y[i] = i % 2;
    /* Distinct nonzero pixels that also say which row they came from. */
    for (int j = 0; j < S * S; j++) ds.x[i * S * S + j] = (float)(1000 * i + j + 1);
  }
  ht_loader_opts o;
  ht_loader_opts_default(&o);
  o.flip = 1;
  o.shift = 1;
  o.image_side = S;
  ht_loader l;
  int count[2][3][3] = {{{0}}};
  if (ht_loader_create_opts(&l, &ds, 1, 1, 3, g_rank, &o) == 0) {
    ht_loader_start_epoch(&l, 0, 0);
    ht_batch b;
    float ref[S * S];
    for (int k = 0; k < R && ht_loader_next(&l, &b) == 0; k++) {
      int row = -1;
      for (int j = 0; j < S * S && row < 0; j++)
        if (b.x[j] != 0.0f) row = (int)(b.x[j] / 1000.0f);
      int matches = 0;
      for (int m = 0; m < 2; m++)
        for (int dy = -1; dy <= 1; dy++)
          for (int dx = -1; dx <= 1; dx++) {
            reference_transform(ds.x + (size_t)row * S * S, ref, S, m, dx, dy);
            if (row >= 0 && memcmp(ref, b.x, sizeof ref) == 0) {
              matches++;
              count[m][dy + 1][dx + 1]++;
            }
          }
      CHECK(matches == 1, "augmented row %d matches %d of the 18 transforms", row, matches);
    }
    ht_loader_destroy(&l);
    int least = R;
    for (int m = 0; m < 2; m++)
      for (int a = 0; a < 3; a++)
        for (int c = 0; c < 3; c++) least = count[m][a][c] < least ? count[m][a][c] : least;
    CHECK(least >= 10, "some flip/shift combination occurred only %d times in %d rows", least, R);
  } else {
    CHECK(0, "create: %s", ht_error_message());
  }
  free(ds.x);
  free(ds.y);
}

/* data.shuffle: false visits the shard in file order in both modes. */
static void check_no_shuffle(const ht_dataset *mem, const ht_dataset *hdr) {
  for (int mode = 0; mode < 2; mode++) {
    ht_loader_opts o;
    ht_loader_opts_default(&o);
    o.mode = mode ? HT_LOADER_STREAM : HT_LOADER_MEMORY;
    o.chunk_rows = 10;
    o.shuffle_buffer_chunks = 2;
    ht_loader l;
    const ht_dataset *ds = mode ? hdr : mem;
    if (ht_loader_create_opts(&l, ds, 3, 0, 9, g_rank, &o) < 0) {
      CHECK(0, "create: %s", ht_error_message());
      continue;
    }
    int64_t *rows = malloc(sizeof(int64_t) * (size_t)(ds->n + 1));
    int64_t got = run_epoch(&l, 4, 0, rows);
    int in_order = got == (ds->n / 3) * 3;
    for (int64_t i = 0; i < got; i++) in_order &= rows[i] == ds->row0 + i;
    CHECK(in_order, "%s mode without shuffle: rows are not in file order", mode ? "stream" : "memory");
    free(rows);
    ht_loader_destroy(&l);
  }
}

/* data.augment as the config parses it (--set data.augment=TEXT). */
static int ht_loader_parse_augment(const char *text, int *flip, int *shift) {
  ht_config c;
  char set[128];
  ht_config_defaults(&c);
  snprintf(set, sizeof set, "data.augment=%s", text);
  int rc = ht_config_set(&c, set);
  *flip = c.data.augment.flip;
  *shift = c.data.augment.shift;
  return rc;
}

/* The data.augment syntax. */
static void check_augment_parse(void) {
  int f, s;
  CHECK(ht_loader_parse_augment("none", &f, &s) == 0 && !f && !s, "none");
  CHECK(ht_loader_parse_augment("flip,shift:2", &f, &s) == 0 && f && s == 2, "flip,shift:2");
  CHECK(ht_loader_parse_augment("shift:3", &f, &s) == 0 && !f && s == 3, "shift:3");
  CHECK(ht_loader_parse_augment("flip,flip", &f, &s) < 0, "flip twice accepted");
  CHECK(ht_loader_parse_augment("shift:0", &f, &s) < 0, "shift:0 accepted");
  CHECK(ht_loader_parse_augment("rotate", &f, &s) < 0, "rotate accepted");
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  char path[256];
  int rc = 0;
  if (g_rank == 0) {
    snprintf(path, sizeof path, "%s/hytrain-loader-%d.h5", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
    rc = write_file(path, N, D);
    if (rc < 0) fprintf(stderr, "write: %s\n", ht_error_message());
  }
  MPI_Bcast(path, sizeof path, MPI_CHAR, 0, MPI_COMM_WORLD);
  MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
  if (rc < 0) {
    MPI_Finalize();
    return 1;
  }
  ht_dataset mem, hdr;
  CHECK(ht_dataset_read_shard(&mem, path, g_rank, g_size) == 0, "read: %s", ht_error_message());
  CHECK(ht_dataset_probe(&hdr, path) == 0, "probe: %s", ht_error_message());
  ht_shard_range(hdr.n_total, g_rank, g_size, &hdr.row0, &hdr.n);

  /* Memory mode's order is the reference for whole-shard stream buffers. */
  int64_t *mem_order = malloc(sizeof(int64_t) * (size_t)(mem.n + 1));
  {
    ht_loader l;
    variant v = {"memory", HT_LOADER_MEMORY, 0, 1, 2};
    if (make_loader(&l, &mem, &v, 1, 11) == 0) {
      run_epoch(&l, 0, 0, mem_order);
      ht_loader_destroy(&l);
    }
  }
  const variant vs[] = {
      {"memory prefetch 1", HT_LOADER_MEMORY, 0, 1, 1},
      {"memory prefetch 4", HT_LOADER_MEMORY, 0, 1, 4},
      {"stream C=16 K=1", HT_LOADER_STREAM, 16, 1, 2},
      {"stream C=50 K=3", HT_LOADER_STREAM, 50, 3, 3},
      {"stream C=128 K=2", HT_LOADER_STREAM, 128, 2, 1},
      {"stream C=7 K=9", HT_LOADER_STREAM, 7, 9, 4},
      {"stream C=100 K=20 (whole shard)", HT_LOADER_STREAM, 100, 20, 2},
      {"stream C=2000 K=1 (one piece)", HT_LOADER_STREAM, 2000, 1, 3},
  };
  for (size_t i = 0; i < sizeof vs / sizeof vs[0]; i++) {
    /* Only a buffer that holds the whole shard promises memory mode's order. */
    int whole = vs[i].mode == HT_LOADER_STREAM && vs[i].chunk_rows * vs[i].buffer_chunks >= hdr.n;
    check_variant(&mem, &hdr, &vs[i], whole || vs[i].mode == HT_LOADER_MEMORY ? mem_order : NULL);
  }
  check_norm_and_augment(&mem, &hdr);
  check_augment_parse();
  check_no_shuffle(&mem, &hdr);
  check_augment_transforms();

  free(mem_order);
  ht_dataset_free(&mem);
  MPI_Barrier(MPI_COMM_WORLD);
  if (g_rank == 0) unlink(path);
  int total = 0;
  MPI_Allreduce(&g_fail, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (g_rank == 0) printf("%s: %d failed check(s) over %d rank(s)\n", total ? "FAIL" : "ok", total, g_size);
  MPI_Finalize();
  return total ? 1 : 0;
}
