/*
 * Sharing the config with every rank.
 *
 * ht_config is a flat struct of ints, doubles and fixed-size char arrays with
 * no pointers, and every rank runs the same binary (same layout, padding and
 * endianness), so sending its bytes is a complete and exact copy. Only rank
 * `root` reads files; the others never see YAML.
 */
#include <limits.h>

#include "hytrain/config.h"
#include "hytrain/error.h"

_Static_assert(sizeof(ht_config) <= INT_MAX, "ht_config must fit one MPI_Bcast count");

int ht_config_bcast(ht_config *cfg, int root, MPI_Comm comm) {
  HT_CHECK_MPI(MPI_Bcast(cfg, (int)sizeof *cfg, MPI_BYTE, root, comm));
  return 0;
}
