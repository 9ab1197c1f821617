/*
 * Shared by the libFuzzer targets (tests/fuzz/fuzz_*.c): each target's input
 * goes to a file in a private temporary directory, because every parser
 * under test reads a path. Built with clang -fsanitize=fuzzer by scripts/fuzz
 * and, for the CTest regression entries fuzz.*, with the project's compiler
 * and replay_main.c.
 */
#ifndef HT_FUZZ_UTIL_H
#define HT_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The target's temporary directory (created on first use, removed at exit). */
const char *fuzz_dir(void);

/* Writes data[0..size) to fuzz_dir()/name and returns that path (static
 * storage, one per name slot 0..3). Aborts on an I/O failure (not a finding
 * of the code under test, but the harness cannot go on). */
const char *fuzz_file(int slot, const char *name, const uint8_t *data, size_t size);

#endif
