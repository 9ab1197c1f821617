/*
 * Enum options: one X-macro per option gives the C enumerators and their
 * spellings, in that order. The registry (src/config/registry.c) parses,
 * lists and prints them through the tables below, checkpoints write and read
 * the same spellings, and the modules switch over the C values, so a value
 * the code does not handle cannot exist past the config (and -Wswitch-enum
 * flags a switch that forgets one).
 *
 * Enumerators take the values 0 .. count-1 in list order; a table's names[v]
 * is the spelling of value v. Adding a spelling is one X(...) line here plus
 * the case in every switch the compiler then points at.
 */
#ifndef HYTRAIN_OPTIONS_H
#define HYTRAIN_OPTIONS_H

/* model.type */
#define HT_MODEL_TYPES(X)                                                                                           \
  X(HT_MODEL_SOFTMAX, "softmax") X(HT_MODEL_LOGISTIC, "logistic") X(HT_MODEL_LINEAR, "linear") X(HT_MODEL_SVM, "svm") \
  X(HT_MODEL_MLP, "mlp")
/* model.activation */
#define HT_ACTIVATIONS(X) X(HT_ACT_RELU, "relu") X(HT_ACT_TANH, "tanh") X(HT_ACT_SIGMOID, "sigmoid")
/* model.init */
#define HT_INITS(X) X(HT_INIT_AUTO, "auto") X(HT_INIT_HE, "he") X(HT_INIT_XAVIER, "xavier")
/* optimizer.name */
#define HT_OPTIMIZERS(X) X(HT_OPTIM_SGD, "sgd") X(HT_OPTIM_ADAMW, "adamw")
/* schedule.name */
#define HT_SCHEDULES(X) X(HT_SCHED_CONSTANT, "constant") X(HT_SCHED_STEP, "step") X(HT_SCHED_COSINE, "cosine")
/* train.engine (docs/sparse.md): sync is the dense data-parallel path; the
 * others train sparse linear models on CSR data. */
#define HT_ENGINES(X) \
  X(HT_ENGINE_SYNC, "sync") X(HT_ENGINE_HOGWILD, "hogwild") X(HT_ENGINE_LOCKED, "locked") X(HT_ENGINE_SERIAL, "serial")
/* data.normalize */
#define HT_NORMALIZES(X) X(HT_NORMALIZE_NONE, "none") X(HT_NORMALIZE_STANDARD, "standard")
/* data.mode */
#define HT_DATA_MODES(X) X(HT_DATA_MEMORY, "memory") X(HT_DATA_STREAM, "stream") X(HT_DATA_AUTO, "auto")
/* comm.mode */
#define HT_SYNC_MODES(X) X(HT_SYNC_SYNC, "sync") X(HT_SYNC_OVERLAP, "overlap") X(HT_SYNC_DELAYED, "delayed")
/* comm.transport */
#define HT_TRANSPORTS(X) X(HT_TRANSPORT_AUTO, "auto") X(HT_TRANSPORT_SHM, "shm") X(HT_TRANSPORT_MPI, "mpi") X(HT_TRANSPORT_HIER, "hier")
/* comm.inter_algo: the inter-node allreduce of hierarchical summing (src/comm/hier.h) */
#define HT_INTER_ALGOS(X) X(HT_INTER_AUTO, "auto") X(HT_INTER_RING, "ring") X(HT_INTER_RHD, "rhd")
/* comm.dtype: what hierarchical summing sends between nodes */
#define HT_COMM_DTYPES(X) X(HT_COMM_FP32, "fp32") X(HT_COMM_BF16, "bf16")
/* The kind of comm.wait (its pause, if any, is a number after ':'). */
#define HT_WAIT_KINDS(X)                                                                                 \
  X(HT_WAIT_YIELD, "yield") X(HT_WAIT_SLEEP, "sleep") X(HT_WAIT_BLOCK, "block") X(HT_WAIT_ADAPTIVE, "adaptive") \
  X(HT_WAIT_BACKOFF, "backoff")
/* compute.backend (docs/compute.md) */
#define HT_GEMM_BACKENDS(X) X(HT_GEMM_AUTO, "auto") X(HT_GEMM_OPENBLAS, "openblas") X(HT_GEMM_ONEDNN, "onednn")
/* compute.precision */
#define HT_PRECISIONS(X) X(HT_PREC_FP32, "fp32") X(HT_PREC_BF16, "bf16")
/* compute.binding (hytrain/binding.h) */
#define HT_BINDINGS(X) X(HT_BINDING_AUTO, "auto") X(HT_BINDING_LAUNCHER, "launcher") X(HT_BINDING_NONE, "none")
/* log.progress (src/train/progress.c) */
#define HT_PROGRESS_MODES(X) X(HT_PROGRESS_BAR, "bar") X(HT_PROGRESS_LINES, "lines") X(HT_PROGRESS_AUTO, "auto")
/* train.on_nonfinite (src/train/grad_sync.c) */
#define HT_NONFINITE_ACTIONS(X) X(HT_NONFINITE_STOP, "stop") X(HT_NONFINITE_SKIP_STEP, "skip_step")
/* A sweep file's method and metric (src/sweep). */
#define HT_SWEEP_METHODS(X) X(HT_SWEEP_GRID, "grid") X(HT_SWEEP_RANDOM, "random")
#define HT_SWEEP_METRICS(X) \
  X(HT_METRIC_TEST_ACCURACY, "test_accuracy") X(HT_METRIC_TEST_RMSE, "test_rmse") X(HT_METRIC_TRAIN_LOSS, "train_loss")

#define HT__ENUM_VALUE(name, text) name,
typedef enum { HT_MODEL_TYPES(HT__ENUM_VALUE) } ht_model_type;
typedef enum { HT_ACTIVATIONS(HT__ENUM_VALUE) } ht_activation;
typedef enum { HT_INITS(HT__ENUM_VALUE) } ht_init;
typedef enum { HT_OPTIMIZERS(HT__ENUM_VALUE) } ht_optim_kind;
typedef enum { HT_SCHEDULES(HT__ENUM_VALUE) } ht_sched_kind;
typedef enum { HT_NORMALIZES(HT__ENUM_VALUE) } ht_normalize;
typedef enum { HT_ENGINES(HT__ENUM_VALUE) } ht_engine;
typedef enum { HT_DATA_MODES(HT__ENUM_VALUE) } ht_data_mode;
typedef enum { HT_SYNC_MODES(HT__ENUM_VALUE) } ht_sync_mode;
typedef enum { HT_TRANSPORTS(HT__ENUM_VALUE) } ht_transport;
typedef enum { HT_INTER_ALGOS(HT__ENUM_VALUE) } ht_inter_algo;
typedef enum { HT_COMM_DTYPES(HT__ENUM_VALUE) } ht_comm_dtype;
typedef enum { HT_WAIT_KINDS(HT__ENUM_VALUE) } ht_wait_kind;
typedef enum { HT_BINDINGS(HT__ENUM_VALUE) } ht_binding_mode;
typedef enum { HT_PROGRESS_MODES(HT__ENUM_VALUE) } ht_progress_mode;
typedef enum { HT_NONFINITE_ACTIONS(HT__ENUM_VALUE) } ht_nonfinite_action;
typedef enum { HT_SWEEP_METHODS(HT__ENUM_VALUE) } ht_sweep_method;
typedef enum { HT_SWEEP_METRICS(HT__ENUM_VALUE) } ht_sweep_metric;
typedef enum { HT_GEMM_BACKENDS(HT__ENUM_VALUE) } ht_gemm_backend;
typedef enum { HT_PRECISIONS(HT__ENUM_VALUE) } ht_precision;

/* The spellings of one enum. */
typedef struct ht_enum_table {
  const char *const *names; /* [count]: names[v] spells value v */
  int count;
  const char *choices;      /* "a|b|c", as --list and messages show them */
} ht_enum_table;

extern const ht_enum_table ht_model_types, ht_activations, ht_inits, ht_optimizers, ht_schedules, ht_normalizes,
    ht_data_modes, ht_sync_modes, ht_transports, ht_wait_kinds, ht_bindings, ht_progress_modes, ht_sweep_methods,
    ht_sweep_metrics, ht_gemm_backends, ht_precisions, ht_engines, ht_inter_algos, ht_comm_dtypes,
    ht_nonfinite_actions;

/* The value spelled exactly text (case-sensitive), or -1. The one place that
 * compares option text: everything else holds the C value. */
int ht_enum_parse(const ht_enum_table *t, const char *text);

/* The spelling of value, or "?" for a value outside the table. */
const char *ht_enum_name(const ht_enum_table *t, int value);

/* comm.wait parsed: the kind and its pause in microseconds (0 for yield and
 * block; for adaptive and backoff without ":<us>", HT_WAIT_DEFAULT_US). */
#define HT_WAIT_DEFAULT_US 100
typedef struct ht_wait_opt {
  ht_wait_kind kind;
  int us;
} ht_wait_opt;

/* data.augment parsed: none, flip, shift:<px> or flip,shift:<px>. */
typedef struct ht_augment_opt {
  int flip;  /* 1: mirror images left-right at random */
  int shift; /* largest random shift in pixels, 0 = none */
} ht_augment_opt;

#endif
