/*
 * `--set key=value` overrides.
 *
 * The value is parsed by libyaml as a one-node document, so it follows the
 * same rules as the value in a file: quotes work ("--set run.name='a b'"),
 * "[512, 256]" is a list, and every type/bound/choice check is shared. A
 * list may also be written without brackets, "512,256" (a plain scalar that
 * the list parser splits). Relative paths stay relative to the current
 * directory, which is where the user typed them.
 */
#include "config_internal.h"

#include <ctype.h>
#include <string.h>

#include "hytrain/error.h"

/* Parses `value` as YAML and stores it into opt's field of cfg. */
static int set_value(ht_config *cfg, const ht_option *opt, const char *value, ht__config_fail *fail) {
  yaml_parser_t parser;
  yaml_event_t ev;
  int rc = 0, ended = 0;
  if (!yaml_parser_initialize(&parser)) return ht__config_failf(fail, "out of memory");
  yaml_parser_set_input_string(&parser, (const unsigned char *)value, strlen(value));
  /* STREAM_START, then DOCUMENT_START or (for an empty value) STREAM_END,
   * then the node itself. */
  while (rc == 0) {
    if (!yaml_parser_parse(&parser, &ev)) {
      fail->is_yaml = 1;
      rc = ht__config_failf(fail, "%s", parser.problem ? parser.problem : "unknown libyaml error");
      break;
    }
    if (ev.type == YAML_STREAM_END_EVENT) {
      rc = ht__config_parse_text(cfg, opt, "", 1, fail);
      yaml_event_delete(&ev);
      ended = 1;
      break;
    }
    if (ev.type != YAML_STREAM_START_EVENT && ev.type != YAML_DOCUMENT_START_EVENT) {
      rc = ht__config_read_value(&parser, &ev, cfg, opt, fail);
      yaml_event_delete(&ev);
      break;
    }
    yaml_event_delete(&ev);
  }
  /* Anything after the node ("1 --- 2") would be silently dropped. After
   * STREAM_END libyaml returns empty events forever, so stop there. */
  if (rc == 0 && !ended) {
    while (yaml_parser_parse(&parser, &ev)) {
      yaml_event_type_t t = ev.type;
      yaml_event_delete(&ev);
      if (t == YAML_DOCUMENT_START_EVENT) {
        rc = ht__config_failf(fail, "expected a single value");
        break;
      }
      if (t == YAML_STREAM_END_EVENT) break;
    }
    if (rc == 0 && parser.error != YAML_NO_ERROR) {
      fail->is_yaml = 1;
      rc = ht__config_failf(fail, "%s", parser.problem ? parser.problem : "unknown libyaml error");
    }
  }
  yaml_parser_delete(&parser);
  return rc;
}

static void trim(char *s) {
  char *b = s, *e = s + strlen(s);
  while (isspace((unsigned char)*b)) b++;
  while (e > b && isspace((unsigned char)e[-1])) e--;
  memmove(s, b, (size_t)(e - b));
  s[e - b] = '\0';
}

int ht_config_set(ht_config *cfg, const char *assignment) {
  const char *eq = strchr(assignment, '=');
  char key[HT__KEY_MAX], hint[HT__KEY_MAX + 32], value[HT_PATH_MAX + 64];
  const ht_option *opt;
  ht__config_fail fail = {0};
  ht_config work;
  if (!eq) return ht_error(HT_ECONFIG, "--set %s: expected key=value", assignment);
  snprintf(key, sizeof key, "%.*s", (int)(eq - assignment), assignment);
  trim(key);
  if ((size_t)(eq - assignment) >= sizeof key || !(opt = ht__config_find(key))) {
    ht__config_suggest(key, hint, sizeof hint);
    return ht_error(HT_ECONFIG, "--set %s: unknown key '%s'%s", assignment, key, hint);
  }
  if (strlen(eq + 1) >= sizeof value)
    return ht_error(HT_ECONFIG, "--set %.*s=...: value longer than %zu characters", (int)(eq - assignment),
                    assignment, sizeof value - 1);
  snprintf(value, sizeof value, "%s", eq + 1);
  trim(value);
  /* Parse into a copy so that a bad value leaves cfg as it was. */
  work = *cfg;
  if (set_value(&work, opt, value, &fail) < 0)
    return ht_error(HT_ECONFIG, "--set %s: %s%s", assignment, fail.is_yaml ? "invalid YAML: " : "", fail.why);
  *cfg = work;
  return 0;
}
