/*
 * Fuzz target: the YAML config loader with --set overrides. Input: a config
 * file, optionally followed by a line "%%" and one --set assignment per line.
 * Loads, applies the overrides, validates and writes the config back out
 * (src/config). Errors are expected; crashes and sanitizer reports are not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "hytrain/config.h"
#include "hytrain/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  char *sets = strstr(text, "\n%%\n");
  size_t yaml_len = sets ? (size_t)(sets - text) + 1 : size;
  const char *path = fuzz_file(0, "config.yaml", data, yaml_len);
  ht_config cfg;
  ht_config_defaults(&cfg);
  int rc = ht_config_load_file(&cfg, path);
  if (rc == 0 && sets) {
    for (char *line = strtok(sets + 4, "\n"); line && rc == 0; line = strtok(NULL, "\n")) rc = ht_config_set(&cfg, line);
  }
  if (rc == 0 && ht_config_validate(&cfg) == 0) {
    FILE *out = fopen("/dev/null", "w");
    if (out) {
      ht_config_write_yaml(&cfg, out);
      fclose(out);
    }
  }
  ht_error_clear();
  free(text);
  return 0;
}
