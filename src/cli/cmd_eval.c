/*
 * hytrain eval [--checkpoint] CHECKPOINT [--data FILE]
 * Parses the arguments and calls ht_eval_checkpoint (hytrain/eval.h), which
 * rebuilds the model from the checkpoint, applies its normalisation and
 * evaluates it on FILE (default: the evaluation split the run used). Runs on
 * one process or under mpirun (each rank evaluates its shard).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "hytrain/comm.h"
#include "hytrain/error.h"
#include "hytrain/eval.h"
#include "hytrain/sparse_ckpt.h"
#include "hytrain/sparse_train.h"

static const char ht__eval_help[] =
    "usage: hytrain eval --checkpoint CKPT [--data FILE] [--batch N] [--backend B] [--precision P]\n"
    "       hytrain eval CKPT [--data FILE] [--batch N] [--backend B] [--precision P]\n"
    "\n"
    "Evaluates a checkpoint (e.g. runs/x/<id>/checkpoints/ckpt-1000.h5) on an HDF5\n"
    "dataset; FILE defaults to the evaluation split recorded in the checkpoint.\n"
    "A checkpoint of a sparse model (train.engine hogwild|locked|serial) is\n"
    "evaluated on a CSR dataset (docs/sparse.md).\n"
    "Prints one line: rows, loss and accuracy (classifiers) or RMSE (regression).\n"
    "--backend openblas|onednn and --precision fp32|bf16 pick the GEMM backend\n"
    "(default openblas fp32, the reference; see docs/compute.md).\n";

/* Collective: evaluates and, on rank 0, prints the one line. */
static int eval_and_print(const ht_comm *comm, const char *ckpt, const char *data, int batch,
                          const ht_gemm_opts *gopts) {
  ht_eval_metrics ev;
  char path[HT_PATH_MAX];
  ht_task task;
  if (ht_sparse_ckpt_is_sparse(ckpt)) {
    HT_CHECK(ht_sparse_eval_checkpoint(ckpt, data, comm, &ev, path, sizeof path));
    task = ev.accuracy >= 0 ? HT_TASK_CLASSIFY : HT_TASK_REGRESS;
  } else {
    HT_CHECK(ht_eval_checkpoint(ckpt, data, batch, gopts, comm, &ev, path, &task));
  }
  if (comm->rank != 0) return 0;
  if (task == HT_TASK_CLASSIFY)
    printf("eval %s on %s: rows %lld  loss %.6f  accuracy %.6f\n", ckpt, path, (long long)ev.rows, ev.loss, ev.accuracy);
  else
    printf("eval %s on %s: rows %lld  loss %.6f  rmse %.6f\n", ckpt, path, (long long)ev.rows, ev.loss, ev.rmse);
  return 0;
}

int ht_cmd_eval(int argc, char **argv) {
  const char *ckpt = NULL, *data = NULL;
  int batch = 1024, rc = 0;
  ht_gemm_opts gopts = {.backend = HT_GEMM_OPENBLAS, .precision = HT_PREC_FP32, .fuse_relu = 1};
  for (int i = 1; i < argc && rc == 0; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      fputs(ht__eval_help, stdout);
      return 0;
    } else if (strcmp(argv[i], "--checkpoint") == 0) {
      if (i + 1 >= argc)
        rc = ht_error(HT_EUSAGE, "--checkpoint needs a checkpoint file");
      else if (ckpt)
        rc = ht_error(HT_EUSAGE, "more than one checkpoint given ('%s' and '%s')", ckpt, argv[i + 1]);
      else
        ckpt = argv[++i];
    } else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
      data = argv[++i];
    } else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc) {
      batch = atoi(argv[++i]);
      if (batch < 1) rc = ht_error(HT_EUSAGE, "--batch must be a positive integer");
    } else if (strcmp(argv[i], "--backend") == 0 && i + 1 < argc) {
      const char *v = argv[++i];
      if (strcmp(v, ht_gemm_backend_name(HT_GEMM_OPENBLAS)) == 0) gopts.backend = HT_GEMM_OPENBLAS;
      else if (strcmp(v, ht_gemm_backend_name(HT_GEMM_ONEDNN)) == 0) gopts.backend = HT_GEMM_ONEDNN;
      else rc = ht_error(HT_EUSAGE, "--backend '%s': expected openblas or onednn", v);
    } else if (strcmp(argv[i], "--precision") == 0 && i + 1 < argc) {
      const char *v = argv[++i];
      if (strcmp(v, ht_precision_name(HT_PREC_FP32)) == 0) gopts.precision = HT_PREC_FP32;
      else if (strcmp(v, ht_precision_name(HT_PREC_BF16)) == 0) gopts.precision = HT_PREC_BF16;
      else rc = ht_error(HT_EUSAGE, "--precision '%s': expected fp32 or bf16", v);
    } else if (argv[i][0] == '-') {
      rc = ht_error(HT_EUSAGE, "unknown option '%s' (see hytrain eval --help)", argv[i]);
    } else if (!ckpt) {
      ckpt = argv[i];
    } else {
      rc = ht_error(HT_EUSAGE, "unexpected argument '%s'", argv[i]);
    }
  }
  if (rc == 0 && !ckpt) rc = ht_error(HT_EUSAGE, "missing checkpoint (usage: hytrain eval --checkpoint CKPT [--data FILE])");
  if (rc < 0) return ht_cli_fail("eval", rc);
  ht_comm comm;
  rc = ht_comm_init(&comm, &argc, &argv);
  if (rc == 0) rc = eval_and_print(&comm, ckpt, data, batch, &gopts);
  int code = rc < 0 ? ht_cli_fail("eval", rc) : 0;
  ht_comm_finalize(&comm);
  return code;
}
