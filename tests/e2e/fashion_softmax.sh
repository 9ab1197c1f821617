# Softmax regression on Fashion-MNIST (2 ranks, 600 steps of 2 x 100 rows, i.e.
# two epochs, the run stopped by train.max_steps) reaches >= 80 % test
# accuracy; `hytrain eval` on the final checkpoint reproduces that accuracy.
. "$(dirname "$0")/lib.sh"
fashion_data
cat >"$WORK/cfg.yaml" <<YAML
model: {type: softmax}
train: {epochs: 3, max_steps: 600, batch_size: 100, seed: 3, log_every: 100}
optimizer: {name: sgd, lr: 0.05, momentum: 0.9}
data: {train: fm/train.h5, test: fm/test.h5}
YAML
mpi 2 train "$WORK/cfg.yaml" --run-dir "$WORK/run" >"$WORK/train.log"
check_backend "$WORK/run"
acc=$(last_epoch_field "$WORK/run/metrics.jsonl" test_accuracy)
steps=$(last_epoch_field "$WORK/run/metrics.jsonl" step)
if ge "$acc" 0.80; then pass "softmax test accuracy $acc >= 0.80"; else fail "softmax test accuracy $acc < 0.80"; fi
[ "$steps" = 600 ] && pass "stopped at train.max_steps=600" || fail "last epoch record at step $steps, expected 600"
for f in config.yaml metrics.jsonl log.txt checkpoints/latest checkpoints/ckpt-600.h5; do
  [ -s "$WORK/run/$f" ] && pass "run directory has $f" || fail "run directory lacks $f"
done
ev=$(mpi 1 eval "$WORK/run/checkpoints/ckpt-600.h5")
evacc=$(echo "$ev" | sed -n 's/.*accuracy \([0-9.]*\).*/\1/p')
$PY -c 'import sys; a,b=map(float,sys.argv[1:]); sys.exit(0 if abs(a-b)<1e-6 else 1)' "$acc" "$evacc" \
  && pass "hytrain eval accuracy $evacc equals the run's $acc" || fail "hytrain eval accuracy '$evacc' != run's $acc ($ev)"
finish
