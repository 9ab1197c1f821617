# The tests that scripts/check-sanitizers runs: under ASan+UBSan every test
# labelled "sanitize" or "asan", under TSan every test labelled "sanitize" or
# "tsan". Included by tests/CMakeLists.txt after every tests/*.cmake, so it
# sees all entries. docs/sanitizers.md says what the subset covers, what it
# costs and why the rest is left out.
#
# To add tests: give them a label in their own file
#   set_property(TEST e2e.foo APPEND PROPERTY LABELS sanitize)
# or a label listed in HT_SANITIZE_LABELS (every test with one of these labels
# runs under both sanitizers), or a name pattern in HT_SANITIZE_TESTS (both)
# or HT_SANITIZE_ASAN_TESTS (ASan+UBSan only).
set(HT_SANITIZE_LABELS hogwild multinode)
set(HT_SANITIZE_TESTS
  # Every cmocka case: the data, config, checkpoint (async writer included),
  # model, optimizer and GEMM code in one thread or OpenMP teams.
  "^unit\\."
  # MPI programs on 1 and 2 ranks: the communication thread and the bucket
  # summing (overlap, bucket_reduce), the loader thread (loader), the stall
  # watchdog (stall), sharding, evaluation and the training loop.
  "^mpi\\..*\\.np[12]$"
  # Every comm.mode x comm.transport x data.mode x checkpoint.async on 2
  # ranks: main, comm, loader, ckpt writer and watchdog threads together.
  "^e2e\\.mode_matrix_"
  # The watchdog ending a stalled job, during training (ASan only, below) and
  # at start-up; the watchdog thread's own test is mpi.stall.np1.
  "^e2e\\.comm_stall$" "^e2e\\.comm_stall_startup$"
  # A stop signal (delivered to any thread) ending a run with a checkpoint; resume.
  "^e2e\\.ckpt_signal_small$" "^e2e\\.ckpt_resume_sgd$"
  # The sweep queue thread (ht-sweep-queue) serving trials to groups.
  "^e2e\\.sweep_small$"
  # Non-finite gradient sums found on the communication thread, skip_step.
  "^e2e\\.nonfinite$"
  # The CSR stream loader thread feeding the Hogwild workers and the
  # averaging communication thread, 2 ranks x 2 threads (seconds).
  "^e2e\\.sparse_stream_hogwild$"
)
# Bad input: every parser's error path (configs, data, checkpoints, sweeps).
# Memory errors are what matters there; the threads they start are the ones
# the list above runs, so TSan skips them (they are half of the ASan time).
# The fuzzing regressions (corpus and crash files of tests/fuzz) likewise.
# The loader thread failing on a file that shrinks (Fashion-MNIST, minutes
# under TSan; the loader thread itself runs under TSan in mpi.loader and the
# stream runs of e2e.mode_matrix_*).
# Unit cases that run OpenMP teams of several threads: Debian's libgomp is not
# built with TSan, which cannot see its barriers and reports the team's
# hand-offs in our loops as races (in every OpenMP program, whatever the
# code); they run under ASan+UBSan. Every other test runs with
# OMP_NUM_THREADS=1, so no team is started under TSan.
# e2e.comm_stall trains on Fashion-MNIST with comm.stall_timeout_s 4: under
# TSan on a loaded machine a rank's start-up alone can take longer, and the
# watchdog (rightly) ends the job before the test freezes a rank.
set(HT_SANITIZE_ASAN_TESTS "^bad-input\\." "^fuzz\\." "^e2e\\.loader_errors$" "^e2e\\.comm_stall$"
  "^unit\\.model\\.step_deterministic$" "^unit\\.optim\\.update_threads_bitwise$" "^unit\\.optim\\.update_bf16_copy$" "^unit\\.optim\\.update_check$"
  "^unit\\.gradcheck\\.dense_gradcheck_threads$")
get_property(ht_all_tests DIRECTORY PROPERTY TESTS)
foreach(t IN LISTS ht_all_tests)
  set(ht_san OFF)
  foreach(re IN LISTS HT_SANITIZE_TESTS)
    if(t MATCHES "${re}")
      set(ht_san ON)
    endif()
  endforeach()
  get_test_property(${t} LABELS ht_labels)
  foreach(l IN LISTS HT_SANITIZE_LABELS)
    if(ht_labels AND l IN_LIST ht_labels)
      set(ht_san ON)
    endif()
  endforeach()
  set(ht_asan_only OFF)
  foreach(re IN LISTS HT_SANITIZE_ASAN_TESTS)
    if(t MATCHES "${re}")
      set(ht_asan_only ON)
    endif()
  endforeach()
  if(ht_asan_only)
    set_property(TEST ${t} APPEND PROPERTY LABELS asan)
  elseif(ht_san)
    set_property(TEST ${t} APPEND PROPERTY LABELS sanitize)
  endif()
endforeach()
