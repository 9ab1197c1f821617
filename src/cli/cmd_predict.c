/*
 * hytrain predict CKPT [--data FILE] --out OUT.h5|OUT.csv [--batch N]
 * Parses the arguments and calls ht_predict_checkpoint (hytrain/predict.h):
 * every rank predicts its shard of FILE, rank 0 writes all rows in input
 * order to OUT. Runs on one process or under mpirun.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "hytrain/comm.h"
#include "hytrain/error.h"
#include "hytrain/predict.h"

static const char predict_help[] =
    "usage: hytrain predict CKPT --out OUT.h5|OUT.csv [--data FILE] [--batch N]\n"
    "       (also: hytrain predict --checkpoint CKPT ...; run under mpirun to use several ranks)\n"
    "\n"
    "Predicts every row of the HDF5 dataset FILE (only /features is needed;\n"
    "default: the evaluation split recorded in the checkpoint) with the model in\n"
    "CKPT, normalised as in training. Rank 0 writes the rows in input order to OUT\n"
    "(OUT.partial first, then renamed):\n"
    "  classifiers  /classes int32 [N] and /probabilities float32 [N, K]\n"
    "               (logistic: K = 2, 1 - P(1) and P(1); svm: /scores, the raw outputs)\n"
    "  regression   /predictions float32 [N, T]\n"
    "A .csv file holds the same columns after a header line (class,p0,p1,...).\n"
    "Prints the rows, the forward pass's rows/s and the output file. docs/predict.md.\n"
    "\n"
    "  --batch N   rows per forward pass (default 1024)\n";

/* Fills o from the arguments (the same on every rank); *help = 1 for --help. */
static int parse_args(int argc, char **argv, ht_predict_opts *o, int *help) {
  int rc = 0;
  for (int i = 1; i < argc && rc == 0; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      *help = 1;
      return 0;
    } else if (strcmp(a, "--checkpoint") == 0 || strcmp(a, "--data") == 0 || strcmp(a, "--out") == 0 ||
               strcmp(a, "--batch") == 0) {
      if (i + 1 >= argc) return ht_error(HT_EUSAGE, "%s needs a value (see hytrain predict --help)", a);
      const char *v = argv[++i];
      if (strcmp(a, "--batch") == 0)
        rc = ht_cli_parse_int("--batch", v, 1, 1 << 20, &o->max_batch);
      else if (strcmp(a, "--data") == 0)
        o->data = v;
      else if (strcmp(a, "--out") == 0)
        o->out = v;
      else if (o->ckpt)
        rc = ht_error(HT_EUSAGE, "more than one checkpoint given ('%s' and '%s')", o->ckpt, v);
      else
        o->ckpt = v;
    } else if (a[0] == '-') {
      rc = ht_error(HT_EUSAGE, "unknown option '%s' (see hytrain predict --help)", a);
    } else if (!o->ckpt) {
      o->ckpt = a;
    } else {
      rc = ht_error(HT_EUSAGE, "unexpected argument '%s'", a);
    }
  }
  if (rc == 0 && !o->ckpt) rc = ht_error(HT_EUSAGE, "missing checkpoint (usage: hytrain predict CKPT --out OUT.h5|OUT.csv)");
  if (rc == 0 && !o->out) rc = ht_error(HT_EUSAGE, "missing --out OUT.h5|OUT.csv");
  ht_predict_format fmt;
  if (rc == 0) rc = ht_predict_format_of(o->out, &fmt);
  return rc;
}

int ht_cmd_predict(int argc, char **argv) {
  ht_comm comm;
  int rc = ht_comm_init(&comm, &argc, &argv);
  if (rc < 0) {
    int code = comm.rank == 0 ? ht_cli_fail("predict", rc) : ht_exit_code(rc);
    ht_comm_finalize(&comm);
    return code;
  }
  ht_predict_opts o = {NULL, NULL, NULL, 1024};
  ht_predict_result res;
  int help = 0;
  /* Every rank parses the same arguments; the agreement leaves one error line. */
  rc = ht_comm_agree(&comm, parse_args(argc, argv, &o, &help));
  if (rc == 0 && help) {
    if (comm.rank == 0) fputs(predict_help, stdout);
  } else if (rc == 0) {
    rc = ht_predict_checkpoint(&o, &comm, &res);
  }
  if (rc == 0 && !help && comm.rank == 0)
    printf("predict %s on %s: %lld rows, forward %.3f s (%.0f rows/s over %d rank%s), total %.3f s; wrote %s\n", o.ckpt,
           res.data_used, (long long)res.rows, res.forward_s, res.forward_s > 0 ? (double)res.rows / res.forward_s : 0.0,
           comm.size, comm.size == 1 ? "" : "s", res.total_s, o.out);
  int code = rc < 0 ? ht_cli_fail("predict", rc) : 0;
  ht_comm_finalize(&comm);
  return code;
}
