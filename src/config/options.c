/*
 * The spelling tables of the enum options (hytrain/options.h), generated from
 * the same X-macros as the C enums, so a value and its text cannot drift.
 */
#include "hytrain/options.h"

#include <string.h>

#define HT__ENUM_NAME(name, text) text,
#define HT__ENUM_CHOICE(name, text) "|" text
/* choices skips the leading '|' of "|a|b|c". */
#define HT__ENUM_TABLE(var, LIST)                                           \
  static const char *const var##_names[] = {LIST(HT__ENUM_NAME)};          \
  const ht_enum_table var = {var##_names, (int)(sizeof var##_names / sizeof var##_names[0]), \
                             (LIST(HT__ENUM_CHOICE)) + 1};

HT__ENUM_TABLE(ht_model_types, HT_MODEL_TYPES)
HT__ENUM_TABLE(ht_activations, HT_ACTIVATIONS)
HT__ENUM_TABLE(ht_inits, HT_INITS)
HT__ENUM_TABLE(ht_optimizers, HT_OPTIMIZERS)
HT__ENUM_TABLE(ht_schedules, HT_SCHEDULES)
HT__ENUM_TABLE(ht_normalizes, HT_NORMALIZES)
HT__ENUM_TABLE(ht_data_modes, HT_DATA_MODES)
HT__ENUM_TABLE(ht_sync_modes, HT_SYNC_MODES)
HT__ENUM_TABLE(ht_transports, HT_TRANSPORTS)
HT__ENUM_TABLE(ht_inter_algos, HT_INTER_ALGOS)
HT__ENUM_TABLE(ht_comm_dtypes, HT_COMM_DTYPES)
HT__ENUM_TABLE(ht_wait_kinds, HT_WAIT_KINDS)
HT__ENUM_TABLE(ht_bindings, HT_BINDINGS)
HT__ENUM_TABLE(ht_progress_modes, HT_PROGRESS_MODES)
HT__ENUM_TABLE(ht_sweep_methods, HT_SWEEP_METHODS)
HT__ENUM_TABLE(ht_sweep_metrics, HT_SWEEP_METRICS)
HT__ENUM_TABLE(ht_gemm_backends, HT_GEMM_BACKENDS)
HT__ENUM_TABLE(ht_precisions, HT_PRECISIONS)
HT__ENUM_TABLE(ht_engines, HT_ENGINES)
HT__ENUM_TABLE(ht_nonfinite_actions, HT_NONFINITE_ACTIONS)

int ht_enum_parse(const ht_enum_table *t, const char *text) {
  if (!text) return -1;
  for (int i = 0; i < t->count; i++)
    if (strcmp(t->names[i], text) == 0) return i;
  return -1;
}

const char *ht_enum_name(const ht_enum_table *t, int value) {
  return value >= 0 && value < t->count ? t->names[value] : "?";
}
