# Job-script behaviour on a local SLURM cluster (tests/slurm/*.sh, like
# tests/slurm.cmake): how the scripts find hytrain, and that a
# dead rank ends the job. Kept apart from slurm.cmake so the two lists can grow
# independently.
foreach(t job_binary_lookup dead_rank)
  add_test(NAME slurm.${t} COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/slurm/${t}.sh)
  set_tests_properties(slurm.${t} PROPERTIES TIMEOUT 300 ENVIRONMENT "${HT_TEST_ENV}")
endforeach()
