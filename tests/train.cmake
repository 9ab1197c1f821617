# Data-parallel training and the whole-program (end-to-end) tests.
ht_mpi_test(data_parallel SOURCES mpi/test_data_parallel.c RANKS 1 2 4)
ht_e2e_test(fashion_softmax fashion_softmax.sh TIMEOUT 300)
ht_e2e_test(determinism determinism.sh TIMEOUT 300)
ht_e2e_test(errors errors.sh TIMEOUT 300)
ht_e2e_test(regression regression.sh TIMEOUT 300)
ht_e2e_test(cli cli.sh TIMEOUT 60)

# The main end-to-end tests again with every train/eval on the oneDNN backend.
if(HT_HAVE_ONEDNN)
  ht_e2e_test(fashion_softmax_onednn fashion_softmax.sh TIMEOUT 600 ENV HT_TEST_BACKEND=onednn)
  ht_e2e_test(determinism_onednn determinism.sh TIMEOUT 600 ENV HT_TEST_BACKEND=onednn)
  ht_e2e_test(regression_onednn regression.sh TIMEOUT 600 ENV HT_TEST_BACKEND=onednn)
  ht_e2e_test(ckpt_resume_sgd_onednn ckpt_resume.sh ARGS sgd TIMEOUT 600 ENV HT_TEST_BACKEND=onednn)
  ht_e2e_test(comm_onednn comm.sh TIMEOUT 600 ENV HT_TEST_BACKEND=onednn)
  # bf16: exact determinism and exact resume (the optimizer writes the bf16
  # weights as it updates them; after a resume forward rounds them itself).
  ht_e2e_test(determinism_onednn_bf16 determinism.sh TIMEOUT 600 ENV HT_TEST_BACKEND=onednn HT_TEST_PRECISION=bf16)
  ht_e2e_test(ckpt_resume_sgd_onednn_bf16 ckpt_resume.sh ARGS sgd TIMEOUT 600
              ENV HT_TEST_BACKEND=onednn HT_TEST_PRECISION=bf16)
endif()

ht_e2e_test(binding binding.sh TIMEOUT 180)
ht_e2e_test(progress progress.sh TIMEOUT 180)
ht_e2e_test(timeline timeline.sh TIMEOUT 180)
ht_unit_test(binding SOURCES unit/test_binding.c CASES
  share_even share_keeps_siblings share_packages share_fewer_cores comm_cpu_spare_or_last
  topology_of_this_machine)
ht_e2e_test(cli_commands cli_commands.sh TIMEOUT 120)
# Non-finite gradient sums: train.on_nonfinite stop and skip_step (NaN injected by a test hook).
ht_e2e_test(nonfinite nonfinite.sh TIMEOUT 300)
# A rank killed mid-training under mpirun: the job ends, names rank and host, the newest checkpoint stays valid.
ht_e2e_test(dead_rank dead_rank.sh TIMEOUT 180)

# The sparse engines (src/train/hogwild.c): serial, hogwild and locked on a
# planted problem; the 2-rank case averages across ranks.
ht_mpi_test(hogwild SOURCES mpi/test_hogwild.c RANKS 1 2 TIMEOUT 60)
# The same program under ThreadSanitizer (its own tree, see tests/comm.cmake):
# the workers' racing updates are relaxed atomics, so TSan must stay quiet.
add_test(NAME tsan.hogwild.np2 COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/tsan/run.sh ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR} mpitest_hogwild)
set_tests_properties(tsan.hogwild.np2 PROPERTIES TIMEOUT 900 ENVIRONMENT "${HT_TEST_ENV}" RESOURCE_LOCK tsan_tree)
ht_e2e_test(sparse sparse.sh TIMEOUT 300)
# data.mode stream on CSR files (src/data/csr_loader.c): serial stream vs
# memory mode, resume, rows read once per epoch; hogwild 2 x 2 in stream mode.
ht_e2e_test(sparse_stream sparse_stream.sh TIMEOUT 300)
ht_e2e_test(sparse_stream_hogwild sparse_stream_hogwild.sh TIMEOUT 300)
