/*
 * One option's value: text (a YAML scalar or sequence) to the typed field,
 * with type, bound and choice checks, and back to text.
 *
 * Every parse function fills an ht__config_fail with the reason only; the
 * callers know whether the value came from a file (and where) or from --set.
 */
#include "config_internal.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hytrain/error.h"

int ht__config_failf(ht__config_fail *fail, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(fail->why, sizeof fail->why, fmt, ap);
  va_end(ap);
  return HT_ECONFIG;
}

/* What comm.wait and data.augment accept, as every message words it. */
#define WAIT_SYNTAX "backoff[:<us>], adaptive[:<us>], yield, block or sleep:<us> (us in 1..1000000)"
#define AUGMENT_SYNTAX "none, flip, shift:<px> or flip,shift:<px> (px 1..64)"

void *ht__config_field(ht_config *cfg, const ht_option *opt) { return (char *)cfg + opt->offset; }

static const void *field_c(const ht_config *cfg, const ht_option *opt) { return (const char *)cfg + opt->offset; }

const char *ht__config_type_name(ht_opt_type type) {
  switch (type) {
  case HT_OPT_INT: return "int";
  case HT_OPT_INT64: return "int64";
  case HT_OPT_FLOAT: return "float";
  case HT_OPT_BOOL: return "bool";
  case HT_OPT_STRING: return "string";
  case HT_OPT_ENUM: return "enum";
  case HT_OPT_PATH: return "path";
  case HT_OPT_INT_LIST: return "int list";
  case HT_OPT_WAIT:
  case HT_OPT_AUGMENT: return "string";
  }
  return "?";
}

void ht__config_expected(const ht_option *opt, char *buf, size_t len) {
  switch (opt->type) {
  case HT_OPT_INT:
  case HT_OPT_INT64: snprintf(buf, len, "an integer"); break;
  case HT_OPT_FLOAT: snprintf(buf, len, "a number"); break;
  case HT_OPT_BOOL: snprintf(buf, len, "true or false"); break;
  case HT_OPT_STRING: snprintf(buf, len, "a string"); break;
  case HT_OPT_ENUM: snprintf(buf, len, "one of %s", opt->choices->choices); break;
  case HT_OPT_PATH: snprintf(buf, len, "a path"); break;
  case HT_OPT_INT_LIST: snprintf(buf, len, "a list of integers like [256, 128]"); break;
  case HT_OPT_WAIT: snprintf(buf, len, "%s", WAIT_SYNTAX); break;
  case HT_OPT_AUGMENT: snprintf(buf, len, "%s", AUGMENT_SYNTAX); break;
  }
}

void ht__config_format_double(double v, char *buf, size_t len) {
  /* %.17g always round-trips but prints 0.1 as 0.10000000000000001; the
   * shortest precision that reads back to the same bits is just as exact. */
  /* Whole numbers print in full ("1000", not "1e+03") while exact. */
  if (isfinite(v) && v == floor(v) && fabs(v) < 1e16) {
    snprintf(buf, len, "%.0f", v);
    return;
  }
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(buf, len, "%.*g", prec, v);
    if (!isfinite(v) || strtod(buf, NULL) == v) return;
  }
}

/* Bounds of an integer option, clamped to what its C type holds. */
static void int_bounds(const ht_option *opt, double *lo, double *hi) {
  double tmin = opt->type == HT_OPT_INT64 ? -9223372036854775808.0 : (double)INT_MIN;
  double tmax = opt->type == HT_OPT_INT64 ? 9223372036854775807.0 : (double)INT_MAX;
  *lo = opt->min > tmin ? opt->min : tmin;
  *hi = opt->max < tmax ? opt->max : tmax;
}

void ht__config_range_text(const ht_option *opt, char *buf, size_t len) {
  char lo[40], hi[40];
  switch (opt->type) {
  case HT_OPT_INT:
  case HT_OPT_INT64:
  case HT_OPT_INT_LIST: {
    double l, h;
    int_bounds(opt, &l, &h);
    snprintf(lo, sizeof lo, "%.0f", l);
    snprintf(hi, sizeof hi, "%.0f", h);
    snprintf(buf, len, "[%s, %s]", lo, hi);
    return;
  }
  case HT_OPT_FLOAT:
    ht__config_format_double(opt->min, lo, sizeof lo);
    ht__config_format_double(opt->max, hi, sizeof hi);
    snprintf(buf, len, "%c%s, %s%c", (opt->flags & HT_OPT_MIN_OPEN) || isinf(opt->min) ? '(' : '[', lo, hi,
             (opt->flags & HT_OPT_MAX_OPEN) || isinf(opt->max) ? ')' : ']');
    return;
  case HT_OPT_BOOL:
  case HT_OPT_STRING:
  case HT_OPT_ENUM:
  case HT_OPT_PATH:
  case HT_OPT_WAIT:
  case HT_OPT_AUGMENT:
    buf[0] = '\0';
  }
}

/* Base-10 integer, optional sign, nothing else. Returns 0 ok, -1 not an
 * integer, 1 too large for long long. */
static int parse_ll(const char *s, long long *out) {
  const char *p = s;
  char *end;
  if (*p == '+' || *p == '-') p++;
  if (!isdigit((unsigned char)*p)) return -1;
  errno = 0;
  *out = strtoll(s, &end, 10);
  if (*end != '\0') return -1;
  return errno == ERANGE ? 1 : 0;
}

static int parse_int(const ht_option *opt, const char *text, long long *out, ht__config_fail *fail) {
  char range[96];
  double lo, hi;
  int rc = parse_ll(text, out);
  if (rc < 0) return ht__config_failf(fail, "expected an integer, got '%s'", text);
  int_bounds(opt, &lo, &hi);
  if (rc > 0 || (double)*out < lo || (double)*out > hi) {
    ht__config_range_text(opt, range, sizeof range);
    return ht__config_failf(fail, "%s is out of range %s", text, range);
  }
  return 0;
}

static int parse_float(const ht_option *opt, const char *text, double *out, ht__config_fail *fail) {
  char range[96];
  char *end;
  if (text[0] == '\0' || isspace((unsigned char)text[0])) return ht__config_failf(fail, "expected a number, got '%s'", text);
  *out = strtod(text, &end);
  if (*end != '\0') return ht__config_failf(fail, "expected a number, got '%s'", text);
  if (!isfinite(*out)) return ht__config_failf(fail, "expected a finite number, got '%s'", text);
  int below = (opt->flags & HT_OPT_MIN_OPEN) ? *out <= opt->min : *out < opt->min;
  int above = (opt->flags & HT_OPT_MAX_OPEN) ? *out >= opt->max : *out > opt->max;
  if (below || above) {
    ht__config_range_text(opt, range, sizeof range);
    return ht__config_failf(fail, "%s is out of range %s", text, range);
  }
  return 0;
}

static int parse_bool(const char *text, int *out, ht__config_fail *fail) {
  static const char *const yes[] = {"true", "yes", "on"}, *const no[] = {"false", "no", "off"};
  for (int i = 0; i < 3; i++) {
    if (strcasecmp(text, yes[i]) == 0) return *out = 1, 0;
    if (strcasecmp(text, no[i]) == 0) return *out = 0, 0;
  }
  return ht__config_failf(fail, "expected true or false (or yes/no, on/off), got '%s'", text);
}

/* A decimal integer in lo..hi and nothing else after it. */
static int parse_small(const char *text, long lo, long hi, int *out) {
  char *end = NULL;
  if (!isdigit((unsigned char)text[0])) return -1;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno || *end != '\0' || v < lo || v > hi) return -1;
  *out = (int)v;
  return 0;
}

/* comm.wait: a kind of ht_wait_kinds, then ":<us>" where the kind takes a
 * pause (sleep must, adaptive and backoff may, yield and block may not). */
static int parse_wait(const char *text, ht_wait_opt *out, ht__config_fail *fail) {
  char kind[16];
  const char *colon = strchr(text, ':');
  size_t n = colon ? (size_t)(colon - text) : strlen(text);
  int k = -1, us = 0;
  if (n < sizeof kind) {
    memcpy(kind, text, n);
    kind[n] = '\0';
    k = ht_enum_parse(&ht_wait_kinds, kind);
  }
  int ok = k >= 0;
  if (ok) {
    switch ((ht_wait_kind)k) {
    case HT_WAIT_YIELD:
    case HT_WAIT_BLOCK: ok = !colon; break;
    case HT_WAIT_SLEEP: ok = colon && parse_small(colon + 1, 1, 1000000, &us) == 0; break;
    case HT_WAIT_ADAPTIVE:
    case HT_WAIT_BACKOFF:
      us = HT_WAIT_DEFAULT_US;
      ok = !colon || parse_small(colon + 1, 1, 1000000, &us) == 0;
      break;
    }
  }
  if (!ok) return ht__config_failf(fail, "expected %s, got '%s'", WAIT_SYNTAX, text);
  out->kind = (ht_wait_kind)k;
  out->us = us;
  return 0;
}

int ht_config_parse_wait(const char *text, ht_wait_opt *out) {
  ht__config_fail fail;
  if (parse_wait(text, out, &fail) < 0) return ht_error(HT_ECONFIG, "comm.wait: %s", fail.why);
  return 0;
}

/* data.augment: "none" (or empty), else "flip", "shift:<px>" or both, comma
 * separated, each at most once. */
static int parse_augment(const char *text, ht_augment_opt *out, ht__config_fail *fail) {
  char buf[HT_NAME_MAX];
  ht_augment_opt a = {0, 0};
  int ok = strlen(text) < sizeof buf;
  if (ok && text[0] != '\0' && strcmp(text, "none") != 0) {
    snprintf(buf, sizeof buf, "%s", text);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); ok && tok; tok = strtok_r(NULL, ",", &save)) {
      while (*tok == ' ') tok++;
      if (strcmp(tok, "flip") == 0 && !a.flip)
        a.flip = 1;
      else if (strncmp(tok, "shift:", 6) == 0 && !a.shift)
        ok = parse_small(tok + 6, 1, 64, &a.shift) == 0;
      else
        ok = 0;
    }
  }
  if (!ok) return ht__config_failf(fail, "expected %s, got '%s'", AUGMENT_SYNTAX, text);
  *out = a;
  return 0;
}

/* A YAML null: an empty, "~" or "null" plain scalar. */
static int is_null(const char *text, int plain) {
  return plain && (text[0] == '\0' || strcmp(text, "~") == 0 || strcmp(text, "null") == 0);
}

static int parse_item(const ht_option *opt, const char *text, int index, int *out, ht__config_fail *fail) {
  long long v;
  char range[96];
  double lo, hi;
  int rc = parse_ll(text, &v);
  if (rc < 0) return ht__config_failf(fail, "expected a list of integers like [256, 128], got item '%s'", text);
  int_bounds(opt, &lo, &hi);
  if (lo < INT_MIN) lo = INT_MIN;
  if (hi > INT_MAX) hi = INT_MAX;
  if (rc > 0 || (double)v < lo || (double)v > hi) {
    ht__config_range_text(opt, range, sizeof range);
    return ht__config_failf(fail, "item %d (%s) is out of range %s", index + 1, text, range);
  }
  *out = (int)v;
  return 0;
}

static int too_many_items(ht__config_fail *fail) {
  return ht__config_failf(fail, "expected a list of at most %d integers", HT_MAX_HIDDEN);
}

/* "[512, 256]", "512,256", "[]" or "" into items; brackets are optional. */
static int parse_list_text(const ht_option *opt, const char *text, int *items, int *n, ht__config_fail *fail) {
  char buf[HT_PATH_MAX];
  size_t len = strlen(text);
  const char *p = text;
  *n = 0;
  while (isspace((unsigned char)*p)) p++, len--;
  while (len > 0 && isspace((unsigned char)p[len - 1])) len--;
  if (len > 0 && p[0] == '[') {
    if (len < 2 || p[len - 1] != ']')
      return ht__config_failf(fail, "expected a list of integers like [256, 128], got '%s'", text);
    p++, len -= 2;
  }
  if (len >= sizeof buf) return too_many_items(fail);
  memcpy(buf, p, len);
  buf[len] = '\0';
  char *s = buf;
  while (isspace((unsigned char)*s)) s++;
  if (*s == '\0') return 0;
  for (char *item = buf;;) {
    char *comma = strchr(item, ',');
    if (comma) *comma = '\0';
    while (isspace((unsigned char)*item)) item++;
    char *e = item + strlen(item);
    while (e > item && isspace((unsigned char)e[-1])) *--e = '\0';
    if (*n == HT_MAX_HIDDEN) return too_many_items(fail);
    if (parse_item(opt, item, *n, &items[*n], fail) < 0) return HT_ECONFIG;
    (*n)++;
    if (!comma) break;
    item = comma + 1;
  }
  return 0;
}

static int store_text(char *dst, size_t cap, const char *text, int plain, ht__config_fail *fail) {
  if (is_null(text, plain)) text = "";
  if (strlen(text) >= cap) return ht__config_failf(fail, "longer than %zu characters", cap - 1);
  memcpy(dst, text, strlen(text) + 1);
  return 0;
}

int ht__config_parse_text(ht_config *cfg, const ht_option *opt, const char *text, int plain,
                          ht__config_fail *fail) {
  void *f = ht__config_field(cfg, opt);
  long long v;
  fail->line = fail->column = 0;
  fail->is_yaml = 0;
  switch (opt->type) {
  case HT_OPT_INT:
    if (parse_int(opt, text, &v, fail) < 0) return HT_ECONFIG;
    *(int *)f = (int)v;
    if (opt->check && opt->check(f, fail->why, sizeof fail->why)) return HT_ECONFIG;
    return 0;
  case HT_OPT_INT64:
    if (parse_int(opt, text, &v, fail) < 0) return HT_ECONFIG;
    *(long long *)f = v;
    return 0;
  case HT_OPT_FLOAT: return parse_float(opt, text, f, fail);
  case HT_OPT_BOOL: return parse_bool(text, f, fail);
  case HT_OPT_STRING:
    if (store_text(f, HT_NAME_MAX, text, plain, fail) < 0) return HT_ECONFIG;
    if (opt->check && opt->check(f, fail->why, sizeof fail->why)) return HT_ECONFIG;
    return 0;
  case HT_OPT_PATH: return store_text(f, HT_PATH_MAX, text, plain, fail);
  case HT_OPT_ENUM: {
    int v = ht_enum_parse(opt->choices, text);
    if (v < 0) return ht__config_failf(fail, "expected one of %s, got '%s'", opt->choices->choices, text);
    *(int *)f = v;
    return 0;
  }
  case HT_OPT_WAIT: return parse_wait(text, f, fail);
  case HT_OPT_AUGMENT: return parse_augment(is_null(text, plain) ? "" : text, f, fail);
  case HT_OPT_INT_LIST: {
    int items[HT_MAX_HIDDEN], n = 0;
    if (!is_null(text, plain) && parse_list_text(opt, text, items, &n, fail) < 0) return HT_ECONFIG;
    memcpy(f, items, (size_t)n * sizeof(int));
    memset((int *)f + n, 0, (size_t)(HT_MAX_HIDDEN - n) * sizeof(int));
    *(int *)((char *)cfg + opt->count_offset) = n;
    return 0;
  }
  }
  return ht__config_failf(fail, "option type %d is not handled", (int)opt->type);
}

static int yaml_problem(const yaml_parser_t *parser, ht__config_fail *fail) {
  fail->is_yaml = 1;
  fail->line = parser->problem_mark.line + 1;
  fail->column = parser->problem_mark.column + 1;
  return ht__config_failf(fail, "%s", parser->problem ? parser->problem : "unknown libyaml error");
}

static int fail_at(ht__config_fail *fail, const yaml_event_t *ev, int rc) {
  fail->line = ev->start_mark.line + 1;
  fail->column = ev->start_mark.column + 1;
  return rc;
}

/* A sequence of scalars into an INT_LIST field; `first` was SEQUENCE_START. */
static int read_sequence(yaml_parser_t *parser, ht_config *cfg, const ht_option *opt, ht__config_fail *fail) {
  int items[HT_MAX_HIDDEN], n = 0;
  for (;;) {
    yaml_event_t ev;
    int rc = 0;
    if (!yaml_parser_parse(parser, &ev)) return yaml_problem(parser, fail);
    if (ev.type == YAML_SEQUENCE_END_EVENT) {
      yaml_event_delete(&ev);
      break;
    }
    if (ev.type != YAML_SCALAR_EVENT)
      rc = fail_at(fail, &ev, ht__config_failf(fail, "expected a list of integers like [256, 128]"));
    else if (n == HT_MAX_HIDDEN)
      rc = fail_at(fail, &ev, too_many_items(fail));
    else if (parse_item(opt, (const char *)ev.data.scalar.value, n, &items[n], fail) < 0)
      rc = fail_at(fail, &ev, HT_ECONFIG);
    else
      n++;
    yaml_event_delete(&ev);
    if (rc < 0) return rc;
  }
  memcpy(ht__config_field(cfg, opt), items, (size_t)n * sizeof(int));
  memset((int *)ht__config_field(cfg, opt) + n, 0, (size_t)(HT_MAX_HIDDEN - n) * sizeof(int));
  *(int *)((char *)cfg + opt->count_offset) = n;
  return 0;
}

int ht__config_read_value(yaml_parser_t *parser, const yaml_event_t *first, ht_config *cfg,
                          const ht_option *opt, ht__config_fail *fail) {
  char want[96];
  fail->is_yaml = 0;
  ht__config_expected(opt, want, sizeof want);
  /* An int switch: libyaml's event list is not ours to enumerate case by case. */
  switch ((int)first->type) {
  case YAML_SCALAR_EVENT: {
    int plain = first->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    if (ht__config_parse_text(cfg, opt, (const char *)first->data.scalar.value, plain, fail) < 0)
      return fail_at(fail, first, HT_ECONFIG);
    return 0;
  }
  case YAML_SEQUENCE_START_EVENT:
    if (opt->type == HT_OPT_INT_LIST) return read_sequence(parser, cfg, opt, fail);
    return fail_at(fail, first, ht__config_failf(fail, "expected %s, got a list", want));
  case YAML_MAPPING_START_EVENT:
    return fail_at(fail, first, ht__config_failf(fail, "expected %s, got a mapping", want));
  case YAML_ALIAS_EVENT:
    return fail_at(fail, first, ht__config_failf(fail, "expected %s, got an alias (*name is not supported)", want));
  default:
    return fail_at(fail, first, ht__config_failf(fail, "expected %s", want));
  }
}

int ht__config_check_value(const ht_config *cfg, const ht_option *opt, ht__config_fail *fail) {
  char text[HT_PATH_MAX];
  ht_config scratch;
  const void *f = field_c(cfg, opt);
  switch (opt->type) {
  case HT_OPT_BOOL:
    if (*(const int *)f != 0 && *(const int *)f != 1)
      return ht__config_failf(fail, "expected true or false, got %d", *(const int *)f);
    return 0;
  case HT_OPT_STRING:
    if (!memchr(f, '\0', HT_NAME_MAX)) return ht__config_failf(fail, "not terminated within %d bytes", HT_NAME_MAX);
    break;
  case HT_OPT_ENUM:
    if (*(const int *)f < 0 || *(const int *)f >= opt->choices->count)
      return ht__config_failf(fail, "holds %d, not one of %s", *(const int *)f, opt->choices->choices);
    return 0;
  case HT_OPT_PATH:
    if (!memchr(f, '\0', HT_PATH_MAX)) return ht__config_failf(fail, "not terminated within %d bytes", HT_PATH_MAX);
    return 0;
  case HT_OPT_INT_LIST: {
    int n = *(const int *)((const char *)cfg + opt->count_offset);
    if (n < 0 || n > HT_MAX_HIDDEN)
      return ht__config_failf(fail, "holds %d items, expected 0 to %d", n, HT_MAX_HIDDEN);
    break;
  }
  case HT_OPT_INT:
  case HT_OPT_INT64:
  case HT_OPT_FLOAT:
  case HT_OPT_WAIT:
  case HT_OPT_AUGMENT: break;
  }
  /* Everything else: print the value and parse it back with the same checks
   * a file or --set value gets, so the rules live in one place. */
  ht_config_format_value(cfg, opt, text, sizeof text);
  return ht__config_parse_text(&scratch, opt, text, 0, fail);
}

void ht_config_format_value(const ht_config *cfg, const ht_option *opt, char *buf, size_t len) {
  const void *f = field_c(cfg, opt);
  if (len == 0) return;
  switch (opt->type) {
  case HT_OPT_INT: snprintf(buf, len, "%d", *(const int *)f); return;
  case HT_OPT_INT64: snprintf(buf, len, "%lld", *(const long long *)f); return;
  case HT_OPT_FLOAT: ht__config_format_double(*(const double *)f, buf, len); return;
  case HT_OPT_BOOL: snprintf(buf, len, "%s", *(const int *)f ? "true" : "false"); return;
  case HT_OPT_STRING: snprintf(buf, len, "%.*s", HT_NAME_MAX - 1, (const char *)f); return;
  case HT_OPT_ENUM: snprintf(buf, len, "%s", ht_enum_name(opt->choices, *(const int *)f)); return;
  case HT_OPT_WAIT: {
    /* The shortest text that parses back to the same value: "backoff" for
     * the default pause, "backoff:20" otherwise. */
    const ht_wait_opt *w = f;
    const char *kind = ht_enum_name(&ht_wait_kinds, (int)w->kind);
    int with_us = 0;
    switch (w->kind) {
    case HT_WAIT_YIELD:
    case HT_WAIT_BLOCK: with_us = 0; break;
    case HT_WAIT_SLEEP: with_us = 1; break;
    case HT_WAIT_ADAPTIVE:
    case HT_WAIT_BACKOFF: with_us = w->us != HT_WAIT_DEFAULT_US; break;
    }
    if (with_us)
      snprintf(buf, len, "%s:%d", kind, w->us);
    else
      snprintf(buf, len, "%s", kind);
    return;
  }
  case HT_OPT_AUGMENT: {
    const ht_augment_opt *a = f;
    if (a->flip && a->shift)
      snprintf(buf, len, "flip,shift:%d", a->shift);
    else if (a->shift)
      snprintf(buf, len, "shift:%d", a->shift);
    else
      snprintf(buf, len, "%s", a->flip ? "flip" : "none");
    return;
  }
  case HT_OPT_PATH: snprintf(buf, len, "%.*s", HT_PATH_MAX - 1, (const char *)f); return;
  case HT_OPT_INT_LIST: {
    const int *items = f;
    int n = *(const int *)((const char *)cfg + opt->count_offset);
    size_t used = 0;
    if (n < 0) n = 0;
    if (n > HT_MAX_HIDDEN) n = HT_MAX_HIDDEN;
    used += (size_t)snprintf(buf, len, "[");
    for (int i = 0; i < n && used < len; i++)
      used += (size_t)snprintf(buf + used, len - used, "%s%d", i ? ", " : "", items[i]);
    if (used < len) snprintf(buf + used, len - used, "]");
    return;
  }
  }
  buf[0] = '\0';
}

int ht_config_check_number(const char *key, double v) {
  const ht_option *opt = ht__config_find(key);
  ht__config_fail fail;
  char text[64];
  long long i;
  double d;
  if (!opt) return ht_error(HT_EINTERNAL, "%s: not an option", key);
  switch (opt->type) {
  case HT_OPT_INT:
  case HT_OPT_INT64:
    if (!(v == floor(v))) {
      ht__config_format_double(v, text, sizeof text);
      ht__config_failf(&fail, "expected an integer, got '%s'", text);
      break;
    }
    snprintf(text, sizeof text, "%.0f", v);
    if (parse_int(opt, text, &i, &fail) < 0) break;
    return 0;
  case HT_OPT_FLOAT:
    ht__config_format_double(v, text, sizeof text);
    if (parse_float(opt, text, &d, &fail) < 0) break;
    return 0;
  case HT_OPT_BOOL:
  case HT_OPT_STRING:
  case HT_OPT_ENUM:
  case HT_OPT_PATH:
  case HT_OPT_INT_LIST:
  case HT_OPT_WAIT:
  case HT_OPT_AUGMENT: return ht_error(HT_EINTERNAL, "%s: not a number option", key);
  }
  return ht_error(HT_ECONFIG, "%s: %s", key, fail.why);
}
