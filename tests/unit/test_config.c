/*
 * The configuration module: defaults, YAML loading (nested and dotted keys),
 * every error class with its exact message, --set, validation, the
 * write/load round trip and relative path resolution.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ht_test.h"
#include "hytrain/config.h"
#include "hytrain/error.h"

/* ---- helpers ---------------------------------------------------------- */

/* Writes yaml to <fresh tmpdir>/x.yaml; the path goes to path. */
static void write_yaml(char *path, size_t len, const char *yaml) {
  char dir[512];
  ht_test_tmpdir(dir, sizeof dir);
  snprintf(path, len, "%s/x.yaml", dir);
  ht_test_write_file(path, yaml);
}

/* Loads yaml on top of the defaults into cfg; returns the load's code. */
static int load_yaml(ht_config *cfg, const char *yaml) {
  char path[600];
  write_yaml(path, sizeof path, yaml);
  ht_config_defaults(cfg);
  ht_error_clear();
  return ht_config_load_file(cfg, path);
}

/* Asserts that loading yaml fails with code and the message
 * "<file>" + suffix, where suffix starts at ":line:column: ". */
static void expect_load_error(const char *yaml, int code, const char *suffix) {
  char path[600], want[1600];
  ht_config cfg;
  write_yaml(path, sizeof path, yaml);
  ht_config_defaults(&cfg);
  ht_error_clear();
  int rc = ht_config_load_file(&cfg, path);
  snprintf(want, sizeof want, "%s%s", path, suffix);
  if (rc != code || strcmp(ht_error_message(), want) != 0)
    print_error("yaml:\n%s\nrc %d (want %d)\ngot : %s\nwant: %s\n", yaml, rc, code, ht_error_message(), want);
  assert_int_equal(rc, code);
  assert_string_equal(ht_error_message(), want);
}

static void expect_set_error(const char *assignment, const char *message) {
  ht_config cfg, before;
  ht_config_defaults(&cfg);
  before = cfg;
  ht_error_clear();
  assert_int_equal(ht_config_set(&cfg, assignment), HT_ECONFIG);
  assert_string_equal(ht_error_message(), message);
  assert_memory_equal(&cfg, &before, sizeof cfg); /* a failed --set changes nothing */
}

static void set_ok(ht_config *cfg, const char *assignment) {
  ht_error_clear();
  int rc = ht_config_set(cfg, assignment);
  if (rc != 0) print_error("--set %s: %s\n", assignment, ht_error_message());
  assert_int_equal(rc, 0);
}

static void expect_validate_error(const ht_config *cfg, const char *message) {
  ht_error_clear();
  assert_int_equal(ht_config_validate(cfg), HT_ECONFIG);
  assert_string_equal(ht_error_message(), message);
}

static void mkdir_ok(const char *path) { assert_int_equal(mkdir(path, 0755), 0); }

/* ---- registry and defaults -------------------------------------------- */

static void defaults(void **state) {
  ht_config c;
  memset(&c, 0x5a, sizeof c);
  ht_config_defaults(&c);
  assert_string_equal(c.run.name, "");
  assert_string_equal(c.run.root, "runs");
  assert_int_equal(c.model.type, HT_MODEL_MLP);
  assert_int_equal(c.model.n_hidden, 1);
  assert_int_equal(c.model.hidden[0], 256);
  assert_int_equal(c.model.hidden[1], 0);
  assert_int_equal(c.model.activation, HT_ACT_RELU);
  assert_int_equal(c.model.init, HT_INIT_AUTO);
  assert_true(c.model.l2 == 0.0);
  assert_int_equal(c.train.epochs, 10);
  assert_int_equal(c.train.max_steps, 0);
  assert_int_equal(c.train.batch_size, 64);
  assert_int_equal(c.train.seed, 42);
  assert_int_equal(c.train.log_every, 100);
  assert_int_equal(c.train.eval_batch_size, 1024);
  assert_int_equal(c.optimizer.name, HT_OPTIM_SGD);
  assert_true(c.optimizer.lr == 0.1);
  assert_true(c.optimizer.momentum == 0.9);
  assert_int_equal(c.optimizer.nesterov, 0);
  assert_true(c.optimizer.weight_decay == 0.0);
  assert_true(c.optimizer.beta1 == 0.9);
  assert_true(c.optimizer.beta2 == 0.999);
  assert_true(c.optimizer.eps == 1e-8);
  assert_int_equal(c.schedule.name, HT_SCHED_CONSTANT);
  assert_int_equal(c.schedule.warmup_steps, 0);
  assert_int_equal(c.schedule.step_every, 1000);
  assert_true(c.schedule.gamma == 0.1);
  assert_true(c.schedule.min_lr == 0.0);
  assert_string_equal(c.data.train, "");
  assert_string_equal(c.data.test, "");
  assert_int_equal(c.data.normalize, HT_NORMALIZE_STANDARD);
  assert_int_equal(c.data.mode, HT_DATA_AUTO);
  assert_int_equal(c.data.augment.flip, 0);
  assert_int_equal(c.data.augment.shift, 0);
  assert_int_equal(c.comm.mode, HT_SYNC_OVERLAP);
  assert_int_equal(c.comm.transport, HT_TRANSPORT_AUTO);
  assert_int_equal(c.comm.wait.kind, HT_WAIT_BACKOFF);
  assert_int_equal(c.comm.wait.us, HT_WAIT_DEFAULT_US);
  assert_int_equal(c.data.shuffle, 1);
  assert_string_equal(c.source, "");
}

static size_t field_size(const ht_option *o) {
  switch (o->type) {
  case HT_OPT_INT:
  case HT_OPT_BOOL: return sizeof(int);
  case HT_OPT_INT64: return sizeof(long long);
  case HT_OPT_FLOAT: return sizeof(double);
  case HT_OPT_STRING: return HT_NAME_MAX;
  case HT_OPT_ENUM: return sizeof(int);
  case HT_OPT_WAIT: return sizeof(ht_wait_opt);
  case HT_OPT_AUGMENT: return sizeof(ht_augment_opt);
  case HT_OPT_PATH: return HT_PATH_MAX;
  case HT_OPT_INT_LIST: return HT_MAX_HIDDEN * sizeof(int);
  }
  return 0;
}

static void registry_consistent(void **state) {
  int n;
  const ht_option *o = ht_config_options(&n);
  unsigned char covered[sizeof(ht_config)] = {0};
  char set[HT_PATH_MAX + 64];
  assert_true(n >= 30);
  for (int i = 0; i < n; i++) {
    ht_config c;
    ht_config_defaults(&c);
    /* Every default is accepted by the same parser as --set. */
    snprintf(set, sizeof set, "%s=%s", o[i].key, o[i].def);
    set_ok(&c, set);
    assert_non_null(o[i].help);
    assert_true(strlen(o[i].help) > 5);
    assert_non_null(strchr(o[i].key, '.'));
    if (o[i].type == HT_OPT_ENUM) assert_non_null(o[i].choices);
    for (int j = 0; j < i; j++) assert_string_not_equal(o[i].key, o[j].key);
    /* Sections stay together: a key's section equals the previous key's, or
     * it was not seen before. */
    if (i > 0) {
      size_t s = (size_t)(strchr(o[i].key, '.') - o[i].key);
      if (strncmp(o[i].key, o[i - 1].key, s + 1) != 0)
        for (int j = 0; j < i; j++) assert_false(strncmp(o[i].key, o[j].key, s + 1) == 0);
    }
    /* No two options share bytes of the struct. */
    size_t sz = field_size(&o[i]);
    assert_true(o[i].offset + sz <= offsetof(ht_config, source));
    for (size_t b = o[i].offset; b < o[i].offset + sz; b++) assert_int_equal(covered[b]++, 0);
    if (o[i].type == HT_OPT_INT_LIST)
      for (size_t b = o[i].count_offset; b < o[i].count_offset + sizeof(int); b++) assert_int_equal(covered[b]++, 0);
  }
  /* Every field before `source` belongs to some option: what is left can
   * only be alignment padding, which is shorter than a double. */
  size_t gap = 0;
  for (size_t b = 0; b < offsetof(ht_config, source); b++) {
    gap = covered[b] ? 0 : gap + 1;
    assert_true(gap < sizeof(double));
  }
}

static void format_values(void **state) {
  ht_config c;
  char buf[64];
  ht_config_defaults(&c);
  set_ok(&c, "model.hidden=[256,128]");
  set_ok(&c, "optimizer.nesterov=yes");
  ht_config_format_value(&c, ht_config_options(NULL) + 1, buf, sizeof buf); /* run.root */
  assert_string_equal(buf, "runs");
  int n;
  const ht_option *o = ht_config_options(&n);
  for (int i = 0; i < n; i++) {
    ht_config_format_value(&c, &o[i], buf, sizeof buf);
    if (strcmp(o[i].key, "model.hidden") == 0) assert_string_equal(buf, "[256, 128]");
    if (strcmp(o[i].key, "optimizer.lr") == 0) assert_string_equal(buf, "0.1");
    if (strcmp(o[i].key, "optimizer.eps") == 0) assert_string_equal(buf, "1e-08");
    if (strcmp(o[i].key, "optimizer.nesterov") == 0) assert_string_equal(buf, "true");
    if (strcmp(o[i].key, "train.seed") == 0) assert_string_equal(buf, "42");
  }
  /* A small buffer truncates instead of overflowing. */
  ht_config_format_value(&c, ht_config_options(NULL) + 3, buf, 4);
  assert_string_equal(buf, "[25");
}

static void list_table(void **state) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  assert_non_null(f);
  ht_config_list(f);
  fclose(f);
  int n;
  const ht_option *o = ht_config_options(&n);
  for (int i = 0; i < n; i++) assert_non_null(strstr(text, o[i].key));
  assert_non_null(strstr(text, "KEY"));
  assert_non_null(strstr(text, "[1, 1048576]"));
  assert_non_null(strstr(text, "(0, 1000]"));
  assert_non_null(strstr(text, "[0, inf)"));
  assert_non_null(strstr(text, "sgd|adamw"));
  assert_non_null(strstr(text, "\"runs\""));
  /* One header line plus one line per key. */
  int lines = 0;
  for (char *p = text; *p; p++) lines += *p == '\n';
  assert_int_equal(lines, n + 1);
  free(text);
}

/* ---- enum options (hytrain/options.h) ---------------------------------- */

/* Every spelling of every enum option parses to its table index and formats
 * back to the same text; a misspelling is rejected naming the key and the
 * choices; --list shows each row's choices from its X-macro table. */
static void enum_round_trip(void **state) {
  int n, enums = 0;
  const ht_option *o = ht_config_options(&n);
  char set[256], text[256], want[512];
  char *list = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&list, &len);
  assert_non_null(f);
  ht_config_list(f);
  fclose(f);
  for (int i = 0; i < n; i++) {
    if (o[i].type != HT_OPT_ENUM) continue;
    enums++;
    const ht_enum_table *t = o[i].choices;
    assert_true(t->count >= 2);
    for (int v = 0; v < t->count; v++) {
      ht_config c;
      ht_config_defaults(&c);
      snprintf(set, sizeof set, "%s=%s", o[i].key, t->names[v]);
      set_ok(&c, set);
      assert_int_equal(*(const int *)((const char *)&c + o[i].offset), v);
      ht_config_format_value(&c, &o[i], text, sizeof text);
      assert_string_equal(text, t->names[v]);
      assert_int_equal(ht_enum_parse(t, t->names[v]), v);
      assert_string_equal(ht_enum_name(t, v), t->names[v]);
      /* The choices text lists the spelling. */
      assert_non_null(strstr(t->choices, t->names[v]));
    }
    assert_int_equal(ht_enum_parse(t, "bogus"), -1);
    assert_string_equal(ht_enum_name(t, t->count), "?");
    snprintf(set, sizeof set, "%s=bogus", o[i].key);
    snprintf(want, sizeof want, "--set %s=bogus: expected one of %s, got 'bogus'", o[i].key, t->choices);
    expect_set_error(set, want);
    /* --list: the key's line carries the table's choices. */
    const char *line = strstr(list, o[i].key);
    assert_non_null(line);
    const char *eol = strchr(line, '\n');
    const char *at = strstr(line, t->choices);
    assert_true(at && at < eol);
  }
  assert_int_equal(enums, 17); /* the 9 of issue 11, compute.backend, compute.precision, compute.binding, log.progress,
                                   train.engine, comm.inter_algo, comm.dtype, train.on_nonfinite */
  free(list);
  /* The sweep file's tables, which no config row uses. */
  const ht_enum_table *sweep[] = {&ht_sweep_methods, &ht_sweep_metrics};
  for (int k = 0; k < 2; k++)
    for (int v = 0; v < sweep[k]->count; v++) assert_int_equal(ht_enum_parse(sweep[k], sweep[k]->names[v]), v);
  assert_string_equal(ht_sweep_metrics.choices, "test_accuracy|test_rmse|train_loss");
}

/* comm.wait and data.augment: parsed once into typed values; each accepted
 * spelling formats back to itself (defaults in their short form). */
static void wait_augment_round_trip(void **state) {
  static const char *const ok[] = {"comm.wait=yield", "comm.wait=block", "comm.wait=sleep:50", "comm.wait=adaptive",
                                   "comm.wait=adaptive:20", "comm.wait=backoff", "comm.wait=backoff:7",
                                   "data.augment=none", "data.augment=flip", "data.augment=shift:3",
                                   "data.augment=flip,shift:2"};
  char text[128];
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    ht_config c;
    ht_config_defaults(&c);
    set_ok(&c, ok[i]);
    const char *eq = strchr(ok[i], '=');
    char key[32];
    snprintf(key, sizeof key, "%.*s", (int)(eq - ok[i]), ok[i]);
    int n;
    const ht_option *o = ht_config_options(&n), *opt = NULL;
    for (int j = 0; j < n; j++)
      if (strcmp(o[j].key, key) == 0) opt = &o[j];
    assert_non_null(opt);
    ht_config_format_value(&c, opt, text, sizeof text);
    assert_string_equal(text, eq + 1);
  }
  ht_config c;
  ht_config_defaults(&c);
  set_ok(&c, "comm.wait=sleep:250");
  assert_int_equal(c.comm.wait.kind, HT_WAIT_SLEEP);
  assert_int_equal(c.comm.wait.us, 250);
  set_ok(&c, "comm.wait=backoff");
  assert_int_equal(c.comm.wait.kind, HT_WAIT_BACKOFF);
  assert_int_equal(c.comm.wait.us, HT_WAIT_DEFAULT_US);
  set_ok(&c, "data.augment=flip,shift:2");
  assert_int_equal(c.data.augment.flip, 1);
  assert_int_equal(c.data.augment.shift, 2);
  static const char *const bad_wait[] = {"spin", "sleep", "sleep:0", "backoff:0", "yield:5", "block:1", "sleep:x",
                                         "adaptive:1000001"};
  for (size_t i = 0; i < sizeof bad_wait / sizeof bad_wait[0]; i++) {
    char set[64], want[256];
    snprintf(set, sizeof set, "comm.wait=%s", bad_wait[i]);
    snprintf(want, sizeof want, "--set %s: expected backoff[:<us>], adaptive[:<us>], yield, block or sleep:<us> (us in "
             "1..1000000), got '%s'", set, bad_wait[i]);
    expect_set_error(set, want);
  }
  static const char *const bad_aug[] = {"rotate", "flip,flip", "shift:0", "shift:65", "shift:2,shift:3"};
  for (size_t i = 0; i < sizeof bad_aug / sizeof bad_aug[0]; i++) {
    char set[64], want[256];
    snprintf(set, sizeof set, "data.augment=%s", bad_aug[i]);
    snprintf(want, sizeof want, "--set %s: expected none, flip, shift:<px> or flip,shift:<px> (px 1..64), got '%s'",
             set, bad_aug[i]);
    expect_set_error(set, want);
  }
  /* The public parser for tools names the key. */
  ht_wait_opt w;
  ht_error_clear();
  assert_int_equal(ht_config_parse_wait("spin", &w), HT_ECONFIG);
  assert_non_null(strstr(ht_error_message(), "comm.wait: expected backoff[:<us>]"));
  /* Bounds checked for modules come from the registry rows, worded alike. */
  ht_error_clear();
  assert_int_equal(ht_config_check_number("optimizer.momentum", 1.0), HT_ECONFIG);
  assert_non_null(strstr(ht_error_message(), "optimizer.momentum: 1 is out of range [0, 0.9999]"));
  assert_int_equal(ht_config_check_number("optimizer.lr", 0.5), 0);
  ht_error_clear();
  assert_int_equal(ht_config_check_number("schedule.step_every", 0), HT_ECONFIG);
  assert_non_null(strstr(ht_error_message(), "schedule.step_every: 0 is out of range [1, "));
}

/* ---- loading ----------------------------------------------------------- */

static void load_nested(void **state) {
  ht_config c;
  assert_int_equal(load_yaml(&c, "# block style\n"
                                 "train:\n"
                                 "  epochs: 3\n"
                                 "  batch_size: 128\n"
                                 "optimizer: {name: adamw, lr: 1e-3, beta2: 0.98}\n"
                                 "model:\n"
                                 "  type: softmax\n"
                                 "run:\n"
                                 "  name: \"exp #1\"\n"),
                   0);
  assert_int_equal(c.train.epochs, 3);
  assert_int_equal(c.train.batch_size, 128);
  assert_int_equal(c.optimizer.name, HT_OPTIM_ADAMW);
  assert_true(c.optimizer.lr == 1e-3);
  assert_true(c.optimizer.beta2 == 0.98);
  assert_int_equal(c.model.type, HT_MODEL_SOFTMAX);
  assert_string_equal(c.run.name, "exp #1");
  assert_int_equal(c.train.seed, 42); /* untouched keys keep their defaults */
  assert_non_null(strstr(c.source, "/x.yaml"));
}

static void load_dotted(void **state) {
  ht_config c;
  assert_int_equal(load_yaml(&c, "train.epochs: 7\n"
                                 "schedule:\n"
                                 "  name: cosine\n"
                                 "optimizer: {momentum: 0.5}\n"
                                 "optimizer.nesterov: on\n"
                                 "train.max_steps: 9007199254740992\n"),
                   0);
  assert_int_equal(c.train.epochs, 7);
  assert_int_equal(c.schedule.name, HT_SCHED_COSINE);
  assert_true(c.optimizer.momentum == 0.5);
  assert_int_equal(c.optimizer.nesterov, 1);
  assert_true(c.train.max_steps == 9007199254740992LL);
}

static void load_empty(void **state) {
  ht_config c, d;
  ht_config_defaults(&d);
  const char *empties[] = {"", "# only a comment\n", "---\n", "---\n...\n"};
  for (size_t i = 0; i < sizeof empties / sizeof empties[0]; i++) {
    assert_int_equal(load_yaml(&c, empties[i]), 0);
    assert_string_not_equal(c.source, "");
    memset(c.source, 0, sizeof c.source);
    assert_memory_equal(&c, &d, sizeof c);
  }
}

static void load_lists_bools_floats(void **state) {
  ht_config c;
  assert_int_equal(load_yaml(&c, "model:\n  hidden:\n    - 512\n    - 256\n    - 10\n"), 0);
  assert_int_equal(c.model.n_hidden, 3);
  assert_int_equal(c.model.hidden[0], 512);
  assert_int_equal(c.model.hidden[1], 256);
  assert_int_equal(c.model.hidden[2], 10);
  assert_int_equal(load_yaml(&c, "model.hidden: [1024, 64]\n"), 0);
  assert_int_equal(c.model.n_hidden, 2);
  assert_int_equal(c.model.hidden[1], 64);
  assert_int_equal(load_yaml(&c, "model: {type: linear, hidden: []}\n"), 0);
  assert_int_equal(c.model.n_hidden, 0);
  assert_int_equal(c.model.hidden[0], 0);
  assert_int_equal(load_yaml(&c, "model.hidden: [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]\n"), 0);
  assert_int_equal(c.model.n_hidden, HT_MAX_HIDDEN);
  assert_int_equal(c.model.hidden[15], 16);

  const char *truths[] = {"true", "True", "YES", "on", "On"}, *lies[] = {"false", "FALSE", "no", "No", "off"};
  char yaml[64];
  for (int i = 0; i < 5; i++) {
    snprintf(yaml, sizeof yaml, "data.shuffle: %s\n", lies[i]);
    assert_int_equal(load_yaml(&c, yaml), 0);
    assert_int_equal(c.data.shuffle, 0);
    snprintf(yaml, sizeof yaml, "optimizer.nesterov: %s\n", truths[i]);
    assert_int_equal(load_yaml(&c, yaml), 0);
    assert_int_equal(c.optimizer.nesterov, 1);
  }
  assert_int_equal(load_yaml(&c, "optimizer: {lr: 3e-4, eps: 1.5E-7, weight_decay: 0.01}\nmodel.l2: 5\n"), 0);
  assert_true(c.optimizer.lr == 3e-4);
  assert_true(c.optimizer.eps == 1.5e-7);
  assert_true(c.optimizer.weight_decay == 0.01);
  assert_true(c.model.l2 == 5.0);
  /* Quoted numbers are still numbers; null clears a string. */
  assert_int_equal(load_yaml(&c, "train.epochs: \"12\"\ndata.test: ~\nrun.name: null\n"), 0);
  assert_int_equal(c.train.epochs, 12);
  assert_string_equal(c.data.test, "");
  assert_string_equal(c.run.name, "");
}

static void load_keeps_cfg_on_error(void **state) {
  char path[600];
  ht_config c, before;
  write_yaml(path, sizeof path, "train.epochs: 5\ntrain.batch_size: -1\n");
  ht_config_defaults(&c);
  set_ok(&c, "train.epochs=2");
  before = c;
  ht_error_clear();
  assert_int_equal(ht_config_load_file(&c, path), HT_ECONFIG);
  assert_memory_equal(&c, &before, sizeof c);
}

/* ---- load errors: code and exact message ------------------------------- */

static void err_unknown_key(void **state) {
  expect_load_error("train:\n  epochs: 3\n  epoch: 4\n", HT_ECONFIG,
                    ":3:3: unknown key 'train.epoch' (did you mean 'train.epochs'?)");
  expect_load_error("train.epoch: 4\n", HT_ECONFIG, ":1:1: unknown key 'train.epoch' (did you mean 'train.epochs'?)");
  expect_load_error("trian:\n  epochs: 4\n", HT_ECONFIG, ":1:1: unknown key 'trian' (did you mean 'train'?)");
  expect_load_error("epochs: 4\n", HT_ECONFIG, ":1:1: unknown key 'epochs' (did you mean 'train.epochs'?)");
  expect_load_error("frobnicate: 1\n", HT_ECONFIG, ":1:1: unknown key 'frobnicate'");
  expect_load_error("train:\n  opt:\n    x: 1\n", HT_ECONFIG, ":2:3: unknown key 'train.opt'");
}

static void err_bad_int(void **state) {
  expect_load_error("train:\n  batch_size: abc\n", HT_ECONFIG,
                    ":2:15: train.batch_size: expected an integer, got 'abc'");
  expect_load_error("train.epochs: 3.5\n", HT_ECONFIG, ":1:15: train.epochs: expected an integer, got '3.5'");
  expect_load_error("train.epochs: 1e3\n", HT_ECONFIG, ":1:15: train.epochs: expected an integer, got '1e3'");
  expect_load_error("train.seed: 99999999999999999999\n", HT_ECONFIG,
                    ":1:13: train.seed: 99999999999999999999 is out of range [0, 9007199254740992]");
  expect_load_error("train.log_every: 2147483648\n", HT_ECONFIG,
                    ":1:18: train.log_every: 2147483648 is out of range [1, 2147483647]");
  expect_load_error("train.epochs: [3]\n", HT_ECONFIG, ":1:15: train.epochs: expected an integer, got a list");
}

static void err_out_of_range(void **state) {
  expect_load_error("train: {batch_size: 0}\n", HT_ECONFIG,
                    ":1:21: train.batch_size: 0 is out of range [1, 1048576]");
  expect_load_error("optimizer.lr: 0\n", HT_ECONFIG, ":1:15: optimizer.lr: 0 is out of range (0, 1000]");
  expect_load_error("optimizer.lr: 1001\n", HT_ECONFIG, ":1:15: optimizer.lr: 1001 is out of range (0, 1000]");
  expect_load_error("schedule:\n  gamma: 1.5\n", HT_ECONFIG, ":2:10: schedule.gamma: 1.5 is out of range (0, 1]");
  expect_load_error("model.l2: -0.1\n", HT_ECONFIG, ":1:11: model.l2: -0.1 is out of range [0, inf)");
  expect_load_error("train.max_steps: -1\n", HT_ECONFIG,
                    ":1:18: train.max_steps: -1 is out of range [0, 9007199254740992]");
}

static void err_bad_choice(void **state) {
  expect_load_error("optimizer:\n  name: adam\n", HT_ECONFIG,
                    ":2:9: optimizer.name: expected one of sgd|adamw, got 'adam'");
  expect_load_error("model.type: MLP\n", HT_ECONFIG,
                    ":1:13: model.type: expected one of softmax|logistic|linear|svm|mlp, got 'MLP'");
}

static void err_bad_list(void **state) {
  expect_load_error("model:\n  hidden: {a: 1}\n", HT_ECONFIG,
                    ":2:11: model.hidden: expected a list of integers like [256, 128], got a mapping");
  expect_load_error("model.hidden: [256, x]\n", HT_ECONFIG,
                    ":1:21: model.hidden: expected a list of integers like [256, 128], got item 'x'");
  expect_load_error("model.hidden: [256, 1.5]\n", HT_ECONFIG,
                    ":1:21: model.hidden: expected a list of integers like [256, 128], got item '1.5'");
  expect_load_error("model.hidden: [[1]]\n", HT_ECONFIG,
                    ":1:16: model.hidden: expected a list of integers like [256, 128]");
  expect_load_error("model.hidden: [0]\n", HT_ECONFIG, ":1:16: model.hidden: item 1 (0) is out of range [1, 1048576]");
  expect_load_error("model.hidden: [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]\n", HT_ECONFIG,
                    ":1:55: model.hidden: expected a list of at most 16 integers");
}

static void err_bad_bool_float(void **state) {
  expect_load_error("data.shuffle: maybe\n", HT_ECONFIG,
                    ":1:15: data.shuffle: expected true or false (or yes/no, on/off), got 'maybe'");
  expect_load_error("data.shuffle: 1\n", HT_ECONFIG,
                    ":1:15: data.shuffle: expected true or false (or yes/no, on/off), got '1'");
  expect_load_error("optimizer.lr: nan\n", HT_ECONFIG, ":1:15: optimizer.lr: expected a finite number, got 'nan'");
  expect_load_error("optimizer.lr: inf\n", HT_ECONFIG, ":1:15: optimizer.lr: expected a finite number, got 'inf'");
  expect_load_error("optimizer.lr: .inf\n", HT_ECONFIG, ":1:15: optimizer.lr: expected a number, got '.inf'");
  expect_load_error("optimizer.lr: 0.1x\n", HT_ECONFIG, ":1:15: optimizer.lr: expected a number, got '0.1x'");
  expect_load_error("optimizer.eps: 1e999\n", HT_ECONFIG, ":1:16: optimizer.eps: expected a finite number, got '1e999'");
}

static void err_bad_string(void **state) {
  char yaml[256];
  snprintf(yaml, sizeof yaml, "run.name: %.*s\n", HT_NAME_MAX, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  expect_load_error(yaml, HT_ECONFIG, ":1:11: run.name: longer than 63 characters");
  expect_load_error("train: 3\n", HT_ECONFIG,
                    ":1:8: train: expected a mapping of train.* keys, like 'train: {key: value}'");
  expect_load_error("run:\n  name: [a]\n", HT_ECONFIG, ":2:9: run.name: expected a string, got a list");
  expect_load_error("x: &a 1\ntrain.epochs: *a\n", HT_ECONFIG, ":1:1: unknown key 'x'");
  expect_load_error("train.epochs: *a\n", HT_ECONFIG,
                    ":1:15: train.epochs: expected an integer, got an alias (*name is not supported)");
}

static void err_malformed_yaml(void **state) {
  expect_load_error("train:\n  epochs: 3\n batch: [1, 2\n", HT_ECONFIG,
                    ":3:2: invalid YAML: did not find expected key");
  expect_load_error("train.epochs: 3: 4\n", HT_ECONFIG, ":1:16: invalid YAML: mapping values are not allowed in this context");
  expect_load_error("model.hidden: [1, 2\n", HT_ECONFIG,
                    ":2:1: invalid YAML: did not find expected ',' or ']'");
  expect_load_error("train:\n\tepochs: 3\n", HT_ECONFIG,
                    ":2:1: invalid YAML: found character that cannot start any token");
  expect_load_error("train.epochs: 1\n---\ntrain.epochs: 2\n", HT_ECONFIG,
                    ":2:1: a config file holds one YAML document, found a second one");
}

static void err_missing_file(void **state) {
  char dir[512], path[600], want[700];
  ht_config c;
  ht_test_tmpdir(dir, sizeof dir);
  snprintf(path, sizeof path, "%s/nope.yaml", dir);
  ht_config_defaults(&c);
  ht_error_clear();
  assert_int_equal(ht_config_load_file(&c, path), HT_ENOENT);
  snprintf(want, sizeof want, "%s: cannot open: No such file or directory", path);
  assert_string_equal(ht_error_message(), want);
  ht_error_clear();
  assert_int_equal(ht_config_load_file(&c, dir), HT_ECONFIG);
  snprintf(want, sizeof want, "%s: is a directory, not a config file", dir);
  assert_string_equal(ht_error_message(), want);
}

static void err_duplicate_key(void **state) {
  expect_load_error("train:\n  epochs: 1\n  epochs: 2\n", HT_ECONFIG,
                    ":3:3: duplicate key 'train.epochs' (first at line 2)");
  expect_load_error("train.epochs: 1\ntrain:\n  epochs: 2\n", HT_ECONFIG,
                    ":3:3: duplicate key 'train.epochs' (first at line 1)");
  expect_load_error("train:\n  epochs: 1\nmodel.l2: 0\ntrain:\n  seed: 2\n", HT_ECONFIG,
                    ":4:1: duplicate key 'train' (first at line 1)");
}

static void err_not_mapping(void **state) {
  expect_load_error("- 1\n- 2\n", HT_ECONFIG,
                    ":1:1: expected a mapping of keys at the top level, like 'train: {epochs: 3}'");
  expect_load_error("just text\n", HT_ECONFIG,
                    ":1:1: expected a mapping of keys at the top level, like 'train: {epochs: 3}'");
  expect_load_error("? [a, b]\n: 1\n", HT_ECONFIG, ":1:3: expected a key (a plain name like 'epochs')");
}

/* ---- --set ------------------------------------------------------------- */

static void set_overrides(void **state) {
  ht_config c;
  ht_config_defaults(&c);
  set_ok(&c, "train.epochs=3");
  set_ok(&c, " train.batch_size = 32 ");
  set_ok(&c, "model.hidden=[512,256]");
  assert_int_equal(c.train.epochs, 3);
  assert_int_equal(c.train.batch_size, 32);
  assert_int_equal(c.model.n_hidden, 2);
  assert_int_equal(c.model.hidden[0], 512);
  assert_int_equal(c.model.hidden[1], 256);
  set_ok(&c, "model.hidden=128, 64,32");
  assert_int_equal(c.model.n_hidden, 3);
  assert_int_equal(c.model.hidden[2], 32);
  set_ok(&c, "model.hidden=7");
  assert_int_equal(c.model.n_hidden, 1);
  assert_int_equal(c.model.hidden[0], 7);
  assert_int_equal(c.model.hidden[1], 0);
  set_ok(&c, "model.hidden=[]");
  assert_int_equal(c.model.n_hidden, 0);
  set_ok(&c, "optimizer.nesterov=Yes");
  assert_int_equal(c.optimizer.nesterov, 1);
  set_ok(&c, "data.shuffle=off");
  assert_int_equal(c.data.shuffle, 0);
  set_ok(&c, "optimizer.name=adamw");
  assert_int_equal(c.optimizer.name, HT_OPTIM_ADAMW);
  set_ok(&c, "optimizer.lr=2.5e-4");
  assert_true(c.optimizer.lr == 2.5e-4);
  set_ok(&c, "run.name='a: b'");
  assert_string_equal(c.run.name, "a: b");
  set_ok(&c, "run.name=\"q\\\"x\"");
  assert_string_equal(c.run.name, "q\"x");
  set_ok(&c, "run.name=x=y");
  assert_string_equal(c.run.name, "x=y");
  set_ok(&c, "run.name=");
  assert_string_equal(c.run.name, "");
  /* Paths from the command line stay relative to the current directory. */
  set_ok(&c, "data.train=data/never-there.h5");
  assert_string_equal(c.data.train, "data/never-there.h5");
  set_ok(&c, "train.seed=9007199254740992");
  assert_true(c.train.seed == 9007199254740992LL);
}

static void set_errors(void **state) {
  expect_set_error("train.epochs", "--set train.epochs: expected key=value");
  expect_set_error("foo=1", "--set foo=1: unknown key 'foo'");
  expect_set_error("train.epoch=3", "--set train.epoch=3: unknown key 'train.epoch' (did you mean 'train.epochs'?)");
  expect_set_error("train=3", "--set train=3: unknown key 'train' (a section; its keys look like 'train.epochs')");
  expect_set_error("train.epochs=abc", "--set train.epochs=abc: expected an integer, got 'abc'");
  expect_set_error("train.epochs=3.5", "--set train.epochs=3.5: expected an integer, got '3.5'");
  expect_set_error("train.epochs=", "--set train.epochs=: expected an integer, got ''");
  expect_set_error("train.batch_size=0", "--set train.batch_size=0: 0 is out of range [1, 1048576]");
  expect_set_error("optimizer.name=adam", "--set optimizer.name=adam: expected one of sgd|adamw, got 'adam'");
  expect_set_error("data.shuffle=maybe",
                   "--set data.shuffle=maybe: expected true or false (or yes/no, on/off), got 'maybe'");
  expect_set_error("model.hidden=[512,x]",
                   "--set model.hidden=[512,x]: expected a list of integers like [256, 128], got item 'x'");
  expect_set_error("model.hidden=512,,1",
                   "--set model.hidden=512,,1: expected a list of integers like [256, 128], got item ''");
  expect_set_error("model.hidden=[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]",
                   "--set model.hidden=[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]: "
                   "expected a list of at most 16 integers");
  expect_set_error("train.epochs=[1]", "--set train.epochs=[1]: expected an integer, got a list");
  expect_set_error("run.name=a: b", "--set run.name=a: b: expected a string, got a mapping");
  expect_set_error("model.hidden=[1", "--set model.hidden=[1: invalid YAML: did not find expected ',' or ']'");
  expect_set_error("optimizer.lr=nan", "--set optimizer.lr=nan: expected a finite number, got 'nan'");
}

/* ---- validation -------------------------------------------------------- */

static void validate_errors(void **state) {
  ht_config c;
  ht_config_defaults(&c);
  expect_validate_error(&c, "data.train: required (path to an HDF5 dataset)");
  set_ok(&c, "data.train=train.h5");
  ht_error_clear();
  assert_int_equal(ht_config_validate(&c), 0);
  assert_string_equal(ht_error_message(), "");

  set_ok(&c, "model.hidden=[]");
  expect_validate_error(&c, "model.hidden: model.type mlp needs at least one hidden layer, like [256]");
  set_ok(&c, "model.type=softmax"); /* hidden is ignored by the other models */
  ht_error_clear();
  assert_int_equal(ht_config_validate(&c), 0);

  ht_config_defaults(&c);
  set_ok(&c, "data.train=train.h5");
  set_ok(&c, "optimizer.momentum=0");
  set_ok(&c, "optimizer.nesterov=true");
  expect_validate_error(&c, "optimizer.nesterov: needs optimizer.momentum > 0");

  ht_config_defaults(&c);
  set_ok(&c, "data.train=train.h5");
  set_ok(&c, "schedule.name=cosine");
  set_ok(&c, "schedule.min_lr=0.5");
  expect_validate_error(&c, "schedule.min_lr: 0.5 is above optimizer.lr 0.1");

  ht_config_defaults(&c);
  set_ok(&c, "data.train=train.h5");
  /* The row's own check runs when the value is parsed and when the config is validated. */
  expect_set_error("run.name=a/b", "--set run.name=a/b: 'a/b' cannot be a directory name (no '/', not '.' or '..')");
  snprintf(c.run.name, sizeof c.run.name, "a/b");
  expect_validate_error(&c, "run.name: 'a/b' cannot be a directory name (no '/', not '.' or '..')");
  snprintf(c.run.name, sizeof c.run.name, "ok");
  c.data.folds = 1;
  expect_validate_error(&c, "data.folds: 1 fold leaves nothing to train on; use 0 (off) or >= 2");
  c.data.folds = 0;
  c.comm.wait.kind = HT_WAIT_SLEEP;
  c.comm.wait.us = 0;
  expect_validate_error(&c, "comm.wait: expected backoff[:<us>], adaptive[:<us>], yield, block or sleep:<us> (us in "
                            "1..1000000), got 'sleep:0'");
  c.comm.wait.us = 50;

  /* Values changed in code get the same checks as parsed ones. */
  ht_config_defaults(&c);
  set_ok(&c, "data.train=train.h5");
  c.train.batch_size = 0;
  expect_validate_error(&c, "train.batch_size: 0 is out of range [1, 1048576]");
  c.train.batch_size = 8;
  c.optimizer.name = (ht_optim_kind)7;
  expect_validate_error(&c, "optimizer.name: holds 7, not one of sgd|adamw");
  c.optimizer.name = HT_OPTIM_SGD;
  c.optimizer.lr = NAN;
  expect_validate_error(&c, "optimizer.lr: expected a finite number, got 'nan'");
  c.optimizer.lr = 0.1;
  c.data.shuffle = 2;
  expect_validate_error(&c, "data.shuffle: expected true or false, got 2");
  c.data.shuffle = 1;
  c.model.n_hidden = 17;
  expect_validate_error(&c, "model.hidden: holds 17 items, expected 0 to 16");
  c.model.n_hidden = 1;
  c.model.hidden[0] = -3;
  expect_validate_error(&c, "model.hidden: item 1 (-3) is out of range [1, 1048576]");
}

/* ---- output ------------------------------------------------------------ */

/* Field-by-field equality of every option (source excluded). */
static void assert_same_options(const ht_config *a, const ht_config *b) {
  int n;
  const ht_option *o = ht_config_options(&n);
  for (int i = 0; i < n; i++) {
    const char *pa = (const char *)a + o[i].offset, *pb = (const char *)b + o[i].offset;
    switch (o[i].type) {
    case HT_OPT_STRING:
    case HT_OPT_PATH: assert_string_equal(pa, pb); break;
    case HT_OPT_INT_LIST:
      assert_int_equal(*(const int *)((const char *)a + o[i].count_offset),
                       *(const int *)((const char *)b + o[i].count_offset));
      assert_memory_equal(pa, pb, field_size(&o[i]));
      break;
    case HT_OPT_INT:
    case HT_OPT_INT64:
    case HT_OPT_FLOAT:
    case HT_OPT_BOOL:
    case HT_OPT_ENUM:
    case HT_OPT_WAIT:
    case HT_OPT_AUGMENT:
      if (memcmp(pa, pb, field_size(&o[i])) != 0) print_error("%s differs\n", o[i].key);
      assert_memory_equal(pa, pb, field_size(&o[i]));
    }
  }
}

static void write_round_trip(void **state) {
  char dir[512], path[600], set[HT_PATH_MAX + 64];
  ht_config c, back;
  ht_test_tmpdir(dir, sizeof dir);
  ht_config_defaults(&c);
  set_ok(&c, "run.name='tricky \"name\": #1 \\ yes'");
  snprintf(set, sizeof set, "data.train=%s/data set/train.h5", dir);
  set_ok(&c, set);
  set_ok(&c, "data.test=/abs/test.h5");
  set_ok(&c, "run.root=/abs/runs");
  set_ok(&c, "model.type=mlp");
  set_ok(&c, "model.hidden=[1024, 512, 3]");
  set_ok(&c, "model.activation=tanh");
  set_ok(&c, "optimizer.name=adamw");
  set_ok(&c, "optimizer.nesterov=true");
  set_ok(&c, "data.shuffle=false");
  set_ok(&c, "train.seed=123456789012345");
  set_ok(&c, "train.max_steps=77");
  set_ok(&c, "schedule.name=step");
  /* Doubles that need all 17 digits, and tiny ones. */
  c.optimizer.lr = 1.0 / 3.0;
  c.optimizer.eps = 1e-300 * 1.2345678901234567;
  c.model.l2 = 0.1 + 0.2;
  c.schedule.gamma = nextafter(0.5, 1.0);
  c.optimizer.momentum = 0.9999;
  c.optimizer.beta2 = 0.9999999;
  snprintf(path, sizeof path, "%s/effective.yaml", dir);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  ht_error_clear();
  assert_int_equal(ht_config_write_yaml(&c, f), 0);
  fclose(f);
  ht_config_defaults(&back);
  ht_error_clear();
  int rc = ht_config_load_file(&back, path);
  if (rc) print_error("%s\n", ht_error_message());
  assert_int_equal(rc, 0);
  assert_same_options(&back, &c);
  assert_string_equal(back.source, path);

  /* The defaults round-trip too, and the text is nested by section. */
  char *text = NULL;
  size_t len = 0;
  ht_config_defaults(&c);
  f = open_memstream(&text, &len);
  assert_int_equal(ht_config_write_yaml(&c, f), 0);
  fclose(f);
  assert_non_null(strstr(text, "\ntrain:\n  epochs: 10\n  max_steps: 0\n"));
  assert_non_null(strstr(text, "\nmodel:\n  type: mlp\n  hidden: [256]\n"));
  assert_non_null(strstr(text, "  root: \"runs\"\n"));
  assert_non_null(strstr(text, "  lr: 0.1\n"));
  ht_test_write_file(path, text);
  free(text);
  ht_config_defaults(&back);
  assert_int_equal(ht_config_load_file(&back, path), 0);
  assert_same_options(&back, &c);
}

/* ---- path resolution --------------------------------------------------- */

static void path_resolution(void **state) {
  char root[512], p[900], cwd[4096], want[900];
  ht_config c;
  assert_non_null(getcwd(cwd, sizeof cwd));
  ht_test_tmpdir(root, sizeof root);
  /* root/configs/exp.yaml, root/configs/near.h5, root/data/train.h5,
   * root/data/both.h5 + root/configs/data/both.h5, root/work/cwd.h5 */
  snprintf(p, sizeof p, "%s/configs", root), mkdir_ok(p);
  snprintf(p, sizeof p, "%s/configs/data", root), mkdir_ok(p);
  snprintf(p, sizeof p, "%s/data", root), mkdir_ok(p);
  snprintf(p, sizeof p, "%s/work", root), mkdir_ok(p);
  snprintf(p, sizeof p, "%s/configs/near.h5", root), ht_test_write_file(p, "x");
  snprintf(p, sizeof p, "%s/data/train.h5", root), ht_test_write_file(p, "x");
  snprintf(p, sizeof p, "%s/data/both.h5", root), ht_test_write_file(p, "x");
  snprintf(p, sizeof p, "%s/configs/data/both.h5", root), ht_test_write_file(p, "x");
  snprintf(p, sizeof p, "%s/work/cwd.h5", root), ht_test_write_file(p, "x");
  snprintf(p, sizeof p, "%s/configs/exp.yaml", root);
  assert_int_equal(chdir(root), 0);
  ht_test_write_file("configs/exp.yaml", "data: {train: data/train.h5, test: near.h5}\nrun.root: out\n");
  ht_test_write_file("configs/both.yaml", "data: {train: data/both.h5, test: missing.h5}\n");
  ht_test_write_file("configs/abs.yaml", "data: {train: /no/such/abs.h5, test: \"\"}\n");
  ht_test_write_file("configs/cwd.yaml", "data: {train: cwd.h5, test: ../work/cwd.h5}\n");

  /* A config path relative to the current directory: (2) the parent of
   * configs/ is ".", (1) configs/ itself. */
  ht_config_defaults(&c);
  assert_int_equal(ht_config_load_file(&c, "configs/exp.yaml"), 0);
  assert_string_equal(c.data.train, "data/train.h5");
  assert_string_equal(c.data.test, "configs/near.h5");
  assert_string_equal(c.run.root, "out"); /* run.root: the current directory */
  assert_string_equal(c.source, "configs/exp.yaml");

  /* (1) wins over (2); a path found nowhere keeps form (1). */
  ht_config_defaults(&c);
  assert_int_equal(ht_config_load_file(&c, "configs/both.yaml"), 0);
  assert_string_equal(c.data.train, "configs/data/both.h5");
  assert_string_equal(c.data.test, "configs/missing.h5");

  /* Absolute paths are untouched, empty stays empty. */
  ht_config_defaults(&c);
  set_ok(&c, "data.test=x.h5");
  assert_int_equal(ht_config_load_file(&c, "configs/abs.yaml"), 0);
  assert_string_equal(c.data.train, "/no/such/abs.h5");
  assert_string_equal(c.data.test, "");

  /* An absolute config path; (3) the current directory, found in work/. */
  assert_int_equal(chdir("work"), 0);
  snprintf(p, sizeof p, "%s/configs/cwd.yaml", root);
  ht_config_defaults(&c);
  assert_int_equal(ht_config_load_file(&c, p), 0);
  assert_string_equal(c.data.train, "cwd.h5");
  snprintf(want, sizeof want, "%s/configs/../work/cwd.h5", root);
  assert_string_equal(c.data.test, want);
  snprintf(p, sizeof p, "%s/configs/exp.yaml", root);
  ht_config_defaults(&c);
  assert_int_equal(ht_config_load_file(&c, p), 0);
  snprintf(want, sizeof want, "%s/data/train.h5", root);
  assert_string_equal(c.data.train, want);
  snprintf(want, sizeof want, "%s/configs/near.h5", root);
  assert_string_equal(c.data.test, want);

  /* A config in the current directory: its parent is "..". */
  assert_int_equal(chdir("../configs"), 0);
  ht_config_defaults(&c);
  assert_int_equal(ht_config_load_file(&c, "exp.yaml"), 0);
  assert_string_equal(c.data.train, "../data/train.h5");
  assert_string_equal(c.data.test, "near.h5");

  /* --set: relative to the current directory, never rewritten. */
  set_ok(&c, "data.test=near.h5");
  assert_string_equal(c.data.test, "near.h5");
  set_ok(&c, "data.train=data/train.h5");
  assert_string_equal(c.data.train, "data/train.h5");

  assert_int_equal(chdir(cwd), 0);
}

/* ---- broadcast --------------------------------------------------------- */

/* One process (MPI singleton): the bytes survive the call, and an MPI failure
 * becomes HT_EMPI with MPI's text. The multi-rank copy is exercised by every
 * tests/mpi program that loads a config on rank 0. */
static void bcast_self(void **state) {
  int provided, rc;
  ht_config c, before;
  assert_int_equal(MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, &provided), MPI_SUCCESS);
  ht_config_defaults(&c);
  set_ok(&c, "model.hidden=[9,8,7]");
  set_ok(&c, "run.name=bcast");
  before = c;
  ht_error_clear();
  assert_int_equal(ht_config_bcast(&c, 0, MPI_COMM_SELF), 0);
  assert_memory_equal(&c, &before, sizeof c);
  MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
  rc = ht_config_bcast(&c, 3, MPI_COMM_SELF); /* no rank 3 */
  assert_int_equal(rc, HT_EMPI);
  assert_non_null(strstr(ht_error_message(), "MPI_Bcast"));
  MPI_Finalize();
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test(defaults),
    cmocka_unit_test(registry_consistent),
    cmocka_unit_test(format_values),
    cmocka_unit_test(list_table),
    cmocka_unit_test(enum_round_trip),
    cmocka_unit_test(wait_augment_round_trip),
    cmocka_unit_test(load_nested),
    cmocka_unit_test(load_dotted),
    cmocka_unit_test(load_empty),
    cmocka_unit_test(load_lists_bools_floats),
    cmocka_unit_test(load_keeps_cfg_on_error),
    cmocka_unit_test(err_unknown_key),
    cmocka_unit_test(err_bad_int),
    cmocka_unit_test(err_out_of_range),
    cmocka_unit_test(err_bad_choice),
    cmocka_unit_test(err_bad_list),
    cmocka_unit_test(err_bad_bool_float),
    cmocka_unit_test(err_bad_string),
    cmocka_unit_test(err_malformed_yaml),
    cmocka_unit_test(err_missing_file),
    cmocka_unit_test(err_duplicate_key),
    cmocka_unit_test(err_not_mapping),
    cmocka_unit_test(set_overrides),
    cmocka_unit_test(set_errors),
    cmocka_unit_test(validate_errors),
    cmocka_unit_test(write_round_trip),
    cmocka_unit_test(path_resolution),
    cmocka_unit_test(bcast_self),
};

HT_TEST_MAIN("config", tests)
