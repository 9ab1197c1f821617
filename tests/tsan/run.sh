#!/usr/bin/env bash
# ThreadSanitizer run of a 2-rank MPI test program (CTest entries
# tsan.overlap.np2 and tsan.hogwild.np2).
#
# Builds a separate ThreadSanitizer tree of just the test program
# (HT_SANITIZE=thread, in <build>/tsan, reused between runs) and runs
# it (default mpitest_overlap) on 2 ranks under it. Any ThreadSanitizer report fails the
# test. OMP_NUM_THREADS=1: Debian's libgomp is not built with TSan, so the
# OpenMP runtime's own synchronisation would be invisible to it and its
# thread pool would show up as false races; with one thread no team is
# started. The suppressions (tests/tsan/suppressions.txt) cover only the
# uninstrumented libraries (Open MPI and its plugins, libgomp, OpenBLAS).
# Usage: run.sh SOURCE_DIR BUILD_DIR [TARGET]
set -euo pipefail
SRC=$1
BUILD=$2/tsan
TARGET=${3:-mpitest_overlap}
MPIEXEC=${MPIEXEC:-mpirun}
mkdir -p "$BUILD"
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  cmake -S "$SRC" -B "$BUILD" -DHT_SANITIZE=thread -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$BUILD/configure.log" 2>&1 ||
    { cat "$BUILD/configure.log"; exit 1; }
fi
cmake --build "$BUILD" -j2 --target "$TARGET" >"$BUILD/build.log" 2>&1 || { tail -40 "$BUILD/build.log"; exit 1; }
LOG=$BUILD/tsan-$TARGET.log
rc=0
# TSan cannot map its shadow memory with the kernel's full mmap randomisation;
# setarch -R runs the program without ASLR.
OMP_NUM_THREADS=1 \
TSAN_OPTIONS="suppressions=$SRC/tests/tsan/suppressions.txt halt_on_error=0 exitcode=66 second_deadlock_stack=1" \
  "$MPIEXEC" -n 2 --oversubscribe --bind-to none -x OMP_NUM_THREADS -x TSAN_OPTIONS \
  setarch "$(uname -m)" -R "$BUILD/tests/$TARGET" >"$LOG" 2>&1 || rc=$?
if grep -q "WARNING: ThreadSanitizer" "$LOG" || grep -q "ThreadSanitizer:.*FATAL\|FATAL: ThreadSanitizer" "$LOG"; then
  grep -A30 "ThreadSanitizer" "$LOG" | head -120
  echo "FAIL: ThreadSanitizer reported problems (full log: $LOG)"
  exit 1
fi
tail -3 "$LOG"
if [ "$rc" -ne 0 ]; then echo "FAIL: $TARGET under TSan exited with $rc (log: $LOG)"; exit 1; fi
echo "ok: no ThreadSanitizer reports in $(grep -c . "$LOG") lines of output"
