# Exact resume, 2 ranks: a run stopped (--stop-at-step) and resumed -- twice,
# once exactly at an epoch's last step and once mid-epoch -- ends with the same
# weights and optimizer state, byte for byte, and the same metrics.jsonl
# records as an uninterrupted run. Argument: sgd (momentum, step schedule) or
# adamw (cosine schedule with warmup, stopped inside the warmup).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ckpt_lib.sh"
fashion_subset 2048 1000
case "$1" in
sgd) OPT="optimizer: {name: sgd, lr: 0.05, momentum: 0.9, nesterov: true, weight_decay: 0.0001}
schedule: {name: step, step_every: 40, gamma: 0.5}"; STOPS="32 45" ;;
adamw) OPT="optimizer: {name: adamw, lr: 0.002, weight_decay: 0.01}
schedule: {name: cosine, warmup_steps: 30, min_lr: 0.0001}"; STOPS="12 64" ;;
*) echo "usage: ckpt_resume.sh sgd|adamw"; exit 2 ;;
esac
cat >"$WORK/cfg.yaml" <<YAML
model: {type: mlp, hidden: [32, 16]}
train: {epochs: 3, batch_size: 32, seed: 11, log_every: 5}
$OPT
data: {train: fm/train.h5, test: fm/test.h5}
checkpoint: {every_steps: 7, keep: 2}
YAML
# 2048 rows / 2 ranks / 32 = 32 steps per epoch, 96 steps in all.
mpi 2 train "$WORK/cfg.yaml" --run-dir "$WORK/full" >/dev/null
check_backend "$WORK/full"
for s in $STOPS; do
  expect_code "stop at step $s" 75 mpi 2 train "$WORK/cfg.yaml" --run-dir "$WORK/cut" --resume auto --stop-at-step "$s"
  grep -q "stopped by --stop-at-step $s at step $s" "$WORK/err.txt" && pass "stop message names step $s" \
    || fail "no stop message for step $s: $(tail -c 300 "$WORK/err.txt")"
  [ "$(cat "$WORK/cut/checkpoints/latest")" = "ckpt-$s.h5" ] && pass "latest is ckpt-$s.h5" \
    || fail "latest is $(cat "$WORK/cut/checkpoints/latest"), expected ckpt-$s.h5"
done
mpi 2 train "$WORK/cfg.yaml" --run-dir "$WORK/cut" --resume auto >"$WORK/resume.log"
grep -q "resuming from .*ckpt-${STOPS##* }.h5" "$WORK/resume.log" && pass "resumed from the last stop" \
  || fail "resume log: $(head -c 400 "$WORK/resume.log")"
same_state "$1 stop+resume vs uninterrupted" "$WORK/full/checkpoints/ckpt-96.h5" "$WORK/cut/checkpoints/ckpt-96.h5"
same_metrics "$1 stop+resume vs uninterrupted" "$WORK/full/metrics.jsonl" "$WORK/cut/metrics.jsonl"
# The comparison can fail: a run with another seed differs.
mpi 2 train "$WORK/cfg.yaml" --run-dir "$WORK/other" --set train.seed=12 --set train.max_steps=96 >/dev/null
if h5diff -q "$WORK/full/checkpoints/ckpt-96.h5" "$WORK/other/checkpoints/ckpt-96.h5" /model >/dev/null 2>&1; then
  fail "another seed gave identical weights (the comparison cannot fail)"
else pass "another seed gives different weights"; fi
finish
