/*
 * Subcommands of the hytrain binary, one file each (src/cli/cmd_<name>.c).
 * Each returns a process exit code (ht_exit_code) and prints its own errors
 * as one line "hytrain <cmd>: error: ..." on stderr. argv[0] is the
 * subcommand name. Commands that use MPI call MPI_Init_thread themselves
 * (through ht_comm_init); the others never touch MPI.
 */
#ifndef HT_CLI_COMMANDS_H
#define HT_CLI_COMMANDS_H

#include <stdio.h>

int ht_cmd_train(int argc, char **argv);
int ht_cmd_eval(int argc, char **argv);
int ht_cmd_predict(int argc, char **argv);
int ht_cmd_inspect(int argc, char **argv);
int ht_cmd_config(int argc, char **argv);
int ht_cmd_convert(int argc, char **argv);
int ht_cmd_bench(int argc, char **argv);
int ht_cmd_runs(int argc, char **argv);
int ht_cmd_sweep(int argc, char **argv);
int ht_cmd_cv(int argc, char **argv);
/* bench_allreduce.c: hytrain bench allreduce (dispatched by ht_cmd_bench). */
int ht__bench_allreduce(int argc, char **argv);
/* bench_allreduce.c: prints `hytrain bench allreduce`'s usage to f (the wait
 * policies come from comm.wait's enum table, its default from the registry). */
void ht__bench_allreduce_usage(FILE *f);

/* bench_gemm.c: hytrain bench gemm (dispatched by ht_cmd_bench). */
int ht__bench_gemm(int argc, char **argv);

/* bench_lines.c: hytrain bench lines (dispatched by ht_cmd_bench) and its usage. */
int ht__bench_lines(int argc, char **argv);
void ht__bench_lines_usage(FILE *f);

#endif
