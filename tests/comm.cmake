# The communication thread, comm.mode, the event recorder and the timeline.
ht_mpi_test(overlap SOURCES mpi/test_overlap.c RANKS 1 2 4 TIMEOUT 120)
