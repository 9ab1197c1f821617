# Non-finite gradients (train.on_nonfinite), on a small synthetic set. The test
# hook HT_TEST_NAN_INPUT=RANK:STEP[:COUNT] puts a NaN into the first feature
# of one rank's batch (the data checks refuse NaN in a file, so the hook
# stands in for data that slipped through); tanh carries the NaN through
# (relu would turn it into 0 in forward, leaving a NaN gradient only where
# BLAS multiplies it by 0):
#  - stop (default): exit 3 and one error line naming the step, the layer and
#    the rank, with comm.transport shm and mpi (the two summing paths), each
#    comm.mode, 3 ranks (a chunk owner other than rank 0 blames rank 2) and 1
#    rank (also with 2 threads and a large bucket: the check in the
#    optimizer's pass); the newest checkpoint is the one before that step and loads;
#  - skip_step: the run completes, the step is reported and counted in
#    metrics.jsonl, the final weights are finite, sync and overlap agree bit for
#    bit; train.max_skipped_steps in a row stop the run (exit 3);
#  - a label out of range is a data error naming the row, not a divergence.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
small_data "$WORK/train.h5"
cat >cfg.yaml <<YAML
model: {type: mlp, hidden: [8], activation: tanh}
train: {epochs: 1, max_steps: 12, batch_size: 8, seed: 2, log_every: 4}
optimizer: {name: adamw, lr: 0.01}
data: {train: train.h5}
comm: {bucket_mb: 0.0002}
checkpoint: {every_steps: 2}
YAML
# stop_case NAME NP RANK EXTRA...: NaN in rank RANK's batch of step 5.
stop_case() {
  local name=$1 np=$2 rank=$3; shift 3
  expect_error "$name" 3 \
    "^hytrain train: error: training diverged at step 5: the gradient's sum over ranks is NaN or infinite in dense0 weight \(element 0\), first in rank $rank's own gradient .*no checkpoint of this state was written" \
    env HT_TEST_NAN_INPUT="$rank:5" "$MPIEXEC" -n "$np" --oversubscribe --bind-to none "$HYTRAIN" train cfg.yaml --run-dir "$name" "$@"
  local n; n=$(grep -c '^hytrain train: error:' "$WORK/err.txt" || true)
  [ "$n" = 1 ] && pass "$name: one error line for the job" || fail "$name: $n error lines: $(cat "$WORK/err.txt")"
  [ "$(cat "$name/checkpoints/latest")" = ckpt-4.h5 ] && [ ! -e "$name/checkpoints/ckpt-6.h5" ] &&
    pass "$name: newest checkpoint is ckpt-4 (before the bad step)" || fail "$name: checkpoints: $(ls -l "$name/checkpoints")"
}
stop_case stop_shm 2 1 --set comm.transport=shm
stop_case stop_mpi 2 1 --set comm.transport=mpi
stop_case stop_sync 2 1 --set comm.mode=sync
stop_case stop_delayed 2 1 --set comm.mode=delayed
stop_case stop_np3 3 2 --set comm.transport=mpi
stop_case stop_np1 1 0
# One rank checks its gradient in the optimizer's own pass (stop) or in a
# pass split over the OpenMP team (skip_step), not on the communication
# thread: with 2 threads and one bucket of ~70k floats both are split
# between the threads (the NaNs are in both halves; element 0 must win).
TEAM=(--set comm.bucket_mb=1 --set 'model.hidden=[256, 256]')
OMP_NUM_THREADS=2 stop_case stop_np1_team 1 0 "${TEAM[@]}"
OMP_NUM_THREADS=2 HT_TEST_NAN_INPUT=0:5 mpi 1 train cfg.yaml --run-dir skip_np1_team "${TEAM[@]}" \
  --set train.on_nonfinite=skip_step >skip_np1_team.log 2>&1 &&
  grep -q "warning: step 5 skipped: the gradient's sum over ranks is NaN or infinite in dense0 weight, first in rank 0's own gradient" skip_np1_team.log &&
  [ "$(grep -c '"kind": "skipped_step"' skip_np1_team/metrics.jsonl)" = 1 ] &&
  pass "skip_step (1 rank, 2 threads): step 5 skipped and reported" || fail "skip_step (1 rank, 2 threads): $(tail -3 skip_np1_team.log)"
"$HYTRAIN" inspect "stop_mpi/checkpoints/$(cat stop_mpi/checkpoints/latest)" >inspect.txt 2>&1 && pass "the newest checkpoint loads (hytrain inspect)" ||
  fail "inspect of the newest checkpoint failed: $(cat inspect.txt)"

# skip_step: NaN in rank 1's batches of steps 5 and 6.
for m in sync overlap delayed; do
  if HT_TEST_NAN_INPUT=1:5:2 mpi 2 train cfg.yaml --run-dir skip_$m --set comm.mode=$m --set train.on_nonfinite=skip_step \
    >skip_$m.log 2>&1; then pass "skip_step ($m): the run completes"
  else fail "skip_step ($m): exit non-zero: $(tail -3 skip_$m.log)"; continue; fi
  grep -q "warning: step 5 skipped: the gradient's sum over ranks is NaN or infinite in dense0 weight, first in rank 1's own gradient" skip_$m.log &&
    grep -q "warning: step 6 skipped: .* 2 in a row" skip_$m.log &&
    pass "skip_step ($m): steps 5 and 6 reported" || fail "skip_step ($m): no warnings in: $(grep -i warn skip_$m.log)"
  n=$(grep -c '"kind": "skipped_step"' skip_$m/metrics.jsonl || true)
  grep -q '"kind": "skipped_step", "step": 6, "layer": "dense0 weight", "rank": 1, "in_a_row": 2, "total": 2' skip_$m/metrics.jsonl &&
    [ "$n" = 2 ] && pass "skip_step ($m): 2 skipped_step records" || fail "skip_step ($m): metrics: $(grep skipped skip_$m/metrics.jsonl)"
  $PY - skip_$m/checkpoints/ckpt-12.h5 <<'PY' && pass "skip_step ($m): final weights finite" || fail "skip_step ($m): non-finite weights"
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
sys.exit(0 if all(np.isfinite(f["model"][l][p][()]).all() for l in f["model"] for p in ("weight", "bias")) else 1)
PY
done
h5diff skip_sync/checkpoints/ckpt-12.h5 skip_overlap/checkpoints/ckpt-12.h5 /model >diff.txt 2>&1 &&
  pass "skip_step: sync and overlap end with the same weights" || fail "skip_step: sync vs overlap: $(head -3 diff.txt)"
expect_error max_skipped 3 \
  "^hytrain train: error: training diverged: 3 steps in a row skipped \(train.max_skipped_steps 3\), the last at step 7: the gradient's sum over ranks is NaN or infinite in dense0 weight, first in rank 1's own gradient" \
  env HT_TEST_NAN_INPUT=1:5:4 "$MPIEXEC" -n 2 --oversubscribe --bind-to none "$HYTRAIN" train cfg.yaml --run-dir max \
  --set train.on_nonfinite=skip_step --set train.max_skipped_steps=3
[ ! -e max/checkpoints/ckpt-8.h5 ] && pass "max_skipped: no checkpoint after the stop" || fail "max_skipped: $(ls max/checkpoints)"

# A label out of range is bad data naming the row, not a divergence.
$PY - train.h5 bad.h5 <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r") as s, h5py.File(sys.argv[2], "w") as d:
    d["features"] = s["features"][()]
    y = s["labels"][()]
    y[37] = 7
    d["labels"] = y
    d["labels"].attrs["num_classes"] = 3
    for k, v in s.attrs.items():
        d.attrs[k] = v
PY
expect_error label_range 2 "bad.h5.*row 37" "$MPIEXEC" -n 2 --oversubscribe --bind-to none "$HYTRAIN" train cfg.yaml \
  --run-dir lbl --set data.train="$WORK/bad.h5"
grep -qi diverged "$WORK/err.txt" && fail "label_range: called a divergence: $(cat "$WORK/err.txt")" || pass "label_range: not a divergence"
finish
