/*
 * The option registry: every configuration key, its type, default, bounds and
 * help, in one table. Loading, --set, validation, --list and the effective
 * config all walk this table, so adding a key is one line here plus the field
 * in ht_config (include/hytrain/config.h).
 */
#include "config_internal.h"

#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* offsetof(ht_config, field), plus a compile error (negative array size) when
 * the field's size does not match the C type the option type stores. This
 * catches a row that points an INT option at a double, or a STRING option at
 * a HT_PATH_MAX buffer, at build time. */
#define AT(field, ctype) \
  (offsetof(ht_config, field) + 0 * sizeof(char[sizeof(((ht_config *)0)->field) == sizeof(ctype) ? 1 : -1]))

/* One constructor per option type; designated initializers leave the fields
 * a type does not use at zero. */
#define OPT_INT(k, f, d, lo, hi, h) \
  {.key = k, .type = HT_OPT_INT, .offset = AT(f, int), .def = d, .min = lo, .max = hi, .help = h}
#define OPT_INT_CHECK(k, f, d, lo, hi, ck, h) \
  {.key = k, .type = HT_OPT_INT, .offset = AT(f, int), .def = d, .min = lo, .max = hi, .check = ck, .help = h}
#define OPT_INT64(k, f, d, lo, hi, h) \
  {.key = k, .type = HT_OPT_INT64, .offset = AT(f, long long), .def = d, .min = lo, .max = hi, .help = h}
#define OPT_FLOAT(k, f, d, lo, hi, fl, h) \
  {.key = k, .type = HT_OPT_FLOAT, .offset = AT(f, double), .def = d, .min = lo, .max = hi, .flags = fl, .help = h}
#define OPT_BOOL(k, f, d, h) {.key = k, .type = HT_OPT_BOOL, .offset = AT(f, int), .def = d, .help = h}
#define OPT_STRING(k, f, d, ck, h) \
  {.key = k, .type = HT_OPT_STRING, .offset = AT(f, char[HT_NAME_MAX]), .def = d, .check = ck, .help = h}
/* The field of an ENUM option is an int-sized C enum spelled by table ch. */
#define OPT_ENUM(k, f, d, ch, h) {.key = k, .type = HT_OPT_ENUM, .offset = AT(f, int), .def = d, .choices = &ch, .help = h}
#define OPT_WAIT(k, f, d, h) {.key = k, .type = HT_OPT_WAIT, .offset = AT(f, ht_wait_opt), .def = d, .help = h}
#define OPT_AUGMENT(k, f, d, h) {.key = k, .type = HT_OPT_AUGMENT, .offset = AT(f, ht_augment_opt), .def = d, .help = h}
#define OPT_PATH(k, f, d, fl, h) \
  {.key = k, .type = HT_OPT_PATH, .offset = AT(f, char[HT_PATH_MAX]), .def = d, .flags = fl, .help = h}
#define OPT_INT_LIST(k, f, n, d, lo, hi, h)                                                            \
  {.key = k, .type = HT_OPT_INT_LIST, .offset = AT(f, int[HT_MAX_HIDDEN]), .count_offset = AT(n, int), \
   .def = d, .min = lo, .max = hi, .help = h}

/* Integer counters (steps, seeds) stop at 2^53 so that every accepted value
 * is exact as a double, which is how bounds are compared and printed. */
#define I53 9007199254740992.0

/* run.name becomes a directory name under run.root. */
static int check_run_name(const void *field, char *why, size_t len) {
  const char *name = field;
  if (!strchr(name, '/') && strcmp(name, ".") != 0 && strcmp(name, "..") != 0) return 0;
  snprintf(why, len, "'%s' cannot be a directory name (no '/', not '.' or '..')", name);
  return 1;
}

static int check_folds(const void *field, char *why, size_t len) {
  if (*(const int *)field != 1) return 0;
  snprintf(why, len, "1 fold leaves nothing to train on; use 0 (off) or >= 2");
  return 1;
}

/* Keys of one section must stay together: that is the order of --list and of
 * the effective config. */
static const ht_option options[] = {
    OPT_STRING("run.name", run.name, "", check_run_name, "Experiment name; empty means the config file's name without .yaml."),
    OPT_PATH("run.root", run.root, "runs", HT_OPT_CWD, "Directory that holds the run directories."),

    OPT_ENUM("model.type", model.type, "mlp", ht_model_types, "Model family."),
    OPT_INT_LIST("model.hidden", model.hidden, model.n_hidden, "[256]", 1, 1048576,
                 "Hidden layer widths of the mlp, input side first."),
    OPT_ENUM("model.activation", model.activation, "relu", ht_activations, "Activation of the mlp hidden layers."),
    OPT_ENUM("model.init", model.init, "auto", ht_inits,
             "Weight initialisation; auto picks he for relu and xavier otherwise."),
    OPT_FLOAT("model.l2", model.l2, "0", 0, HUGE_VAL, 0, "L2 penalty 0.5*l2*||W||^2 added to the loss."),

    OPT_INT("train.epochs", train.epochs, "10", 0, 1e6, "Passes over the training set."),
    OPT_INT64("train.max_steps", train.max_steps, "0", 0, I53, "Stop after this many optimizer steps; 0 means no limit."),
    OPT_INT("train.batch_size", train.batch_size, "64", 1, 1048576, "Examples per step on each rank."),
    OPT_INT64("train.seed", train.seed, "42", 0, I53, "Seed for initialisation and shuffling."),
    OPT_INT("train.log_every", train.log_every, "100", 1, INT_MAX, "Steps between progress lines and step records."),
    OPT_INT("train.eval_batch_size", train.eval_batch_size, "1024", 1, 1048576, "Examples per evaluation batch."),
    OPT_ENUM("train.engine", train.engine, "sync", ht_engines,
             "sync: dense data-parallel minibatches; hogwild, locked, serial: sparse linear models on CSR data "
             "(lock-free threads, one mutex per update, one thread)."),
    OPT_ENUM("train.on_nonfinite", train.on_nonfinite, "stop", ht_nonfinite_actions,
             "A NaN or infinite gradient sum: stop with an error naming the step, layer and first rank (stop), or "
             "drop that step's update on every rank and go on (skip_step)."),
    OPT_INT("train.max_skipped_steps", train.max_skipped_steps, "10", 1, 1000000,
            "train.on_nonfinite skip_step: stop after this many skipped steps in a row."),


    OPT_INT64("hogwild.average_every", hogwild.average_every, "0", 0, I53,
              "Sparse engines: average the weights across ranks every this many updates of a rank; 0 means once "
              "per epoch."),

    OPT_ENUM("optimizer.name", optimizer.name, "sgd", ht_optimizers, "Optimizer."),
    OPT_FLOAT("optimizer.lr", optimizer.lr, "0.1", 0, 1e3, HT_OPT_MIN_OPEN, "Peak learning rate."),
    OPT_FLOAT("optimizer.momentum", optimizer.momentum, "0.9", 0, 0.9999, 0, "SGD momentum; 0 disables it."),
    OPT_BOOL("optimizer.nesterov", optimizer.nesterov, "false", "Use Nesterov momentum with sgd."),
    OPT_FLOAT("optimizer.weight_decay", optimizer.weight_decay, "0", 0, 10, 0,
              "Weight decay: added to the gradient by sgd, decoupled by adamw."),
    OPT_FLOAT("optimizer.beta1", optimizer.beta1, "0.9", 0, 0.99999, 0, "AdamW first-moment decay."),
    OPT_FLOAT("optimizer.beta2", optimizer.beta2, "0.999", 0, 0.9999999, 0, "AdamW second-moment decay."),
    OPT_FLOAT("optimizer.eps", optimizer.eps, "1e-8", 0, HUGE_VAL, HT_OPT_MIN_OPEN, "AdamW denominator epsilon."),

    OPT_ENUM("schedule.name", schedule.name, "constant", ht_schedules, "Learning-rate schedule."),
    OPT_INT64("schedule.warmup_steps", schedule.warmup_steps, "0", 0, I53,
              "Steps of linear warmup from 0 to optimizer.lr."),
    OPT_INT64("schedule.step_every", schedule.step_every, "1000", 1, I53,
              "Step schedule: multiply the rate by gamma every this many steps."),
    OPT_FLOAT("schedule.gamma", schedule.gamma, "0.1", 0, 1, HT_OPT_MIN_OPEN, "Step schedule decay factor."),
    OPT_FLOAT("schedule.min_lr", schedule.min_lr, "0", 0, HUGE_VAL, 0, "Cosine schedule floor."),

    OPT_PATH("data.train", data.train, "", 0, "HDF5 training set (required)."),
    OPT_PATH("data.test", data.test, "", 0, "HDF5 test set; empty means no evaluation."),
    OPT_ENUM("data.normalize", data.normalize, "standard", ht_normalizes,
             "Feature scaling; standard uses the training set's mean and deviation."),
    OPT_BOOL("data.shuffle", data.shuffle, "true", "Shuffle the training set every epoch."),
    OPT_ENUM("data.mode", data.mode, "auto", ht_data_modes,
             "memory reads the shard once; stream reads it in pieces while training; auto picks memory when the "
             "shard fits in data.memory_budget_mb."),
    OPT_INT64("data.chunk_rows", data.chunk_rows, "0", 0, 1e9,
              "Stream mode: rows per read (sparse engines: per chunk trained); 0 = auto (about 4 MiB a piece)."),
    OPT_INT("data.shuffle_buffer_chunks", data.shuffle_buffer_chunks, "4", 1, 1e6,
            "Stream mode: pieces of data.chunk_rows rows that the shuffle buffer holds."),
    OPT_INT("data.prefetch", data.prefetch, "3", 1, 64, "Ready batches the loader thread keeps ahead of training."),
    OPT_INT("data.memory_budget_mb", data.memory_budget_mb, "2048", 1, 1e8,
            "Memory for training data per rank: auto streams a larger shard, and stream mode's buffers must fit."),
    OPT_AUGMENT("data.augment", data.augment, "none",
               "Image augmentation in the loader: none, flip, shift:<px>, or flip,shift:<px> (square images)."),
    OPT_INT_CHECK("data.folds", data.folds, "0", 0, 1000, check_folds,
            "K-fold cross-validation: split data.train into K contiguous folds (0 = off, else >= 2)."),
    OPT_INT("data.fold", data.fold, "0", 0, 999,
            "K-fold: train on the other folds, evaluate on this one (0..data.folds-1)."),

    OPT_INT64("checkpoint.every_steps", checkpoint.every_steps, "0", 0, I53,
              "Write a checkpoint every this many steps; 0 means only at the end (and on a stop signal)."),
    OPT_FLOAT("checkpoint.every_seconds", checkpoint.every_seconds, "0", 0, 1e9, 0,
              "Write a checkpoint when this many seconds passed since the last one; 0 turns it off."),
    OPT_INT("checkpoint.keep", checkpoint.keep, "3", 0, 1000000,
            "Keep the newest this many checkpoints; 0 keeps all."),
    OPT_BOOL("checkpoint.keep_best", checkpoint.keep_best, "false",
             "After each evaluation that improves the best test metric, save a checkpoint and keep it."),
    OPT_BOOL("checkpoint.async", checkpoint.async, "true",
             "Write checkpoints on a background thread; training stalls only for a copy of the state."),

    OPT_ENUM("comm.mode", comm.mode, "overlap", ht_sync_modes,
             "Gradient averaging: after backward (sync), bucket by bucket during backward (overlap), or "
             "during the next step and applied one step late (delayed)."),
    OPT_FLOAT("comm.bucket_mb", comm.bucket_mb, "1", 0, 1024, HT_OPT_MIN_OPEN,
              "Target size of a gradient bucket in MiB: consecutive gradient slices are packed up to this size."),
    OPT_FLOAT("comm.slice_mb", comm.slice_mb, "1", 0, 1024, HT_OPT_MIN_OPEN,
              "Layers whose weight gradient exceeds this many MiB compute it in row blocks of about this size, "
              "each sent as soon as it is done."),
    OPT_WAIT("comm.wait", comm.wait, "backoff",
               "How the communication thread waits for MPI: sleep:<us> (poll, sleep between polls), yield (poll, "
               "sched_yield between polls), adaptive[:<us>] (poll without pause while the main thread waits, "
               "else sleep), backoff[:<us>] (sleep <us> while the main thread waits, else double the pause after "
               "each idle poll up to 1 ms) or block (one bucket at a time, polling without pause)."),
    OPT_ENUM("comm.transport", comm.transport, "auto", ht_transports,
             "How gradient buckets are summed: in memory shared by the ranks when all run on one node, else "
             "hierarchically (auto); always shared memory, an error if the ranks span nodes (shm); always MPI messages "
             "from every rank, e.g. to measure a network (mpi); hierarchically: shared memory within a node, then one "
             "slice per rank exchanged between nodes (hier; every node must run the same number of ranks). shm and mpi "
             "give bit-identical sums; hier adds in its own fixed order (docs/comm.md)."),
    OPT_ENUM("comm.inter_algo", comm.inter_algo, "auto", ht_inter_algos,
             "Hierarchical summing's exchange between nodes: recursive halving/doubling when the node count is a power "
             "of two, else ring (auto); ring; rhd (recursive halving/doubling, a power of two of nodes only)."),
    OPT_ENUM("comm.dtype", comm.dtype, "fp32", ht_comm_dtypes,
             "What hierarchical summing sends between nodes: fp32, or bf16 (half the bytes; partial sums rounded to bf16 "
             "on the wire, added in fp32). Sums within a node and the other transports are always fp32."),
    OPT_INT("comm.thread_core", comm.thread_core, "-1", -1, 4095,
            "Core to pin the communication thread to; -1 keeps it on the rank's cpuset."),
    OPT_FLOAT("comm.stall_warn_s", comm.stall_warn_s, "60", 0, HUGE_VAL, 0,
              "Stall watchdog: warn when a gradient bucket has been in flight (naming the ranks it waits for), or the "
              "main thread has waited in a collective every rank must join, this many seconds; 0 = never."),
    OPT_FLOAT("comm.stall_timeout_s", comm.stall_timeout_s, "600", 0, HUGE_VAL, 0,
              "Stall watchdog: end the whole job with an error when a gradient bucket has been in flight, or the main "
              "thread has waited in such a collective, this many seconds; 0 = never."),

    OPT_ENUM("compute.backend", compute.backend, "auto", ht_gemm_backends,
             "Library for the dense layers' matrix products: OpenBLAS, oneDNN, or auto (time both on the model's "
             "shapes at start-up and take the faster; OpenBLAS when oneDNN is absent or the model is too small to "
             "time)."),
    OPT_ENUM("compute.precision", compute.precision, "fp32", ht_precisions,
             "Inputs of the matrix products: fp32, or bf16 (rounded to bfloat16, summed in fp32; weights, "
             "gradients, optimizer state and checkpoints stay fp32)."),
    OPT_ENUM("compute.binding", compute.binding, "auto", ht_bindings,
             "CPU binding of the ranks on a node: check it and, when every rank was given the same mask (nobody "
             "bound them), split the node's cores among them (auto); check and warn only (launcher); leave it alone "
             "(none)."),

    OPT_ENUM("log.progress", log.progress, "auto", ht_progress_modes,
             "Progress output: one line redrawn in place (bar), a plain line every train.log_every steps (lines), or "
             "the bar only when a person watches the terminal: the process's own without a launcher, mpirun's under "
             "mpirun (auto)."),
};

#define N_OPTIONS ((int)(sizeof options / sizeof options[0]))

const ht_option *ht_config_options(int *count) {
  if (count) *count = N_OPTIONS;
  return options;
}

void ht_config_defaults(ht_config *cfg) {
  ht__config_fail fail;
  memset(cfg, 0, sizeof *cfg);
  /* The defaults are checked by the unit tests (every one parses), so a
   * failure here cannot happen in a released build. */
  for (int i = 0; i < N_OPTIONS; i++) ht__config_parse_text(cfg, &options[i], options[i].def, 0, &fail);
}

const ht_option *ht__config_find(const char *key) {
  for (int i = 0; i < N_OPTIONS; i++)
    if (strcmp(options[i].key, key) == 0) return &options[i];
  return NULL;
}

int ht__config_is_section(const char *prefix) {
  size_t n = strlen(prefix);
  for (int i = 0; i < N_OPTIONS; i++)
    if (strncmp(options[i].key, prefix, n) == 0 && options[i].key[n] == '.') return 1;
  return 0;
}

/* Levenshtein distance, capped: keys longer than HT__KEY_MAX compare as far. */
static size_t edit_distance(const char *a, const char *b, size_t bn) {
  size_t an = strlen(a);
  size_t row[HT__KEY_MAX + 1];
  if (an > HT__KEY_MAX || bn > HT__KEY_MAX) return (size_t)-1;
  for (size_t j = 0; j <= bn; j++) row[j] = j;
  for (size_t i = 1; i <= an; i++) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= bn; j++) {
      size_t up = row[j];
      size_t best = diag + (a[i - 1] != b[j - 1]);
      if (up + 1 < best) best = up + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  return row[bn];
}

void ht__config_suggest(const char *key, char *buf, size_t len) {
  const char *best = NULL;
  size_t best_len = 0, best_d = (size_t)-1;
  size_t klen = strlen(key);
  buf[0] = '\0';
  /* "train" alone is a section: show what its keys look like. */
  for (int i = 0; i < N_OPTIONS; i++)
    if (strncmp(options[i].key, key, klen) == 0 && options[i].key[klen] == '.') {
      snprintf(buf, len, " (a section; its keys look like '%s')", options[i].key);
      return;
    }
  /* Candidates are every key and every section ("train" of "train.epochs"). */
  for (int i = 0; i < N_OPTIONS; i++) {
    const char *k = options[i].key;
    for (size_t n = 1;; n++) {
      if (k[n] == '.' || k[n] == '\0') {
        size_t d = edit_distance(key, k, n);
        /* An exact section name ("train") is not a key; suggesting itself
         * would not help. */
        if (d > 0 && d < best_d) best_d = d, best = k, best_len = n;
      }
      if (k[n] == '\0') break;
    }
    /* "epochs" at the top level means "train.epochs": the section is missing. */
    const char *dot = strrchr(k, '.');
    if (!strchr(key, '.') && dot && strcmp(dot + 1, key) == 0 && best_d > 0) best_d = 0, best = k, best_len = strlen(k);
  }
  /* Suggest only near misses: at most 2 edits, or a quarter of the key, and
   * at least half of the key kept ("foo" is 2 edits from the section "log",
   * but nothing like it). */
  size_t limit = klen / 4 > 2 ? klen / 4 : 2;
  if (best && best_d <= limit && 2 * best_d <= klen) snprintf(buf, len, " (did you mean '%.*s'?)", (int)best_len, best);
}

void ht_config_list(FILE *out) {
  enum { COLS = 4 };
  static const char *const head[COLS] = {"KEY", "TYPE", "DEFAULT", "RANGE/CHOICES"};
  char range[128];
  int width[COLS];
  for (int c = 0; c < COLS; c++) width[c] = (int)strlen(head[c]);
  /* First pass sizes the columns, second prints them. */
  for (int pass = 0; pass < 2; pass++) {
    if (pass == 1) fprintf(out, "%-*s  %-*s  %-*s  %-*s  HELP\n", width[0], head[0], width[1], head[1], width[2],
                           head[2], width[3], head[3]);
    for (int i = 0; i < N_OPTIONS; i++) {
      const ht_option *o = &options[i];
      char def[HT_PATH_MAX + 2];
      const char *cell[COLS];
      if (o->type == HT_OPT_STRING || o->type == HT_OPT_PATH)
        snprintf(def, sizeof def, "\"%s\"", o->def);
      else
        snprintf(def, sizeof def, "%s", o->def);
      if (o->type == HT_OPT_ENUM)
        snprintf(range, sizeof range, "%s", o->choices->choices);
      else
        ht__config_range_text(o, range, sizeof range);
      cell[0] = o->key, cell[1] = ht__config_type_name(o->type), cell[2] = def, cell[3] = range[0] ? range : "-";
      for (int c = 0; c < COLS; c++) {
        int w = (int)strlen(cell[c]);
        if (pass == 0 && w > width[c]) width[c] = w;
      }
      if (pass == 1)
        fprintf(out, "%-*s  %-*s  %-*s  %-*s  %s\n", width[0], cell[0], width[1], cell[1], width[2], cell[2],
                width[3], cell[3], o->help);
    }
  }
}
