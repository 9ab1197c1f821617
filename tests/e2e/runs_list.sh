# hytrain runs list: status, best metric, steps and wall time of each run,
# read from the files. One real run (done); copies edited into the other
# states: stopped (no "done in" line, a checkpoint), failed (neither),
# running (log.txt locked, as the trainer holds it), and a resumed run whose
# wall time is summed over its two segments.
. "$(dirname "$0")/lib.sh"
fashion_data
cat >"$WORK/exp.yaml" <<YAML
model: {type: softmax}
train: {epochs: 1, max_steps: 120, batch_size: 100, seed: 3, log_every: 40}
optimizer: {name: sgd, lr: 0.05, momentum: 0.9}
data: {train: fm/train.h5, test: fm/test.h5}
YAML
R=$WORK/runs/exp
mpi 1 train "$WORK/exp.yaml" --run-dir "$R/a-done" >/dev/null
acc=$(last_epoch_field "$R/a-done/metrics.jsonl" test_accuracy)
cp -r "$R/a-done" "$R/b-stopped"; sed -i '/^done in /d' "$R/b-stopped/log.txt"
cp -r "$R/a-done" "$R/c-failed"; sed -i '/^done in /d' "$R/c-failed/log.txt"; rm -rf "$R/c-failed/checkpoints"
cp -r "$R/a-done" "$R/d-running"; sed -i '/^done in /d' "$R/d-running/log.txt"
mkdir -p "$R/e-resumed"
cat >"$R/e-resumed/metrics.jsonl" <<'JSON'
{"kind": "step", "epoch": 1, "step": 10, "loss": 1.0, "lr": 0.1, "samples_per_s": 10, "wall_s": 100}
{"kind": "epoch", "epoch": 1, "step": 20, "train_loss": 0.9, "test_loss": 0.8, "test_accuracy": 0.5, "samples_per_s": 10, "wall_s": 200}
{"kind": "step", "epoch": 2, "step": 30, "loss": 0.7, "lr": 0.1, "samples_per_s": 10, "wall_s": 50}
{"kind": "epoch", "epoch": 2, "step": 40, "train_loss": 0.6, "test_loss": 0.7, "test_accuracy": 0.625, "samples_per_s": 10, "wall_s": 100}
JSON
printf 'config x, run directory y\ndone in 1 s\n' >"$R/e-resumed/log.txt"
# Hold the lock the way a live trainer does, for the duration of the listing.
flock -x "$R/d-running/log.txt" "$HYTRAIN" runs list "$WORK/runs" >"$WORK/list.txt"
cat "$WORK/list.txt"
row() { grep -E "^exp/$1 " "$WORK/list.txt" | tr -s ' '; }
expect_row() {
  local name=$1 want=$2 got
  got=$(row "$name")
  case $got in $want) pass "row $name: $got" ;; *) fail "row $name: '$got', expected '$want'" ;; esac
}
acc4=$(printf '%.4f' "$acc")
expect_row a-done "exp/a-done done test_accuracy $acc4 120 "*
expect_row b-stopped "exp/b-stopped stopped test_accuracy $acc4 120 "*
expect_row c-failed "exp/c-failed failed test_accuracy $acc4 120 "*
expect_row d-running "exp/d-running running test_accuracy $acc4 120 "*
expect_row e-resumed "exp/e-resumed done test_accuracy 0.6250 40 5m00s"
# Without the lock the same directory is no longer running.
"$HYTRAIN" runs list "$R/d-running" | grep -Eq '^\. +stopped ' && pass "unlocked d-running is stopped" \
  || fail "unlocked d-running: $("$HYTRAIN" runs list "$R/d-running")"
# The trainer refuses a run directory another process is writing.
expect_error "locked run directory" 1 "another hytrain process is writing this run directory" \
  flock -x "$R/d-running/log.txt" "$HYTRAIN" train "$WORK/exp.yaml" --run-dir "$R/d-running"
mkdir -p "$WORK/empty"
expect_error "no runs" 2 "no run directories" "$HYTRAIN" runs list "$WORK/empty"
expect_error "missing dir" 2 "nope: No such file" "$HYTRAIN" runs list "$WORK/nope"
expect_error "usage" 2 "expected 'runs list DIR'" "$HYTRAIN" runs show x
finish
