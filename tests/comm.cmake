# The communication thread, comm.mode, the event recorder and the timeline.
ht_mpi_test(overlap SOURCES mpi/test_overlap.c RANKS 1 2 3 4 TIMEOUT 120)
ht_mpi_test(bucket_reduce SOURCES mpi/test_bucket_reduce.c RANKS 1 2 3 4)
ht_mpi_test(stall SOURCES mpi/test_stall.c RANKS 1)
# ThreadSanitizer: builds its own tree (<build>/tsan) the first time, about
# 1-2 minutes on 2 cores, then only rebuilds what changed.
add_test(NAME tsan.overlap.np2 COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/tsan/run.sh ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR})
set_tests_properties(tsan.overlap.np2 PROPERTIES TIMEOUT 600 ENVIRONMENT "${HT_TEST_ENV}" RESOURCE_LOCK tsan_tree)
ht_e2e_test(comm comm.sh TIMEOUT 300)
ht_e2e_test(comm_delayed comm_delayed.sh TIMEOUT 300)
ht_e2e_test(comm_stall comm_stall.sh TIMEOUT 180 ARGS auto)
ht_e2e_test(comm_stall_mpi comm_stall.sh TIMEOUT 180 ARGS mpi)
ht_unit_test(slices SOURCES unit/test_slices.c CASES slices_tile_and_are_final events_nest_and_count)
# The watchdog before the communication thread exists (a start-up agreement
# with a frozen rank); the program is mpitest_stall's "agree" mode.
add_test(NAME e2e.comm_stall_startup COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/e2e/comm_stall_startup.sh $<TARGET_FILE:mpitest_stall>)
set_tests_properties(e2e.comm_stall_startup PROPERTIES TIMEOUT 120 ENVIRONMENT "${HT_TEST_ENV}")
# Every comm.transport x data.mode x checkpoint.async for each comm.mode on a
# small synthetic set (seconds each; the sanitizer suites run these).
foreach(m sync overlap delayed)
  ht_e2e_test(mode_matrix_${m} mode_matrix.sh ARGS ${m} TIMEOUT 300)
endforeach()
