/*
 * Loading a YAML config file with libyaml's event API.
 *
 * The file is one mapping. Nested mappings are sections ("train: {epochs: 3}"
 * is the key train.epochs) and a dotted key at any level is accepted too
 * ("train.epochs: 3"). Every error is one line that starts with
 * "file:line:column" (1-based, from libyaml's marks) and names the key.
 *
 * The file is applied to a copy of the config, which replaces the caller's
 * only when the whole file is good: a failed load changes nothing.
 */
#include "config_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hytrain/error.h"

/* A section mapping already opened in this file, to report duplicates. */
typedef struct section_seen {
  char prefix[HT__KEY_MAX];
  size_t line;
} section_seen;

typedef struct yaml_loader {
  const char *path;
  yaml_parser_t parser;
  ht_config *cfg;
  size_t *key_line;       /* [n options] line where each key was set, 0 = not yet */
  section_seen *sections; /* sections opened so far */
  int n_sections, cap_sections;
} yaml_loader;

/* Records "file:line:column: <message>" and returns HT_ECONFIG. */
static int fail_at(const yaml_loader *ld, size_t line, size_t column, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail_at(const yaml_loader *ld, size_t line, size_t column, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return ht_error(HT_ECONFIG, "%s:%zu:%zu: %s", ld->path, line, column, msg);
}

static int fail_mark(const yaml_loader *ld, yaml_mark_t mark, const char *what) {
  return fail_at(ld, mark.line + 1, mark.column + 1, "%s", what);
}

/* Next event, or the parser's own complaint as an error. */
static int next_event(yaml_loader *ld, yaml_event_t *ev) {
  if (yaml_parser_parse(&ld->parser, ev)) return 0;
  return fail_at(ld, ld->parser.problem_mark.line + 1, ld->parser.problem_mark.column + 1, "invalid YAML: %s",
                 ld->parser.problem ? ld->parser.problem : "unknown libyaml error");
}

static int report(const yaml_loader *ld, const char *key, const ht__config_fail *fail) {
  if (fail->is_yaml) return fail_at(ld, fail->line, fail->column, "invalid YAML: %s", fail->why);
  return fail_at(ld, fail->line, fail->column, "%s: %s", key, fail->why);
}

static int unknown_key(const yaml_loader *ld, yaml_mark_t mark, const char *key) {
  char hint[HT__KEY_MAX + 32];
  ht__config_suggest(key, hint, sizeof hint);
  return fail_at(ld, mark.line + 1, mark.column + 1, "unknown key '%s'%s", key, hint);
}

/* Remembers that section `prefix` was opened at line; fails on a repeat. */
static int open_section(yaml_loader *ld, const char *prefix, yaml_mark_t mark) {
  for (int i = 0; i < ld->n_sections; i++)
    if (strcmp(ld->sections[i].prefix, prefix) == 0)
      return fail_at(ld, mark.line + 1, mark.column + 1, "duplicate key '%s' (first at line %zu)", prefix,
                     ld->sections[i].line);
  if (ld->n_sections == ld->cap_sections) {
    int cap = ld->cap_sections ? 2 * ld->cap_sections : 8;
    section_seen *grown = realloc(ld->sections, (size_t)cap * sizeof *grown);
    if (!grown) return ht_error(HT_ENOMEM, "%s: out of memory", ld->path);
    ld->sections = grown, ld->cap_sections = cap;
  }
  snprintf(ld->sections[ld->n_sections].prefix, HT__KEY_MAX, "%s", prefix);
  ld->sections[ld->n_sections++].line = mark.line + 1;
  return 0;
}

/* One key whose option is known: check for a repeat, read, resolve. */
static int load_option(yaml_loader *ld, const ht_option *opt, yaml_mark_t key_mark, const yaml_event_t *value) {
  int n_opts;
  const ht_option *all = ht_config_options(&n_opts);
  size_t *seen = &ld->key_line[opt - all];
  ht__config_fail fail;
  if (*seen)
    return fail_at(ld, key_mark.line + 1, key_mark.column + 1, "duplicate key '%s' (first at line %zu)", opt->key,
                   *seen);
  *seen = key_mark.line + 1;
  if (ht__config_read_value(&ld->parser, value, ld->cfg, opt, &fail) < 0) return report(ld, opt->key, &fail);
  if (opt->type == HT_OPT_PATH &&
      ht__config_resolve_path(ld->path, opt, ht__config_field(ld->cfg, opt), &fail) < 0) {
    fail.line = value->start_mark.line + 1, fail.column = value->start_mark.column + 1;
    return report(ld, opt->key, &fail);
  }
  return 0;
}

static int load_mapping(yaml_loader *ld, const char *prefix);

/* The value of key `full` (whose key event is at key_mark) is `value`. */
static int load_entry(yaml_loader *ld, const char *full, yaml_mark_t key_mark, const yaml_event_t *value) {
  const ht_option *opt = ht__config_find(full);
  if (opt) return load_option(ld, opt, key_mark, value);
  if (!ht__config_is_section(full)) return unknown_key(ld, key_mark, full);
  if (value->type != YAML_MAPPING_START_EVENT)
    return fail_at(ld, value->start_mark.line + 1, value->start_mark.column + 1,
                   "%s: expected a mapping of %s.* keys, like '%s: {key: value}'", full, full, full);
  HT_CHECK(open_section(ld, full, key_mark));
  return load_mapping(ld, full);
}

/* Reads key/value pairs up to the end of the mapping whose start event was
 * just consumed. prefix is the dotted section ("" at the top level). */
static int load_mapping(yaml_loader *ld, const char *prefix) {
  for (;;) {
    yaml_event_t key, value;
    char full[HT__KEY_MAX];
    int rc;
    HT_CHECK(next_event(ld, &key));
    if (key.type == YAML_MAPPING_END_EVENT) {
      yaml_event_delete(&key);
      return 0;
    }
    if (key.type != YAML_SCALAR_EVENT) {
      rc = fail_mark(ld, key.start_mark, "expected a key (a plain name like 'epochs')");
      yaml_event_delete(&key);
      return rc;
    }
    snprintf(full, sizeof full, "%s%s%s", prefix, prefix[0] ? "." : "", (const char *)key.data.scalar.value);
    rc = next_event(ld, &value);
    if (rc == 0) {
      rc = load_entry(ld, full, key.start_mark, &value);
      yaml_event_delete(&value);
    }
    yaml_event_delete(&key);
    if (rc < 0) return rc;
  }
}

/* The document body: a mapping, or nothing at all (an empty document). */
static int load_document(yaml_loader *ld) {
  yaml_event_t ev;
  int rc = 0;
  HT_CHECK(next_event(ld, &ev));
  if (ev.type == YAML_MAPPING_START_EVENT) {
    rc = load_mapping(ld, "");
  } else if (!(ev.type == YAML_SCALAR_EVENT && ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
               ev.data.scalar.length == 0)) {
    rc = fail_mark(ld, ev.start_mark, "expected a mapping of keys at the top level, like 'train: {epochs: 3}'");
  }
  yaml_event_delete(&ev);
  if (rc < 0) return rc;
  HT_CHECK(next_event(ld, &ev)); /* DOCUMENT_END: the parser guarantees it */
  yaml_event_delete(&ev);
  return 0;
}

/* Runs the whole file through libyaml once, only for syntax. A file that is
 * not valid YAML is reported as such, at libyaml's mark, before any value in
 * it is judged: the semantic pass below reads events as they come and would
 * otherwise complain about a value that the syntax error made up
 * ("3 batch_size" from a badly indented line). */
static int check_syntax(const char *path, FILE *f) {
  yaml_parser_t parser;
  yaml_event_t ev;
  int rc = 0, done = 0;
  if (!yaml_parser_initialize(&parser)) return ht_error(HT_ENOMEM, "%s: out of memory", path);
  yaml_parser_set_input_file(&parser, f);
  while (!done) {
    if (!yaml_parser_parse(&parser, &ev)) {
      rc = ht_error(HT_ECONFIG, "%s:%zu:%zu: invalid YAML: %s", path, parser.problem_mark.line + 1,
                    parser.problem_mark.column + 1, parser.problem ? parser.problem : "unknown libyaml error");
      break;
    }
    done = ev.type == YAML_STREAM_END_EVENT;
    yaml_event_delete(&ev);
  }
  yaml_parser_delete(&parser);
  rewind(f);
  return rc;
}

static int load_stream(yaml_loader *ld) {
  yaml_event_t ev;
  int docs = 0;
  HT_CHECK(next_event(ld, &ev)); /* STREAM_START */
  yaml_event_delete(&ev);
  for (;;) {
    HT_CHECK(next_event(ld, &ev));
    yaml_event_type_t type = ev.type;
    yaml_mark_t mark = ev.start_mark;
    yaml_event_delete(&ev);
    if (type == YAML_STREAM_END_EVENT) return 0;
    if (docs++ > 0) return fail_mark(ld, mark, "a config file holds one YAML document, found a second one");
    HT_CHECK(load_document(ld));
  }
}

int ht_config_load_file(ht_config *cfg, const char *path) {
  yaml_loader ld = {.path = path};
  struct stat st;
  ht_config work = *cfg;
  int n_opts, rc;
  FILE *f;
  if (strlen(path) >= sizeof cfg->source)
    return ht_error(HT_EINVAL, "%.64s...: config path longer than %d characters", path, HT_PATH_MAX - 1);
  f = fopen(path, "rb");
  if (!f) return ht_error(errno == ENOENT ? HT_ENOENT : HT_EIO, "%s: cannot open: %s", path, strerror(errno));
  /* fopen succeeds on a directory; reading it fails later with a vaguer
   * libyaml "input error", so say it now. */
  if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
    fclose(f);
    return ht_error(HT_ECONFIG, "%s: is a directory, not a config file", path);
  }
  rc = check_syntax(path, f);
  if (rc < 0) {
    fclose(f);
    return rc;
  }
  ht_config_options(&n_opts);
  ld.key_line = calloc((size_t)n_opts, sizeof *ld.key_line);
  if (!ld.key_line || !yaml_parser_initialize(&ld.parser)) {
    free(ld.key_line);
    fclose(f);
    return ht_error(HT_ENOMEM, "%s: out of memory", path);
  }
  yaml_parser_set_input_file(&ld.parser, f);
  ld.cfg = &work;
  rc = load_stream(&ld);
  yaml_parser_delete(&ld.parser);
  free(ld.sections);
  free(ld.key_line);
  fclose(f);
  if (rc < 0) {
    ht__error_trace_push(__FILE__, __LINE__, __func__);
    return rc;
  }
  snprintf(work.source, sizeof work.source, "%s", path);
  *cfg = work;
  return 0;
}
