# Helpers for the end-to-end tests (sourced). CTest sets HYTRAIN, MPIEXEC and
# HT_SOURCE_DIR. Every check prints what it compared and fails the test.
set -euo pipefail
: "${HYTRAIN:?HYTRAIN must point at the hytrain binary}"
: "${HT_SOURCE_DIR:?}"
MPIEXEC=${MPIEXEC:-mpirun}
PY=/usr/bin/python3
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hytrain-e2e-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
FAILS=0

fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; }

# HT_TEST_BACKEND (set by the *_onednn CTest entries): the GEMM backend every
# `train` and `eval` below runs on (compute.backend / eval --backend);
# HT_TEST_PRECISION (the *_bf16 entries) likewise the precision.
HT_TEST_BACKEND=${HT_TEST_BACKEND:-}
HT_TEST_PRECISION=${HT_TEST_PRECISION:-}
backend_args() { # subcommand
  case "$1" in
  train)
    [ -z "$HT_TEST_BACKEND" ] || echo "--set compute.backend=$HT_TEST_BACKEND"
    [ -z "$HT_TEST_PRECISION" ] || echo "--set compute.precision=$HT_TEST_PRECISION" ;;
  eval)
    [ -z "$HT_TEST_BACKEND" ] || echo "--backend $HT_TEST_BACKEND"
    [ -z "$HT_TEST_PRECISION" ] || echo "--precision $HT_TEST_PRECISION" ;;
  esac
}

# mpirun -np N hytrain ARGS... (bind-to none: tests share 2 cores)
# shellcheck disable=SC2046
mpi() { local np=$1; shift; "$MPIEXEC" -n "$np" --oversubscribe --bind-to none "$HYTRAIN" "$@" $(backend_args "$1"); }

# check_backend RUN_DIR: with HT_TEST_BACKEND, the run's log must say it computed on it.
check_backend() {
  [ -n "$HT_TEST_BACKEND" ] || return 0
  local want="compute: $HT_TEST_BACKEND${HT_TEST_PRECISION:+ $HT_TEST_PRECISION}"
  if grep -q "$want[ ,]" "$1/log.txt"; then pass "$1 computed on ${want#compute: }"
  else fail "$1/log.txt does not say '$want': $(grep -m1 'compute:' "$1/log.txt")"; fi
}

# expect_error NAME CODE PATTERN cmd... : the command must exit with CODE and
# print a line matching PATTERN (grep -E) on stderr, within the CTest timeout.
expect_error() {
  local name=$1 code=$2 pattern=$3; shift 3
  local rc=0
  "$@" >"$WORK/out.txt" 2>"$WORK/err.txt" || rc=$?
  if [ "$rc" -ne "$code" ]; then
    fail "$name: exit code $rc, expected $code; stderr: $(head -c 600 "$WORK/err.txt")"
  elif ! grep -Eq -- "$pattern" "$WORK/err.txt"; then
    fail "$name: stderr does not match /$pattern/: $(head -c 600 "$WORK/err.txt")"
  else
    pass "$name: exit $rc, $(grep -E -m1 -- "$pattern" "$WORK/err.txt")"
  fi
}

# Converts Fashion-MNIST from the Debian package into $WORK/fm/{train,test}.h5.
fashion_data() {
  local src=/usr/share/datasets/fashion-mnist
  mkdir -p "$WORK/fm"
  "$HYTRAIN" convert idx "$src/train-images-idx3-ubyte.gz" "$src/train-labels-idx1-ubyte.gz" "$WORK/fm/train.h5" >/dev/null
  "$HYTRAIN" convert idx "$src/t10k-images-idx3-ubyte.gz" "$src/t10k-labels-idx1-ubyte.gz" "$WORK/fm/test.h5" >/dev/null
}

# small_data OUT.h5: 256 rows, 12 features, 3 classes (Gaussian blobs),
# synthetic and deterministic; seconds to train even under a sanitizer.
small_data() {
  $PY - "$WORK/small.csv" <<'PY'
import random, sys
random.seed(7)
with open(sys.argv[1], "w") as f:
    for i in range(256):
        c = i % 3
        f.write(",".join(f"{random.gauss(c, 1.0):.5f}" for _ in range(12)) + f",{c}\n")
PY
  "$HYTRAIN" convert csv "$WORK/small.csv" "$1" --header no >/dev/null
}

# Last epoch record's field from a metrics.jsonl.
last_epoch_field() {
  $PY -c 'import json,sys
recs=[json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ep=[r for r in recs if r["kind"]=="epoch"]
print(ep[-1][sys.argv[2]])' "$1" "$2"
}

# ge A B: A >= B as floats.
ge() { $PY -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)' "$1" "$2"; }

# expect_stall_lines ERRFILE WAITING TIMEOUT: rank 0's stall watchdog printed
# a warning about WAITING (an ERE for what rank 0 waited for) and the one
# error line of the job about it, ending with comm.stall_timeout_s = TIMEOUT.
expect_stall_lines() {
  local errf=$1 waiting=$2 timeout=$3 warn err
  warn=$(grep -E -m1 "^hytrain: warning: \[rank 0\] $waiting" "$errf" || true)
  [ -n "$warn" ] && pass "warning: $warn" || fail "no stall warning from rank 0 in: $(head -c 1500 "$errf")"
  err=$(grep -E -m1 "^hytrain: error: \[rank 0\] communication stalled: $waiting.*comm.stall_timeout_s = $timeout\)\$" "$errf" || true)
  [ -n "$err" ] && pass "error: $err" || fail "no stall error from rank 0 in: $(head -c 1500 "$errf")"
  [ "$(grep -c '^hytrain: error:' "$errf")" -eq 1 ] && pass "one error line" ||
    fail "expected one error line, got: $(grep '^hytrain: error:' "$errf")"
}

finish() {
  if [ "$FAILS" -ne 0 ]; then echo "$FAILS check(s) failed"; exit 1; fi
  echo "all checks passed"
}
