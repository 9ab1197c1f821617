# Hierarchical summing on one machine (one node: the node stage alone).
ht_mpi_test(hier_reduce SOURCES mpi/test_hier_reduce.c RANKS 2 4)

# On emulated nodes (scripts/emulate-cluster; needs root for the namespaces,
# and fails saying so without them). Label `multinode`:
#   ctest --test-dir build -L multinode
set(HT_CLUSTER ${PROJECT_SOURCE_DIR}/scripts/emulate-cluster)
function(ht_cluster_test name nodes ppn timeout)
  add_test(NAME multinode.${name} COMMAND ${HT_CLUSTER} ${nodes} ${ppn} ${ARGN})
  set_tests_properties(multinode.${name} PROPERTIES TIMEOUT ${timeout} LABELS multinode
    ENVIRONMENT "${HT_TEST_ENV};EMU_TIMEOUT=${timeout}")
endfunction()
ht_cluster_test(hier_reduce_2x2 2 2 60 $<TARGET_FILE:mpitest_hier_reduce> 2 2)
ht_cluster_test(hier_reduce_3x1 3 1 60 $<TARGET_FILE:mpitest_hier_reduce> 3 1)
ht_cluster_test(overlap_2x2 2 2 120 $<TARGET_FILE:mpitest_overlap> hier)
ht_cluster_test(overlap_3x1 3 1 120 $<TARGET_FILE:mpitest_overlap> hier)
foreach(what train stall lost)
  add_test(NAME multinode.e2e_${what} COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/e2e/multinode.sh ${what})
  set_tests_properties(multinode.e2e_${what} PROPERTIES TIMEOUT 240 LABELS multinode ENVIRONMENT "${HT_TEST_ENV}")
endforeach()
# The model and the measurement behind docs/scaling.md (one machine, no namespaces).
ht_e2e_test(scaling_model scaling_model.sh TIMEOUT 120)
