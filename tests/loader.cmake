# Tests of the loader thread (issue 6): order, coverage, resume, modes, errors.
ht_mpi_test(loader SOURCES mpi/test_loader.c RANKS 1 2 4 TIMEOUT 120)
