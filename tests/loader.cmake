# Tests of the loader thread (issue 6): order, coverage, resume, modes, errors.
ht_mpi_test(loader SOURCES mpi/test_loader.c RANKS 1 2 4 TIMEOUT 120)
ht_e2e_test(loader_modes loader_modes.sh TIMEOUT 300)
ht_e2e_test(loader_errors loader_errors.sh TIMEOUT 300)
