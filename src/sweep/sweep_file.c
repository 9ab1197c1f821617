/*
 * Sweep files (include/hytrain/sweep.h): loading with libyaml's document API,
 * and the trial definitions.
 *
 * Grid trials enumerate the lists in file order with the first param varying
 * slowest (like itertools.product). Random trial t draws param p from its own
 * stream seeded by (seed, t, p), so a trial does not depend on the count, on
 * the other params, or on which process computes it. Drawn numbers are
 * formatted with %.6g and that text is what the trial applies, so the value
 * shown in results.csv is exactly the value trained with.
 */
#include "hytrain/sweep.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "hytrain/error.h"
#include "hytrain/rng.h"

static int fail_node(const ht_sweep *sw, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail_node(const ht_sweep *sw, const yaml_node_t *n, const char *fmt, ...) {
  char msg[768];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return ht_error(HT_ECONFIG, "%s:%zu:%zu: %s", sw->path, n ? n->start_mark.line + 1 : 1,
                  n ? n->start_mark.column + 1 : 1, msg);
}

static const char *scalar_text(const yaml_node_t *n) {
  return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* A number, with the node's position in the error. */
static int parse_number(const ht_sweep *sw, const yaml_node_t *n, const char *what, double *out) {
  const char *s = scalar_text(n);
  char *end = NULL;
  if (s) {
    errno = 0;
    *out = strtod(s, &end);
  }
  if (!s || end == s || *end || errno || !isfinite(*out))
    return fail_node(sw, n, "%s: expected a number, got '%s'", what, s ? s : "(not a scalar)");
  return 0;
}

static int parse_bool(const ht_sweep *sw, const yaml_node_t *n, const char *what, int *out) {
  const char *s = scalar_text(n);
  if (s && (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0)) *out = 1;
  else if (s && (strcmp(s, "false") == 0 || strcmp(s, "no") == 0)) *out = 0;
  else return fail_node(sw, n, "%s: expected true or false, got '%s'", what, s ? s : "(not a scalar)");
  return 0;
}

/* A value for --set: a scalar as written, or a flat sequence as "[a, b]". */
static int value_text(const ht_sweep *sw, yaml_document_t *doc, const yaml_node_t *n, const char *key, char *buf,
                          size_t len) {
  if (n->type == YAML_SCALAR_NODE) {
    if (snprintf(buf, len, "%s", scalar_text(n)) >= (int)len) return fail_node(sw, n, "%s: value too long", key);
    return 0;
  }
  if (n->type != YAML_SEQUENCE_NODE) return fail_node(sw, n, "%s: expected a value, got a mapping", key);
  size_t used = (size_t)snprintf(buf, len, "[");
  for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
    const char *s = scalar_text(yaml_document_get_node(doc, *it));
    if (!s) return fail_node(sw, n, "%s: a list value may hold only scalars", key);
    used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%s", it == n->data.sequence.items.start ? "" : ", ", s);
    if (used >= len) return fail_node(sw, n, "%s: value too long", key);
  }
  if (used + 2 > len) return fail_node(sw, n, "%s: value too long", key);
  snprintf(buf + used, len - used, "]");
  return 0;
}

/* Checks one "key=value" against the registry on a scratch config, so a bad
 * key or value is reported with the sweep file's position. */
static int check_set(const ht_sweep *sw, const yaml_node_t *n, const char *key, const char *value) {
  char assign[HT_SWEEP_VALUE_MAX * 2 + 8];
  snprintf(assign, sizeof assign, "%s=%s", key, value);
  ht_config scratch;
  ht_config_defaults(&scratch);
  if (ht_config_set(&scratch, assign) < 0) {
    char why[1024];
    snprintf(why, sizeof why, "%s", ht_error_message());
    ht_error_clear(); /* the first message wins: replace it with the positioned one */
    return fail_node(sw, n, "%s", why);
  }
  return 0;
}

static int param_range(ht_sweep *sw, yaml_document_t *doc, yaml_node_t *map, ht_sweep_param *p) {
  int have_min = 0, have_max = 0;
  if (sw->method != HT_SWEEP_RANDOM) return fail_node(sw, map, "params.%s: a range {min, max} needs method: random (a grid needs a list)", p->key);
  for (yaml_node_pair_t *kv = map->data.mapping.pairs.start; kv < map->data.mapping.pairs.top; kv++) {
    yaml_node_t *k = yaml_document_get_node(doc, kv->key), *v = yaml_document_get_node(doc, kv->value);
    const char *name = scalar_text(k);
    char what[HT_NAME_MAX * 2 + 32];
    snprintf(what, sizeof what, "params.%s.%s", p->key, name ? name : "?");
    if (name && strcmp(name, "min") == 0) {
      HT_CHECK(parse_number(sw, v, what, &p->min));
      have_min = 1;
    } else if (name && strcmp(name, "max") == 0) {
      HT_CHECK(parse_number(sw, v, what, &p->max));
      have_max = 1;
    } else if (name && strcmp(name, "log") == 0) HT_CHECK(parse_bool(sw, v, what, &p->log));
    else if (name && strcmp(name, "int") == 0) HT_CHECK(parse_bool(sw, v, what, &p->is_int));
    else return fail_node(sw, k, "params.%s: unknown range key '%s' (expected min, max, log, int)", p->key, name ? name : "?");
  }
  if (!have_min || !have_max) return fail_node(sw, map, "params.%s: a range needs both min and max", p->key);
  if (p->min > p->max) return fail_node(sw, map, "params.%s: min %g is greater than max %g", p->key, p->min, p->max);
  if (p->log && p->min <= 0) return fail_node(sw, map, "params.%s: log: true needs min > 0, got %g", p->key, p->min);
  /* Both ends must be acceptable values of the key. */
  char text[64];
  snprintf(text, sizeof text, p->is_int ? "%.0f" : "%.6g", p->min);
  HT_CHECK(check_set(sw, map, p->key, text));
  snprintf(text, sizeof text, p->is_int ? "%.0f" : "%.6g", p->max);
  HT_CHECK(check_set(sw, map, p->key, text));
  return 0;
}

static int load_params(ht_sweep *sw, yaml_document_t *doc, yaml_node_t *map) {
  if (map->type != YAML_MAPPING_NODE) return fail_node(sw, map, "params: expected a mapping of config keys to values");
  for (yaml_node_pair_t *kv = map->data.mapping.pairs.start; kv < map->data.mapping.pairs.top; kv++) {
    yaml_node_t *k = yaml_document_get_node(doc, kv->key), *v = yaml_document_get_node(doc, kv->value);
    const char *key = scalar_text(k);
    if (!key) return fail_node(sw, k, "params: expected a config key");
    if (sw->n_params == HT_SWEEP_MAX_PARAMS) return fail_node(sw, k, "params: more than %d keys", HT_SWEEP_MAX_PARAMS);
    for (int i = 0; i < sw->n_params; i++)
      if (strcmp(sw->params[i].key, key) == 0) return fail_node(sw, k, "params.%s: listed twice", key);
    ht_sweep_param *p = &sw->params[sw->n_params];
    memset(p, 0, sizeof *p);
    if (snprintf(p->key, sizeof p->key, "%s", key) >= (int)sizeof p->key) return fail_node(sw, k, "params: key too long");
    if (v->type == YAML_MAPPING_NODE) {
      HT_CHECK(param_range(sw, doc, v, p));
    } else if (v->type == YAML_SEQUENCE_NODE) {
      for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
        yaml_node_t *item = yaml_document_get_node(doc, *it);
        if (p->n_values == HT_SWEEP_MAX_VALUES) return fail_node(sw, item, "params.%s: more than %d values", key, HT_SWEEP_MAX_VALUES);
        HT_CHECK(value_text(sw, doc, item, key, p->values[p->n_values], sizeof p->values[0]));
        HT_CHECK(check_set(sw, item, key, p->values[p->n_values]));
        p->n_values++;
      }
      if (p->n_values == 0) return fail_node(sw, v, "params.%s: the list of values is empty", key);
    } else {
      return fail_node(sw, v, "params.%s: expected a list of values%s", key, sw->method == HT_SWEEP_RANDOM ? " or a range {min, max}" : "");
    }
    sw->n_params++;
  }
  if (sw->n_params == 0) return fail_node(sw, map, "params: no keys to sweep");
  return 0;
}

static int load_sets(ht_sweep *sw, yaml_document_t *doc, yaml_node_t *map) {
  if (map->type != YAML_MAPPING_NODE) return fail_node(sw, map, "set: expected a mapping of config keys to values");
  for (yaml_node_pair_t *kv = map->data.mapping.pairs.start; kv < map->data.mapping.pairs.top; kv++) {
    yaml_node_t *k = yaml_document_get_node(doc, kv->key), *v = yaml_document_get_node(doc, kv->value);
    const char *key = scalar_text(k);
    char value[HT_SWEEP_VALUE_MAX];
    if (!key) return fail_node(sw, k, "set: expected a config key");
    if (sw->n_sets == HT_SWEEP_MAX_PARAMS) return fail_node(sw, k, "set: more than %d keys", HT_SWEEP_MAX_PARAMS);
    HT_CHECK(value_text(sw, doc, v, key, value, sizeof value));
    HT_CHECK(check_set(sw, v, key, value));
    snprintf(sw->sets[sw->n_sets++], sizeof sw->sets[0], "%s=%s", key, value);
  }
  return 0;
}

/* The base config path: relative to the sweep file's directory, then its
 * parent (the repository root for sweeps/x.yaml), then the current directory. */
static int resolve_config(ht_sweep *sw, const yaml_node_t *n, const char *rel) {
  struct stat st;
  if (rel[0] == '/') {
    snprintf(sw->config, sizeof sw->config, "%s", rel);
    return 0;
  }
  char dir[HT_PATH_MAX], cand[3][HT_PATH_MAX * 2 + 8];
  snprintf(dir, sizeof dir, "%s", sw->path);
  char *slash = strrchr(dir, '/');
  if (slash) *slash = '\0';
  else snprintf(dir, sizeof dir, ".");
  snprintf(cand[0], sizeof cand[0], "%s/%s", dir, rel);
  snprintf(cand[1], sizeof cand[1], "%s/../%s", dir, rel);
  snprintf(cand[2], sizeof cand[2], "%s", rel);
  for (int i = 0; i < 3; i++) {
    if (stat(cand[i], &st) == 0 && S_ISREG(st.st_mode)) {
      if (snprintf(sw->config, sizeof sw->config, "%s", cand[i]) >= (int)sizeof sw->config)
        return fail_node(sw, n, "config: path too long");
      return 0;
    }
  }
  return fail_node(sw, n, "config: '%s' not found (looked in %s, %s/.. and the current directory)", rel, dir, dir);
}

static int load_doc(ht_sweep *sw, yaml_document_t *doc) {
  yaml_node_t *root = yaml_document_get_root_node(doc);
  if (!root || root->type != YAML_MAPPING_NODE) return fail_node(sw, root, "expected a mapping (config, method, params, ...)");
  yaml_node_t *params = NULL, *sets = NULL, *config = NULL, *count = NULL;
  int have_method = 0;
  for (yaml_node_pair_t *kv = root->data.mapping.pairs.start; kv < root->data.mapping.pairs.top; kv++) {
    yaml_node_t *k = yaml_document_get_node(doc, kv->key), *v = yaml_document_get_node(doc, kv->value);
    const char *key = scalar_text(k), *val = scalar_text(v);
    if (!key) return fail_node(sw, k, "expected a key");
    if (strcmp(key, "name") == 0) {
      if (!val || !val[0] || strchr(val, '/') || snprintf(sw->name, sizeof sw->name, "%s", val) >= (int)sizeof sw->name)
        return fail_node(sw, v, "name: expected a short name without '/'");
    } else if (strcmp(key, "config") == 0) {
      if (!val || !val[0]) return fail_node(sw, v, "config: expected the path of a config file");
      config = v;
    } else if (strcmp(key, "method") == 0) {
      int m = ht_enum_parse(&ht_sweep_methods, val);
      if (m < 0) return fail_node(sw, v, "method: expected grid or random, got '%s'", val ? val : "(not a scalar)");
      sw->method = (ht_sweep_method)m;
      have_method = 1;
    } else if (strcmp(key, "metric") == 0) {
      int m = ht_enum_parse(&ht_sweep_metrics, val);
      if (m < 0)
        return fail_node(sw, v, "metric: expected test_accuracy, test_rmse or train_loss, got '%s'", val ? val : "(not a scalar)");
      sw->metric = (ht_sweep_metric)m;
    } else if (strcmp(key, "count") == 0) {
      count = v;
    } else if (strcmp(key, "seed") == 0) {
      double s;
      HT_CHECK(parse_number(sw, v, "seed", &s));
      if (s < 0 || s != floor(s) || s > 9e15) return fail_node(sw, v, "seed: expected a non-negative integer");
      sw->seed = (long long)s;
    } else if (strcmp(key, "set") == 0) {
      sets = v;
    } else if (strcmp(key, "params") == 0) {
      params = v;
    } else {
      return fail_node(sw, k, "unknown key '%s' (expected name, config, set, method, count, seed, metric, params)", key);
    }
  }
  if (!config) return fail_node(sw, root, "missing 'config' (the base config file)");
  if (!have_method) return fail_node(sw, root, "missing 'method' (grid or random)");
  if (!params) return fail_node(sw, root, "missing 'params' (the keys to sweep)");
  HT_CHECK(resolve_config(sw, config, scalar_text(config)));
  if (sets) HT_CHECK(load_sets(sw, doc, sets));
  HT_CHECK(load_params(sw, doc, params));
  if (sw->method == HT_SWEEP_RANDOM) {
    double c;
    if (!count) return fail_node(sw, root, "method: random needs 'count' (the number of trials)");
    HT_CHECK(parse_number(sw, count, "count", &c));
    if (c < 1 || c > HT_SWEEP_MAX_TRIALS || c != floor(c))
      return fail_node(sw, count, "count: expected an integer in [1, %d]", HT_SWEEP_MAX_TRIALS);
    sw->n_trials = (int)c;
  } else {
    if (count) return fail_node(sw, count, "count: only for method: random (a grid runs every combination)");
    double n = 1;
    for (int p = 0; p < sw->n_params; p++) n *= sw->params[p].n_values;
    if (n > HT_SWEEP_MAX_TRIALS) return fail_node(sw, params, "params: the grid has %.0f trials, more than %d", n, HT_SWEEP_MAX_TRIALS);
    sw->n_trials = (int)n;
  }
  return 0;
}

int ht_sweep_load(ht_sweep *sw, const char *path) {
  memset(sw, 0, sizeof *sw);
  snprintf(sw->path, sizeof sw->path, "%s", path);
  sw->metric = HT_METRIC_TEST_ACCURACY;
  sw->seed = 1;
  const char *base = strrchr(path, '/');
  snprintf(sw->name, sizeof sw->name, "%s", base ? base + 1 : path);
  char *dot = strrchr(sw->name, '.');
  if (dot && dot != sw->name) *dot = '\0';
  FILE *f = fopen(path, "rb");
  if (!f) return ht_error(errno == ENOENT ? HT_ENOENT : HT_EIO, "%s: cannot open sweep file: %s", path, strerror(errno));
  yaml_parser_t parser;
  yaml_document_t doc;
  yaml_parser_initialize(&parser);
  yaml_parser_set_input_file(&parser, f);
  int rc = 0;
  if (!yaml_parser_load(&parser, &doc)) {
    rc = ht_error(HT_ECONFIG, "%s:%zu:%zu: invalid YAML: %s", path, parser.problem_mark.line + 1,
                  parser.problem_mark.column + 1, parser.problem ? parser.problem : "unknown libyaml error");
  } else {
    rc = load_doc(sw, &doc);
    yaml_document_delete(&doc);
  }
  yaml_parser_delete(&parser);
  fclose(f);
  return rc;
}

void ht_sweep_value(const ht_sweep *sw, int t, int p, char *buf, size_t len) {
  const ht_sweep_param *pp = &sw->params[p];
  if (sw->method != HT_SWEEP_RANDOM) {
    /* Mixed radix with the first param most significant. */
    int stride = 1;
    for (int q = p + 1; q < sw->n_params; q++) stride *= sw->params[q].n_values;
    snprintf(buf, len, "%s", pp->values[(t / stride) % pp->n_values]);
    return;
  }
  ht_rng rng;
  ht_rng_seed(&rng, ht_rng_mix((uint64_t)sw->seed, (uint64_t)t, (uint64_t)p + 0x5eedULL));
  if (pp->n_values > 0) {
    snprintf(buf, len, "%s", pp->values[ht_rng_below(&rng, (uint64_t)pp->n_values)]);
    return;
  }
  double u = ht_rng_uniform(&rng), v;
  if (pp->is_int) {
    /* Integers: uniform (or log-uniform) over [min, max + 1), floored. */
    double lo = pp->min, hi = pp->max + 1;
    v = pp->log ? exp(log(lo) + u * (log(hi) - log(lo))) : lo + u * (hi - lo);
    v = floor(v);
    if (v > pp->max) v = pp->max;
    snprintf(buf, len, "%.0f", v);
  } else {
    v = pp->log ? exp(log(pp->min) + u * (log(pp->max) - log(pp->min))) : pp->min + u * (pp->max - pp->min);
    snprintf(buf, len, "%.6g", v);
  }
}

int ht_sweep_trial_config(const ht_sweep *sw, int t, char **extra_sets, int n_extra, ht_config *cfg) {
  if (t < 0 || t >= sw->n_trials)
    return ht_error(HT_EUSAGE, "%s: trial %d does not exist (the sweep has trials 0..%d)", sw->path, t, sw->n_trials - 1);
  ht_config_defaults(cfg);
  HT_CHECK(ht_config_load_file(cfg, sw->config));
  for (int i = 0; i < sw->n_sets; i++) HT_CHECK(ht_config_set(cfg, sw->sets[i]));
  for (int i = 0; i < n_extra; i++) HT_CHECK(ht_config_set(cfg, extra_sets[i]));
  for (int p = 0; p < sw->n_params; p++) {
    char value[HT_SWEEP_VALUE_MAX], assign[HT_SWEEP_VALUE_MAX * 3];
    ht_sweep_value(sw, t, p, value, sizeof value);
    snprintf(assign, sizeof assign, "%s=%s", sw->params[p].key, value);
    if (ht_config_set(cfg, assign) < 0) {
      char why[1024];
      snprintf(why, sizeof why, "%s", ht_error_message());
    ht_error_clear(); /* the first message wins: replace it with the positioned one */
      return ht_error(HT_ECONFIG, "%s: trial %d: %s", sw->path, t, why);
    }
  }
  if (ht_config_validate(cfg) < 0) {
    char why[1024];
    snprintf(why, sizeof why, "%s", ht_error_message());
    ht_error_clear(); /* the first message wins: replace it with the positioned one */
    return ht_error(HT_ECONFIG, "%s: trial %d: %s", sw->path, t, why);
  }
  return 0;
}
