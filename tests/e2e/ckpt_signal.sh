# SIGTERM to ONE of 2 ranks mid-run: every rank agrees at the next step
# boundary, the checkpoint is committed, every rank exits 75; resuming ends
# with the same weights (byte for byte) and metrics as an uninterrupted run.
# Arguments ROWS EPOCHS (default 4096 12): e2e.ckpt_signal_small runs 1024 rows
# for 30 epochs (960 steps of 1024 rows), quick enough for TSan.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ckpt_lib.sh"
ROWS=${1:-4096} EPOCHS=${2:-12}
TOTAL=$((ROWS / 32 * EPOCHS)) AT=$((ROWS / 32 * EPOCHS / 4 < 50 ? ROWS / 32 * EPOCHS / 4 : 50))
fashion_subset "$ROWS" 1000
cat >"$WORK/cfg.yaml" <<YAML
model: {type: mlp, hidden: [64]}
train: {epochs: $EPOCHS, batch_size: 16, seed: 3, log_every: 10}
optimizer: {name: sgd, lr: 0.02, momentum: 0.9}
data: {train: fm/train.h5, test: fm/test.h5}
checkpoint: {every_steps: 100}
YAML
# ROWS / 2 / 16 steps per epoch: 128 and 1536 in all by default.
"$MPIEXEC" -n 2 --oversubscribe --bind-to none "$HYTRAIN" train "$WORK/cfg.yaml" --run-dir "$WORK/cut" \
  >"$WORK/cut.out" 2>"$WORK/cut.err" &
mp=$!
# Wait until training is under way (a step record past step AT), then signal one rank.
for _ in $(seq 600); do
  if [ -s "$WORK/cut/metrics.jsonl" ] && [ "$(tail -1 "$WORK/cut/metrics.jsonl" | $PY -c 'import json,sys; print(json.loads(sys.stdin.read())["step"])')" -ge "$AT" ]; then break; fi
  sleep 0.1
done
ranks=$(pgrep -P "$mp" -f "hytrain train" || true)
victim=$(echo "$ranks" | tail -1)
if [ -z "$victim" ]; then fail "no rank process found under mpirun $mp"; wait "$mp" || true; finish; fi
kill -TERM "$victim"
rc=0; wait "$mp" || rc=$?
[ "$rc" = 75 ] && pass "mpirun exit code 75 after SIGTERM to rank pid $victim" \
  || fail "exit code $rc, expected 75; stderr: $(tail -c 600 "$WORK/cut.err")"
grep -Eq "stopped by (SIGTERM|a stop signal on another rank) at step [0-9]+" "$WORK/cut.err" \
  && pass "$(grep -Eo 'stopped by [^;]*' "$WORK/cut.err" | head -1)" || fail "no stop message: $(tail -c 400 "$WORK/cut.err")"
stop=$(grep -Eo "stopped by (SIGTERM|a stop signal on another rank) at step [0-9]+" "$WORK/cut.err" | head -1 | grep -Eo "[0-9]+$")
[ -n "$stop" ] && [ "$(cat "$WORK/cut/checkpoints/latest")" = "ckpt-$stop.h5" ] && pass "latest is ckpt-$stop.h5" \
  || fail "latest is '$(cat "$WORK/cut/checkpoints/latest" 2>/dev/null)', expected ckpt-$stop.h5"
[ -n "$stop" ] && [ "$stop" -lt "$TOTAL" ] && pass "stopped early at step $stop of $TOTAL" || fail "stop step '$stop'"
"$HYTRAIN" inspect "$(latest_of "$WORK/cut")" >/dev/null && pass "the stop checkpoint verifies" || fail "stop checkpoint does not verify"
mpi 2 train "$WORK/cfg.yaml" --run-dir "$WORK/cut" --resume auto >/dev/null
mpi 2 train "$WORK/cfg.yaml" --run-dir "$WORK/full" >/dev/null
same_state "SIGTERM + resume vs uninterrupted" "$WORK/full/checkpoints/ckpt-$TOTAL.h5" "$WORK/cut/checkpoints/ckpt-$TOTAL.h5"
same_metrics "SIGTERM + resume vs uninterrupted" "$WORK/full/metrics.jsonl" "$WORK/cut/metrics.jsonl"
finish
