/*
 * hytrain inspect CKPT
 * Prints a checkpoint's attributes, every dataset with its shape and checksum
 * status, and its config. Exit 0 if every dataset verifies, 2 if the file is
 * corrupt, truncated or not a checkpoint (one error line names the file and
 * the dataset). No MPI.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "hytrain/ckpt.h"
#include "hytrain/error.h"

static const char ht__inspect_help[] =
    "usage: hytrain inspect CKPT\n"
    "\n"
    "Verifies a checkpoint (reads every dataset, checking its fletcher32 checksum) and\n"
    "prints its attributes, each dataset's type, shape and checksum status, and the\n"
    "config it was trained with. Exit code 0: every dataset verified; 2: it did not.\n";

int ht_cmd_inspect(int argc, char **argv) {
  const char *path = NULL;
  int rc = 0;
  for (int i = 1; i < argc && rc == 0; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      fputs(ht__inspect_help, stdout);
      return 0;
    } else if (argv[i][0] == '-') {
      rc = ht_error(HT_EUSAGE, "unknown option '%s' (see hytrain inspect --help)", argv[i]);
    } else if (!path) {
      path = argv[i];
    } else {
      rc = ht_error(HT_EUSAGE, "unexpected argument '%s': one checkpoint is expected", argv[i]);
    }
  }
  if (rc == 0 && !path) rc = ht_error(HT_EUSAGE, "missing CKPT (usage: hytrain inspect CKPT)");
  if (rc == 0) rc = ht_ckpt_inspect(path, stdout);
  fflush(stdout);
  return rc < 0 ? ht_cli_fail("inspect", rc) : 0;
}
