/*
 * Checkpoint round trips and verification (src/ckpt): every tensor written is
 * read back bit for bit, for AdamW and momentum SGD; the rank data states,
 * metrics and normalisation survive; a checkpoint of another model shape or
 * optimizer is refused with a message naming the file and dataset; rotation
 * keeps the newest K plus `best`; the async writer commits the same bytes as
 * the synchronous path.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ht_test.h"
#include "hytrain/ckpt.h"
#include "hytrain/fileio.h"
#include "hytrain/ckpt_writer.h"
#include "hytrain/error.h"
#include "hytrain/rng.h"

typedef struct fixture {
  ht_model m;
  ht_optim o;
  ht_norm norm;
  ht_ckpt_rank ranks[3];
  ht_ckpt_state s;
} fixture;

static void fill(float *p, size_t n, uint64_t seed) {
  ht_rng r;
  ht_rng_seed(&r, seed);
  for (size_t i = 0; i < n; i++) p[i] = (float)ht_rng_normal(&r);
}

static void make_spec(ht_model_spec *sp, int hidden) {
  memset(sp, 0, sizeof *sp);
  sp->type = HT_MODEL_MLP;
  sp->in = 7;
  sp->out = 3;
  sp->n_hidden = 2;
  sp->hidden[0] = hidden;
  sp->hidden[1] = 4;
  sp->activation = HT_ACT_RELU;
  sp->init = HT_INIT_AUTO;
}

/* A model with random weights, random optimizer state, 3 rank states. */
static void setup(fixture *f, const char *optim, int hidden, uint64_t seed) {
  memset(f, 0, sizeof *f);
  ht_model_spec sp;
  make_spec(&sp, hidden);
  assert_int_equal(ht_model_create(&f->m, &sp, 4), 0);
  ht_optim_opts oo = {.kind = (ht_optim_kind)ht_enum_parse(&ht_optimizers, optim), .momentum = 0.9, .beta1 = 0.9,
                      .beta2 = 0.999, .eps = 1e-8};
  assert_true(ht_enum_parse(&ht_optimizers, optim) >= 0);
  assert_int_equal(ht_optim_create(&f->o, &oo, f->m.n_params), 0);
  fill(f->m.params, f->m.n_params, seed);
  if (f->o.m) fill(f->o.m, f->m.n_params, seed + 1);
  if (f->o.v) fill(f->o.v, f->m.n_params, seed + 2);
  f->o.t = 1234;
  f->norm.d = 7;
  f->norm.enabled = 1;
  f->norm.mean = malloc(7 * sizeof(float));
  f->norm.std = malloc(7 * sizeof(float));
  fill(f->norm.mean, 7, seed + 3);
  fill(f->norm.std, 7, seed + 4);
  for (int r = 0; r < 3; r++) f->ranks[r] = (ht_ckpt_rank){.epoch = 2, .position = 10 + r, .seed = 77};
  f->s = (ht_ckpt_state){.info = {.step = 90, .epoch = 2, .samples_seen = 5760, .batch_size = 32, .world_size = 3,
                                  .best_name = "test_accuracy", .best_value = 0.75, .best_step = 60,
                                  .progress = {1.5, 7, 0.25, 2, 12.5}},
                         .model = &f->m,
                         .params = f->m.params,
                         .optim = f->o.kind,
                         .opt_m = f->o.m,
                         .opt_v = f->o.v,
                         .opt_t = f->o.t,
                         .ranks = f->ranks,
                         .norm = &f->norm,
                         .config_yaml = "train:\n  seed: 77\n"};
  snprintf(f->s.info.data_test, sizeof f->s.info.data_test, "test.h5");
}

static void teardown(fixture *f) {
  ht_model_destroy(&f->m);
  ht_optim_destroy(&f->o);
  ht_norm_free(&f->norm);
}

/* Writes a's state, reads it into b (same shapes, other contents), compares. */
static void round_trip(const char *optim) {
  char dir[512], path[600];
  ht_test_tmpdir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/ckpt-90.h5", dir);
  fixture a, b;
  setup(&a, optim, 5, 1);
  setup(&b, optim, 5, 99);
  assert_int_equal(ht_ckpt_write(path, &a.s, 0), 0);
  ht_norm_free(&b.norm);
  b.s.ranks = NULL;
  b.s.opt_t = 0;
  memset(&b.s.info, 0, sizeof b.s.info);
  int rc = ht_ckpt_read(path, &b.s);
  if (rc) fprintf(stderr, "%s\n", ht_error_message());
  assert_int_equal(rc, 0);
  assert_memory_equal(a.m.params, b.m.params, a.m.n_params * sizeof(float));
  if (a.o.m) assert_memory_equal(a.o.m, b.o.m, a.m.n_params * sizeof(float));
  if (a.o.v) assert_memory_equal(a.o.v, b.o.v, a.m.n_params * sizeof(float));
  assert_int_equal(b.s.opt_t, 1234);
  assert_memory_equal(a.norm.mean, b.norm.mean, 7 * sizeof(float));
  assert_memory_equal(a.norm.std, b.norm.std, 7 * sizeof(float));
  assert_int_equal(b.norm.enabled, 1);
  assert_int_equal(b.s.info.step, 90);
  assert_int_equal(b.s.info.epoch, 2);
  assert_int_equal(b.s.info.samples_seen, 5760);
  assert_int_equal(b.s.info.batch_size, 32);
  assert_int_equal(b.s.info.world_size, 3);
  assert_string_equal(b.s.info.data_test, "test.h5");
  assert_string_equal(b.s.info.best_name, "test_accuracy");
  ht_assert_close(b.s.info.best_value, 0.75, 0, 0);
  assert_int_equal(b.s.info.best_step, 60);
  ht_assert_close(b.s.info.progress.epoch_loss_sum, 1.5, 0, 0);
  assert_int_equal(b.s.info.progress.epoch_steps, 7);
  ht_assert_close(b.s.info.progress.window_loss_sum, 0.25, 0, 0);
  assert_int_equal(b.s.info.progress.window_steps, 2);
  ht_assert_close(b.s.info.progress.wall_s, 12.5, 0, 0);
  for (int r = 0; r < 3; r++) {
    assert_int_equal(b.s.ranks[r].epoch, 2);
    assert_int_equal(b.s.ranks[r].position, 10 + r);
    assert_int_equal(b.s.ranks[r].seed, 77);
  }
  free(b.s.ranks);
  /* The eval path reads the same weights. */
  ht_model_spec sp;
  ht_ckpt_info info;
  assert_int_equal(ht_ckpt_load_spec(path, &sp, &info), 0);
  assert_int_equal(sp.hidden[0], 5);
  assert_int_equal(info.step, 90);
  teardown(&a);
  teardown(&b);
}

static void round_trip_adamw(void **state) {
  (void)state;
  round_trip("adamw");
}

static void round_trip_sgd_momentum(void **state) {
  (void)state;
  round_trip("sgd");
}

static void shape_mismatch(void **state) {
  (void)state;
  char dir[512], path[600];
  ht_test_tmpdir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/ckpt-90.h5", dir);
  fixture a, b;
  setup(&a, "sgd", 5, 1);
  setup(&b, "sgd", 6, 2); /* hidden 6 instead of 5 */
  assert_int_equal(ht_ckpt_write(path, &a.s, 0), 0);
  ht_error_clear();
  int rc = ht_ckpt_read(path, &b.s);
  assert_int_equal(rc, HT_ESHAPE);
  assert_non_null(strstr(ht_error_message(), "/model/dense0/weight: shape [5, 7] does not match the expected [6, 7]"));
  assert_non_null(strstr(ht_error_message(), path));
  ht_error_clear();
  teardown(&a);
  teardown(&b);
}

static void optimizer_mismatch(void **state) {
  (void)state;
  char dir[512], path[600];
  ht_test_tmpdir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/ckpt-90.h5", dir);
  fixture a, b;
  setup(&a, "sgd", 5, 1);
  setup(&b, "adamw", 5, 2);
  assert_int_equal(ht_ckpt_write(path, &a.s, 0), 0);
  ht_error_clear();
  assert_int_equal(ht_ckpt_read(path, &b.s), HT_ECONFIG);
  assert_non_null(strstr(ht_error_message(), "/optimizer: optimizer 'sgd', but optimizer.name is 'adamw'"));
  ht_error_clear();
  teardown(&a);
  teardown(&b);
}

static void rotate_keeps_newest_and_best(void **state) {
  (void)state;
  char dir[512], path[700];
  ht_test_tmpdir(dir, sizeof dir);
  int steps[] = {10, 20, 30, 40, 50};
  for (int i = 0; i < 5; i++) {
    snprintf(path, sizeof path, "%s/ckpt-%d.h5", dir, steps[i]);
    ht_test_write_file(path, "x");
  }
  snprintf(path, sizeof path, "%s/ckpt-60.h5.partial", dir);
  ht_test_write_file(path, "x");
  assert_int_equal(ht_write_file_atomic(dir, "best", "ckpt-20.h5\n"), 0);
  assert_int_equal(ht_ckpt_rotate(dir, 2), 0);
  int64_t *got;
  int n;
  assert_int_equal(ht_ckpt_list(dir, &got, &n), 0);
  assert_int_equal(n, 3);
  assert_int_equal(got[0], 50);
  assert_int_equal(got[1], 40);
  assert_int_equal(got[2], 20);
  free(got);
  assert_int_equal(ht_ckpt_clean_partials(dir), 1);
  assert_int_not_equal(access(path, F_OK), 0);
}

/* The async writer commits a file identical in content to a synchronous write,
 * and the staging copy decouples it from later changes to the live buffers. */
static void async_writer_matches_sync(void **state) {
  (void)state;
  char d1[512], d2[512], p1[600], p2[600];
  ht_test_tmpdir(d1, sizeof d1);
  ht_test_tmpdir(d2, sizeof d2);
  fixture a, b;
  setup(&a, "adamw", 5, 1);
  ht_ckpt_writer *ws = NULL, *wa = NULL;
  assert_int_equal(ht_ckpt_writer_create(&ws, d1, &a.m, 1, 1, 3, 0, 2, 0), 0);
  assert_int_equal(ht_ckpt_writer_create(&wa, d2, &a.m, 1, 1, 3, 1, 2, 200), 0);
  double stall, waited;
  assert_int_equal(ht_ckpt_writer_save(ws, &a.s, 0, &stall, &waited), 0);
  assert_int_equal(ht_ckpt_writer_save(wa, &a.s, 0, &stall, &waited), 0);
  /* The writer thread sleeps 200 ms mid-file: change the live weights now. */
  fill(a.m.params, a.m.n_params, 555);
  assert_int_equal(ht_ckpt_writer_wait(wa), 0);
  ht_ckpt_writer_destroy(&ws);
  ht_ckpt_writer_destroy(&wa);
  snprintf(p1, sizeof p1, "%s/ckpt-90.h5", d1);
  snprintf(p2, sizeof p2, "%s/ckpt-90.h5", d2);
  setup(&b, "adamw", 5, 9);
  ht_norm_free(&b.norm);
  assert_int_equal(ht_ckpt_read(p2, &b.s), 0);
  free(b.s.ranks);
  fixture c;
  setup(&c, "adamw", 5, 1); /* the values at save time */
  assert_memory_equal(b.m.params, c.m.params, c.m.n_params * sizeof(float));
  assert_memory_equal(b.o.v, c.o.v, c.m.n_params * sizeof(float));
  char latest[700];
  snprintf(latest, sizeof latest, "%s/latest", d2);
  FILE *f = fopen(latest, "r");
  assert_non_null(f);
  char line[64] = "";
  assert_non_null(fgets(line, sizeof line, f));
  fclose(f);
  assert_string_equal(line, "ckpt-90.h5\n");
  assert_int_equal(access(p1, R_OK), 0);
  teardown(&a);
  teardown(&b);
  teardown(&c);
}

/* A write into a directory that does not exist fails, is kept, and is
 * returned by the next save (the run then ends cleanly). */
static void writer_error_is_reported(void **state) {
  (void)state;
  fixture a;
  setup(&a, "sgd", 5, 1);
  ht_ckpt_writer *w = NULL;
  assert_int_equal(ht_ckpt_writer_create(&w, "/nonexistent-hytrain-dir/checkpoints", &a.m, 1, 0, 3, 1, 2, 0), 0);
  double stall, waited;
  assert_int_equal(ht_ckpt_writer_save(w, &a.s, 0, &stall, &waited), 0);
  ht_error_clear();
  int rc = ht_ckpt_writer_wait(w);
  assert_true(rc < 0);
  assert_non_null(strstr(ht_error_message(), "/nonexistent-hytrain-dir/checkpoints/ckpt-90.h5.partial"));
  ht_error_clear();
  assert_true(ht_ckpt_writer_save(w, &a.s, 0, &stall, &waited) < 0);
  ht_error_clear();
  ht_ckpt_writer_destroy(&w);
  teardown(&a);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(round_trip_adamw),          cmocka_unit_test(round_trip_sgd_momentum),
    cmocka_unit_test(shape_mismatch),            cmocka_unit_test(optimizer_mismatch),
    cmocka_unit_test(rotate_keeps_newest_and_best), cmocka_unit_test(async_writer_matches_sync),
    cmocka_unit_test(writer_error_is_reported),
};

HT_TEST_MAIN("ckpt", tests)
