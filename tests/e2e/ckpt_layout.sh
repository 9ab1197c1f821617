# The checkpoint layout matches docs/checkpoint-format.md (checked with h5py),
# for AdamW and momentum SGD on 2 ranks; checkpoint.keep rotates; the docs'
# NumPy recipe reproduces `hytrain eval --checkpoint`'s accuracy from the file
# alone; `hytrain inspect` lists every dataset as verified.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ckpt_lib.sh"
fashion_subset 2048 1000
for optim in adamw sgd; do
  cat >"$WORK/$optim.yaml" <<YAML
model: {type: mlp, hidden: [32, 16]}
train: {epochs: 1, max_steps: 30, batch_size: 16, seed: 21, log_every: 10}
optimizer: {name: $optim, lr: 0.01}
data: {train: fm/train.h5, test: fm/test.h5}
checkpoint: {every_steps: 10, keep: 2, async: true}
YAML
  mpi 2 train "$WORK/$optim.yaml" --run-dir "$WORK/$optim" >/dev/null
  ck="$WORK/$optim/checkpoints"
  [ "$(ls "$ck" | tr '\n' ' ')" = "ckpt-20.h5 ckpt-30.h5 latest " ] && pass "$optim: keep 2 leaves ckpt-20.h5 ckpt-30.h5 latest" \
    || fail "$optim: checkpoint directory holds: $(ls "$ck" | tr '\n' ' ')"
  [ "$(cat "$ck/latest")" = "ckpt-30.h5" ] && pass "$optim: latest names ckpt-30.h5" || fail "$optim: latest is $(cat "$ck/latest")"
  if $PY "$(dirname "$0")/ckpt_layout.py" "$ck/ckpt-30.h5" "$optim" 30 2 "$WORK/fm/test.h5" >"$WORK/layout.txt"; then
    pass "$optim: layout matches the documentation"
  else fail "$optim: $(grep mismatch "$WORK/layout.txt" | head -5 | tr '\n' ';')"; fi
  np_acc=$(sed -n 's/^numpy_accuracy //p' "$WORK/layout.txt")
  ev=$(mpi 1 eval --checkpoint "$ck/ckpt-30.h5")
  ev_acc=$(echo "$ev" | sed -n 's/.*accuracy \([0-9.]*\).*/\1/p')
  $PY -c 'import sys; a,b=map(float,sys.argv[1:]); sys.exit(0 if abs(a-b)<=1e-3 else 1)' "$np_acc" "$ev_acc" \
    && pass "$optim: NumPy from the file alone gives accuracy $np_acc, hytrain eval --checkpoint $ev_acc" \
    || fail "$optim: NumPy accuracy '$np_acc' vs eval '$ev_acc' ($ev)"
  ev2=$(mpi 1 eval "$ck/ckpt-30.h5")
  [ "$ev2" = "$ev" ] && pass "$optim: positional eval CHECKPOINT prints the same" || fail "$optim: '$ev2' vs '$ev'"
  "$HYTRAIN" inspect "$ck/ckpt-30.h5" >"$WORK/inspect.txt" || fail "$optim: inspect failed: $(tail -3 "$WORK/inspect.txt")"
  n_ok=$(grep -c "fletcher32 ok" "$WORK/inspect.txt" || true)
  n_ds=$($PY -c 'import h5py,sys; n=[0]; h5py.File(sys.argv[1],"r").visititems(lambda k,o: n.__setitem__(0,n[0]+isinstance(o,h5py.Dataset))); print(n[0])' "$ck/ckpt-30.h5")
  [ "$n_ok" = "$n_ds" ] && pass "$optim: inspect verifies all $n_ds datasets" || fail "$optim: inspect verified $n_ok of $n_ds"
  grep -q "^  /model/dense1/weight  *float32 *\[16, 32\] *fletcher32 ok" "$WORK/inspect.txt" && pass "$optim: inspect shows shapes" \
    || fail "$optim: inspect lacks the dense1 line: $(grep dense1 "$WORK/inspect.txt" | head -2)"
  grep -q "^  step  *30$" "$WORK/inspect.txt" && grep -q "^config:" "$WORK/inspect.txt" && grep -q "every_steps: 10" "$WORK/inspect.txt" \
    && pass "$optim: inspect prints attributes and the config" || fail "$optim: inspect output: $(head -12 "$WORK/inspect.txt")"
done
# checkpoint.keep_best: a deliberately unstable learning rate makes the best
# evaluation (epoch 4, step 128) not the last one; with keep 1 the best
# checkpoint survives rotation next to the newest, and `best` names it.
cat >"$WORK/best.yaml" <<YAML
model: {type: mlp, hidden: [32]}
train: {epochs: 6, batch_size: 32, seed: 3, log_every: 100}
optimizer: {name: sgd, lr: 0.3, momentum: 0.9}
data: {train: fm/train.h5, test: fm/test.h5}
checkpoint: {keep: 1, keep_best: true}
YAML
mpi 2 train "$WORK/best.yaml" --run-dir "$WORK/best" >/dev/null
ck="$WORK/best/checkpoints"
want=$($PY -c 'import json,sys
ep=[json.loads(l) for l in open(sys.argv[1]) if "\"kind\": \"epoch\"" in l]
b=max(ep, key=lambda r: r["test_accuracy"]); print(b["step"], "%.6f" % b["test_accuracy"], ep[-1]["step"])' "$WORK/best/metrics.jsonl")
set -- $want
[ "$1" != "$3" ] && pass "best evaluation at step $1 (accuracy $2), last at step $3" || fail "best is the last evaluation ($want); the test needs them apart"
[ "$(cat "$ck/best" 2>/dev/null)" = "ckpt-$1.h5" ] && pass "best names ckpt-$1.h5" || fail "best is '$(cat "$ck/best" 2>/dev/null)', expected ckpt-$1.h5"
[ "$(ls "$ck" | grep -c '^ckpt-')" = 2 ] && [ -f "$ck/ckpt-$1.h5" ] && [ -f "$ck/ckpt-$3.h5" ] \
  && pass "keep 1 + keep_best leaves ckpt-$1.h5 and ckpt-$3.h5" || fail "directory holds: $(ls "$ck" | tr '\n' ' ')"
# checkpoint.every_seconds: time-based checkpoints (rank 0's clock, agreed at step boundaries).
# 48 epochs (1536 steps) so the run lasts many 0.05 s intervals even on a fast machine.
mpi 2 train "$WORK/best.yaml" --run-dir "$WORK/timed" --set optimizer.lr=0.01 --set checkpoint.keep_best=false \
  --set checkpoint.keep=0 --set checkpoint.every_seconds=0.05 --set train.epochs=48 >/dev/null
n=$(ls "$WORK/timed/checkpoints" | grep -c '^ckpt-.*\.h5$')
[ "$n" -ge 3 ] && pass "every_seconds 0.05 wrote $n checkpoints in a 1536-step run" || fail "every_seconds wrote $n checkpoints"
got=$($PY -c 'import h5py,sys; b=h5py.File(sys.argv[1],"r")["metrics/best"][:]; print(int(b[1]), "%.6f" % b[0])' "$ck/ckpt-$1.h5")
[ "$got" = "$1 $2" ] && pass "/metrics/best of ckpt-$1.h5 is ($2, step $1)" || fail "/metrics/best is '$got', expected '$1 $2'"
finish
