# Evaluation over rank shards and its input checks (src/train/eval.c).
ht_mpi_test(eval SOURCES mpi/test_eval.c RANKS 1 2 4)
