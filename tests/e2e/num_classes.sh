# Class labels without a num_classes attribute (a file as h5py users write
# it): hytrain infers the classes as the largest label + 1 over the whole file
# (every rank's shard), says so at start-up, trains (memory and stream mode,
# 2 ranks) a model with that many outputs; a test split with a label beyond
# the training split's classes is an error naming the test file.
. "$(dirname "$0")/lib.sh"
cd "$WORK"
$PY - "$WORK" <<'PY'
import sys, h5py, numpy as np
rng = np.random.default_rng(5)
def write(name, n, labels):
    x = rng.standard_normal((n, 6)).astype(np.float32)
    x[:, 0] += labels  # learnable
    with h5py.File(f"{sys.argv[1]}/{name}", "w") as f:  # no attributes at all
        f.create_dataset("features", data=x, chunks=(50, 6))
        f.create_dataset("labels", data=labels.astype(np.int32), chunks=(50,))
# Classes 0..4, the largest (4) only in the last rows: rank 1's shard.
y = np.arange(400) % 4
y[-3:] = 4
write("train.h5", 400, y)
write("test.h5", 100, np.arange(100) % 5)
bad = np.arange(100) % 5
bad[37] = 5
write("test_bad.h5", 100, bad)
PY
$PY -c 'import h5py, sys; f = h5py.File(sys.argv[1], "r"); sys.exit(1 if "num_classes" in f.attrs else 0)' train.h5 &&
  pass "train.h5 has no num_classes attribute" || fail "train.h5 has a num_classes attribute"
cat >cfg.yaml <<YAML
model: {type: softmax}
train: {epochs: 2, batch_size: 20, seed: 1, log_every: 10}
optimizer: {name: sgd, lr: 0.1}
data: {train: train.h5, test: test.h5}
YAML
for mode in memory stream; do
  if mpi 2 train cfg.yaml --run-dir "$WORK/$mode" --set data.mode=$mode >"$mode.out" 2>"$mode.err"; then
    pass "$mode: trains without num_classes"
  else
    fail "$mode: failed: $(cat "$mode.err")"; continue
  fi
  grep -q "^  classes: 5, inferred from the labels of .*train.h5 (largest label 4): the file has no num_classes attribute" "$mode.out" &&
    pass "$mode: start-up says 5 classes were inferred" || fail "$mode: no inference line: $(head -12 "$mode.out")"
  grep -q "classes: 5, inferred" "$WORK/$mode/log.txt" && pass "$mode: and so does log.txt" || fail "$mode: log.txt lacks it"
  ck=$WORK/$mode/checkpoints/$(cat "$WORK/$mode/checkpoints/latest")
  out=$($PY -c 'import h5py, sys
f = h5py.File(sys.argv[1], "r")
print(f["model"][list(f["model"])[-1]]["bias"].shape[0])' "$ck" 2>&1 || true)
  [ "$out" = 5 ] && pass "$mode: the model has 5 outputs" || fail "$mode: model outputs: $out"
  acc=$(last_epoch_field "$WORK/$mode/metrics.jsonl" test_accuracy)
  ge "$acc" 0.3 && pass "$mode: test accuracy $acc >= 0.3 (chance 0.2)" || fail "$mode: test accuracy $acc"
done
expect_error "test split with a class beyond training's" 2 \
  "test_bad\.h5: has a label 5, beyond the training data's classes 0\.\.4 \(.*train\.h5 has no num_classes attribute" \
  mpi 2 train cfg.yaml --run-dir "$WORK/bad" --set data.test=test_bad.h5
[ -e "$WORK/bad" ] && fail "a run directory was left by the refused run" || pass "no run directory left behind"
finish
