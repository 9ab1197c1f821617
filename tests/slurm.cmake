# SLURM: the job scripts in jobs/ submitted to a one-node cluster that each
# test starts (scripts/slurm-local) in its own temporary directory and stops
# on exit. Needs Debian's slurm-wlm and munge (scripts/install-deps).
function(ht_slurm_test name script)
  cmake_parse_arguments(T "" "TIMEOUT" "" ${ARGN})
  add_test(NAME slurm.${name} COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/slurm/${script})
  set_tests_properties(slurm.${name} PROPERTIES TIMEOUT ${T_TIMEOUT} ENVIRONMENT "${HT_TEST_ENV}")
endfunction()
ht_slurm_test(train train.sh TIMEOUT 300)
ht_slurm_test(multinode multinode.sh TIMEOUT 300)
ht_slurm_test(sweep_array sweep_array.sh TIMEOUT 300)
ht_slurm_test(preemptible_requeue preemptible_requeue.sh TIMEOUT 400)
ht_slurm_test(preempt_resume preempt_resume.sh TIMEOUT 300)
ht_slurm_test(binding binding.sh TIMEOUT 300)
# Two emulated nodes (a slurmd each, own host name and core; root for the
# namespaces). Not in the multinode label: that label also runs under both
# sanitizers, and the ranks' threads here are those of multinode.overlap_*.
ht_slurm_test(two_nodes two_nodes.sh TIMEOUT 300)
