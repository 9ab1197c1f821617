/*
 * hytrain eval [--checkpoint] CHECKPOINT [--data FILE]
 * Rebuilds the model from the checkpoint, applies its normalisation and
 * evaluates it on FILE (default: the evaluation split the run used). Runs on
 * one process or under mpirun (each rank evaluates its shard).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "hytrain/ckpt.h"
#include "hytrain/comm.h"
#include "hytrain/dataset.h"
#include "hytrain/error.h"
#include "hytrain/model.h"

static const char ht__eval_help[] =
    "usage: hytrain eval --checkpoint CKPT [--data FILE] [--batch N] [--backend B] [--precision P]\n"
    "       hytrain eval CKPT [--data FILE] [--batch N] [--backend B] [--precision P]\n"
    "\n"
    "Evaluates a checkpoint (e.g. runs/x/<id>/checkpoints/ckpt-1000.h5) on an HDF5\n"
    "dataset; FILE defaults to the evaluation split recorded in the checkpoint.\n"
    "Prints one line: rows, loss and accuracy (classifiers) or RMSE (regression).\n"
    "--backend openblas|onednn and --precision fp32|bf16 pick the GEMM backend\n"
    "(default openblas fp32, the reference; see docs/compute.md).\n";

static int ht__eval(const ht_comm *comm, const char *ckpt, const char *data, int batch, const ht_gemm_opts *gopts) {
  ht_model_spec spec;
  ht_ckpt_info info;
  HT_CHECK(ht_ckpt_load_spec(ckpt, &spec, &info));
  const char *path = data && data[0] ? data : info.data_test;
  if (!path[0]) return ht_error(HT_EUSAGE, "%s records no evaluation split; pass --data FILE", ckpt);
  ht_dataset ds;
  memset(&ds, 0, sizeof ds);
  ht_model m;
  memset(&m, 0, sizeof m);
  ht_norm norm;
  memset(&norm, 0, sizeof norm);
  int rc = 0;
  HT_CHECK_GOTO(ht_dataset_read_shard(&ds, path, comm->rank, comm->size), rc, out);
  if (ds.d != spec.in) {
    rc = ht_error(HT_ESHAPE, "%s: %d features per row, but the model in %s takes %d", path, ds.d, ckpt, spec.in);
    goto out;
  }
  if ((ds.task == HT_TASK_REGRESS) != (spec.regression != 0)) {
    rc = ht_error(HT_EDATA, "%s: %s labels, but the model in %s is a %s model", path,
                  ds.task == HT_TASK_REGRESS ? "regression" : "class", ckpt, spec.regression ? "regression" : "classification");
    goto out;
  }
  if (ds.task == HT_TASK_CLASSIFY && ds.num_classes > spec.out && strcmp(spec.type, "logistic") != 0) {
    rc = ht_error(HT_EDATA, "%s: %d classes, but the model in %s predicts %d", path, ds.num_classes, ckpt, spec.out);
    goto out;
  }
  HT_CHECK_GOTO(ht_model_create(&m, &spec, batch), rc, out);
  HT_CHECK_GOTO(ht_model_set_compute(&m, gopts), rc, out);
  HT_CHECK_GOTO(ht_ckpt_load_params(ckpt, &m, &norm), rc, out);
  ht_norm_apply(&norm, ds.x, ds.n);
  double sums[4] = {0, 0, 0, (double)ds.n};
  int64_t correct = 0;
  for (int64_t i = 0; i < ds.n; i += batch) {
    int n = (int)(ds.n - i < batch ? ds.n - i : batch);
    ht_model_eval(&m, ds.x + (size_t)i * (size_t)ds.d, ds.y ? ds.y + i : NULL, ds.yt ? ds.yt + (size_t)i * (size_t)ds.t : NULL,
                  n, &sums[0], &correct, &sums[2]);
  }
  sums[1] = (double)correct;
out:
  rc = ht_comm_agree(comm, rc);
  if (rc == 0) {
    if (MPI_Allreduce(MPI_IN_PLACE, sums, 4, MPI_DOUBLE, MPI_SUM, comm->main) != MPI_SUCCESS)
      rc = ht_error(HT_EMPI, "MPI_Allreduce failed");
    else if (comm->rank == 0) {
      double rows = sums[3] > 0 ? sums[3] : 1;
      if (ds.task == HT_TASK_CLASSIFY)
        printf("eval %s on %s: rows %.0f  loss %.6f  accuracy %.6f\n", ckpt, path, sums[3], sums[0] / rows, sums[1] / rows);
      else
        printf("eval %s on %s: rows %.0f  loss %.6f  rmse %.6f\n", ckpt, path, sums[3], sums[0] / rows,
               sqrt(sums[2] / (rows * (ds.t > 0 ? ds.t : 1))));
    }
  }
  ht_model_destroy(&m);
  ht_norm_free(&norm);
  ht_dataset_free(&ds);
  return rc;
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
  if (rc == 0) rc = ht__eval(&comm, ckpt, data, batch, &gopts);
  int code = rc < 0 ? ht_cli_fail("eval", rc) : 0;
  ht_comm_finalize(&comm);
  return code;
}
