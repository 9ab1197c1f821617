# compute.backend auto and resume: a checkpoint records the GEMM backend its
# run computed on (attribute compute_backend, shown by `hytrain inspect`), and
# a resumed run under auto keeps it instead of timing the backends again, so
# the resumed run computes as the interrupted one did; an explicit backend
# still wins. A fresh run under auto times both (the model is large enough)
# and prints both figures. Needs a build with oneDNN.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ckpt_lib.sh"
cd "$WORK"
fashion_subset 1024 200
cat >cfg.yaml <<YAML
model: {type: mlp, hidden: [256]}
train: {epochs: 1, batch_size: 64, seed: 3, log_every: 4}
optimizer: {name: sgd, lr: 0.05, momentum: 0.9}
data: {train: fm/train.h5}
checkpoint: {every_steps: 4}
YAML
# 1024 rows / 64 = 16 steps; stop at 8 on oneDNN.
expect_code "stop at step 8 on onednn" 75 "$HYTRAIN" train cfg.yaml --run-dir one --stop-at-step 8 --set compute.backend=onednn
"$HYTRAIN" inspect one/checkpoints/ckpt-8.h5 >inspect.txt
grep -Eq "^  compute_backend +onednn$" inspect.txt && pass "inspect shows compute_backend onednn" ||
  fail "inspect: $(grep -m1 compute_backend inspect.txt || echo no compute_backend line)"
"$HYTRAIN" train cfg.yaml --run-dir one --resume auto >resume.log
grep -q "compute: onednn fp32, .*(auto: onednn, the backend of the run being resumed)" resume.log &&
  pass "auto on resume keeps the checkpoint's onednn" || fail "resume under auto: $(grep -m1 'compute:' resume.log)"
"$HYTRAIN" inspect one/checkpoints/ckpt-16.h5 | grep -Eq "^  compute_backend +onednn$" &&
  pass "the resumed run's checkpoint says onednn too" || fail "ckpt-16.h5 lacks compute_backend onednn"
# The resumed run equals an uninterrupted one on onednn, byte for byte.
"$HYTRAIN" train cfg.yaml --run-dir full --set compute.backend=onednn >/dev/null
same_state "onednn stop + auto resume vs uninterrupted onednn" full/checkpoints/ckpt-16.h5 one/checkpoints/ckpt-16.h5
# An explicit backend wins over the checkpoint's.
expect_code "stop at step 8 again" 75 "$HYTRAIN" train cfg.yaml --run-dir two --stop-at-step 8 --set compute.backend=onednn
"$HYTRAIN" train cfg.yaml --run-dir two --resume auto --set compute.backend=openblas >two.log
grep -q "compute: openblas fp32" two.log && ! grep -q "backend of the run being resumed" two.log &&
  pass "compute.backend=openblas on resume is obeyed" || fail "explicit backend on resume: $(grep -m1 'compute:' two.log)"
# A fresh run under auto times both backends.
"$HYTRAIN" train cfg.yaml --run-dir fresh --set train.max_steps=2 >fresh.log
grep -Eq "compute: (openblas|onednn) fp32, .*\(auto: openblas [0-9.]+ ms/step \([0-9]+ GFLOP/s\), onednn [0-9.]+ ms/step" fresh.log &&
  pass "a fresh run under auto timed both backends" || fail "fresh auto: $(grep -m1 'compute:' fresh.log)"
finish
