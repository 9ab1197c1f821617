/*
 * The experiment configuration: one typed option registry.
 *
 * Every option is one row of a table (key, type, default, bounds or choices,
 * help) that drives YAML loading, `--set key=value` overrides, validation,
 * `hytrain config --list` and the effective config written to each run
 * directory. The values live in one flat struct without pointers, so rank 0 can
 * parse and broadcast it as bytes (all ranks run the same binary).
 */
#ifndef HYTRAIN_CONFIG_H
#define HYTRAIN_CONFIG_H

#include <mpi.h>
#include <stdio.h>

#include "hytrain/options.h"

#define HT_PATH_MAX 1024
#define HT_NAME_MAX 64
#define HT_MAX_HIDDEN 16

typedef struct ht_config {
  struct {
    char name[HT_NAME_MAX];   /* experiment name; "" = the config file's stem */
    char root[HT_PATH_MAX];   /* parent of run directories (default "runs") */
  } run;
  struct {
    ht_model_type type;           /* softmax | logistic | linear | svm | mlp */
    int hidden[HT_MAX_HIDDEN];    /* hidden layer widths (mlp only) */
    int n_hidden;                 /* number of entries used in hidden[] */
    ht_activation activation;     /* relu | tanh | sigmoid */
    ht_init init;                 /* auto | he | xavier */
    double l2;                    /* L2 penalty 0.5*l2*||W||^2 added to the loss */
  } model;
  struct {
    int epochs;
    long long max_steps;       /* 0 = no limit */
    int batch_size;            /* per rank */
    long long seed;
    int log_every;             /* steps between step records / progress lines */
    int eval_batch_size;
    ht_engine engine;          /* sync | hogwild | locked | serial */
    ht_nonfinite_action on_nonfinite; /* stop | skip_step */
    int max_skipped_steps;     /* skip_step: stop after this many skipped steps in a row */
  } train;
  struct {
    long long average_every;   /* local updates between weight averages across ranks; 0 = once per epoch */
  } hogwild;
  struct {
    ht_optim_kind name;        /* sgd | adamw */
    double lr;
    double momentum;
    int nesterov;              /* bool */
    double weight_decay;
    double beta1, beta2, eps;
  } optimizer;
  struct {
    ht_sched_kind name;        /* constant | step | cosine */
    long long warmup_steps;
    long long step_every;      /* step schedule: multiply by gamma every this many steps */
    double gamma;
    double min_lr;             /* cosine floor */
  } schedule;
  struct {
    char train[HT_PATH_MAX];   /* HDF5 dataset (required) */
    char test[HT_PATH_MAX];    /* HDF5 dataset, "" = no evaluation */
    ht_normalize normalize;    /* none | standard */
    int shuffle;               /* bool */
    ht_data_mode mode;         /* memory | stream | auto */
    long long chunk_rows;      /* stream: rows per read; 0 = auto */
    int shuffle_buffer_chunks; /* stream: pieces held by the shuffle buffer */
    int prefetch;              /* ready batches the loader thread keeps ahead */
    int memory_budget_mb;      /* auto: memory mode when the shard fits; stream: loader limit */
    ht_augment_opt augment;    /* none | flip | shift:<px> | flip,shift:<px> */
    int folds;                 /* K-fold: 0 = off, else K >= 2 contiguous folds of data.train */
    int fold;                  /* K-fold: the validation fold, 0..K-1 */
  } data;
  struct {
    long long every_steps;     /* 0 = off */
    double every_seconds;      /* 0 = off */
    int keep;                  /* newest checkpoints kept; 0 = all */
    int keep_best;             /* bool: also keep the best-evaluating one */
    int async;                 /* bool: write on the checkpoint writer thread */
  } checkpoint;
  struct {
    ht_sync_mode mode;         /* sync | overlap | delayed */
    double bucket_mb;          /* target bucket size in MiB */
    double slice_mb;           /* row-block size of big weight gradients in MiB */
    ht_wait_opt wait;          /* backoff[:<us>] | sleep:<us> | adaptive[:<us>] | yield | block */
    int thread_core;           /* core for the communication thread, -1 = none */
    double stall_warn_s;       /* watchdog: warn after this many seconds, 0 = never */
    double stall_timeout_s;    /* watchdog: end the job after this many seconds, 0 = never */
    ht_transport transport;    /* auto | shm | mpi | hier */
    ht_inter_algo inter_algo;  /* auto | ring | rhd: hierarchical summing between nodes */
    ht_comm_dtype dtype;       /* fp32 | bf16: what hierarchical summing sends between nodes */
  } comm;
  struct {
    ht_gemm_backend backend;   /* auto | openblas | onednn */
    ht_precision precision;    /* fp32 | bf16 */
    ht_binding_mode binding;   /* auto | launcher | none (hytrain/binding.h) */
  } compute;
  struct {
    ht_progress_mode progress; /* bar | lines | auto */
  } log;
  char source[HT_PATH_MAX];    /* the YAML file it was loaded from, "" if none */
} ht_config;

typedef enum {
  HT_OPT_INT,      /* int */
  HT_OPT_INT64,    /* long long */
  HT_OPT_FLOAT,    /* double */
  HT_OPT_BOOL,     /* int, 0 or 1; YAML true/false */
  HT_OPT_STRING,   /* char[HT_NAME_MAX] */
  HT_OPT_ENUM,     /* a C enum (int-sized) from hytrain/options.h; choices spells it */
  HT_OPT_PATH,     /* char[HT_PATH_MAX], resolved (see ht_config_load_file) */
  HT_OPT_INT_LIST, /* int[HT_MAX_HIDDEN] + count (count_offset) */
  HT_OPT_WAIT,     /* ht_wait_opt: comm.wait's kind[:<us>] */
  HT_OPT_AUGMENT,  /* ht_augment_opt: none | flip | shift:<px> | flip,shift:<px> */
} ht_opt_type;

/* ht_option.flags */
enum {
  HT_OPT_MIN_OPEN = 1 << 0, /* numbers: min is exclusive (value > min) */
  HT_OPT_MAX_OPEN = 1 << 1, /* numbers: max is exclusive (value < max) */
  HT_OPT_CWD = 1 << 2,      /* PATH: relative to the current directory even in a
                               file (run.root), not to the config file */
};

typedef struct ht_option {
  const char *key;          /* "train.batch_size" */
  ht_opt_type type;
  size_t offset;            /* offsetof(ht_config, ...) */
  size_t count_offset;      /* INT_LIST only: offsetof the count field */
  const char *def;          /* default, as text in the same syntax as --set */
  double min, max;          /* bounds for numbers (and list items), inclusive
                               unless flags say otherwise; max may be HUGE_VAL */
  const ht_enum_table *choices; /* ENUM: the spellings (hytrain/options.h) */
  /* A rule of this key alone beyond its type and bounds (run.name must be a
   * directory name), or NULL: writes the reason (no key) into why and returns
   * nonzero when field is not acceptable. */
  int (*check)(const void *field, char *why, size_t len);
  const char *help;         /* one sentence */
  unsigned flags;           /* HT_OPT_* above */
} ht_option;

/* The registry, in display order (keys of one section together); *count
 * receives the number of rows when count is not NULL. */
const ht_option *ht_config_options(int *count);

/* Zeroes cfg and fills every option with its default (source = ""). */
void ht_config_defaults(ht_config *cfg);

/* Loads a YAML file on top of cfg (nested mappings: train: {epochs: 3}).
 * Errors name "file:line:column" and the key: unknown key, wrong type,
 * out of bounds, bad choice, malformed YAML, missing file. Relative paths
 * (data.train, data.test, run.root) are resolved, first match wins, against
 * (1) the config file's directory, (2) that directory's parent (the repository
 * root for configs/x.yaml), (3) the current directory; a path found in none
 * keeps form (1)... unless it is run.root, which resolves against the current
 * directory. Records the file in cfg->source. Duplicate keys are errors; an
 * empty file changes nothing. On any error cfg is left as it was. Returns 0,
 * HT_ENOENT (missing file), HT_EIO or HT_ECONFIG. Not collective. */
int ht_config_load_file(ht_config *cfg, const char *path);

/* Applies one override "a.b=value" (value in YAML scalar syntax; lists as
 * "[512,256]" or "512,256"). Relative paths resolve against the current
 * directory. Errors name the --set argument; on error cfg is unchanged.
 * Returns 0 or HT_ECONFIG. Not collective. */
int ht_config_set(ht_config *cfg, const char *assignment);

/* Checks every value against its option (bounds, choices) and the rules
 * across keys (data.train is required, mlp needs a hidden layer, ...).
 * Returns 0 or HT_ECONFIG. Not collective. */
int ht_config_validate(const ht_config *cfg);

/* Writes the effective config as nested YAML that ht_config_load_file reads
 * back to an identical struct (every option; source becomes a comment).
 * Returns 0 or HT_EIO. */
int ht_config_write_yaml(const ht_config *cfg, FILE *out);

/* Prints every key: type, default, bounds/choices and help. */
void ht_config_list(FILE *out);

/* Formats one option's current value as text ("[256, 128]", "0.1", "true"),
 * in the syntax --set accepts; strings are not quoted. Truncates to len. */
void ht_config_format_value(const ht_config *cfg, const ht_option *opt, char *buf, size_t len);

/* Checks v against the bounds of the numeric option key as its registry row
 * states them, with the message a parsed value gets ("optimizer.lr: 0 is out
 * of range (0, 1000]"). Modules that take a value outside a config (tests,
 * tools) use it so that a bound is written and worded in one place. Returns 0
 * or HT_ECONFIG (recorded); HT_EINTERNAL for a key that is not a number. */
int ht_config_check_number(const char *key, double v);

/* Parses a comm.wait value (also for tools: bench allreduce --wait). Returns
 * 0 or HT_ECONFIG with the recorded message "comm.wait: expected ...". */
int ht_config_parse_wait(const char *text, ht_wait_opt *out);

/* Collective on comm: root's config is copied to every rank as bytes (the
 * struct has no pointers and all ranks run the same binary). Returns 0 or
 * HT_EMPI. */
int ht_config_bcast(ht_config *cfg, int root, MPI_Comm comm);

#endif
