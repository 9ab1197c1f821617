# Data-parallel training and the whole-program (end-to-end) tests.
ht_mpi_test(data_parallel SOURCES mpi/test_data_parallel.c RANKS 1 2 4)
ht_e2e_test(fashion_softmax fashion_softmax.sh TIMEOUT 300)
ht_e2e_test(determinism determinism.sh TIMEOUT 300)
ht_e2e_test(errors errors.sh TIMEOUT 300)
ht_e2e_test(regression regression.sh TIMEOUT 300)
ht_e2e_test(cli cli.sh TIMEOUT 60)
ht_e2e_test(cli_commands cli_commands.sh TIMEOUT 120)
