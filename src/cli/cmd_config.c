/*
 * hytrain config --list               every option: type, default, range, help
 * hytrain config CONFIG [--set k=v]   the effective config after overrides
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/config_args.h"
#include "hytrain/error.h"

int ht_cmd_config(int argc, char **argv) {
  const char *path = NULL;
  char **sets = calloc((size_t)argc, sizeof(char *));
  int n_sets = 0, rc = 0;
  if (!sets) return ht_cli_fail("config", ht_error(HT_ENOMEM, "out of memory"));
  for (int i = 1; i < argc && rc == 0; i++) {
    if (strcmp(argv[i], "--list") == 0) {
      ht_config_list(stdout);
      free(sets);
      return 0;
    } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      fputs("usage: hytrain config --list\n       hytrain config CONFIG [--set key=value]...\n", stdout);
      free(sets);
      return 0;
    } else if (strcmp(argv[i], "--set") == 0 && i + 1 < argc) {
      sets[n_sets++] = argv[++i];
    } else if (argv[i][0] == '-') {
      rc = ht_error(HT_EUSAGE, "unknown option '%s'", argv[i]);
    } else if (!path) {
      path = argv[i];
    } else {
      rc = ht_error(HT_EUSAGE, "unexpected argument '%s'", argv[i]);
    }
  }
  if (rc == 0 && !path) rc = ht_error(HT_EUSAGE, "missing CONFIG (or --list)");
  ht_config cfg;
  if (rc == 0) rc = ht__config_from_args(&cfg, path, sets, n_sets);
  if (rc == 0) ht_config_write_yaml(&cfg, stdout);
  free(sets);
  return rc < 0 ? ht_cli_fail("config", rc) : 0;
}
