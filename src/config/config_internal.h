/*
 * Shared between the files of src/config: option lookup, value parsing and
 * path resolution. Nothing here records an error message: the helpers fill an
 * ht__config_fail with the reason (and the YAML position, when there is one)
 * so that each caller adds its own context, "file:line:column: key: " for a
 * YAML file or "--set key=value: " for an override.
 */
#ifndef HT_CONFIG_INTERNAL_H
#define HT_CONFIG_INTERNAL_H

#include <stddef.h>
#include <yaml.h>

#include "hytrain/config.h"

/* Longest dotted key we look up; longer keys are unknown by construction. */
#define HT__KEY_MAX 256

typedef struct ht__config_fail {
  char why[768];       /* "expected an integer, got 'abc'" (no key, no position) */
  size_t line, column; /* 1-based position of the offending YAML node; 0 = none */
  int is_yaml;         /* 1: the YAML itself is malformed (not about the key) */
} ht__config_fail;

/* registry.c */
/* The option named key, or NULL. */
const ht_option *ht__config_find(const char *key);
/* 1 if some key starts with "prefix." (prefix is a section like "train"). */
int ht__config_is_section(const char *prefix);
/* Writes " (did you mean 'x'?)" for the nearest key or section, or "". */
void ht__config_suggest(const char *key, char *buf, size_t len);

/* value.c */
/* The address of opt's field inside cfg. */
void *ht__config_field(ht_config *cfg, const ht_option *opt);
/* Parses text (a YAML scalar; plain = unquoted) into opt's field, checking
 * type, bounds and choices. Lists take "[512, 256]" or "512,256". */
int ht__config_parse_text(ht_config *cfg, const ht_option *opt, const char *text, int plain,
                          ht__config_fail *fail);
/* Reads the YAML node that starts with `first` (a scalar or a sequence of
 * scalars) into opt's field. Deletes the events it pulls, not `first`. */
int ht__config_read_value(yaml_parser_t *parser, const yaml_event_t *first, ht_config *cfg,
                          const ht_option *opt, ht__config_fail *fail);
/* Checks opt's current value in cfg as if it had been parsed. */
int ht__config_check_value(const ht_config *cfg, const ht_option *opt, ht__config_fail *fail);
/* "[1, 1048576]", "(0, 1000]", "[0, inf)"; "" for non-numbers. */
void ht__config_range_text(const ht_option *opt, char *buf, size_t len);
/* "an integer", "one of sgd|adamw", "a list of integers like [256, 128]" ... */
void ht__config_expected(const ht_option *opt, char *buf, size_t len);
/* "int", "float", "enum" ... */
const char *ht__config_type_name(ht_opt_type type);
/* The shortest decimal text that strtod reads back to exactly v. */
void ht__config_format_double(double v, char *buf, size_t len);
/* Fills fail->why from a format and returns HT_ECONFIG. */
int ht__config_failf(ht__config_fail *fail, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* paths.c */
/* Resolves the relative PATH value (in place, HT_PATH_MAX bytes) that was
 * read from the YAML file config_path; see ht_config_load_file. */
int ht__config_resolve_path(const char *config_path, const ht_option *opt, char *value, ht__config_fail *fail);

#endif
