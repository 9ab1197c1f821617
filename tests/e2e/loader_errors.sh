# Loader failures end the whole run with one clear line, never a hang:
#  - the training file truncated or removed mid-epoch (stream mode, epochs of
#    30000 steps, so the change lands inside the first one): the loader
#    thread's next read fails and the message names the file and row range;
#  - stream buffers larger than data.memory_budget_mb, augmentation that does
#    not fit the rows, and a bad data.augment are config errors (exit 2).
. "$(dirname "$0")/lib.sh"
fashion_data
cat >"$WORK/cfg.yaml" <<YAML
model: {type: mlp, hidden: [256]}
train: {epochs: 2, batch_size: 1, seed: 3, log_every: 20}
optimizer: {name: sgd, lr: 0.01}
data: {train: fm/copy.h5, mode: stream, chunk_rows: 1000, shuffle_buffer_chunks: 2, prefetch: 2}
YAML
BG=
trap '[ -n "$BG" ] && kill "$BG" 2>/dev/null; rm -rf "$WORK"' EXIT

# start_run NAME: trains in the background on a fresh copy of the training set
# and returns once the first step record is written (training is under way).
start_run() {
  cp "$WORK/fm/train.h5" "$WORK/fm/copy.h5"
  timeout 200 "$MPIEXEC" -n 2 --oversubscribe --bind-to none "$HYTRAIN" train "$WORK/cfg.yaml" \
    --run-dir "$WORK/$1" >"$WORK/$1.out" 2>"$WORK/$1.err" &
  BG=$!
  for _ in $(seq 1 600); do
    grep -qs '"kind": "step"' "$WORK/$1/metrics.jsonl" && return 0
    kill -0 "$BG" 2>/dev/null || break
    sleep 0.1
  done
  fail "$1: training did not start: $(head -c 400 "$WORK/$1.err")"
}

# finish_run NAME PATTERN: the run must fail (not time out) with PATTERN on stderr.
finish_run() {
  local rc=0
  wait "$BG" || rc=$?
  BG=
  if [ "$rc" -eq 0 ]; then fail "$1: the run succeeded although its data went away"
  elif [ "$rc" -eq 124 ]; then fail "$1: the run hung (killed after 200 s)"
  elif grep -Eq -- "$2" "$WORK/$1.err"; then pass "$1: exit $rc, $(grep -E -m1 -- "$2" "$WORK/$1.err")"
  else fail "$1: exit $rc, stderr does not match /$2/: $(head -c 600 "$WORK/$1.err")"; fi
}

start_run truncated
truncate -s 20000000 "$WORK/fm/copy.h5"
finish_run truncated 'copy\.h5: rows \[[0-9]+, [0-9]+\): the file shrank from 188799312 to 20000000 bytes'

start_run removed
rm -f "$WORK/fm/copy.h5"
finish_run removed 'copy\.h5: rows \[[0-9]+, [0-9]+\): the file is gone while training: No such file or directory'

cp "$WORK/fm/train.h5" "$WORK/fm/copy.h5"
expect_error budget 2 'data\.memory_budget_mb: stream mode needs [0-9]+ MB' \
  mpi 2 train "$WORK/cfg.yaml" --set data.memory_budget_mb=8 --set data.shuffle_buffer_chunks=20
expect_error augment_shift 2 'data\.augment: .*copy\.h5 has 784 features per row' \
  mpi 1 train "$WORK/cfg.yaml" --set data.augment=shift:28
expect_error augment_syntax 2 "data\.augment=rotate: expected none, flip, shift:<px> or flip,shift:<px>.*got 'rotate'" \
  mpi 1 train "$WORK/cfg.yaml" --set data.augment=rotate
finish
