/*
 * The effective config as nested YAML: what a run actually used, written to
 * its run directory and readable by ht_config_load_file.
 *
 * Sections nest by the dots of the keys, in registry order. Strings and paths
 * are always double-quoted with escapes, so no value can turn into a number,
 * a bool, a comment or a YAML error on the way back. Floats are printed with
 * the shortest text that reads back to the same double.
 *
 * Relative paths are written as they are (relative to the directory hytrain
 * ran in). Loading the file from the same directory finds them again through
 * rule (3) of path resolution; see docs/config.md.
 */
#include "config_internal.h"

#include <errno.h>
#include <string.h>

#include "hytrain/error.h"

static void put_quoted(FILE *out, const char *s) {
  fputc('"', out);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
    case '"': fputs("\\\"", out); break;
    case '\\': fputs("\\\\", out); break;
    case '\n': fputs("\\n", out); break;
    case '\t': fputs("\\t", out); break;
    case '\r': fputs("\\r", out); break;
    default:
      if (*p < 0x20 || *p == 0x7f)
        fprintf(out, "\\x%02x", *p);
      else
        fputc(*p, out);
    }
  }
  fputc('"', out);
}

static void put_value(FILE *out, const ht_config *cfg, const ht_option *opt) {
  char buf[HT_PATH_MAX + 8];
  ht_config_format_value(cfg, opt, buf, sizeof buf);
  if (opt->type == HT_OPT_STRING || opt->type == HT_OPT_PATH || opt->type == HT_OPT_WAIT ||
      opt->type == HT_OPT_AUGMENT || buf[0] == '\0' ||
      (opt->type == HT_OPT_ENUM && strspn(buf, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(buf)))
    put_quoted(out, buf);
  else
    fputs(buf, out);
}

/* The length of the next dotted component of key after prefix_len chars. */
static size_t component(const char *key, size_t prefix_len) {
  const char *rest = key + prefix_len, *dot = strchr(rest, '.');
  return dot ? (size_t)(dot - rest) : strlen(rest);
}

static int under(const char *key, const char *prefix, size_t plen) {
  return plen == 0 || (strncmp(key, prefix, plen - 1) == 0 && key[plen - 1] == '.');
}

/* Writes every key under prefix (which ends with '.', or is "") at depth. */
static void emit_level(FILE *out, const ht_config *cfg, const char *prefix, int depth) {
  int n;
  const ht_option *opts = ht_config_options(&n);
  size_t plen = strlen(prefix);
  for (int i = 0; i < n; i++) {
    const char *key = opts[i].key;
    if (!under(key, prefix, plen)) continue;
    size_t clen = component(key, plen);
    int done = 0; /* this component was written by an earlier key */
    for (int j = 0; j < i && !done; j++)
      done = under(opts[j].key, prefix, plen) && component(opts[j].key, plen) == clen &&
             strncmp(opts[j].key + plen, key + plen, clen) == 0;
    if (done) continue;
    fprintf(out, "%*s%.*s:", 2 * depth, "", (int)clen, key + plen);
    if (key[plen + clen] == '\0') {
      fputc(' ', out);
      put_value(out, cfg, &opts[i]);
      fputc('\n', out);
    } else {
      char sub[HT__KEY_MAX];
      fputc('\n', out);
      snprintf(sub, sizeof sub, "%.*s.", (int)(plen + clen), key);
      emit_level(out, cfg, sub, depth + 1);
    }
  }
}

int ht_config_write_yaml(const ht_config *cfg, FILE *out) {
  fputs("# Effective hytrain configuration: every key, defaults included.\n", out);
  if (cfg->source[0]) {
    fputs("# Loaded from: ", out);
    for (const char *p = cfg->source; *p; p++) fputc(*p == '\n' ? ' ' : *p, out);
    fputc('\n', out);
  }
  emit_level(out, cfg, "", 0);
  if (fflush(out) != 0 || ferror(out))
    return ht_error(HT_EIO, "cannot write the effective config: %s", strerror(errno));
  return 0;
}
