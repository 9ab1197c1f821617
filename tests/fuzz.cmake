# Fuzzing regressions: every seed of tests/fuzz/corpus/<target> and every crash
# file ever found (tests/fuzz/crashes/<target>) replayed through the fuzz
# target's code with a plain main (no libFuzzer, this build's compiler); the
# ASan+UBSan suite runs them too. scripts/fuzz runs the fuzzers (docs/fuzzing.md).
foreach(t config sweep convert h5)
  add_executable(fuzzreplay_${t} fuzz/fuzz_${t}.c fuzz/fuzz_util.c fuzz/replay_main.c)
  target_link_libraries(fuzzreplay_${t} PRIVATE hytrain_lib)
  add_test(NAME fuzz.${t} COMMAND fuzzreplay_${t} ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/${t}
                                  ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/crashes/${t})
  set_tests_properties(fuzz.${t} PROPERTIES TIMEOUT 120 ENVIRONMENT "${HT_TEST_ENV}")
endforeach()
