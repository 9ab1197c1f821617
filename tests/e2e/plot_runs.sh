# scripts/plot-runs draws loss, eval and sweep PNGs from real runs and a real
# sweep (2 trials); the files are PNGs of a sane size; nothing to plot is an
# error naming the path.
. "$(dirname "$0")/lib.sh"
fashion_data
cd "$WORK"
cat >base.yaml <<YAML
model: {type: softmax}
train: {epochs: 2, max_steps: 80, batch_size: 100, seed: 3, log_every: 10}
optimizer: {name: sgd, lr: 0.05, momentum: 0.9}
data: {train: fm/train.h5, test: fm/test.h5}
YAML
printf 'config: base.yaml\nmethod: grid\nparams: {optimizer.lr: [0.01, 0.1]}\n' >sw.yaml
mpi 1 sweep sw.yaml --set train.max_steps=1200 --out runs/sw >/dev/null
"$PY" "$HT_SOURCE_DIR/scripts/plot-runs" runs --out plots >plots.txt
cat plots.txt
for f in loss.png eval.png sweep-sw.png; do
  if [ -s "plots/$f" ] && [ "$(head -c 8 "plots/$f" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] \
    && [ "$(stat -c %s "plots/$f")" -gt 10000 ]; then
    pass "plots/$f is a PNG of $(stat -c %s "plots/$f") bytes"
  else
    fail "plots/$f missing, not a PNG or tiny"
  fi
done
grep -qx "plots/loss.png" plots.txt && pass "written files are printed" || fail "plot-runs did not print plots/loss.png"
mkdir -p empty
expect_error "nothing to plot" 2 "no runs \(metrics.jsonl\) or sweeps \(results.csv\) under empty" "$PY" "$HT_SOURCE_DIR/scripts/plot-runs" empty
finish
